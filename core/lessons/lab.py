"""A lesson's bench: its own queues, real workers, the real producer, the broker's counts.

``LabConfig`` says where the broker is and how fast the lesson runs (seconds
per dot of work). ``Lab`` is one lesson's bench: it names the lesson's queues
``kanin.lesson.<lesson>.<random>`` (never ``task_queue``), starts worker pools
and the producer, records every worker event, reads counts from the broker
(passive ``queue.declare``; the management API where present) and, on
``close()``, ends its workers and deletes its queues.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pika
import pika.exceptions as pe

from core import pika_internals
from core.errors import BrokerError
from core.events import (
    ProducerEvent,
    TaskFinished,
    TaskStarted,
    WorkerConnected,
    WorkerEvent,
    WorkerFailed,
)
from core.local_broker import LocalBroker
from core.management import ManagementApi, ManagementError
from core.pool import WorkerPool
from core.producer import Producer
from core.settings import ConnectionSettings
from core.tasks import Delivery, Task
from core.topology import QueueReport, QueueSpec, QueueType
from core.work import Work
from core.worker import WorkerOptions

log = logging.getLogger(__name__)

QUEUE_PREFIX = "kanin.lesson."
DEFAULT_DOT_SECONDS = 0.1
WAIT = 30.0
"""Longest wait for anything a lesson expects to happen (seconds)."""


@dataclass(frozen=True)
class LabConfig:
    """Where the lessons run and how fast.

    Attributes:
        settings: the broker.
        dot_seconds: work time of one ``.`` in a task's body (the tutorial's is 1 s).
        node: Kanin's own node, which a lesson may restart or kill (``None``: not allowed).
        management: the broker's management API, when it has one.
    """

    settings: ConnectionSettings
    dot_seconds: float = DEFAULT_DOT_SECONDS
    node: LocalBroker | None = None
    management: ManagementApi | None = field(default=None, repr=False)

    def dot_work(self) -> Work:
        """The tutorial's work function at this time scale."""
        scale = self.dot_seconds

        def work(delivery: Delivery) -> float:
            return delivery.body.count(b".") * scale

        return work


@dataclass(frozen=True)
class QueueCount:
    """What a passive declare said about a queue.

    Attributes:
        exists: False when the broker answered 404 (the queue is gone).
        ready: messages ready.
        consumers: consumers attached.
    """

    exists: bool
    ready: int
    consumers: int


