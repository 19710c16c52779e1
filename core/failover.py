"""The failover stopwatch and drill: a node dies mid-drain; when does every worker consume again?

``FailoverClock`` is a worker observer. ``mark()`` it at the moment a node is
killed; it then records, for each worker, its first task started after the
mark ("consuming again", whether the worker had to reconnect or only waited
for the queue's new leader), who reconnected, and every task's deliveries and
completions, so a drill can prove nothing was lost and that tasks run twice
were redelivered ones.

``run_drill`` is the whole exercise on a ``core.cluster.LocalCluster``: publish
persistent tasks to a fresh quorum queue (a replica on every node), drain it
with a pool of workers, kill the queue's leader node after some tasks are
done, and wait until every task is done. It blocks for seconds.
"""

from __future__ import annotations

import collections
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import pika
from pika.adapters.blocking_connection import BlockingConnection

from core import pika_internals
from core.cluster import LocalCluster
from core.events import TaskFinished, TaskStarted, WorkerConnected, WorkerEvent, WorkerReconnecting
from core.pool import WorkerPool
from core.producer import Producer
from core.settings import ConnectionSettings
from core.tasks import Delivery, Task
from core.topology import QueueSpec, QueueType
from core.worker import Worker, WorkerOptions


class FailoverClock:
    """Records the workers' events around a kill (an observer for ``WorkerPool``).

    Args:
        clock: the time source of the events (``time.monotonic``).
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._cond = threading.Condition()
        self.killed_at: float | None = None
        self.consuming_again: dict[str, float] = {}
        """Each worker's first task start after the mark (monotonic time)."""
        self.reconnected_at: dict[str, float] = {}
        """Workers that lost their connection after the mark, and when they were back."""
        self.finished: collections.Counter[str] = collections.Counter()
        """How many times each task was completed (acknowledged after its work)."""
        self.redelivered: set[str] = set()
        """Tasks delivered at least once with the broker's redelivered flag."""
        self.deliveries: list[Delivery] = []
        self.ports: dict[str, int] = {}
        """The AMQP port each worker's current connection reaches (see ``worker_factory``)."""
        self.ports_at_mark: dict[str, int] = {}

    def on_worker_event(self, event: WorkerEvent) -> None:
        """Record one event (called in the worker threads)."""
        with self._cond:
            after = self.killed_at is not None and event.at >= self.killed_at
            if isinstance(event, TaskStarted):
                self.deliveries.append(event.delivery)
                if event.delivery.redelivered:
                    self.redelivered.add(event.delivery.task_id)
                if after:
                    self.consuming_again.setdefault(event.worker, event.at)
            elif isinstance(event, TaskFinished):
                self.finished[event.task_id] += 1
            elif isinstance(event, WorkerReconnecting) and after:
                self.reconnected_at.setdefault(event.worker, float("nan"))
            elif isinstance(event, WorkerConnected) and event.worker in self.reconnected_at:
                self.reconnected_at[event.worker] = event.at
            self._cond.notify_all()

    def mark(self) -> float:
        """Start the stopwatch (call just before killing the node); returns the mark."""
        with self._cond:
            self.killed_at = self._clock()
            self.ports_at_mark = dict(self.ports)
            self.consuming_again.clear()
            self.reconnected_at.clear()
            return self.killed_at

    def worker_factory(self, name: str, *args: Any, **kwargs: Any) -> Worker:
        """A ``WorkerPool`` factory: a worker whose connections tell the clock their node's port."""

        def connect(params: list[pika.URLParameters]) -> BlockingConnection:
            connection = BlockingConnection(params)
            sock = pika_internals.socket_of(connection)
            if sock is not None:
                with self._cond:
                    self.ports[name] = int(sock.getpeername()[1])
            return connection

        return Worker(name, *args, connect=connect, **kwargs)

    def done_count(self) -> int:
        """How many distinct tasks were completed."""
        with self._cond:
            return len(self.finished)

    def wait_done(self, count: int, timeout: float) -> bool:
        """Wait until ``count`` distinct tasks were completed."""
        with self._cond:
            return self._cond.wait_for(lambda: len(self.finished) >= count, timeout)

    def wait_consuming(self, workers: Iterable[str], timeout: float) -> float | None:
        """Wait until every worker has started a task after the mark.

        Returns:
            Seconds from the mark to the last of them, or ``None`` on timeout.
        """
        names = list(workers)
        with self._cond:
            ok = self._cond.wait_for(lambda: all(n in self.consuming_again for n in names), timeout)
            if not ok or self.killed_at is None:
                return None
            return max(self.consuming_again[n] for n in names) - self.killed_at


