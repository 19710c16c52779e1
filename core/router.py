"""The event router: what workers, the producer and the watcher report, turned into ledger changes.

One thread (the window's GUI thread) hands the router batches of events taken
from the cross-thread inbox. Each event goes to its handler through a dict
keyed by the event's type; the handler changes the task ledger, keeps the
connection state and calls the ``Notices`` callbacks (the window turns them
into Qt signals). Acknowledged task ids are announced once per batch. Event
kinds with no handler are skipped. A worker that ends or loses its
connection releases the tasks delivered to it and not started yet.
"""

from __future__ import annotations

import enum
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from core.events import (
    ProducerBlocked,
    ProducerConnected,
    ProducerDisconnected,
    ProducerStalled,
    ProducerUnblocked,
    QueueAvailable,
    QueueRecreated,
    QueueUnavailable,
    TaskDelivered,
    TaskFailed,
    TaskFinished,
    TaskRedelivered,
    TaskReturned,
    TasksConfirmed,
    TasksPublished,
    TasksRejected,
    TaskStarted,
    TaskTakenBack,
    TaskTooLong,
    WorkerConnected,
    WorkerFailed,
    WorkerKilled,
    WorkerReconnecting,
    WorkerStopped,
)
from core.ledger import Ledger, TaskState
from core.monitor import BrokerInfo, QueueStats
from core.topology import QueueType

log = logging.getLogger(__name__)


class ConnectionState(enum.StrEnum):
    """The connection's state as the status bar shows it (each value is also its text)."""

    CONNECTING = "connecting"
    CONNECTED = "connected"
    RECONNECTING = "reconnecting"
    BLOCKED = "blocked"
    FAILED = "failed"


def _ignore(*_args: object) -> None:
    """The default notice: nobody listens."""


@dataclass(frozen=True, slots=True)
class Notices:
    """Where the router announces what happened; every callback is a no-op unless given.

    Attributes:
        task_started: ``(task_id, worker)`` a worker took a task (only when announced).
        task_finished: ``(task_id)`` a task was acknowledged (only when announced).
        tasks_finished: ``(ids)`` the tasks acknowledged in one batch, a non-empty list.
        task_returned: ``(task_id, worker)`` a task went back to the queue.
        worker_killed: ``(worker)`` a worker was killed.
        queue_sampled: ``(stats)`` a reading of the work queue.
        dead_letter_sampled: ``(stats)`` a reading of another queue (its dead-letter queue).
        connection_changed: ``(state, message)`` the connection state or its sentence changed.
        connection_failed: ``(message)`` the broker cannot be reached or refused Kanin.
        broker_identified: ``(text)`` the broker's product and version, e.g. ``RabbitMQ 3.10.8``.
    """

    task_started: Callable[[str, str], None] = _ignore
    task_finished: Callable[[str], None] = _ignore
    tasks_finished: Callable[[list[str]], None] = _ignore
    task_returned: Callable[[str, str], None] = _ignore
    worker_killed: Callable[[str], None] = _ignore
    queue_sampled: Callable[[QueueStats], None] = _ignore
    dead_letter_sampled: Callable[[QueueStats], None] = _ignore
    connection_changed: Callable[[ConnectionState, str], None] = _ignore
    connection_failed: Callable[[str], None] = _ignore
    broker_identified: Callable[[str], None] = _ignore


