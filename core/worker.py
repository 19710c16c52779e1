"""The worker: one thread, one pika connection, fair dispatch and manual acks.

``Worker.run()`` blocks; call it in the thread that should own the
connection. It opens its own ``BlockingConnection`` there, declares (or
adopts) the queue, sets ``basic_qos(prefetch_count=N)`` and consumes. The
work of a task (one second per ``.``) runs in short slices of
``process_data_events`` so heartbeats keep flowing and the worker can be
interrupted. Other threads may only call ``stop()`` and ``kill()``.

A lost connection after the first successful one is retried with capped
backoff; the deliveries of the dead connection are dropped (the broker has
requeued them), never acknowledged on the new channel.
"""

from __future__ import annotations

import collections
import contextlib
import copy
import enum
import logging
import os
import random
import socket
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import pika
import pika.exceptions as pe
from pika.adapters.blocking_connection import BlockingChannel, BlockingConnection

from core.errors import describe, is_fatal
from core.events import (
    TaskFailed,
    TaskFinished,
    TaskProgress,
    TaskReturned,
    TaskStarted,
    WorkerConnected,
    WorkerEvent,
    WorkerFailed,
    WorkerKilled,
    WorkerObserver,
    WorkerReconnecting,
    WorkerState,
    WorkerStopped,
)
from core.priority import PriorityGate
from core.settings import ConnectionSettings
from core.tasks import DEFAULT_MAX_WORK_SECONDS, Delivery, delivery_from
from core.topology import QueueSpec, QueueType, declare_queue

log = logging.getLogger(__name__)

Work = Callable[[Delivery], float]
"""Decides the work for a delivery: returns seconds to spend, or raises to fail the task."""


def dot_work(delivery: Delivery) -> float:
    """The tutorial's work: one second per ``.`` in the body (already capped)."""
    return delivery.work_seconds


POISON_WORD = b"poison"
ATTEMPTS_HEADER = "x-kanin-attempts"
"""Failed attempts so far, on a task Kanin republished to a queue that does not count."""


class PoisonTaskError(RuntimeError):
    """Raised by ``poison_work`` for a task whose body contains the word "poison"."""


def poison_work(delivery: Delivery) -> float:
    """Like ``dot_work``, but a body containing "poison" (any case) raises ``PoisonTaskError``.

    Off by default (``Worker`` uses ``dot_work``, as the tutorial does); the
    window and ``kanin worker --poison`` use it to show poison tasks being
    given back, counted and dead-lettered.
    """
    if POISON_WORD in delivery.body.lower():
        raise PoisonTaskError("the task is poison: its work always fails")
    return delivery.work_seconds


class AckMode(enum.Enum):
    """How deliveries are acknowledged."""

    MANUAL = "manual"
    AUTO = "auto"


@dataclass(frozen=True)
class WorkerOptions:
    """How a worker consumes.

    Attributes:
        prefetch: ``basic_qos(prefetch_count=...)``; 1 gives fair dispatch.
        ack_mode: manual acks after the work (safe) or auto-ack (loses tasks on a crash).
        max_work_seconds: cap on the work time of one task.
        heartbeat: heartbeat in seconds to ask for; ``None`` keeps the URL's or the broker's.
        reconnect: retry after losing an established connection.
        slice_seconds: longest uninterrupted wait while working or idle.
        max_backoff: cap on the delay between reconnect attempts. Retries start
            at 0.1 s and double up to this cap, each scaled by a random factor
            from 0.5 to 1 so that many workers do not knock at the same instant.
            The default 1 s keeps the time from the broker being back to every
            worker consuming under about 1.5 s; a larger cap saves little (a
            refused connection on the same machine costs well under 1 ms).
        keep_trying: retry even the first connection (the window's workers wait
            for a broker being started); off, a first failure is reported at once.
        nice: on Linux, lower the worker thread's CPU priority by this much
            (0 to 19; elsewhere ignored). The window uses 10: when its GUI
            thread and a worker both want a CPU (the GIL's hand-over needs one),
            the GUI thread gets it first.
        max_attempts: tasks whose work raises this many times go to the
            dead-letter queue (see ``core.policies``); ``None`` gives them back
            forever. Quorum queues count deliveries themselves (the policy's
            ``delivery-limit``); on other queues Kanin counts, see ``Worker._fail``.
            Set the queue's policy first (``core.policies.setup_dead_lettering``):
            without a dead-letter exchange the broker drops a rejected task.
    """

    prefetch: int = 1
    ack_mode: AckMode = AckMode.MANUAL
    max_work_seconds: float = DEFAULT_MAX_WORK_SECONDS
    heartbeat: int | None = None
    reconnect: bool = True
    slice_seconds: float = 0.1
    max_backoff: float = 1.0
    keep_trying: bool = False
    max_attempts: int | None = None
    nice: int = 0

    def __post_init__(self) -> None:
        if not 0 <= self.prefetch <= 65535:
            raise ValueError("The prefetch count must be from 0 to 65535.")
        if self.max_work_seconds < 0:
            raise ValueError("The maximum work time cannot be negative.")
        if self.max_attempts is not None and self.max_attempts < 1:
            raise ValueError("The number of attempts must be 1 or more.")
        if not 0 <= self.nice <= 19:
            raise ValueError("The nice value must be from 0 to 19.")


