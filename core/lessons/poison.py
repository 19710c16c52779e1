"""Lesson 6, poison task: a task that always fails is retried, counted, then dead-lettered.

The lesson's quorum queue counts the deliveries itself (``x-delivery-count``);
the real worker holds each failed task a growing delay (1 s, 2 s, ...), gives
it back, and at the last attempt publishes it to ``<queue>.dead`` itself
(``core.attempts``), on any broker. On Kanin's own node, or with the
management API, the dead-letter policy (``core.policies``) is set too, as the
broker's own backstop, and removed afterwards.
"""

from __future__ import annotations

import logging
from typing import ClassVar

from core.errors import BrokerError
from core.events import TaskFailed
from core.lessons.base import Figure, Lesson, Outcome, Step
from core.lessons.lab import QueueCount
from core.policies import dead_letter_queue_name, remove_dead_lettering, setup_dead_lettering
from core.tasks import Delivery
from core.topology import QueueType
from core.worker import WorkerOptions

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 3
GOOD = "Good task ."
POISON = "poison ."
GOOD_TASKS = 2


class PoisonTask(Lesson):
    """One poison task among good ones: failures counted 1, 2, 3, then the dead-letter queue."""

    name: ClassVar[str] = "poison"
    title: ClassVar[str] = "Poison task"
    summary: ClassVar[str] = (
        f"A task that always fails: its delivery count climbs to {MAX_ATTEMPTS}, then it is "
        "dead-lettered instead of looping forever."
    )
    prediction: ClassVar[str] = (
        f"The poison task fails on attempts 1 to {MAX_ATTEMPTS}, is given back "
        f"{MAX_ATTEMPTS - 1} times, then lands in the dead-letter queue; the good tasks are done."
    )

    def setup(self) -> None:
        """The queue, its dead-letter queue and how they will be set up."""
        self.by_policy = self.config.node is not None or self.config.management is not None
        self.queue = self.lab.queue(queue_type=QueueType.QUORUM)
        self.dead = dead_letter_queue_name(self.queue.name)
        self.lab.own(self.dead)
        self.how = ""
        self.dead_count = QueueCount(True, -1, -1)
        self.left = QueueCount(True, -1, -1)

    def steps(self) -> list[Step]:
        """Set up dead-lettering, start a worker, publish, watch the poison task fail."""
        return [
            Step(f"Dead-letter a task after {MAX_ATTEMPTS} failed attempts.", self._dead_letter),
            Step("Start a worker; a task containing 'poison' always fails.", self._start),
            Step(f"Publish {GOOD_TASKS} good tasks and one poison task.", self._publish),
            Step("Watch its attempts climb until it is dead-lettered.", self._watch),
        ]

    def _dead_letter(self) -> None:
        kanin = "Kanin's worker publishes it to the dead-letter queue; the quorum queue counts"
        if not self.by_policy:
            self.how = kanin
            return
        api = self.config.management
        setup = setup_dead_lettering(
            self.lab.settings,
            self.queue.name,
            MAX_ATTEMPTS,
            queue_type=QueueType.QUORUM,
            broker=self.config.node,
            management_url=api.base_url if api is not None else None,
        )
        self.how = f"{kanin}; policy {setup.policy} (via {setup.applied_with}) as a backstop"

    def _start(self) -> None:
        scale = self.config.dot_seconds

        def work(delivery: Delivery) -> float:
            if b"poison" in delivery.body:
                raise RuntimeError("poison: this task always fails")
            return delivery.body.count(b".") * scale

        pool = self.lab.pool(
            self.queue, WorkerOptions(prefetch=1, max_attempts=MAX_ATTEMPTS), work=work
        )
        self.lab.start_workers(pool, 1)

    def _publish(self) -> None:
        self.lab.publish(self.queue, [GOOD] * GOOD_TASKS + [POISON])

    def _watch(self) -> None:
        lab = self.lab
        lab.wait_for(
            lambda: (
                any(not e.requeued for e in lab.of_kind(TaskFailed))
                and lab.finished_count() >= GOOD_TASKS
            ),
            "the poison task to be dead-lettered",
        )
        self.dead_count = lab.settle_count(self.dead, lambda c: c.ready >= 1)
        self.left = lab.settle_count(self.queue.name, lambda c: c.ready == 0)
        lab.end_workers()

    def close(self) -> None:
        """Remove the policy (if one was set), then the workers and queues."""
        if self.by_policy and self.how:
            api = self.config.management
            try:
                remove_dead_lettering(
                    self.lab.settings,
                    self.queue.name,
                    broker=self.config.node,
                    management_url=api.base_url if api is not None else None,
                )
            except BrokerError as exc:
                log.warning("could not remove the lesson's policy: %s", exc)
        super().close()

    def outcome(self) -> Outcome:
        """Attempts, give-backs, dead-letter count."""
        failures = self.lab.of_kind(TaskFailed)
        attempts = [e.attempt for e in failures]
        requeued = [e.requeued for e in failures]
        done = self.lab.finished_count()
        figures: dict[str, Figure] = {
            "attempts": attempts,
            "given_back": sum(requeued),
            "dead_lettered": self.dead_count.ready,
            "left_in_queue": self.left.ready,
            "good_tasks_done": done,
            "max_attempts": MAX_ATTEMPTS,
            "set_up_with": self.how,
        }
        sentences = [
            f"The poison task failed on attempts {', '.join(map(str, attempts))}; "
            f"given back {sum(requeued)} times.",
            f"Dead-letter queue: {self.dead_count.ready} task; work queue: {self.left.ready} left "
            f"(broker).",
            f"Good tasks done: {done} of {GOOD_TASKS}. Dead-lettering: {self.how}.",
        ]
        passed = (
            attempts == list(range(1, MAX_ATTEMPTS + 1))
            and requeued == [True] * (MAX_ATTEMPTS - 1) + [False]
            and self.dead_count.ready == 1
            and self.left.ready == 0
            and done == GOOD_TASKS
        )
        sources = {
            "attempts": "workers",
            "dead_lettered": "broker (passive declare)",
            "left_in_queue": "broker (passive declare)",
        }
        return Outcome(self.name, passed, figures, sentences, sources)
