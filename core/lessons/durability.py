"""Lesson 5, message durability: what survives a broker restart, queue by queue.

It restarts the broker, so it runs only on Kanin's own node (``--local-broker``).
"""

from __future__ import annotations

import time
from typing import Any, ClassVar

import pika

from core.lessons.base import Figure, Lesson, Outcome, Step
from core.lessons.lab import QueueCount
from core.topology import QueueReport, QueueSpec, QueueType

MESSAGES = 3
TEXT = "Keep me ."
KINDS = ("transient", "classic", "quorum")


def declare_transient(parameters: Any, queue: QueueSpec) -> QueueReport:
    """Declare a non-durable classic queue (the producer's ``declare`` hook)."""
    connection = pika.BlockingConnection(parameters)
    try:
        ok = connection.channel().queue_declare(queue=queue.name, durable=False)
        return QueueReport(
            queue.name, QueueType.CLASSIC, False, ok.method.message_count, ok.method.consumer_count
        )
    finally:
        connection.close()


class MessageDurability(Lesson):
    """Transient vs persistent messages on non-durable, durable classic and quorum queues."""

    name: ClassVar[str] = "durability"
    title: ClassVar[str] = "Message durability"
    summary: ClassVar[str] = (
        "Transient messages on a non-durable queue, persistent ones on a durable classic and "
        "a quorum queue; restart the broker; count before and after."
    )
    prediction: ClassVar[str] = (
        f"After the restart the non-durable queue and its {MESSAGES} transient messages are "
        f"gone; the durable classic and the quorum queue still hold {MESSAGES} each."
    )
    needs_own_node = True

    def setup(self) -> None:
        """Three queues, one per kind."""
        self.queues = {
            "transient": self.lab.queue("transient", QueueType.CLASSIC),
            "classic": self.lab.queue("classic", QueueType.CLASSIC),
            "quorum": self.lab.queue("quorum", QueueType.QUORUM),
        }
        self.before: dict[str, QueueCount] = {}
        self.after: dict[str, QueueCount] = {}
        self.restart_seconds = 0.0

    def steps(self) -> list[Step]:
        """Publish, count, restart, count."""
        return [
            Step(
                f"Publish {MESSAGES} transient messages to a non-durable queue and {MESSAGES} "
                "persistent ones to a durable classic queue and to a quorum queue.",
                self._publish,
            ),
            Step("Count each queue (passive declare).", self._count_before),
            Step("Restart the broker.", self._restart),
            Step("Count each queue again.", self._count_after),
        ]

    def _publish(self) -> None:
        lab = self.lab
        lab.publish(
            self.queues["transient"],
            [TEXT] * MESSAGES,
            persistent=False,
            declare=declare_transient,
        )
        lab.publish(self.queues["classic"], [TEXT] * MESSAGES)
        lab.publish(self.queues["quorum"], [TEXT] * MESSAGES)

    def _count_before(self) -> None:
        self.before = {k: self.lab.count(q.name) for k, q in self.queues.items()}

    def _restart(self) -> None:
        node = self.config.node
        if node is None:
            raise RuntimeError("This lesson restarts the broker: run it on Kanin's own node.")
        started = time.monotonic()
        node.restart()
        self.restart_seconds = time.monotonic() - started

    def _count_after(self) -> None:
        lab = self.lab
        self.after = {
            "transient": lab.count(self.queues["transient"].name),
            "classic": lab.count(self.queues["classic"].name),
            # a quorum queue may need a moment to elect its leader after a restart
            "quorum": lab.settle_count(
                self.queues["quorum"].name, lambda c: c.ready >= MESSAGES, timeout=15
            ),
        }

    def outcome(self) -> Outcome:
        """Counts before and after, per queue."""

        def shown(count: QueueCount | None) -> Figure:
            if count is None:
                return None
            return count.ready if count.exists else "queue gone"

        figures: dict[str, Figure] = {
            kind: {"before": shown(self.before.get(kind)), "after": shown(self.after.get(kind))}
            for kind in KINDS
        }
        figures["restart_seconds"] = round(self.restart_seconds, 2)
        labels = {
            "transient": "Non-durable queue, transient messages",
            "classic": "Durable classic queue, persistent messages",
            "quorum": "Quorum queue, persistent messages",
        }
        sentences = [
            f"{labels[k]}: {shown(self.before.get(k))} before, {shown(self.after.get(k))} after."
            for k in KINDS
        ]
        after = self.after
        passed = (
            all(self.before.get(k, QueueCount(False, 0, 0)).ready == MESSAGES for k in KINDS)
            and not after["transient"].exists
            and after["classic"].ready == MESSAGES
            and after["quorum"].ready == MESSAGES
        )
        return Outcome(self.name, passed, figures, sentences, {"*": "broker (passive declare)"})
