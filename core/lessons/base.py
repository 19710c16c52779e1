"""What every lesson is: a name, a summary, captioned steps, a prediction and a measured outcome.

A lesson is driven step by step (``Lesson.steps()``: a window advances them
one at a time, ``run_lesson`` runs them straight through) and ends with an
``Outcome`` computed only from what was measured: the workers' events and the
broker's counts. Observers follow a lesson through ``LessonEvent`` values,
reported in whichever thread the lesson's step or worker runs in.
"""

from __future__ import annotations

import abc
import dataclasses
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

from core.events import ProducerEvent, WorkerEvent
from core.lessons.lab import Lab, LabConfig

log = logging.getLogger(__name__)

Figure = int | float | str | bool | list[Any] | dict[str, Any] | None


@dataclass(frozen=True)
class Step:
    """One step of a lesson: what the audience is told, and what is done.

    Attributes:
        caption: one sentence for the stage.
        action: does the step (blocks; may take seconds).
    """

    caption: str
    action: Callable[[], None]


@dataclass(frozen=True)
class Outcome:
    """What a lesson measured and whether it matched the prediction.

    Attributes:
        lesson: the lesson's name.
        passed: True when the measurement agrees with the prediction.
        figures: the numbers, by name (JSON-friendly values).
        sentences: one sentence per figure or group of figures, in reading order.
        sources: where each figure came from (``"broker"``, ``"management API"``, ``"workers"``).
        seconds: how long the lesson took.
        error: set when the lesson could not run to its end (the broker failed).
    """

    lesson: str
    passed: bool
    figures: dict[str, Figure]
    sentences: list[str]
    sources: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0
    error: str | None = None

    def as_json(self) -> dict[str, Any]:
        """The outcome as one JSON object (``lesson``, ``passed``, ``figures``, ...)."""
        return {
            "lesson": self.lesson,
            "passed": self.passed,
            "figures": self.figures,
            "sentences": self.sentences,
            "sources": self.sources,
            "seconds": round(self.seconds, 3),
            "error": self.error,
        }


@dataclass(frozen=True)
class LessonEvent:
    """Base of what a lesson reports. ``at`` is ``time.monotonic()``."""

    lesson: str
    at: float


@dataclass(frozen=True)
class StepStarted(LessonEvent):
    """A step began; ``index`` counts from 0."""

    index: int
    caption: str


@dataclass(frozen=True)
class StepFinished(LessonEvent):
    """A step ended."""

    index: int


@dataclass(frozen=True)
class WorkerActivity(LessonEvent):
    """A worker of the lesson reported something (in the worker's thread)."""

    event: WorkerEvent


@dataclass(frozen=True)
class ProducerActivity(LessonEvent):
    """The lesson's producer reported something (in the producer's thread)."""

    event: ProducerEvent


@dataclass(frozen=True)
class OutcomeReady(LessonEvent):
    """The lesson ended with this outcome."""

    outcome: Outcome


class LessonObserver(Protocol):
    """Follows a lesson; called in the lesson's or a worker's thread, must return quickly."""

    def on_lesson_event(self, event: LessonEvent) -> None:
        """Handle one event."""


