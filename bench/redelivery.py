"""Kill to redelivery: from ``kill()`` of a worker holding a task to another worker starting it.

Two workers wait on the queue (prefetch 1). One task is published; whichever
worker takes it is killed (its socket is shut down, no ack), and the clock
stops at the other worker's ``TaskStarted`` for the same task (redelivered).
A fresh worker then replaces the killed one for the next trial.
"""

from __future__ import annotations

import threading
import time

from bench import common
from core.events import TaskFinished, TaskStarted, WorkerConnected, WorkerEvent
from core.pool import WorkerPool
from core.tasks import Delivery, Task, properties_for
from core.topology import QueueSpec, QueueType
from core.worker import WorkerOptions


class _Watcher:
    """Records events and lets the benchmark wait on them."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self.events: list[WorkerEvent] = []

    def on_worker_event(self, event: WorkerEvent) -> None:
        with self._cond:
            self.events.append(event)
            self._cond.notify_all()

    def wait_for(self, kind: type[WorkerEvent], task_id: str | None, count: int = 1) -> WorkerEvent:
        """The ``count``-th event of ``kind`` (for ``task_id`` when given)."""

        def matching() -> list[WorkerEvent]:
            found = [e for e in self.events if isinstance(e, kind)]
            if task_id is not None:
                found = [e for e in found if _task_of(e) == task_id]
            return found

        with self._cond:
            if not self._cond.wait_for(lambda: len(matching()) >= count, 30):
                raise TimeoutError(f"no {kind.__name__} for {task_id}")
            return matching()[count - 1]


def _task_of(event: WorkerEvent) -> str | None:
    if isinstance(event, TaskStarted):
        return event.delivery.task_id
    if isinstance(event, TaskFinished):
        return event.task_id
    return None


def _work(delivery: Delivery) -> float:
    """Hold a first delivery for a minute (until killed); finish a redelivery at once."""
    return 0.0 if delivery.redelivered else 60.0


def trials(queue_type: QueueType, count: int, url: str = common.URL) -> list[float]:
    """``count`` kill-to-redelivery latencies in milliseconds."""
    queue = common.unique_queue("kill")
    common.declare(queue, queue_type, url)
    watcher = _Watcher()
    pool = WorkerPool(
        common.settings(url),
        QueueSpec(queue, queue_type),
        watcher,
        WorkerOptions(prefetch=1),
        work=_work,
    )
    connection = common.connect(url)
    channel = connection.channel()
    results: list[float] = []
    try:
        pool.add(2)
        connected = 2
        watcher.wait_for(WorkerConnected, None, connected)
        for _ in range(count):
            task = Task.new(f"kill-{len(results)}")
            channel.basic_publish(
                exchange="", routing_key=queue, body=task.body, properties=properties_for(task)
            )
            first = watcher.wait_for(TaskStarted, task.id)
            killed_at = time.monotonic()
            pool.kill(first.worker)
            again = watcher.wait_for(TaskStarted, task.id, 2)
            results.append((again.at - killed_at) * 1000)
            watcher.wait_for(TaskFinished, task.id)
            pool.remove_finished()
            pool.add(1)
            connected += 1
            watcher.wait_for(WorkerConnected, None, connected)
    finally:
        connection.close()
        pool.stop_all(timeout=15)
        common.delete(queue, url)
    return results
