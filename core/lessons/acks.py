"""Lesson 3, message acknowledgment: a worker killed mid-task loses its tasks with auto-ack only."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from core.events import TaskStarted
from core.lessons.base import Figure, Lesson, Outcome, Step
from core.worker import AckMode, WorkerOptions

TASKS = 4
TEXT = "Task ..."


@dataclass(frozen=True)
class _Half:
    """What one half measured.

    Attributes:
        sent: tasks published.
        done_before_kill: finished by the worker that was killed.
        ready_after_kill: back in the queue once the broker saw it die (passive declare).
        redelivered: deliveries the rescuing worker saw flagged ``redelivered``.
        done_by_rescuer: finished by the worker started afterwards.
    """

    sent: int
    done_before_kill: int
    ready_after_kill: int
    redelivered: int
    done_by_rescuer: int

    @property
    def lost(self) -> int:
        return self.sent - self.done_before_kill - self.done_by_rescuer

    def as_dict(self) -> dict[str, Figure]:
        return {
            "sent": self.sent,
            "done_before_kill": self.done_before_kill,
            "ready_after_kill": self.ready_after_kill,
            "redelivered": self.redelivered,
            "done_by_rescuer": self.done_by_rescuer,
            "lost": self.lost,
        }


class MessageAcknowledgment(Lesson):
    """Kill a worker mid-task with auto-ack, then with manual acks; count what was lost."""

    name: ClassVar[str] = "acknowledgment"
    title: ClassVar[str] = "Message acknowledgment"
    summary: ClassVar[str] = (
        "Kill a worker mid-task, with auto-ack and with manual acks: tasks lost vs redelivered."
    )
    prediction: ClassVar[str] = (
        "With auto-ack every task the dead worker held is lost; with manual acks none is: "
        "all come back, flagged redelivered, and another worker does them."
    )

    def setup(self) -> None:
        """One queue per half."""
        self.queues = {"auto": self.lab.queue("auto"), "manual": self.lab.queue("manual")}
        self.halves: dict[str, _Half] = {}

    def steps(self) -> list[Step]:
        """Auto-ack first, then manual acks."""
        return [
            Step(
                f"Auto-ack: one worker takes all {TASKS} tasks; kill it during the first.",
                lambda: self._half("auto", AckMode.AUTO),
            ),
            Step(
                f"Manual acks: the same {TASKS} tasks, the same kill; a second worker "
                "picks up whatever is left.",
                lambda: self._half("manual", AckMode.MANUAL),
            ),
        ]

    def _half(self, half: str, mode: AckMode) -> None:
        lab = self.lab
        queue = self.queues[half]
        victim_pool = lab.pool(queue, WorkerOptions(prefetch=0, ack_mode=mode), prefix=f"{half}-W")
        [victim] = lab.start_workers(victim_pool, 1)
        lab.publish(queue, [TEXT] * TASKS)
        lab.wait_for(lambda: lab.started_count([victim]) >= 1, "the first task to start")
        lab.settle_count(queue.name, lambda c: c.ready == 0)  # all handed to the worker
        victim_pool.kill(victim)
        victim_pool.join(10)
        done_before = lab.finished_count([victim])
        after = lab.settle_count(queue.name, lambda c: c.consumers == 0)
        rescue_pool = lab.pool(queue, WorkerOptions(prefetch=1), prefix=f"{half}-R")
        [rescuer] = lab.start_workers(rescue_pool, 1)
        lab.wait_for(lambda: lab.finished_count([rescuer]) >= after.ready, "the rescuer to finish")
        rescue_pool.stop_all(10)
        redelivered = sum(1 for e in lab.of_kind(TaskStarted, rescuer) if e.delivery.redelivered)
        self.halves[half] = _Half(
            TASKS, done_before, after.ready, redelivered, lab.finished_count([rescuer])
        )

    def outcome(self) -> Outcome:
        """Lost vs redelivered, both ways."""
        auto = self.halves["auto"]
        manual = self.halves["manual"]
        figures: dict[str, Figure] = {"auto_ack": auto.as_dict(), "manual_ack": manual.as_dict()}
        sentences = [
            f"Auto-ack: {auto.sent} sent, {auto.ready_after_kill} back in the queue after the "
            f"kill, {auto.lost} lost.",
            f"Manual acks: {manual.sent} sent, {manual.ready_after_kill} back in the queue, "
            f"{manual.redelivered} redelivered, {manual.lost} lost.",
        ]
        passed = auto.lost >= 1 and manual.lost == 0 and manual.redelivered >= 1
        sources = {"ready_after_kill": "broker (passive declare)", "*": "workers"}
        return Outcome(self.name, passed, figures, sentences, sources)
