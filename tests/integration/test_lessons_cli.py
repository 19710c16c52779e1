"""``kanin lesson list`` and ``kanin lesson run`` on the shared broker: output, JSON, exit codes."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from core.cli import main
from core.lessons import catalog
from core.lessons.catalog import LESSONS
from tests.helpers.broker import TEST_URL
from tests.helpers.lessons import ContradictedLesson, ScriptedLesson

pytestmark = pytest.mark.broker


def kanin(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(["lesson", *args], out=out)
    return code, out.getvalue()


def test_list_names_every_lesson_with_one_line() -> None:
    code, text = kanin("list")
    assert code == 0
    lines = text.splitlines()
    assert [line.split()[0] for line in lines] == list(LESSONS)
    assert all(LESSONS[line.split()[0]].summary in line for line in lines)


def test_run_json_prints_one_object_per_lesson_and_exits_0_when_all_matched(
    tmp_path: Path,
) -> None:
    report = tmp_path / "lessons.html"
    code, text = kanin(
        "run", "round-robin", "forgotten-ack", "--url", TEST_URL, "--dot", "0.02", "--json",
        "--report", str(report),
    )  # fmt: skip
    objects = [json.loads(line) for line in text.splitlines()]
    assert [o["lesson"] for o in objects] == ["round-robin", "forgotten-ack"]
    assert all(o["passed"] is True for o in objects)
    assert objects[0]["figures"]["per_worker"] == {"W-1": 4, "W-2": 4, "W-3": 4}
    assert code == 0
    html = report.read_text(encoding="utf-8")
    assert "RabbitMQ" in html
    assert html.count('class="card passed"') == 2
    assert "<th>W-1</th><td>4</td>" in html


def test_run_prints_the_outcome_in_numbers() -> None:
    code, text = kanin("run", "round-robin", "--url", TEST_URL, "--dot", "0.02")
    assert code == 0
    assert "Per worker: W-1 4, W-2 4, W-3 4 of 12." in text
    assert "Outcome: matched the prediction" in text


def test_a_contradicted_outcome_exits_1(monkeypatch: pytest.MonkeyPatch) -> None:
    lessons = {"scripted": ScriptedLesson, "contradicted": ContradictedLesson}
    monkeypatch.setattr(catalog, "LESSONS", lessons)
    assert kanin("run", "scripted", "--url", TEST_URL)[0] == 0
    code, text = kanin("run", "scripted", "contradicted", "--url", TEST_URL)
    assert code == 1
    assert "CONTRADICTED" in text


def test_an_unreachable_broker_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    code, _text = kanin("run", "round-robin", "--url", "amqp://guest:guest@127.0.0.1:1/%2F")
    assert code == 1
    assert "127.0.0.1:1" in capsys.readouterr().err


@pytest.mark.parametrize(
    "args",
    [
        ("run", "no-such-lesson"),
        ("run",),
        ("walk",),
        ("run", "round-robin", "--dot", "-1"),
        ("run", "round-robin", "--url", TEST_URL, "--local-broker"),
    ],
)
def test_bad_usage_exits_2(args: tuple[str, ...]) -> None:
    assert kanin(*args)[0] == 2


@pytest.mark.parametrize("lesson", ["durability", "confirms"])
def test_lessons_that_break_the_broker_refuse_a_broker_kanin_does_not_manage(
    lesson: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, text = kanin("run", "round-robin", lesson, "--url", TEST_URL)
    assert code == 2
    assert text == ""  # nothing ran
    assert "--local-broker" in capsys.readouterr().err


def test_the_kanin_entry_point_runs_lesson_list_without_loading_qt() -> None:
    script = (
        "import sys; from desktop.launcher import main; code = main(['lesson', 'list']); "
        "print('qt loaded' if 'PySide6' in sys.modules else 'no qt'); sys.exit(code)"
    )
    done = subprocess.run(  # noqa: S603 - this interpreter, fixed arguments
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0].startswith("round-robin")
    assert done.stdout.splitlines()[-1] == "no qt"
