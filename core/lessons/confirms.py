"""Lesson 7, publisher confirms: the broker killed mid-publish, with and without confirms.

Without confirms a producer believes a task sent once ``basic_publish``
returned; with them, once the broker confirmed it. The broker is killed
(``SIGKILL``) while each producer publishes as fast as it can, restarted,
and the queue counted. It kills the broker, so it runs only on Kanin's own
node (``--local-broker``).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import ClassVar

import pika
import pika.exceptions as pe
import psutil

from core.events import ProducerEvent, TasksConfirmed
from core.lessons.base import Figure, Lesson, Outcome, Step
from core.local_broker import LocalBroker
from core.producer import Producer
from core.tasks import Task, properties_for
from core.topology import QueueSpec

KILL_AFTER = 3000
"""Tasks each producer believes sent before the broker is killed."""
LIMIT = 200_000
TEXT = "Task ."


@dataclass(frozen=True)
class _Half:
    """Believed sent vs actually queued."""

    believed_sent: int
    queued: int

    @property
    def lost(self) -> int:
        return max(0, self.believed_sent - self.queued)

    def as_dict(self) -> dict[str, Figure]:
        return {"believed_sent": self.believed_sent, "queued": self.queued, "lost": self.lost}


def kill_node(node: LocalBroker, timeout: float = 15.0) -> None:
    """Kill the node's Erlang VM at once (``SIGKILL``), as a power cut would, and wait for it."""
    pid = node.pid()  # only while the pid is still this node's own VM
    if pid is None:
        raise RuntimeError(f"The broker {node.node_name} is not running.")
    process = psutil.Process(pid)
    process.kill()
    process.wait(timeout)


class PublisherConfirms(Lesson):
    """Kill the broker mid-publish with and without confirms; compare believed with queued."""

    name: ClassVar[str] = "confirms"
    title: ClassVar[str] = "Publisher confirms"
    summary: ClassVar[str] = (
        "The broker killed mid-publish, without and with confirms: tasks the producer "
        "believed sent vs tasks actually queued."
    )
    prediction: ClassVar[str] = (
        "Without confirms some tasks the producer believed sent are gone; with confirms "
        "every confirmed task is still in the queue."
    )
    needs_own_node = True

    def setup(self) -> None:
        """Two durable classic queues, one per half."""
        self.queues = {"plain": self.lab.queue("plain"), "confirmed": self.lab.queue("confirmed")}
        self.halves: dict[str, _Half] = {}
        self._confirmed = 0
        self._confirmed_lock = threading.Condition()
        self._quit = threading.Event()

    def steps(self) -> list[Step]:
        """Both producers at once, one kill, one restart."""
        return [
            Step(
                "Two producers publish as fast as they can to two durable queues: one "
                "without confirms, one with them.",
                self._publish,
            ),
            Step(
                f"Kill the broker once each believes {KILL_AFTER} tasks sent (SIGKILL).",
                self._kill,
            ),
            Step("Restart the broker and count both queues.", self._count),
        ]

    def _node(self) -> LocalBroker:
        node = self.config.node
        if node is None:
            raise RuntimeError("This lesson kills the broker: run it on Kanin's own node.")
        return node

    def _publish(self) -> None:
        self._node()  # refuse before publishing anything
        plain = self.queues["plain"]
        self.lab.declare(plain)
        self._sent = [0]
        self._enough = threading.Event()
        self._thread = threading.Thread(
            target=self._publish_plain,
            args=(plain, self._sent, self._enough),
            name="kanin-lesson-plain",
            daemon=True,
        )
        self._thread.start()
        self._producer = Producer(self.lab.settings, self.queues["confirmed"], self)
        self._producer.start()
        self._futures = self._producer.submit(Task.new(TEXT) for _ in range(KILL_AFTER * 10))

    def _kill(self) -> None:
        deadline = time.monotonic() + 60
        self._enough.wait(60)
        with self._confirmed_lock:
            while self._confirmed < KILL_AFTER and time.monotonic() < deadline:
                self._confirmed_lock.wait(0.1)
        kill_node(self._node())
        self._thread.join(30)
        self._producer.close(timeout=10, drain=False)

    def _count(self) -> None:
        self._node().start()
        believed = sum(1 for f in self._futures if f.done() and f.exception() is None)
        count = self.lab.count
        self.halves["plain"] = _Half(self._sent[0], count(self.queues["plain"].name).ready)
        self.halves["confirmed"] = _Half(believed, count(self.queues["confirmed"].name).ready)

    def _publish_plain(self, queue: QueueSpec, sent: list[int], enough: threading.Event) -> None:
        """Publish without confirms until the connection dies, counting publishes that returned."""
        try:
            connection = pika.BlockingConnection(self.lab.settings.pika_parameters())
            channel = connection.channel()
            for _ in range(LIMIT):
                if self._quit.is_set():
                    connection.close()
                    return
                task = Task.new(TEXT)
                channel.basic_publish("", queue.name, task.body, properties_for(task))
                sent[0] += 1
                if sent[0] >= KILL_AFTER:
                    enough.set()
        except (pe.AMQPError, OSError):
            pass  # the broker died under it: what returned before counts as "sent"
        finally:
            enough.set()

    def on_producer_event(self, event: ProducerEvent) -> None:
        """Count confirms as they arrive, then forward the event."""
        if isinstance(event, TasksConfirmed):
            with self._confirmed_lock:
                self._confirmed += len(event.task_ids)
                self._confirmed_lock.notify_all()
        super().on_producer_event(event)

    def close(self) -> None:
        """Close the producer (if still open), then the workers and queues."""
        self._quit.set()
        producer = getattr(self, "_producer", None)
        if producer is not None:
            producer.close(timeout=5, drain=False)
        super().close()

    def outcome(self) -> Outcome:
        """Believed sent vs queued, both ways."""
        plain = self.halves["plain"]
        confirmed = self.halves["confirmed"]
        figures: dict[str, Figure] = {
            "without_confirms": plain.as_dict(),
            "with_confirms": confirmed.as_dict(),
        }
        sentences = [
            f"Without confirms: the producer believed {plain.believed_sent} sent; "
            f"{plain.queued} were queued after the restart: {plain.lost} lost.",
            f"With confirms: {confirmed.believed_sent} confirmed; {confirmed.queued} queued "
            f"after the restart: {confirmed.lost} lost.",
        ]
        passed = plain.lost > 0 and confirmed.lost == 0 and confirmed.believed_sent > 0
        sources = {"believed_sent": "producer", "queued": "broker (passive declare)"}
        return Outcome(self.name, passed, figures, sentences, sources)
