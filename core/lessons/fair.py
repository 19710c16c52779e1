"""Lesson 2, fair dispatch: prefetch 1 keeps both workers busy when tasks differ in length."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from core.events import TaskFinished, TaskStarted
from core.lessons.base import Figure, Lesson, Outcome, Step
from core.worker import WorkerOptions

WORKERS = 2
PAIRS = 4
HEAVY = "Heavy ....."
LIGHT = "Light ."


class FairDispatch(Lesson):
    """Alternating heavy and light tasks on two workers, without a prefetch limit and with 1."""

    name: ClassVar[str] = "fair-dispatch"
    title: ClassVar[str] = "Fair dispatch"
    summary: ClassVar[str] = (
        "Alternating heavy and light tasks on 2 workers, with no prefetch limit and then with "
        "prefetch 1: busy time per worker and the total time, side by side."
    )
    prediction: ClassVar[str] = (
        "Without a limit one worker gets every heavy task while the other idles; with "
        "prefetch 1 both stay busy and the whole batch finishes sooner."
    )

    def setup(self) -> None:
        """Two queues, one per run."""
        self.runs = {"unlimited": self.lab.queue("unlimited"), "prefetch-1": self.lab.queue("one")}
        self.prefixes = {"unlimited": "U", "prefetch-1": "F"}
        self.workers: dict[str, list[str]] = {}

    def steps(self) -> list[Step]:
        """One run without a prefetch limit, one with prefetch 1."""
        return [
            Step(
                f"No prefetch limit: {WORKERS} workers, {PAIRS} heavy (5 dots) and {PAIRS} "
                "light (1 dot) tasks, alternating.",
                lambda: self._run("unlimited", 0),
            ),
            Step(
                "The same batch with prefetch_count=1: a worker takes a new task only "
                "when it has acknowledged the last.",
                lambda: self._run("prefetch-1", 1),
            ),
        ]

    def _run(self, run: str, prefetch: int) -> None:
        queue = self.runs[run]
        pool = self.lab.pool(queue, WorkerOptions(prefetch=prefetch), prefix=self.prefixes[run])
        names = self.lab.start_workers(pool, WORKERS)
        self.workers[run] = names
        self.lab.publish(queue, [HEAVY, LIGHT] * PAIRS)
        self.lab.wait_for(
            lambda: self.lab.finished_count(names) >= 2 * PAIRS, f"the {run} batch done"
        )
        pool.stop_all(timeout=10)

    def _measure(self, run: str) -> _Run:
        names = self.workers.get(run, [])
        starts = [e for e in self.lab.of_kind(TaskStarted) if e.worker in names]
        ends = [e for e in self.lab.of_kind(TaskFinished) if e.worker in names]
        busy = {w: round(sum(e.duration for e in ends if e.worker == w), 3) for w in names}
        heavy = {
            w: sum(1 for e in starts if e.worker == w and e.delivery.body.startswith(b"Heavy"))
            for w in names
        }
        total = (max(e.at for e in ends) - min(e.at for e in starts)) if ends and starts else 0.0
        return _Run(busy, heavy, round(total, 3))

    def outcome(self) -> Outcome:
        """Busy time per worker and total time, both ways."""
        unlimited = self._measure("unlimited")
        fair = self._measure("prefetch-1")
        lopsided = sorted(unlimited.heavy.values()) == [0, PAIRS]
        shared = len(fair.heavy) == WORKERS and min(fair.heavy.values()) >= 1
        faster = 0 < fair.total < unlimited.total
        saved = round(unlimited.total - fair.total, 3)
        figures: dict[str, Figure] = {
            "unlimited": unlimited.as_dict(),
            "prefetch_1": fair.as_dict(),
            "saved_seconds": saved,
        }
        sentences = [
            unlimited.sentence("No prefetch limit"),
            fair.sentence("Prefetch 1"),
            f"Prefetch 1 finished {saved:.2f} s sooner."
            if faster
            else "Prefetch 1 was not faster.",
        ]
        return Outcome(
            self.name, lopsided and shared and faster, figures, sentences, {"*": "workers"}
        )


@dataclass(frozen=True)
class _Run:
    """One run's figures: busy seconds and heavy tasks per worker, total seconds."""

    busy: dict[str, float]
    heavy: dict[str, int]
    total: float

    def as_dict(self) -> dict[str, Figure]:
        return {
            "busy_seconds": dict(self.busy),
            "heavy_tasks": dict(self.heavy),
            "total_seconds": self.total,
        }

    def sentence(self, label: str) -> str:
        per = ", ".join(f"{w} busy {b:.2f} s ({self.heavy[w]} heavy)" for w, b in self.busy.items())
        return f"{label}: {per}; all done in {self.total:.2f} s."