class Lesson(abc.ABC):
    """One experiment on the real broker.

    Subclasses set the class attributes, build their steps in ``steps()``
    (bound methods, so the window can run them one by one) and compute
    ``outcome()`` from what the steps measured. ``close()`` deletes the
    lesson's queues and ends its workers, whatever happened.

    Args:
        config: the broker and the time scale.
        observer: follows the lesson (optional).

    Attributes:
        lab: the lesson's own bench (queues, workers, counts).
    """

    name: ClassVar[str]
    title: ClassVar[str]
    summary: ClassVar[str]
    prediction: ClassVar[str]
    needs_own_node: ClassVar[bool] = False
    """True when the lesson restarts or kills the broker (Kanin's own node only)."""

    def __init__(self, config: LabConfig, observer: LessonObserver | None = None) -> None:
        self.config = config
        self.observer = observer
        self.lab = Lab(config, self.name, self)
        self.setup()

    @abc.abstractmethod
    def setup(self) -> None:
        """Name the lesson's queues and set up its measurements (called by ``__init__``)."""

    @abc.abstractmethod
    def steps(self) -> list[Step]:
        """The lesson's steps, in order."""

    @abc.abstractmethod
    def outcome(self) -> Outcome:
        """The outcome, from what the steps measured (call after the last step)."""

    def close(self) -> None:
        """End the lesson's workers and delete its queues (safe to call twice)."""
        self.lab.close()

    def report(self, event: LessonEvent) -> None:
        """Hand an event to the observer, if any (an observer's error is logged, not raised)."""
        if self.observer is None:
            return
        try:
            self.observer.on_lesson_event(event)
        except Exception:  # noqa: BLE001 - a view's bug must not break the experiment
            log.exception("lesson observer failed")

    def on_worker_event(self, event: WorkerEvent) -> None:
        """Forward a worker's event to the observer (the lab's recorder calls this)."""
        self.report(WorkerActivity(self.name, event.at, event))

    def on_producer_event(self, event: ProducerEvent) -> None:
        """Forward the producer's event to the observer."""
        self.report(ProducerActivity(self.name, event.at, event))


class Walk:
    """Runs a lesson one step at a time, as a presenter advances it.

    Each ``advance()`` runs the next step (blocking: call it off a GUI
    thread); after the last step it computes the outcome and closes the
    lesson. A step that raises ends the walk with a failed outcome whose
    ``error`` says why; ``abort()`` ends it early. Either way the lesson is
    closed (its workers ended, its queues deleted) exactly once.

    Args:
        lesson: a fresh lesson (to run a lesson again, make a new one).
    """

    def __init__(self, lesson: Lesson) -> None:
        self.lesson = lesson
        self.steps = lesson.steps()
        self.index = 0
        """The next step to run."""
        self.outcome: Outcome | None = None
        self._started = time.monotonic()

    @property
    def done(self) -> bool:
        """True once the walk has its outcome."""
        return self.outcome is not None

    @property
    def caption(self) -> str:
        """The next step's caption ("" when every step ran)."""
        return self.steps[self.index].caption if self.index < len(self.steps) else ""

    def advance(self) -> Outcome | None:
        """Run the next step; returns the outcome once the lesson has ended, else ``None``."""
        if self.outcome is not None:
            return self.outcome
        lesson = self.lesson
        try:
            if self.index < len(self.steps):
                step = self.steps[self.index]
                lesson.report(StepStarted(lesson.name, time.monotonic(), self.index, step.caption))
                step.action()
                lesson.report(StepFinished(lesson.name, time.monotonic(), self.index))
                self.index += 1
                if self.index < len(self.steps):
                    return None
            return self._end(lesson.outcome())
        except Exception as exc:  # noqa: BLE001 - any failure becomes an outcome that says so
            log.warning("lesson %s failed: %s", lesson.name, exc, exc_info=True)
            return self._end(
                Outcome(
                    lesson.name, False, {}, [f"The lesson could not finish: {exc}"], error=str(exc)
                )
            )

    def abort(self, reason: str = "The lesson was stopped before its end.") -> Outcome:
        """End the walk now (the lesson is closed); returns its (failed) outcome."""
        if self.outcome is not None:
            return self.outcome
        return self._end(Outcome(self.lesson.name, False, {}, [reason], error=reason))

    def _end(self, outcome: Outcome) -> Outcome:
        try:
            self.lesson.close()
        finally:
            self.outcome = dataclasses.replace(outcome, seconds=time.monotonic() - self._started)
            self.lesson.report(OutcomeReady(self.lesson.name, time.monotonic(), self.outcome))
        return self.outcome


def run_lesson(lesson: Lesson) -> Outcome:
    """Run every step straight through, then compute the outcome; always closes the lesson.

    A broker failure ends the lesson with a failed outcome whose ``error`` says why.
    """
    walk = Walk(lesson)
    while True:
        outcome = walk.advance()
        if outcome is not None:
            return outcome