def backoff_delay(attempt: int, cap: float, rng: Callable[[], float] = random.random) -> float:
    """The wait before reconnect attempt ``attempt`` (1, 2, ...): capped doubling with jitter.

    Args:
        attempt: the attempt number, from 1.
        cap: the longest wait.
        rng: returns a float in [0, 1) (tests may fix it).

    Returns:
        ``min(cap, 0.1 * 2 ** (attempt - 1))`` scaled by a factor from 0.5 to 1.
    """
    base = min(cap, 0.1 * 2.0 ** min(attempt - 1, 30))
    return base * (0.5 + 0.5 * rng())


class TaskBudget:
    """A shared limit on how many tasks a group of workers may take (``--max-tasks``).

    Args:
        limit: how many tasks may be claimed in all.
    """

    def __init__(self, limit: int) -> None:
        self._lock = threading.Lock()
        self._left = limit
        self._done = 0
        self.limit = limit
        self.exhausted = threading.Event()

    def try_claim(self) -> bool:
        """Take one task from the budget; False when none is left."""
        with self._lock:
            if self._left <= 0:
                return False
            self._left -= 1
            return True

    def give_back(self) -> None:
        """Return a claim whose task was not completed."""
        with self._lock:
            self._left += 1

    def completed(self) -> None:
        """Record an acknowledged task; sets ``exhausted`` at the limit."""
        with self._lock:
            self._done += 1
            if self._done >= self.limit:
                self.exhausted.set()

    @property
    def done(self) -> int:
        """Tasks completed so far."""
        with self._lock:
            return self._done


@dataclass
class WorkerStatus:
    """A worker's state and counters; copied out by ``Worker.status()``."""

    name: str
    state: WorkerState = WorkerState.CONNECTING
    task_id: str | None = None
    task_preview: str = ""
    progress: float = 0.0
    done: int = 0
    redeliveries: int = 0
    failures: int = 0
    returned: int = 0
    message: str = ""
    counters: dict[str, int] = field(default_factory=dict)


class _Killed(Exception):
    """Raised inside the worker thread to abandon everything at once."""


