"""The worker: one thread, one pika connection, fair dispatch and manual acks.

``Worker.run()`` blocks; call it in the thread that should own the
connection. It opens its own ``BlockingConnection`` there, declares (or
adopts) the queue, sets ``basic_qos(prefetch_count=N)`` and consumes; each
delivery is run by ``core.runner.TaskRunner`` in short slices of
``process_data_events``, so heartbeats keep flowing and the worker can be
interrupted. Other threads may only call ``stop()``, ``kill()`` and ``status()``.

A lost connection after the first successful one is retried with capped
backoff; the deliveries of the dead connection are dropped (the broker has
requeued them), never acknowledged on the new channel.

The quieter faults (``core.faults``) are noticed and said in words: a channel
the broker closed under a task (its consumer timeout), a connection with no
traffic from the broker for ``silence_timeout`` seconds (a frozen network),
a queue answering only ``541 INTERNAL_ERROR`` for ``unavailable_after``
seconds, and a queue deleted under the worker and declared again.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pika
import pika.exceptions as pe
from pika.adapters.blocking_connection import BlockingChannel, BlockingConnection

from core import faults, pika_internals
from core.attempts import FailurePolicy
from core.backoff import backoff_delay
from core.budget import TaskBudget
from core.errors import is_fatal
from core.events import (
    WorkerConnected,
    WorkerFailed,
    WorkerKilled,
    WorkerObserver,
    WorkerReconnecting,
    WorkerState,
    WorkerStopped,
)
from core.health import Cancelled, Health
from core.inbox import Inbox
from core.memory import SHARED, TaskMemory
from core.options import AckMode, WorkerOptions
from core.priority import PriorityGate, lower_thread_priority
from core.runner import Killed, TaskRunner
from core.settings import ConnectionSettings
from core.status import StatusBoard, WorkerStatus
from core.topology import QueueSpec, declare_queue
from core.work import Work, dot_work

__all__ = ["AckMode", "Worker", "WorkerOptions"]

log = logging.getLogger(__name__)


class Worker:
    """Consumes tasks from a queue in the thread that calls ``run()``.

    Args:
        name: shown in events and the window.
        settings: where the broker is.
        queue: the queue to consume.
        observer: receives events in the worker thread.
        options: prefetch, ack mode, limits.
        work: decides each task's work (default: one second per dot).
        budget: optional shared limit on tasks (``--max-tasks``).
        connect: makes the connection (tests and benchmarks may pass their own).
        gate: steps aside between tasks while a watched thread (the window's) is late.
        memory: the process's memory of tasks (default: ``core.memory.SHARED``).
    """

    def __init__(
        self,
        name: str,
        settings: ConnectionSettings,
        queue: QueueSpec,
        observer: WorkerObserver | None = None,
        options: WorkerOptions | None = None,
        *,
        work: Work = dot_work,
        budget: TaskBudget | None = None,
        connect: Callable[[list[pika.URLParameters]], BlockingConnection] | None = None,
        gate: PriorityGate | None = None,
        memory: TaskMemory | None = None,
    ) -> None:
        self.name = name
        self.settings = settings
        self.queue = queue
        self.options = options = options or WorkerOptions()
        self._connect = connect or BlockingConnection
        self._gate = gate
        self._stop = threading.Event()
        self._kill = threading.Event()
        self._wake = threading.Event()
        self._board = StatusBoard(name, observer)
        self._lock = self._board.lock  # guards the status and ``_connection``
        self._set = self._board.set
        self._emit = self._board.emit
        self._runner = TaskRunner(
            self._board,
            self._stop,
            self._kill,
            manual=options.ack_mode is AckMode.MANUAL,
            max_work_seconds=options.max_work_seconds,
            slice_seconds=options.slice_seconds,
            work=work,
            budget=budget,
            memory=memory or SHARED,
            consumer_timeout=options.consumer_timeout,
        )
        self._connection: BlockingConnection | None = None
        self._pending = Inbox(self._board, options.max_work_seconds)
        self._cancelled = False
        self._session_connected = False
        self._opened_once = False  # an AMQP connection was opened at least once
        self._last_warning = ""  # the reconnect warning logged last
        self._health = Health(self._board, settings, queue.name, options)
        self.finished = threading.Event()
        self.settled = threading.Event()
        """Set once the first connection attempt is over: consuming, failed or retrying."""

    # ----------------------------------------------------------------- control (any thread)

    def stop(self, *, finish_current: bool = False) -> None:
        """End gracefully: the current task is given back (or finished), nothing is lost.

        Args:
            finish_current: finish the task in progress before stopping.
        """
        self._runner.finish_current = finish_current
        self._set(finishing=finish_current)
        self._stop.set()
        self._wake.set()
        self._interrupt()

    def kill(self) -> None:
        """Crash on purpose: drop the connection without an ack or a close, and stop at once.

        The worker's own thread cuts the socket (pika is not thread-safe): a
        callback scheduled with ``add_callback_threadsafe`` does it while the
        thread waits in pika, and the thread checks the flag between slices.
        The broker sees the connection vanish and requeues the unacked tasks.
        """
        self._kill.set()
        self._wake.set()
        self._interrupt(drop=True)

    def status(self) -> WorkerStatus:
        """A copy of the current state and counters, with the deliveries waiting to start."""
        return replace(self._board.snapshot(), buffered=len(self._pending))

    def set_max_attempts(self, attempts: int | None) -> None:
        """Dead-letter failing tasks at their ``attempts``-th failure from the next one on."""
        self.options = replace(self.options, max_attempts=attempts)
        if (policy := self._runner.failures) is not None:
            policy.limit = attempts

    @property
    def state(self) -> WorkerState:
        """The current state."""
        return self._board.state

    def _interrupt(self, *, drop: bool = False) -> None:
        """Wake the worker's event loop from another thread (pika's one thread-safe call).

        Args:
            drop: cut the connection's socket too, in the worker's thread.
        """
        with self._lock:
            connection = self._connection
        if connection is None:
            return
        callback = functools.partial(pika_internals.drop, connection) if drop else _noop
        try:
            connection.add_callback_threadsafe(callback)
        except Exception:  # noqa: BLE001 - the connection may be closing; the event still wakes it
            log.debug("%s: wake-up not delivered", self.name)

    # ----------------------------------------------------------------- the thread

    def run(self) -> None:
        """Connect, consume and work until stopped, killed or failed. Blocks."""
        if self.options.nice:
            lower_thread_priority(self.options.nice)
        try:
            self._run()
        except Exception as exc:  # noqa: BLE001 - a worker must report, never die silently
            log.exception("%s: unexpected error", self.name)
            self._set(state=WorkerState.FAILED, message=str(exc))
            self._emit(WorkerFailed(self.name, time.monotonic(), f"Unexpected error: {exc}"))
        finally:
            self.settled.set()
            self.finished.set()

    def _run(self) -> None:
        attempt = 0
        connected_once = False
        while True:
            if self._kill.is_set():
                self._end_killed(None)
                return
            if self._stop.is_set():
                self._end_stopped()
                return
            self._set(state=WorkerState.RECONNECTING if connected_once else WorkerState.CONNECTING)
            try:
                self._session()
                connected_once = True
                self._end_stopped()
                return
            except Killed:
                self._runner.abandon(None)
                self._end_killed(self.status().task_id)
                return
            except Exception as exc:  # noqa: BLE001 - classified below
                self.settled.set()
                if self._session_connected:
                    connected_once = True
                    attempt = 0
                self._runner.abandon(None if self._kill.is_set() else "connection lost")
                if self._kill.is_set():
                    self._end_killed(self.status().task_id)
                    return
                if self._stop.is_set():
                    self._end_stopped()
                    return
                message = self._health.describe(exc, was_connected=self._session_connected)
                internal = self._health.session_failed(exc)
                # Once the broker has let us in, a failure while declaring or consuming
                # (541 INTERNAL_ERROR from a queue still starting, 320 of a restart) is
                # worth retrying; an unreachable broker or refused login at the very
                # first attempt is reported at once unless ``keep_trying``.
                retry = connected_once or self._opened_once or self.options.keep_trying
                fatal = is_fatal(exc) and not internal
                if not retry or not self.options.reconnect or fatal:
                    log.error("%s: %s", self.name, message)
                    self._set(state=WorkerState.FAILED, message=message, task_id=None)
                    self._emit(WorkerFailed(self.name, time.monotonic(), message))
                    return
                attempt += 1
                delay = backoff_delay(attempt, self.options.max_backoff)
                level = logging.DEBUG if message == self._last_warning else logging.WARNING
                self._last_warning = message  # a broker away for minutes: one line, not hundreds
                log.log(level, "%s: %s Reconnecting in %.1f s.", self.name, message, delay)
                if self._health.outage_reported:
                    message = self.status().message  # keep saying the queue does not answer
                self._set(
                    state=WorkerState.RECONNECTING, message=message, task_id=None, progress=0.0
                )
                self._emit(WorkerReconnecting(self.name, time.monotonic(), message, attempt, delay))
                self._wake.clear()
                if self._stop.is_set() or self._kill.is_set():
                    continue
                self._wake.wait(delay)

    def _session(self) -> None:
        """One connection's life: connect, declare, consume, work. Returns on a graceful stop."""
        self._session_connected = False
        self._pending.clear()
        self._cancelled = False
        params = self.options.parameters(self.settings, client=self.name, shuffle=True)
        if self._gate is not None:
            self._gate.wait_turn()
        connection = self._connect(params)
        self._opened_once = True
        with self._lock:
            self._connection = connection
        try:
            if self._kill.is_set():
                raise Killed
            self._runner.watch = self._health.connected(connection)
            queue_gone = self._health.queue_missing(connection)
            channel, report = declare_queue(connection, self.queue)
            policy = (self.queue.name, self.options.max_attempts, report.queue_type, self.name)
            self._runner.failures = FailurePolicy(connection, *policy, (self._stop, self._kill))
            auto_ack = self.options.ack_mode is AckMode.AUTO
            if not auto_ack:
                channel.basic_qos(prefetch_count=self.options.prefetch)
            channel.add_on_cancel_callback(self._on_cancelled)
            consumer_tag = channel.basic_consume(
                queue=self.queue.name,
                on_message_callback=self._on_message,
                auto_ack=auto_ack,
                arguments=self._health.consume_arguments(connection),
            )
            self._session_connected = True
            self._last_warning = ""
            self._health.consuming(queue_gone)
            self._set(state=WorkerState.IDLE, message="")
            self.settled.set()
            self._emit(
                WorkerConnected(
                    self.name, time.monotonic(), self.settings.primary.redacted, report.describe()
                )
            )
            self._consume(connection, channel)
            self._close_gracefully(connection, channel, consumer_tag)
        except Killed:
            self._drop(connection)
            raise
        except BaseException as exc:
            if self._kill.is_set() or isinstance(exc, faults.BrokerSilent):
                self._drop(connection)  # a silent peer would never answer Connection.Close
            else:
                _close_quietly(connection)
            raise
        finally:
            with self._lock:
                self._connection = None
            self._runner.failures = None
            self._runner.watch = None
            self._pending.clear()

    def _consume(self, connection: BlockingConnection, channel: BlockingChannel) -> None:
        # The loop wakes at least every idle slice through ONE armed timer, and
        # otherwise waits with time_limit=None (returns on a delivery, a timer or a
        # thread-safe callback). process_data_events(time_limit=...) would add and
        # remove an ioloop timer on every call: about 20 µs of CPU per message.
        idle_slice = self.options.slice_seconds
        armed = [False]
        gate = self._gate
        process = self._runner.process
        watch = self._health.watch

        def tick() -> None:
            armed[0] = False

        while True:
            if self._kill.is_set():
                raise Killed
            if self._stop.is_set():
                return
            if self._cancelled:
                raise Cancelled
            if self._pending:
                with gate.turn() if gate is not None else contextlib.nullcontext(False) as waited:
                    if waited and (self._kill.is_set() or self._stop.is_set()):
                        continue  # the delivery is still pending: given back on the way out
                    method, properties, body = self._pending.popleft()
                    process(connection, channel, method, properties, body)
                if gate is not None:
                    gate.wait_turn()  # after the ack: the broker sends the next task meanwhile
                continue
            if not armed[0]:
                # Once per idle slice: the channel (a broker may close it) and the silence.
                if not channel.is_open:
                    raise faults.channel_closed(pika_internals.closing_reason(channel))
                if watch is not None:
                    watch.check()
                armed[0] = True
                connection.call_later(idle_slice, tick)
            connection.process_data_events(time_limit=None)

    def _on_message(
        self, channel: BlockingChannel, method: Any, properties: Any, body: bytes
    ) -> None:
        self._pending.append((method, properties, body))

    def _on_cancelled(self, _frame: Any) -> None:
        self._cancelled = True

    def _close_gracefully(
        self, connection: BlockingConnection, channel: BlockingChannel, consumer_tag: str
    ) -> None:
        """Cancel the consumer, give back every unacked delivery, close the connection."""
        self._set(state=WorkerState.STOPPING)
        try:
            channel.basic_cancel(consumer_tag)
            if self.options.ack_mode is AckMode.MANUAL:
                channel.basic_nack(delivery_tag=0, multiple=True, requeue=True)
            connection.close()
        except pe.AMQPError as exc:
            log.debug("%s: closing: %s", self.name, exc)
            _close_quietly(connection)

    def _drop(self, connection: BlockingConnection) -> None:
        """Abandon the connection like a crashed process: no ack, no close handshake."""
        pika_internals.drop(connection)
        _close_quietly(connection)

    def _end_stopped(self) -> None:
        self._set(state=WorkerState.STOPPED, task_id=None, progress=0.0)
        self._emit(WorkerStopped(self.name, time.monotonic()))

    def _end_killed(self, task_id: str | None) -> None:
        fate = "its task went back to the queue" if task_id else "no task"
        if task_id and self.options.ack_mode is AckMode.AUTO:
            fate = "its task is lost (auto-ack)"
        self._set(state=WorkerState.KILLED, task_id=None, progress=0.0, message=f"killed: {fate}")
        self._emit(WorkerKilled(self.name, time.monotonic(), task_id))


def _noop() -> None:
    """Does nothing; scheduling it wakes a blocked ``process_data_events``."""


def _close_quietly(connection: BlockingConnection) -> None:
    try:
        if connection.is_open:
            connection.close()
    except Exception:  # noqa: BLE001 - best effort on a broken connection
        log.debug("closing a broken connection failed", exc_info=True)
