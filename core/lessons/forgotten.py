"""Lesson 4, forgotten acknowledgment: a worker that never acks holds every task until it dies."""

from __future__ import annotations

from typing import ClassVar

from core.lessons.base import Figure, Lesson, Outcome, Step
from core.lessons.forgetful import Forgotten, forgetful_workers
from core.lessons.lab import QueueCount
from core.worker import WorkerOptions

TASKS = 6
TEXT = "Task ."


class ForgottenAcknowledgment(Lesson):
    """A worker that works but never acks: ready goes to 0, nothing leaves, all come back."""

    name: ClassVar[str] = "forgotten-ack"
    title: ClassVar[str] = "Forgotten acknowledgment"
    summary: ClassVar[str] = (
        "A worker that never acks: unacked grows, nothing leaves the queue, and when the "
        "worker dies every task comes back."
    )
    prediction: ClassVar[str] = (
        f"The worker 'finishes' all {TASKS} tasks yet the broker keeps all {TASKS} "
        f"unacknowledged (0 ready); when it dies all {TASKS} are ready again."
    )

    def setup(self) -> None:
        """The queue and the forgotten-ack counter."""
        self.queue = self.lab.queue()
        self.forgotten = Forgotten()
        self.growth: list[int] = []
        self.while_running = QueueCount(True, -1, -1)
        self.after = QueueCount(True, -1, -1)
        self.unacked_api: int | None = None
        self.done = 0

    def steps(self) -> list[Step]:
        """Start the forgetful worker, give it work, look, kill it, look again."""
        return [
            Step("Start a worker that forgets to acknowledge.", self._start),
            Step(f"Publish {TASKS} short tasks; the worker does them all.", self._work),
            Step("Look at the queue: ready and unacknowledged.", self._look),
            Step("The worker dies: watch the tasks come back.", self._kill),
        ]

    def _start(self) -> None:
        self.pool = self.lab.pool(
            self.queue, WorkerOptions(prefetch=0), worker_factory=forgetful_workers(self.forgotten)
        )
        [self.worker] = self.lab.start_workers(self.pool, 1)

    def _work(self) -> None:
        lab = self.lab
        lab.publish(self.queue, [TEXT] * TASKS)
        self.growth.append(self.forgotten.count)
        while self.growth[-1] < TASKS:  # the unacked count as it grows, task by task
            seen = self.growth[-1]
            lab.wait_for(lambda: self.forgotten.count > seen, "the next forgotten ack")  # noqa: B023 - called at once
            self.growth.append(self.forgotten.count)
        self.done = lab.finished_count([self.worker])

    def _look(self) -> None:
        self.while_running = self.lab.count(self.queue.name)
        self.unacked_api = self.lab.unacked(self.queue.name, TASKS)

    def _kill(self) -> None:
        self.pool.kill(self.worker)
        self.pool.join(10)
        self.after = self.lab.settle_count(
            self.queue.name, lambda c: c.consumers == 0 and c.ready >= TASKS
        )

    def outcome(self) -> Outcome:
        """Ready and unacked while the worker lives, ready after it died."""
        unacked = self.forgotten.count
        figures: dict[str, Figure] = {
            "tasks": TASKS,
            "reported_done_by_worker": self.done,
            "unacked_kanin": unacked,
            "unacked_management_api": self.unacked_api,
            "forgotten_acks_growth": list(self.growth),
            "ready_while_worker_lives": self.while_running.ready,
            "ready_after_worker_died": self.after.ready,
        }
        api = (
            f"; the management API says {self.unacked_api} unacknowledged"
            if self.unacked_api is not None
            else ""
        )
        sentences = [
            f"The worker reported {self.done} of {TASKS} tasks done but acknowledged none: "
            f"{unacked} unacknowledged (Kanin's count){api}.",
            f"Ready while it lives: {self.while_running.ready} (broker): nothing left the queue.",
            f"After it died: {self.after.ready} ready again (broker).",
        ]
        passed = (
            self.done == TASKS
            and unacked == TASKS
            and self.while_running.ready == 0
            and self.after.ready == TASKS
            and self.unacked_api in (None, TASKS)
        )
        sources = {
            "unacked_kanin": "workers (acks the worker swallowed)",
            "unacked_management_api": "management API",
            "ready_while_worker_lives": "broker (passive declare)",
            "ready_after_worker_died": "broker (passive declare)",
        }
        return Outcome(self.name, passed, figures, sentences, sources)