class Lab:
    """One lesson's bench.

    Args:
        config: where and how fast.
        lesson: the lesson's name (part of every queue name).
        forward: receives every worker and producer event (the lesson's observer hook).
    """

    def __init__(self, config: LabConfig, lesson: str, forward: Any = None) -> None:
        self.config = config
        self.settings = config.settings
        self.lesson = lesson
        self._forward = forward
        self._token = uuid.uuid4().hex[:8]
        self._queues: list[str] = []
        self._pools: list[WorkerPool] = []
        self._cond = threading.Condition()
        self.events: list[WorkerEvent] = []

    # ----------------------------------------------------------------- names and queues

    def queue(self, part: str = "", queue_type: QueueType = QueueType.CLASSIC) -> QueueSpec:
        """A queue of the lesson's own, deleted by ``close()``."""
        name = f"{QUEUE_PREFIX}{self.lesson}.{self._token}" + (f".{part}" if part else "")
        self.own(name)
        return QueueSpec(name, queue_type)

    def own(self, name: str) -> None:
        """Delete this queue on ``close()`` too."""
        if name not in self._queues:
            self._queues.append(name)

    @property
    def owned_queues(self) -> tuple[str, ...]:
        """Every queue the lesson made or will make (``close()`` deletes them)."""
        return tuple(self._queues)

    def connect(self) -> pika.BlockingConnection:
        """A short-lived connection for declares and counts (close it)."""
        return pika.BlockingConnection(self.settings.pika_parameters())

    def count(self, queue: str) -> QueueCount:
        """Ready messages and consumers of ``queue`` from a passive declare (404: gone)."""
        connection = self.connect()
        try:
            ok = connection.channel().queue_declare(queue=queue, passive=True)
            return QueueCount(True, int(ok.method.message_count), int(ok.method.consumer_count))
        except pe.ChannelClosedByBroker as exc:
            if exc.reply_code == 404:
                return QueueCount(False, 0, 0)
            raise
        finally:
            if connection.is_open:
                connection.close()

    def settle_count(
        self, queue: str, done: Callable[[QueueCount], bool], timeout: float = 10.0
    ) -> QueueCount:
        """Poll ``count()`` until ``done`` says so or ``timeout``; returns the last count."""
        deadline = time.monotonic() + timeout
        while True:
            count = self.count(queue)
            if done(count) or time.monotonic() >= deadline:
                return count
            with self._cond:
                self._cond.wait(0.05)  # also wakes on the next worker event

    def unacked(self, queue: str, expected: int, timeout: float = 8.0) -> int | None:
        """``messages_unacknowledged`` from the management API (``None`` without one).

        Its figures refresh every few seconds: polled until ``expected`` or ``timeout``.
        """
        api = self.config.management
        if api is None:
            return None
        vhost = self.settings.primary.vhost
        deadline = time.monotonic() + timeout
        value: int | None = None
        while time.monotonic() < deadline:
            try:
                raw = api.queue(vhost, queue).get("messages_unacknowledged")
            except ManagementError as exc:
                log.info("management API: %s", exc)
                return None
            value = raw if isinstance(raw, int) else None
            if value == expected:
                return value
            threading.Event().wait(0.25)
        return value

    def broker_identity(self) -> str:
        """The broker's product and version, as it announced them (e.g. ``RabbitMQ 3.10.8``)."""
        connection = self.connect()
        try:
            props = pika_internals.server_properties(connection)
        finally:
            connection.close()
        parts = [props.get("product", b"broker"), props.get("version", b"")]
        return " ".join(p.decode() if isinstance(p, bytes) else str(p) for p in parts).strip()

    # ----------------------------------------------------------------- workers

    def pool(
        self,
        queue: QueueSpec,
        options: WorkerOptions,
        *,
        work: Work | None = None,
        prefix: str = "W",
        worker_factory: Any = None,
    ) -> WorkerPool:
        """A pool of the lesson's workers on ``queue`` (ended by ``close()``)."""
        extra = {"worker_factory": worker_factory} if worker_factory is not None else {}
        pool = WorkerPool(
            self.settings,
            queue,
            self,
            options,
            work=work or self.config.dot_work(),
            name_prefix=prefix,
            **extra,
        )
        self._pools.append(pool)
        return pool

    def start_workers(self, pool: WorkerPool, count: int) -> list[str]:
        """Add ``count`` workers and wait until each is consuming.

        Raises:
            BrokerError: a worker gave up (the broker is unreachable or refused it).
        """
        names = pool.add(count)

        def ended(name: str) -> WorkerEvent | None:
            return next(
                (
                    e
                    for e in self.events
                    if e.worker == name and isinstance(e, WorkerConnected | WorkerFailed)
                ),
                None,
            )

        self.wait_for(lambda: all(ended(n) is not None for n in names), f"{count} worker(s)")
        failed = [e for e in map(ended, names) if isinstance(e, WorkerFailed)]
        if failed:
            raise BrokerError(failed[0].message)
        return names

    def on_worker_event(self, event: WorkerEvent) -> None:
        """Record a worker's event (worker thread) and forward it."""
        with self._cond:
            self.events.append(event)
            self._cond.notify_all()
        if self._forward is not None:
            self._forward.on_worker_event(event)

    def on_producer_event(self, event: ProducerEvent) -> None:
        """Forward the producer's event."""
        if self._forward is not None:
            self._forward.on_producer_event(event)

    def wait_for(self, predicate: Callable[[], bool], what: str, timeout: float = WAIT) -> None:
        """Wait until ``predicate()`` holds (re-checked on every worker event).

        Raises:
            TimeoutError: it did not happen in time (the message says what).
        """
        deadline = time.monotonic() + timeout
        with self._cond:
            while not predicate():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"Waited {timeout:.0f} s for {what}.")
                self._cond.wait(min(remaining, 0.1))

    def of_kind(self, kind: type[Any], worker: str | None = None) -> list[Any]:
        """The recorded events of one kind (optionally of one worker), in order."""
        with self._cond:
            return [
                e
                for e in self.events
                if isinstance(e, kind) and (worker is None or e.worker == worker)
            ]

    def finished_count(self, workers: Sequence[str] | None = None) -> int:
        """Tasks finished so far (by the given workers, or by all)."""
        return sum(1 for e in self.of_kind(TaskFinished) if workers is None or e.worker in workers)

    def started_count(self, workers: Sequence[str] | None = None) -> int:
        """Deliveries started so far (by the given workers, or by all)."""
        return sum(1 for e in self.of_kind(TaskStarted) if workers is None or e.worker in workers)

    # ----------------------------------------------------------------- producing

    def publish(
        self,
        queue: QueueSpec,
        texts: Iterable[str],
        *,
        persistent: bool = True,
        declare: Callable[[Any, QueueSpec], QueueReport] | None = None,
    ) -> list[Task]:
        """Publish tasks with the real producer (confirmed), in order; returns them."""
        tasks = [Task.new(text) for text in texts]
        producer = Producer(self.settings, queue, self, persistent=persistent, declare=declare)
        try:
            producer.start()
            producer.publish(tasks, timeout=WAIT)
        finally:
            producer.close(timeout=5)
        return tasks

    def declare(self, queue: QueueSpec, **arguments: Any) -> None:
        """Declare a durable queue of the lesson with exactly these ``x-`` arguments."""
        args = dict(queue.queue_type.arguments() or {})
        args.update(arguments)
        connection = self.connect()
        try:
            connection.channel().queue_declare(queue=queue.name, durable=True, arguments=args)
        finally:
            connection.close()

    # ----------------------------------------------------------------- the end

    def end_workers(self) -> None:
        """Stop every worker of the lesson and wait for the threads."""
        for pool in self._pools:
            pool.stop_all(timeout=10)

    def close(self) -> None:
        """End the workers and delete the lesson's queues (errors are logged, not raised)."""
        self.end_workers()
        self._pools.clear()
        if not self._queues:
            return
        try:
            connection = self.connect()
        except pe.AMQPError as exc:
            log.warning("could not delete the lesson's queues %s: %s", self._queues, exc)
            return
        try:
            for name in self._queues:
                channel = connection.channel()
                try:
                    channel.queue_delete(queue=name)
                except pe.AMQPError as exc:
                    log.debug("deleting %s: %s", name, exc)
                else:
                    if channel.is_open:
                        channel.close()
        finally:
            if connection.is_open:
                connection.close()