class _Cancelled(Exception):
    """The broker cancelled the consumer (queue deleted, consumer timeout, ...)."""


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
    ) -> None:
        self.name = name
        self.settings = settings
        self.queue = queue
        self.options = options or WorkerOptions()
        self._observer = observer
        self._work = work
        self._budget = budget
        self._connect = connect or BlockingConnection
        self._gate = gate
        self._stop = threading.Event()
        self._kill = threading.Event()
        self._wake = threading.Event()
        self._finish_current = False
        self._lock = threading.Lock()
        self._connection: BlockingConnection | None = None
        self._socket: socket.socket | None = None
        self._pending: collections.deque[tuple[Any, Any, bytes]] = collections.deque()
        self._cancelled = False
        self._session_connected = False
        self._claimed = False  # the current task holds a claim on the budget
        self._opened_once = False  # an AMQP connection was opened at least once
        self._current: Delivery | None = None  # the task being worked on, if any
        self._queue_type = QueueType.UNKNOWN
        self._republish_channel: BlockingChannel | None = None
        self._status = WorkerStatus(name=name)
        # The last started delivery; its preview is made when status() is read (a
        # few dozen times a second), not for every task (about 1.5 µs each).
        self._previewed: Delivery | None = None
        self._preview_cache: tuple[Delivery | None, str] = (None, "")
        self.finished = threading.Event()
        self.settled = threading.Event()
        """Set once the first connection attempt is over: consuming, failed or retrying."""

    # ----------------------------------------------------------------- control (any thread)

    def stop(self, *, finish_current: bool = False) -> None:
        """End gracefully: the current task is given back (or finished), nothing is lost.

        Args:
            finish_current: finish the task in progress before stopping.
        """
        self._finish_current = finish_current
        self._stop.set()
        self._wake.set()
        self._interrupt()

    def kill(self) -> None:
        """Crash on purpose: drop the connection without an ack and stop working at once."""
        self._kill.set()
        self._wake.set()
        self._shutdown_socket()
        self._interrupt()

    def _shutdown_socket(self) -> None:
        """Cut the TCP connection at once (safe from any thread): the broker requeues unacked."""
        with self._lock:
            sock = self._socket
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def status(self) -> WorkerStatus:
        """A copy of the current state and counters."""
        with self._lock:
            copy = replace(self._status, counters=dict(self._status.counters))
            delivery = self._previewed
        if delivery is not None:
            cached, text = self._preview_cache
            if cached is not delivery:
                text = delivery.preview
                self._preview_cache = (delivery, text)
            copy.task_preview = text
        return copy

    @property
    def state(self) -> WorkerState:
        """The current state."""
        with self._lock:
            return self._status.state

    def _interrupt(self) -> None:
        """Wake the worker's event loop from another thread (pika's one thread-safe call)."""
        with self._lock:
            connection = self._connection
        if connection is None:
            return
        try:
            connection.add_callback_threadsafe(_noop)
        except Exception:  # noqa: BLE001 - the connection may be closing; the event still wakes it
            log.debug("%s: wake-up not delivered", self.name)

    # ----------------------------------------------------------------- the thread

    def run(self) -> None:
        """Connect, consume and work until stopped, killed or failed. Blocks."""
        if self.options.nice:
            _lower_priority(self.options.nice)
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
            except _Killed:
                self._abandon_current(None)
                self._end_killed(self.status().task_id)
                return
            except Exception as exc:  # noqa: BLE001 - classified below
                self.settled.set()
                if self._session_connected:
                    connected_once = True
                    attempt = 0
                self._abandon_current(None if self._kill.is_set() else "connection lost")
                if self._kill.is_set():
                    self._end_killed(self.status().task_id)
                    return
                if self._stop.is_set():
                    self._end_stopped()
                    return
                address = self.settings.primary
                message = (
                    "The broker cancelled the consumer."
                    if isinstance(exc, _Cancelled)
                    else describe(exc, address)
                )
                # Once the broker has let us in, a failure while declaring or consuming
                # (541 INTERNAL_ERROR from a queue still starting, 320 of a restart) is
                # worth retrying; an unreachable broker or refused login at the very
                # first attempt is reported at once unless ``keep_trying``.
                retry = connected_once or self._opened_once or self.options.keep_trying
                if not retry or not self.options.reconnect or is_fatal(exc):
                    log.error("%s: %s", self.name, message)
                    self._set(state=WorkerState.FAILED, message=message, task_id=None)
                    self._emit(WorkerFailed(self.name, time.monotonic(), message))
                    return
                attempt += 1
                delay = backoff_delay(attempt, self.options.max_backoff)
                log.warning("%s: %s Reconnecting in %.1f s.", self.name, message, delay)
                self._set(
                    state=WorkerState.RECONNECTING, message=message, task_id=None, progress=0.0
                )
                self._emit(WorkerReconnecting(self.name, time.monotonic(), message, attempt, delay))
                self._wake.clear()
                if self._stop.is_set() or self._kill.is_set():
                    continue
                self._wake.wait(delay)

    def _abandon_current(self, reason: str | None) -> None:
        """The connection died under the current task: the broker requeues it (manual acks).

        Its budget claim is returned, and with ``reason`` a ``TaskReturned`` is
        reported (a kill reports ``WorkerKilled`` instead). With auto-ack the
        task was already taken off the queue: it is lost, as the tutorial warns.
        """
        delivery, self._current = self._current, None
        if self._claimed and self._budget is not None:
            self._budget.give_back()
        self._claimed = False
        if delivery is None or reason is None or self.options.ack_mode is not AckMode.MANUAL:
            return
        with self._lock:
            self._status.returned += 1
        self._emit(TaskReturned(self.name, time.monotonic(), delivery.task_id, reason))

    def _session(self) -> None:
        """One connection's life: connect, declare, consume, work. Returns on a graceful stop."""
        self._session_connected = False
        self._pending.clear()
        self._cancelled = False
        params = self.settings.pika_parameters(heartbeat=self.options.heartbeat)
        if self._gate is not None:
            self._gate.wait_turn()
        connection = self._connect(params)
        self._opened_once = True
        with self._lock:
            self._connection = connection
            self._socket = _socket_of(connection)
        try:
            if self._kill.is_set():
                raise _Killed
            channel, report = declare_queue(connection, self.queue)
            self._queue_type = report.queue_type
            self._republish_channel = None
            auto_ack = self.options.ack_mode is AckMode.AUTO
            if not auto_ack:
                channel.basic_qos(prefetch_count=self.options.prefetch)
            channel.add_on_cancel_callback(self._on_cancelled)
            consumer_tag = channel.basic_consume(
                queue=self.queue.name, on_message_callback=self._on_message, auto_ack=auto_ack
            )
            self._session_connected = True
            self._set(state=WorkerState.IDLE, message="")
            self.settled.set()
            self._emit(
                WorkerConnected(
                    self.name, time.monotonic(), self.settings.primary.redacted, report.describe()
                )
            )
            self._consume(connection, channel)
            self._close_gracefully(connection, channel, consumer_tag)
        except _Killed:
            self._drop(connection)
            raise
        except BaseException:
            if self._kill.is_set():
                self._drop(connection)
            else:
                _close_quietly(connection)
            raise
        finally:
            with self._lock:
                self._connection = None
                self._socket = None
            self._pending.clear()

    def _consume(self, connection: BlockingConnection, channel: BlockingChannel) -> None:
        # The loop wakes at least every idle slice through ONE armed timer, and
        # otherwise waits with time_limit=None (returns on a delivery, a timer or a
        # thread-safe callback). process_data_events(time_limit=...) would add and
        # remove an ioloop timer on every call: about 20 µs of CPU per message.
        idle_slice = self.options.slice_seconds
        armed = [False]
        gate = self._gate

        def tick() -> None:
            armed[0] = False

        while True:
            if self._kill.is_set():
                raise _Killed
            if self._stop.is_set():
                return
            if self._cancelled:
                raise _Cancelled
            if self._pending:
                with gate.turn() if gate is not None else contextlib.nullcontext(False) as waited:
                    if waited and (self._kill.is_set() or self._stop.is_set()):
                        continue  # the delivery is still pending: given back on the way out
                    method, properties, body = self._pending.popleft()
                    self._process(connection, channel, method, properties, body)
                if gate is not None:
                    gate.wait_turn()  # after the ack: the broker sends the next task meanwhile
                continue
            if not armed[0]:
                armed[0] = True
                connection.call_later(idle_slice, tick)
            connection.process_data_events(time_limit=None)

    def _on_message(
        self, channel: BlockingChannel, method: Any, properties: Any, body: bytes
    ) -> None:
        self._pending.append((method, properties, body))

    def _on_cancelled(self, _frame: Any) -> None:
        self._cancelled = True

    def _process(
        self,
        connection: BlockingConnection,
        channel: BlockingChannel,
        method: Any,
        properties: Any,
        body: bytes,
    ) -> None:
        manual = self.options.ack_mode is AckMode.MANUAL
        tag = method.delivery_tag
        delivery = delivery_from(
            properties,
            body,
            redelivered=bool(method.redelivered),
            max_work_seconds=self.options.max_work_seconds,
        )
        failed_before = _kanin_attempts(properties)
        if failed_before is not None:
            delivery = replace(delivery, delivery_count=failed_before + 1)
        if self._budget is not None and not self._budget.try_claim():
            if manual:
                channel.basic_nack(delivery_tag=tag, requeue=True)
            self._stop.set()
            return
        self._claimed = self._budget is not None
        self._current = delivery
        started = time.monotonic()
        with self._lock:
            status = self._status
            status.state = WorkerState.BUSY
            status.task_id = delivery.task_id
            self._previewed = delivery
            status.progress = 0.0
            if delivery.redelivered:
                status.redeliveries += 1
        self._emit(TaskStarted(self.name, started, delivery))
        try:
            seconds = max(0.0, min(float(self._work(delivery)), self.options.max_work_seconds))
        except Exception as exc:  # noqa: BLE001 - a poison task must not kill its worker
            self._fail(channel, tag, delivery, exc, manual, properties)
            return
        if seconds > 0 and not self._wait_working(connection, channel, tag, delivery, seconds):
            return
        if manual:
            channel.basic_ack(delivery_tag=tag)
        self._current = None
        self._claimed = False
        now = time.monotonic()
        with self._lock:
            status.done += 1
            status.state = WorkerState.IDLE
            status.task_id = None
            status.progress = 1.0
        self._emit(TaskFinished(self.name, now, delivery.task_id, now - started))
        if self._budget is not None:
            self._budget.completed()
            if self._budget.exhausted.is_set():
                self._stop.set()

    def _wait_working(
        self,
        connection: BlockingConnection,
        channel: BlockingChannel,
        tag: int,
        delivery: Delivery,
        seconds: float,
    ) -> bool:
        """Spend ``seconds`` on the task in slices; False when it was given back instead."""
        start = time.monotonic()
        end = start + seconds
        slice_seconds = self.options.slice_seconds
        while True:
            now = time.monotonic()
            if now >= end:
                return True
            if self._kill.is_set():
                raise _Killed
            if self._stop.is_set() and not self._finish_current:
                self._give_back(channel, tag, delivery, "stopped")
                return False
            connection.process_data_events(time_limit=min(slice_seconds, end - now))
            fraction = min(1.0, (time.monotonic() - start) / seconds)
            with self._lock:
                self._status.progress = fraction
            self._emit(TaskProgress(self.name, time.monotonic(), delivery.task_id, fraction))

    def _give_back(
        self, channel: BlockingChannel, tag: int, delivery: Delivery, reason: str
    ) -> None:
        if self.options.ack_mode is AckMode.MANUAL:
            channel.basic_nack(delivery_tag=tag, requeue=True)
        self._current = None
        self._claimed = False
        if self._budget is not None:
            self._budget.give_back()
        with self._lock:
            self._status.returned += 1
            self._status.task_id = None
            self._status.progress = 0.0
        self._emit(TaskReturned(self.name, time.monotonic(), delivery.task_id, reason))

    def _fail(
        self,
        channel: BlockingChannel,
        tag: int,
        delivery: Delivery,
        exc: Exception,
        manual: bool,
        properties: Any,
    ) -> None:
        """Give a failed task back, or dead-letter it after ``max_attempts`` failures.

        The attempt number comes from the broker on quorum queues
        (``x-delivery-count``, which also counts returns after a lost
        connection). Classic queues count nothing, so Kanin does: instead of
        nacking, it publishes a copy with ``x-kanin-attempts`` (failures so
        far) to the back of the queue, waits for the broker's confirm, and only
        then acks the original (a crash in between leaves a duplicate, never a
        loss). At the last attempt the task is rejected without requeue, and
        the queue's dead-letter policy (``core.policies``) routes it to the
        dead-letter queue on either type. Without ``max_attempts`` a failed
        task is simply nacked back to the queue.
        """
        message = f"{type(exc).__name__}: {exc}"
        attempt = delivery.delivery_count
        limit = self.options.max_attempts
        requeued = manual
        if manual:
            if limit is not None and (attempt or 1) >= limit:
                channel.basic_reject(delivery_tag=tag, requeue=False)
                requeued = False
            elif limit is not None and self._queue_type is not QueueType.QUORUM:
                if self._republish(properties, delivery, (attempt or 1)):
                    channel.basic_ack(delivery_tag=tag)
                else:
                    channel.basic_nack(delivery_tag=tag, requeue=True)
            else:
                channel.basic_nack(delivery_tag=tag, requeue=True)
        log.warning(
            "%s: task %s failed (attempt %s): %s%s",
            self.name,
            delivery.task_id,
            attempt if attempt is not None else "?",
            message,
            "" if requeued else "; dead-lettered" if manual else "; lost (auto-ack)",
        )
        self._current = None
        self._claimed = False
        if self._budget is not None:
            self._budget.give_back()
        with self._lock:
            self._status.failures += 1
            self._status.state = WorkerState.IDLE
            self._status.task_id = None
            self._status.progress = 0.0
        self._emit(
            TaskFailed(self.name, time.monotonic(), delivery.task_id, message, requeued, attempt)
        )

    def _republish(self, properties: Any, delivery: Delivery, failures: int) -> bool:
        """Publish a copy of a failed task carrying its failure count, with a confirm."""
        with self._lock:
            connection = self._connection
        if connection is None:
            return False
        try:
            if self._republish_channel is None or not self._republish_channel.is_open:
                self._republish_channel = connection.channel()
                self._republish_channel.confirm_delivery()
            props = copy.copy(properties) if properties is not None else pika.BasicProperties()
            props.headers = {**(getattr(props, "headers", None) or {}), ATTEMPTS_HEADER: failures}
            self._republish_channel.basic_publish(
                exchange="",
                routing_key=self.queue.name,
                body=delivery.body,
                properties=props,
                mandatory=True,
            )
        except (pe.UnroutableError, pe.NackError, pe.ChannelClosed) as exc:
            log.warning("%s: could not republish task %s: %s", self.name, delivery.task_id, exc)
            self._republish_channel = None
            return False
        return True

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
        self._shutdown_socket()
        _close_quietly(connection)

    # ----------------------------------------------------------------- reporting

    def _end_stopped(self) -> None:
        self._set(state=WorkerState.STOPPED, task_id=None, progress=0.0)
        self._emit(WorkerStopped(self.name, time.monotonic()))

    def _end_killed(self, task_id: str | None) -> None:
        self._set(state=WorkerState.KILLED, task_id=None, progress=0.0)
        self._emit(WorkerKilled(self.name, time.monotonic(), task_id))

    def _set(self, **changes: Any) -> None:
        with self._lock:
            for key, value in changes.items():
                setattr(self._status, key, value)

    def _emit(self, event: WorkerEvent) -> None:
        if self._observer is None:
            return
        try:
            self._observer.on_worker_event(event)
        except Exception:  # noqa: BLE001 - an observer's bug must not crash the worker
            log.exception("%s: observer failed on %s", self.name, type(event).__name__)


