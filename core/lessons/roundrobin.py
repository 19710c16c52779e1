"""Lesson 1, round-robin: with no prefetch limit the broker deals tasks to consumers in turn."""

from __future__ import annotations

from typing import ClassVar

from core.events import TaskFinished, TaskStarted
from core.lessons.base import Figure, Lesson, Outcome, Step
from core.tasks import Task
from core.worker import WorkerOptions

WORKERS = 3
TASKS = 12


class RoundRobin(Lesson):
    """Three workers without a prefetch limit, twelve equal tasks: each gets every third one."""

    name: ClassVar[str] = "round-robin"
    title: ClassVar[str] = "Round-robin dispatching"
    summary: ClassVar[str] = (
        "3 workers, no prefetch limit, 12 equal tasks: the broker deals them out in turn (4/4/4)."
    )
    prediction: ClassVar[str] = "Each worker gets 4 of the 12 tasks: every third one, in turn."

    def setup(self) -> None:
        """The lesson's queue; nothing measured yet."""
        self.queue = self.lab.queue()
        self.workers: list[str] = []
        self.tasks: list[Task] = []

    def steps(self) -> list[Step]:
        """Start the workers, publish the tasks, wait for the work."""
        return [
            Step(f"Start {WORKERS} workers with no prefetch limit.", self._start),
            Step(f"Publish {TASKS} equal tasks of one dot each.", self._publish),
            Step("The workers do the tasks.", self._work),
        ]

    def _start(self) -> None:
        pool = self.lab.pool(self.queue, WorkerOptions(prefetch=0))
        self.workers = self.lab.start_workers(pool, WORKERS)

    def _publish(self) -> None:
        self.tasks = self.lab.publish(self.queue, [f"Task {n}." for n in range(1, TASKS + 1)])

    def _work(self) -> None:
        self.lab.wait_for(lambda: self.lab.finished_count() >= TASKS, f"{TASKS} tasks done")
        self.lab.end_workers()

    def outcome(self) -> Outcome:
        """Who got which task, per-worker counts and the arrival order."""
        number = {task.id: n for n, task in enumerate(self.tasks, start=1)}
        got: dict[str, list[int]] = {w: [] for w in self.workers}
        order: list[str] = []
        for event in self.lab.of_kind(TaskStarted):
            n = number.get(event.delivery.task_id)
            if n is not None:
                got.setdefault(event.worker, []).append(n)
                order.append(f"{n}->{event.worker}")
        counts = {w: len(ns) for w, ns in got.items()}
        done = sum(1 for e in self.lab.of_kind(TaskFinished) if e.task_id in number)
        # worker k (in connection order) should hold one residue class mod WORKERS
        classes = [sorted({(n - 1) % WORKERS for n in ns}) for ns in got.values()]
        dealt_in_turn = all(len(c) == 1 for c in classes) and len({c[0] for c in classes}) == len(
            classes
        )
        equal = sorted(counts.values()) == [TASKS // WORKERS] * WORKERS
        figures: dict[str, Figure] = {
            "tasks": TASKS,
            "done": done,
            "per_worker": counts,
            "tasks_by_worker": {w: sorted(ns) for w, ns in got.items()},
            "arrival_order": order,
            "dealt_in_turn": dealt_in_turn,
        }
        sentences = [
            "Per worker: " + ", ".join(f"{w} {c}" for w, c in counts.items()) + f" of {TASKS}.",
            *(f"{w} got tasks {', '.join(map(str, sorted(ns)))}." for w, ns in got.items()),
            "Every worker got every third task."
            if dealt_in_turn
            else "The tasks were not dealt in turn.",
        ]
        return Outcome(
            self.name,
            equal and dealt_in_turn and done == TASKS,
            figures,
            sentences,
            {"per_worker": "workers", "arrival_order": "workers", "done": "workers"},
        )
