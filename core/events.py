"""Events that workers and producers report: frozen dataclasses, safe across threads.

Observers receive them in the reporting thread and must return quickly; the
desktop layer turns them into Qt signals, the command line prints them.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Protocol

from core.tasks import Delivery
from core.topology import QueueReport


class WorkerState(enum.Enum):
    """What a worker is doing."""

    CONNECTING = "connecting"
    IDLE = "idle"
    BUSY = "busy"
    RECONNECTING = "reconnecting"
    STOPPING = "stopping"
    STOPPED = "stopped"
    KILLED = "killed"
    FAILED = "failed"

    @property
    def finished(self) -> bool:
        """True once the worker's thread has nothing left to do."""
        return self in (WorkerState.STOPPED, WorkerState.KILLED, WorkerState.FAILED)


@dataclass(frozen=True)
class WorkerEvent:
    """Base of everything a worker reports.

    Attributes:
        worker: the worker's name.
        at: ``time.monotonic()`` when it happened.
    """

    worker: str
    at: float


@dataclass(frozen=True)
class WorkerConnected(WorkerEvent):
    """The worker is connected and consuming."""

    broker: str
    queue_description: str


@dataclass(frozen=True)
class TaskDelivered(WorkerEvent):
    """A delivery arrived while the worker was busy: it waits in the worker's buffer (prefetch).

    Reported only for deliveries that wait; one started at once reports ``TaskStarted`` only.
    """

    delivery: Delivery


@dataclass(frozen=True)
class TaskStarted(WorkerEvent):
    """A delivery arrived and its work began."""

    delivery: Delivery


@dataclass(frozen=True)
class TaskFinished(WorkerEvent):
    """The work is done and the task was acknowledged (or auto-acked)."""

    task_id: str
    duration: float


@dataclass(frozen=True)
class TaskReturned(WorkerEvent):
    """The task was given back to the queue unfinished (``reason`` says why)."""

    task_id: str
    reason: str


@dataclass(frozen=True)
class TaskFailed(WorkerEvent):
    """The work raised; the task was given back (or dead-lettered by the broker).

    ``attempt`` is which attempt failed (1 for the first), when known;
    ``requeued`` is False once the task went to the dead-letter queue.
    """

    task_id: str
    error: str
    requeued: bool
    attempt: int | None = None


@dataclass(frozen=True)
class WorkerReconnecting(WorkerEvent):
    """The connection was lost; the worker retries after ``delay`` seconds."""

    reason: str
    attempt: int
    delay: float


@dataclass(frozen=True)
class WorkerStopped(WorkerEvent):
    """The worker ended gracefully."""


@dataclass(frozen=True)
class WorkerKilled(WorkerEvent):
    """The worker crashed on purpose: its connection dropped without an ack."""

    task_id: str | None


@dataclass(frozen=True)
class WorkerFailed(WorkerEvent):
    """The worker gave up on an error it cannot recover from."""

    message: str


@dataclass(frozen=True)
class TaskTakenBack(WorkerEvent):
    """The broker closed the channel under a running task and requeued it; the work stopped.

    Attributes:
        task_id: the task.
        reason: why, in words (e.g. the broker's consumer timeout).
        timeout_ms: the broker's consumer timeout when that was the cause.
    """

    task_id: str
    reason: str
    timeout_ms: int | None = None


@dataclass(frozen=True)
class TaskTooLong(WorkerEvent):
    """A task about to start needs more work time than the broker's consumer timeout allows."""

    task_id: str
    work_seconds: float
    timeout_seconds: float
    message: str


@dataclass(frozen=True)
class TaskRedelivered(WorkerEvent):
    """A redelivered task arrived (sent before ``TaskStarted``).

    Attributes:
        task_id: the task.
        duplicate: True when this process already did it and acknowledged it:
            the ack never reached the broker, so the work runs a second time
            (what at-least-once delivery allows).
    """

    task_id: str
    duplicate: bool