def _kanin_attempts(properties: Any) -> int | None:
    """Failed attempts recorded by Kanin in ``x-kanin-attempts``, if any."""
    headers = getattr(properties, "headers", None) if properties is not None else None
    value = headers.get(ATTEMPTS_HEADER) if isinstance(headers, dict) else None
    return value if isinstance(value, int) and value >= 0 else None


def _lower_priority(nice: int) -> None:
    """Lower the calling thread's CPU priority (Linux: per thread; elsewhere nothing)."""
    if not sys.platform.startswith("linux"):
        return  # PRIO_PROCESS with a thread id would mean the whole process there
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), nice)
    except OSError as exc:
        log.debug("could not lower the worker thread's priority: %s", exc)


def _noop() -> None:
    """Does nothing; scheduling it wakes a blocked ``process_data_events``."""


def _socket_of(connection: BlockingConnection) -> socket.socket | None:
    """The connection's socket, so ``kill()`` can drop it from another thread."""
    impl = getattr(connection, "_impl", None)
    transport = getattr(impl, "_transport", None)
    sock = getattr(transport, "_sock", None)
    return sock if isinstance(sock, socket.socket) else None


def _close_quietly(connection: BlockingConnection) -> None:
    try:
        if connection.is_open:
            connection.close()
    except Exception:  # noqa: BLE001 - best effort on a broken connection
        log.debug("closing a broken connection failed", exc_info=True)
