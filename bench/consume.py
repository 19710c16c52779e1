"""Consume throughput: Kanin's headless pool against raw pika consumers, same messages.

Both sides drain the same pre-filled queue with zero-second persistent tasks,
prefetch 1 and manual acks. The clock starts just before the consumer threads
are started (each then connects, opens a channel, declares the queue, sets
``basic_qos`` and consumes: the tutorial's order, and what a user sees when
adding workers to a full queue) and stops in the thread that acknowledges the
last task. Connection set-up is the same work on both sides and takes about
1-10 % of a run.

The raw baseline is the tutorial's ``worker.py`` callback (``basic_ack`` per
message) WITHOUT its ``time.sleep(body.count(b"."))``: ``time.sleep(0)`` costs
about 70 µs here, which would slow the baseline and flatter Kanin.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import pika

from bench import common
from core.events import TaskFinished, WorkerEvent
from core.pool import WorkerPool
from core.settings import ConnectionSettings
from core.topology import QueueSpec, QueueType
from core.worker import WorkerOptions


class Finish:
    """Counts acknowledged tasks; records the time of the last one."""

    def __init__(self, total: int) -> None:
        self.total = total
        self._lock = threading.Lock()
        self.count = 0
        self.ended = 0.0
        self.done = threading.Event()

    def one(self) -> None:
        """Record one acknowledged task (any thread)."""
        with self._lock:
            self.count += 1
            if self.count == self.total:
                self.ended = time.perf_counter()
                self.done.set()


class _CountingObserver:
    """The lightest useful observer: counts TaskFinished events."""

    def __init__(self, finish: Finish) -> None:
        self._finish = finish

    def on_worker_event(self, event: WorkerEvent) -> None:
        if type(event) is TaskFinished:
            self._finish.one()


def raw_drain(
    queue: str, queue_type: QueueType, workers: int, total: int, url: str = common.URL
) -> float:
    """Drain ``total`` tasks with raw pika consumer threads; returns messages per second."""
    finish = Finish(total)
    stoppers: list[Any] = []
    lock = threading.Lock()
    errors: list[BaseException] = []

    def consumer() -> None:
        try:
            connection = pika.BlockingConnection(pika.URLParameters(url))
        except BaseException as exc:
            errors.append(exc)
            finish.done.set()
            raise
        try:
            channel = connection.channel()
            channel.queue_declare(queue=queue, durable=True, arguments=queue_type.arguments())
            channel.basic_qos(prefetch_count=1)

            def callback(ch: Any, method: Any, _properties: Any, _body: bytes) -> None:
                # The tutorial's callback minus the prints and time.sleep(0).
                ch.basic_ack(delivery_tag=method.delivery_tag)
                finish.one()

            channel.basic_consume(queue=queue, on_message_callback=callback)
            with lock:
                stoppers.append((connection, channel))
            channel.start_consuming()
            channel.close()
        finally:
            if connection.is_open:
                connection.close()

    threads = [
        threading.Thread(target=consumer, name=f"bench-raw-{i}", daemon=True)
        for i in range(workers)
    ]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    if not finish.done.wait(timeout=300):
        raise TimeoutError(f"raw pika drained {finish.count} of {total}")
    with lock:
        pairs = list(stoppers)
    for connection, channel in pairs:
        connection.add_callback_threadsafe(channel.stop_consuming)
    for thread in threads:
        thread.join(30)
    if errors:
        raise errors[0]
    return total / (finish.ended - started)


def kanin_drain(
    queue: str,
    queue_type: QueueType,
    workers: int,
    total: int,
    settings: ConnectionSettings | None = None,
) -> float:
    """Drain ``total`` tasks with Kanin's ``WorkerPool``; returns messages per second."""
    finish = Finish(total)
    pool = WorkerPool(
        settings or common.settings(),
        QueueSpec(queue, queue_type),
        _CountingObserver(finish),
        WorkerOptions(prefetch=1),
    )
    try:
        started = time.perf_counter()
        pool.add(workers)
        if not finish.done.wait(timeout=300):
            raise TimeoutError(f"Kanin drained {finish.count} of {total}")
        return total / (finish.ended - started)
    finally:
        pool.stop_all(timeout=30)