class Router:
    """Routes event batches into a ledger and notices, and keeps the connection state.

    Args:
        ledger: the task ledger to change.
        notices: the callbacks to call.

    Attributes:
        state: the connection state.
        message: a sentence about the connection, for the status bar and the banner.
        broker: ``RabbitMQ 3.10.8`` once the watcher said so, else "".
        node: the broker node the producer is connected to, redacted ("" when not).
        queue_kind: ``quorum queue`` or ``classic queue`` (maybe ", adopted as it is") or "".
        queue_type: the queue's type as the producer's declare found it (``None`` before).
        send_error: why tasks cannot be sent in this session ("" while they can).
        finished_total: tasks acknowledged since the router was made.
        duplicates_total: tasks done a second time because an ack never reached the broker.
        confirmed_total: tasks confirmed by the broker since the router was made.
    """

    def __init__(self, ledger: Ledger, notices: Notices) -> None:
        self._ledger = ledger
        self._notices = notices
        self.state = ConnectionState.CONNECTING
        self.message = "Connecting to the broker…"
        self.broker = ""
        self.node = ""
        self.queue_kind = ""
        self.queue_type: QueueType | None = None
        self.send_error = ""
        self.finished_total = 0
        self.duplicates_total = 0
        self.confirmed_total = 0
        self._duplicates: set[str] = set()  # running again although done once
        self._connected_message = ""
        self._stalled = False  # the state says the broker has not confirmed for a while
        self._queue = ""
        self._username = ""
        self._auto_ack = False
        # One batch's context, read by the handlers.
        self._offset = 0.0
        self._changed = 0
        self._finished: list[str] = []
        self._announce_started = False
        self._announce_finished = False
        self._handlers: dict[type, Callable[[Any], None]] = {
            TaskStarted: self._on_task_started,
            TaskDelivered: self._on_task_delivered,
            TaskFinished: self._on_task_finished,
            TasksPublished: self._on_tasks_published,
            TasksConfirmed: self._on_tasks_confirmed,
            TaskReturned: self._on_task_returned,
            WorkerKilled: self._on_worker_killed,
            TaskFailed: self._on_task_failed,
            TasksRejected: self._on_tasks_rejected,
            QueueStats: self._on_queue_stats,
            ProducerConnected: self._on_producer_connected,
            ProducerDisconnected: self._on_producer_disconnected,
            WorkerFailed: self._on_worker_failed,
            WorkerConnected: self._on_worker_note,
            WorkerStopped: self._on_worker_stopped,
            WorkerReconnecting: self._on_worker_reconnecting,
            BrokerInfo: self._on_broker_info,
            TaskRedelivered: self._on_task_redelivered,
            QueueUnavailable: self._on_queue_unavailable,
            ProducerBlocked: self._on_producer_blocked,
            ProducerUnblocked: self._on_producer_unblocked,
            ProducerStalled: self._on_producer_stalled,
            QueueAvailable: self._on_queue_available,
            # The worker logs these in words; TaskTakenBack is followed by a TaskReturned.
            TaskTakenBack: self._on_worker_note,
            TaskTooLong: self._on_worker_note,
            QueueRecreated: self._on_worker_note,
        }

    @property
    def kinds(self) -> frozenset[type]:
        """The event types the router handles (others are skipped)."""
        return frozenset(self._handlers)

    def begin(self, queue: str, username: str, *, auto_ack: bool) -> None:
        """A new session starts: forget the last one's node, queue kind and send error.

        Args:
            queue: the work queue's name (readings of other queues are dead-letter readings).
            username: the user name, for the connected sentence.
            auto_ack: the workers use auto-ack (a task they drop is lost).
        """
        self._queue = queue
        self._username = username
        self._auto_ack = auto_ack
        self.node = ""
        self.queue_kind = ""
        self.queue_type = None
        self.send_error = ""

    def set_state(self, state: ConnectionState, message: str) -> None:
        """Change the connection state; announced only when it or its sentence changes."""
        if state is self.state and message == self.message:
            return
        self.state = state
        self.message = message
        self._notices.connection_changed(state, message)

    def fail(self, message: str) -> None:
        """The session cannot work (e.g. bad settings): no task will be sent."""
        self.set_state(ConnectionState.FAILED, message)
        self.send_error = message
        self._notices.connection_failed(message)

    def route(
        self,
        items: Sequence[object],
        *,
        announce_started: bool = False,
        announce_finished: bool = False,
    ) -> int:
        """Handle a batch of events, oldest first.

        Args:
            items: events and readings, as the inbox gave them.
            announce_started: call ``task_started`` for each task taken.
            announce_finished: call ``task_finished`` for each task acknowledged.

        Returns:
            How many task changes the batch held (a confirm of 1,000 tasks counts 1,000).
        """
        if not items:
            return 0
        self._changed = len(items)
        self._offset = time.time() - time.monotonic()  # events carry monotonic times
        self._announce_started = announce_started
        self._announce_finished = announce_finished
        finished: list[str] = []
        self._finished = finished
        handlers = self._handlers
        for item in items:
            handler = handlers.get(type(item))
            if handler is not None:
                handler(item)
        if finished:
            self._notices.tasks_finished(finished)
        return self._changed

    # ----------------------------------------------------------------- tasks

    def _on_task_started(self, event: TaskStarted) -> None:
        self._ledger.mark_started(event.worker, event.delivery, event.at + self._offset)
        if self._announce_started:
            self._notices.task_started(event.delivery.task_id, event.worker)

    def _on_task_delivered(self, event: TaskDelivered) -> None:
        self._ledger.mark_delivered(event.worker, event.delivery)

    def _on_task_finished(self, event: TaskFinished) -> None:
        self.finished_total += 1
        task_id = event.task_id
        self._ledger.mark_finished(event.worker, task_id, event.duration, event.at + self._offset)
        self._finished.append(task_id)
        if self._duplicates and task_id in self._duplicates:
            self._duplicates.discard(task_id)
            record = self._ledger.get(task_id)
            if record is not None:
                record.note = (
                    "done twice: its first ack never reached the broker (at-least-once delivery)"
                )
        if self._announce_finished:
            self._notices.task_finished(task_id)

    def _on_task_redelivered(self, event: TaskRedelivered) -> None:
        if event.duplicate:
            self.duplicates_total += 1
            self._duplicates.add(event.task_id)

    def _on_tasks_published(self, event: TasksPublished) -> None:
        self._ledger.mark_published(event.task_ids)
        self._changed += len(event.task_ids) - 1

    def _on_tasks_confirmed(self, event: TasksConfirmed) -> None:
        if self._stalled:
            self._stalled = False
            self.set_state(ConnectionState.CONNECTED, self._connected_message)
        self.confirmed_total += len(event.task_ids)
        self._ledger.mark_confirmed(event.task_ids)
        self._changed += len(event.task_ids) - 1

    def _on_task_returned(self, event: TaskReturned) -> None:
        if self._ledger.returned(
            event.task_id, event.worker, event.reason, auto_ack=self._auto_ack
        ):
            self._notices.task_returned(event.task_id, event.worker)

    def _on_worker_killed(self, event: WorkerKilled) -> None:
        """One log line says what the kill did to its tasks."""
        worker, task_id, auto_ack = event.worker, event.task_id, self._auto_ack
        held = self._ledger.release(worker, "its worker was killed", lost=auto_ack)
        fate = "lost" if auto_ack else "back in the queue"
        more = f" ({held} more delivered to it, not started: {fate})" if held else ""
        if task_id is None:
            log.info("%s was killed while idle%s.", worker, more)
        elif self._ledger.killed(task_id, worker, auto_ack=auto_ack):
            self._notices.task_returned(task_id, worker)
            log.info(
                "%s was killed: its unacknowledged task %s went back to the queue%s.",
                worker,
                task_id,
                more,
            )
        else:
            log.warning(
                "%s was killed with auto-ack: its task %s is lost%s.", worker, task_id, more
            )
        self._notices.worker_killed(worker)

    def _on_task_failed(self, event: TaskFailed) -> None:
        self._ledger.failed(
            event.task_id, event.error, event.requeued, event.attempt, auto_ack=self._auto_ack
        )

    def _on_tasks_rejected(self, event: TasksRejected) -> None:
        self._ledger.mark_rejected(event.task_ids, event.reason)

    # ----------------------------------------------------------------- connections

    def _on_producer_connected(self, event: ProducerConnected) -> None:
        report = event.report
        if report is not None:
            self.queue_type = report.queue_type
            kind = f"{report.queue_type.value} queue"
            self.queue_kind = f"{kind}, adopted as it is" if report.adopted else kind
        self.node = event.broker
        self._connected_message = (
            f"connected to {event.broker.split('@')[-1]} as {self._username}, "
            f"queue '{self._queue}' ({self.queue_kind})"
        )
        self.set_state(ConnectionState.CONNECTED, self._connected_message)
        log.info("Connected to %s. %s", event.broker, event.queue_description)

    def _on_producer_disconnected(self, event: ProducerDisconnected) -> None:
        self.node = ""
        self._ledger.mark_waiting(event.waiting_ids)
        if event.retrying:
            self.set_state(ConnectionState.RECONNECTING, f"{event.reason} Kanin keeps trying.")
        else:
            self.send_error = event.reason
            self.set_state(ConnectionState.FAILED, event.reason)
        self._notices.connection_failed(event.reason)

    def _on_producer_blocked(self, event: ProducerBlocked) -> None:
        sending = self._ledger.in_state(TaskState.SENDING)
        for record in sending:
            record.note = f"waiting: broker blocked ({event.reason})"
        self._ledger.mark_waiting(r.task_id for r in sending)
        self.set_state(
            ConnectionState.BLOCKED,
            f"the broker blocks publishing ({event.reason}): new tasks wait and are sent "
            "once the alarm clears, none twice.",
        )

    def _on_producer_unblocked(self, _event: ProducerUnblocked) -> None:
        if self.state is ConnectionState.BLOCKED:
            self.set_state(ConnectionState.CONNECTED, self._connected_message)

    def _on_producer_stalled(self, event: ProducerStalled) -> None:
        self._stalled = True
        self.set_state(
            ConnectionState.CONNECTED,
            f"{self._connected_message}; the broker has not confirmed {event.count} "
            f"task(s) for {event.oldest_age:.0f} s (queue '{event.queue}')",
        )

    def _on_queue_unavailable(self, event: QueueUnavailable) -> None:
        self.set_state(ConnectionState.RECONNECTING, event.message)

    def _on_queue_available(self, event: QueueAvailable) -> None:
        if self.state is ConnectionState.RECONNECTING and self._connected_message:
            self.set_state(ConnectionState.CONNECTED, self._connected_message)

    def _on_worker_stopped(self, event: WorkerStopped) -> None:
        self._ledger.release(event.worker, "its worker stopped", lost=self._auto_ack)
        log.debug("%s: %s", event.worker, type(event).__name__)

    def _on_worker_reconnecting(self, event: WorkerReconnecting) -> None:
        self._ledger.release(event.worker, "its worker's connection dropped", lost=self._auto_ack)

    def _on_worker_failed(self, event: WorkerFailed) -> None:
        self._ledger.release(event.worker, "its worker failed", lost=self._auto_ack)
        if self.state is not ConnectionState.CONNECTED:
            self.set_state(ConnectionState.FAILED, event.message)
            self._notices.connection_failed(event.message)

    def _on_worker_note(self, event: WorkerConnected) -> None:
        log.debug("%s: %s", event.worker, type(event).__name__)

    # ----------------------------------------------------------------- the watcher

    def _on_queue_stats(self, stats: QueueStats) -> None:
        if stats.queue == self._queue:
            self._notices.queue_sampled(stats)
        else:
            self._notices.dead_letter_sampled(stats)

    def _on_broker_info(self, info: BrokerInfo) -> None:
        self.broker = f"{info.product} {info.version}"
        self._notices.broker_identified(self.broker)
