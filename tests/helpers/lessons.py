"""Hand-written lessons for tests of the lesson machinery: no broker, a scripted outcome."""

from __future__ import annotations

from typing import ClassVar

from core.lessons.base import Lesson, Outcome, Step


class ScriptedLesson(Lesson):
    """Two steps that record that they ran; the outcome says what ``verdict`` says.

    Attributes:
        verdict: the outcome's ``passed``.
        fail_at: the index of a step that raises, if any.
    """

    name: ClassVar[str] = "scripted"
    title: ClassVar[str] = "A scripted lesson"
    summary: ClassVar[str] = "Two steps and a verdict chosen by the test."
    prediction: ClassVar[str] = "Whatever the test says."
    verdict: ClassVar[bool] = True
    fail_at: ClassVar[int | None] = None

    def setup(self) -> None:
        """Nothing ran yet."""
        self.ran: list[int] = []
        self.closed = 0

    def steps(self) -> list[Step]:
        """Two steps."""
        return [
            Step("First <step>.", lambda: self._step(0)),
            Step("Second.", lambda: self._step(1)),
        ]

    def _step(self, index: int) -> None:
        if index == self.fail_at:
            raise ConnectionError("the broker went away")
        self.ran.append(index)

    def outcome(self) -> Outcome:
        """The scripted verdict, with the steps that ran as a figure."""
        return Outcome(
            self.name, self.verdict, {"ran": list(self.ran), "nested": {"W-1": 4}}, ["Ran <all>."]
        )

    def close(self) -> None:
        """Count the closes."""
        self.closed += 1
        super().close()


class ContradictedLesson(ScriptedLesson):
    """A scripted lesson whose measurement contradicts its prediction."""

    name: ClassVar[str] = "contradicted"
    verdict: ClassVar[bool] = False
