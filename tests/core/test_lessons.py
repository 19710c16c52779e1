"""The lesson machinery without a broker: steps, observer events, failures, the report."""

from __future__ import annotations

import datetime
from pathlib import Path

from core.lessons.base import (
    LessonEvent,
    OutcomeReady,
    StepFinished,
    StepStarted,
    Walk,
    run_lesson,
)
from core.lessons.catalog import LESSONS
from core.lessons.lab import LabConfig
from core.lessons.report import LessonRun, render, write_report
from core.settings import ConnectionSettings
from tests.helpers.lessons import ScriptedLesson

CONFIG = LabConfig(ConnectionSettings.from_urls(["amqp://guest:guest@127.0.0.1:1/%2F"]))


class Recorder:
    def __init__(self) -> None:
        self.events: list[LessonEvent] = []

    def on_lesson_event(self, event: LessonEvent) -> None:
        self.events.append(event)


def test_a_lesson_runs_its_steps_in_order_and_reports_each() -> None:
    recorder = Recorder()
    lesson = ScriptedLesson(CONFIG, recorder)
    outcome = run_lesson(lesson)
    assert lesson.ran == [0, 1]
    assert lesson.closed == 1
    assert outcome.passed
    assert outcome.figures["ran"] == [0, 1]
    kinds = [(type(e).__name__, getattr(e, "index", None)) for e in recorder.events]
    assert kinds == [
        ("StepStarted", 0),
        ("StepFinished", 0),
        ("StepStarted", 1),
        ("StepFinished", 1),
        ("OutcomeReady", None),
    ]
    assert isinstance(recorder.events[0], StepStarted)
    assert recorder.events[0].caption == "First <step>."
    assert isinstance(recorder.events[-1], OutcomeReady)
    assert recorder.events[-1].outcome == outcome


def test_a_failing_step_ends_the_lesson_with_a_failed_outcome_and_still_closes() -> None:
    class Failing(ScriptedLesson):
        fail_at = 1

    recorder = Recorder()
    lesson = Failing(CONFIG, recorder)
    outcome = run_lesson(lesson)
    assert not outcome.passed
    assert outcome.error == "the broker went away"
    assert lesson.ran == [0]
    assert lesson.closed == 1
    assert not any(isinstance(e, StepFinished) and e.index == 1 for e in recorder.events)
    assert outcome.as_json()["passed"] is False


def test_an_observer_that_raises_does_not_break_the_lesson() -> None:
    class Broken:
        def on_lesson_event(self, event: LessonEvent) -> None:
            raise RuntimeError("view bug")

    assert run_lesson(ScriptedLesson(CONFIG, Broken())).passed


def test_the_catalog_has_the_seven_lessons_in_teaching_order_each_described() -> None:
    assert list(LESSONS) == [
        "round-robin",
        "fair-dispatch",
        "acknowledgment",
        "forgotten-ack",
        "durability",
        "poison",
        "confirms",
    ]
    for lesson in LESSONS.values():
        assert lesson.summary
        assert "\n" not in lesson.summary
        assert lesson.prediction
        assert lesson.title
    assert [n for n, c in LESSONS.items() if c.needs_own_node] == ["durability", "confirms"]


def test_the_report_is_one_self_contained_file_with_every_card(tmp_path: Path) -> None:
    runs = [LessonRun(ScriptedLesson, run_lesson(ScriptedLesson(CONFIG)))]

    class Failing(ScriptedLesson):
        fail_at = 0

    runs.append(LessonRun(Failing, run_lesson(Failing(CONFIG))))
    when = datetime.datetime(2026, 12, 2, 16, 30, tzinfo=datetime.UTC)
    path = tmp_path / "report.html"
    write_report(path, runs, "RabbitMQ 3.10.8", when)
    text = path.read_text(encoding="utf-8")
    assert text == render(runs, "RabbitMQ 3.10.8", when)
    assert "RabbitMQ 3.10.8" in text
    assert "2026-12-02 16:30 UTC" in text
    assert "1 of 2 matched" in text
    assert "Ran &lt;all&gt;." in text
    assert "<all>" not in text
    assert "<th>W-1</th><td>4</td>" in text  # per-worker figures as a table
    assert "CONTRADICTED" in text
    assert "the broker went away" in text
    assert "src=" not in text
    assert "href=" not in text


def test_a_walk_runs_one_step_per_advance_and_ends_with_the_outcome() -> None:
    recorder = Recorder()
    lesson = ScriptedLesson(CONFIG, recorder)
    walk = Walk(lesson)
    assert walk.caption == "First <step>."
    assert walk.advance() is None
    assert lesson.ran == [0]
    assert walk.caption == "Second."
    assert lesson.closed == 0
    outcome = walk.advance()
    assert outcome is not None
    assert outcome.passed
    assert walk.done
    assert lesson.closed == 1
    assert walk.advance() is outcome  # nothing runs twice
    assert lesson.ran == [0, 1]


def test_an_aborted_walk_closes_the_lesson_once_and_fails() -> None:
    lesson = ScriptedLesson(CONFIG)
    walk = Walk(lesson)
    walk.advance()
    outcome = walk.abort()
    assert not outcome.passed
    assert outcome.error
    assert lesson.closed == 1
    assert walk.abort() is outcome
    assert lesson.ran == [0]