@dataclass(frozen=True)
class DrillResult:
    """What a failover drill measured.

    Attributes:
        tasks: tasks published (and confirmed).
        completed: distinct tasks completed.
        lost: tasks never completed.
        duplicates: tasks completed more than once.
        duplicates_not_redelivered: of those, tasks never seen redelivered (must be none).
        killed: the node killed (the queue's leader before the kill).
        failover_seconds: kill to every worker consuming again, or ``None`` if some never did.
        reconnected: workers that lost their connection and came back.
        on_killed_node: workers whose connection was on the killed node at the kill.
    """

    tasks: int
    completed: int
    lost: int
    duplicates: tuple[str, ...]
    duplicates_not_redelivered: tuple[str, ...]
    killed: str
    failover_seconds: float | None
    reconnected: tuple[str, ...]
    on_killed_node: tuple[str, ...]


def run_drill(
    cluster: LocalCluster,
    *,
    tasks: int = 300,
    workers: int = 4,
    kill_after: int = 50,
    work_seconds: float = 0.05,
    timeout: float = 90.0,
) -> DrillResult:
    """Kill the queue leader's node mid-drain and count what happened.

    Every node must be running. The queue (``drill-<uuid>``) is deleted at the
    end; the killed node stays down (start it again with ``start_node``).

    Args:
        cluster: a running cluster.
        tasks: persistent tasks to publish first.
        workers: workers in the pool (each shuffles the cluster's URL list).
        kill_after: completed tasks before the kill.
        work_seconds: each task's work.
        timeout: seconds for the drain, and again for failover.

    Raises:
        RuntimeError: the queue has no leader, or publishing failed.
    """
    queue = QueueSpec(f"drill-{uuid.uuid4().hex[:8]}", QueueType.QUORUM)
    cluster.declare_queue(queue.name)
    leader = cluster.status(queue.name).leader
    if leader is None:
        raise RuntimeError(f"The queue {queue.name} has no leader.")
    port = cluster.node(leader).amqp_port
    settings = ConnectionSettings.from_urls([cluster.url_list])
    producer = Producer(settings, queue)
    try:
        producer.start()
        for future in producer.submit(Task.new(f"drill {i}") for i in range(tasks)):
            future.result(timeout=timeout)
    finally:
        producer.close(timeout=10)
    clock = FailoverClock()

    def work(_delivery: Delivery) -> float:
        return work_seconds

    pool = WorkerPool(
        settings,
        queue,
        clock,
        WorkerOptions(prefetch=1),
        work=work,
        worker_factory=clock.worker_factory,
    )
    try:
        names = pool.add(workers)
        clock.wait_done(kill_after, timeout)
        clock.mark()
        cluster.kill(leader)
        failover = clock.wait_consuming(names, timeout)
        clock.wait_done(tasks, timeout)
    finally:
        pool.stop_all(timeout=15)
    _delete_queue(cluster, queue.name)
    duplicates = tuple(sorted(t for t, n in clock.finished.items() if n > 1))
    return DrillResult(
        tasks=tasks,
        completed=clock.done_count(),
        lost=tasks - clock.done_count(),
        duplicates=duplicates,
        duplicates_not_redelivered=tuple(t for t in duplicates if t not in clock.redelivered),
        killed=leader,
        failover_seconds=failover,
        reconnected=tuple(sorted(clock.reconnected_at)),
        on_killed_node=tuple(sorted(n for n, p in clock.ports_at_mark.items() if p == port)),
    )


def _delete_queue(cluster: LocalCluster, queue: str) -> None:
    """Delete the drill's queue on a live node (best effort)."""
    live = cluster.running_nodes()
    if not live:
        return
    connection = pika.BlockingConnection(pika.URLParameters(live[0].amqp_url))
    try:
        connection.channel().queue_delete(queue)
    finally:
        if connection.is_open:
            connection.close()