@dataclass(frozen=True)
class QueueUnavailable(WorkerEvent):
    """The queue has answered only with internal errors for a while; the worker keeps retrying.

    Attributes:
        queue: the queue.
        node: the broker (``host:port``, with the node's name when known).
        since: seconds it has been failing.
        message: the sentence to show.
    """

    queue: str
    node: str
    since: float
    message: str


@dataclass(frozen=True)
class QueueAvailable(WorkerEvent):
    """A queue reported by ``QueueUnavailable`` answers again."""

    queue: str


@dataclass(frozen=True)
class QueueRecreated(WorkerEvent):
    """The queue was deleted under the worker; the worker declared it again and consumes."""

    queue: str
    message: str


class WorkerObserver(Protocol):
    """Receives a worker's events in the worker's thread."""

    def on_worker_event(self, event: WorkerEvent) -> None:
        """Handle one event; must not block."""


@dataclass(frozen=True)
class ProducerEvent:
    """Base of everything a producer reports (in the producer's thread).

    Attributes:
        at: ``time.monotonic()`` when it happened.
    """

    at: float


@dataclass(frozen=True)
class ProducerConnected(ProducerEvent):
    """The producer's connection and confirm channel are ready.

    Attributes:
        report: what the producer's declare found on this connection (None if it was not declared).
    """

    broker: str
    queue_description: str
    report: QueueReport | None = None


@dataclass(frozen=True)
class ProducerDisconnected(ProducerEvent):
    """The producer lost its connection; unconfirmed tasks wait to be published again.

    Attributes:
        waiting: how many tasks wait (published but unconfirmed, or not yet published).
        waiting_ids: their task ids, oldest first, taken in the producer's own thread.
    """

    reason: str
    waiting: int
    retrying: bool
    waiting_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class TasksPublished(ProducerEvent):
    """Tasks were handed to the broker and await its confirm."""

    task_ids: tuple[str, ...]


@dataclass(frozen=True)
class TasksConfirmed(ProducerEvent):
    """The broker confirmed these tasks: they are safely enqueued."""

    task_ids: tuple[str, ...]


@dataclass(frozen=True)
class TasksRejected(ProducerEvent):
    """The broker refused these tasks (nack, unroutable) or the producer gave up on them."""

    task_ids: tuple[str, ...]
    reason: str


@dataclass(frozen=True)
class ProducerBlocked(ProducerEvent):
    """The broker blocked the producer's connection (a resource alarm): publishing waits.

    The connection stays open and nothing is published again: the tasks sent
    before the block are confirmed once it lifts. It ends with
    ``ProducerUnblocked``, or with ``ProducerDisconnected`` if the connection
    goes (a new connection starts unblocked).

    Attributes:
        reason: the broker's words, e.g. ``low on memory`` or ``low on disk``.
    """

    reason: str

    @property
    def alarm(self) -> str:
        """The alarm in plain words: ``memory alarm``, ``disk alarm`` or the broker's reason."""
        text = self.reason.lower()
        if "memory" in text:
            return "memory alarm: the broker is low on memory"
        if "disk" in text:
            return "disk alarm: the broker is low on disk space"
        return f"resource alarm: {self.reason}" if self.reason else "resource alarm"


@dataclass(frozen=True)
class ProducerUnblocked(ProducerEvent):
    """The broker lifted its block: publishing goes on."""


@dataclass(frozen=True)
class ProducerStalled(ProducerEvent):
    """Published tasks await the broker's confirm for longer than the producer's bound.

    Reported while the connection is open and not blocked (``ProducerBlocked``
    explains that wait), again every bound while it lasts; the next
    ``TasksConfirmed`` shows that the broker answers again.

    Attributes:
        oldest_age: seconds since the oldest unconfirmed task was published.
        count: tasks published and not yet confirmed.
        waiting: every task not settled yet (unconfirmed, or not published yet).
        queue: the queue the tasks were published to.
    """

    oldest_age: float
    count: int
    waiting: int
    queue: str = ""


class ProducerObserver(Protocol):
    """Receives a producer's events in the producer's thread."""

    def on_producer_event(self, event: ProducerEvent) -> None:
        """Handle one event; must not block."""
