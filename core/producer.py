"""The producer: persistent tasks, publisher confirms, pipelined, reconnecting.

Publishing with ``confirm_delivery()`` on a blocking channel waits one round
trip per message. This producer keeps a window of outstanding publishes on an
asynchronous pika ``SelectConnection`` in its own thread and settles them as
the broker's (often ``multiple``) confirms arrive (``core.publishes``). A task
counts as enqueued only once confirmed. Publishes are ``mandatory``: a task
that no queue takes is reported unroutable, not silently dropped.

When the connection is lost, unconfirmed tasks go back to the front of the
waiting list and are published again after reconnecting (at least once).
Only the producer's thread touches the publishes in flight; other threads
learn about them from its events and from the ``waiting`` count.

A resource alarm on the broker blocks the connection: ``ProducerBlocked`` at
once, and the producer waits with the connection open (never torn down by a
timeout, which would publish again tasks the broker had taken: duplicates).
Tasks unconfirmed longer than ``stall_after`` seconds on an open, unblocked
connection (a queue that does not answer) are reported by ``ProducerStalled``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from typing import Any

import pika
import pika.exceptions as pe
from pika.spec import Basic

from core import pika_internals
from core.alarms import Alarms
from core.backoff import backoff_delay
from core.connections import Handlers, run_select
from core.errors import BrokerError, describe, describe_lost, is_fatal
from core.events import (
    ProducerConnected,
    ProducerDisconnected,
    ProducerEvent,
    ProducerObserver,
    TasksPublished,
    TasksRejected,
)
from core.priority import PriorityGate
from core.publishes import Outstanding, Waiting, fail, new_entries
from core.settings import ConnectionSettings
from core.tasks import Task, properties_for
from core.topology import QueueReport, QueueSpec, declare_blocking

log = logging.getLogger(__name__)

GATE_EVERY = 100
"""Publishes between two looks at the gate (a publish costs about 30 µs of Python)."""
CLOSED = "The producer closed before the broker confirmed the task."
STALL_AFTER = 30.0  # seconds a published task may await its confirm before it is reported


class Producer:
    """Publishes tasks to the queue with confirms, from a thread of its own.

    Args:
        settings: where the broker is.
        queue: the queue to publish to (declared or adopted on connect).
        observer: receives producer events in the producer thread.
        persistent: ``delivery_mode=2``; off only to demonstrate loss on a classic queue.
        window: how many publishes may await their confirm at once.
        keep_trying: retry even the first connection (the window does; the CLI does not).
        max_backoff: cap on the delay between reconnect attempts (doubling from
            0.1 s, with jitter, as ``core.backoff.backoff_delay``); 1 s keeps the
            time from the broker being back to publishing again short.
        gate: checked every ``GATE_EVERY`` publishes: the producer steps aside
            while the window's GUI thread is late (see ``core.priority``).
        connect: makes the asynchronous connection, called with the keywords of
            ``pika.SelectConnection`` (tests pass a fake).
        declare: declares the queue before each connection, given the node's
            connection parameters and the queue (tests pass a fake).
        stall_after: seconds before unconfirmed publishes are reported
            (``ProducerStalled``), then again every as many seconds while it lasts.
        clock: the monotonic clock for publish ages and event times (tests pass a fake).
    """

    def __init__(
        self,
        settings: ConnectionSettings,
        queue: QueueSpec,
        observer: ProducerObserver | None = None,
        *,
        persistent: bool = True,
        window: int = 1000,
        keep_trying: bool = False,
        max_backoff: float = 1.0,
        gate: PriorityGate | None = None,
        connect: Callable[..., Any] | None = None,
        declare: Callable[[Any, QueueSpec], QueueReport] | None = None,
        stall_after: float = STALL_AFTER,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        self._gate = gate
        self.queue = queue
        self.persistent = persistent
        self.window = max(1, window)
        self.keep_trying = keep_trying
        self.max_backoff = max_backoff
        self._observer = observer
        self._connect = connect or pika.SelectConnection
        self._declare_queue = declare or declare_blocking
        self._waiting = Waiting()  # shared with the threads that submit
        # The producer thread's own (never touched elsewhere while it runs):
        self._outstanding = Outstanding(queue.name)
        self._channel: Any = None
        self._ready = False
        self._address: Any = settings.primary  # the node of the current connection
        self._lock = threading.Lock()
        self._connection: Any = None  # under the lock
        self._closing = threading.Event()
        self._wake = threading.Event()
        self._started = threading.Event()
        self._start_error: BrokerError | None = None
        self._thread: threading.Thread | None = None
        self._report: QueueReport | None = None  # set in the producer thread, read anywhere
        self._alarms = Alarms(stall_after, clock)  # producer thread; ``blocked`` read anywhere
        self._clock = clock
        self.connected = threading.Event()

    # ----------------------------------------------------------------- public API (any thread)

    def start(self, timeout: float = 15.0) -> QueueReport | None:
        """Start the producer thread and wait for the first connection.

        Returns:
            The queue report, or ``None`` when ``keep_trying`` and the broker is not there yet.

        Raises:
            BrokerError: when the first connection fails and ``keep_trying`` is off.
        """
        if self._thread is not None:
            raise RuntimeError("The producer is already started.")
        self._thread = threading.Thread(target=self._main, name="kanin-producer", daemon=True)
        self._thread.start()
        self._started.wait(timeout)
        if self._start_error is not None and not self.keep_trying:
            self._thread.join(timeout)
            raise self._start_error
        return self._report

    def submit(self, tasks: Iterable[Task]) -> list[Future[str]]:
        """Queue tasks for publishing; each future resolves to the task id once confirmed."""
        entries = new_entries(tasks)
        if not self._waiting.add(entries):  # closed, or its thread ended
            for _task, future in entries:
                fail(future, BrokerError("The producer is closed; the task was not sent."))
            return [future for _task, future in entries]
        self._call_in_loop(self._pump)
        return [future for _task, future in entries]

    def publish(self, tasks: Iterable[Task], timeout: float | None = None) -> list[str]:
        """Publish and wait until every task is confirmed.

        Raises:
            BrokerError: the first failure (nack, unroutable, connection lost for good).
            TimeoutError: when the confirms do not all arrive in time.
        """
        futures = self.submit(tasks)
        deadline = None if timeout is None else time.monotonic() + timeout
        ids = []
        for future in futures:
            remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
            ids.append(future.result(remaining))
        return ids

    @property
    def waiting(self) -> int:
        """Tasks submitted but not yet confirmed or rejected."""
        return self._waiting.unsettled

    @property
    def blocked(self) -> str | None:
        """The broker's reason while it blocks the connection (a resource alarm), else None."""
        return self._alarms.blocked

    @property
    def report(self) -> QueueReport | None:
        """What the last declare found (also carried by each ``ProducerConnected``)."""
        return self._report

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Wait until every submitted task is settled; True when it happened in time."""
        return self._waiting.wait_idle(timeout)

    def close(self, timeout: float = 10.0, *, drain: bool = True) -> bool:
        """Stop the producer; with ``drain`` first wait for outstanding confirms.

        Tasks still unconfirmed fail with ``BrokerError``, settled by the producer
        thread itself as it ends (it alone touches them): when it does not end in
        time, they fail later, when it does.

        Returns:
            True when the producer thread has ended, every task settled; False
            (with a warning in the log) when it was still running at ``timeout``.
        """
        deadline = time.monotonic() + timeout
        if drain and self.connected.is_set():
            self.wait_idle(timeout)
        self._closing.set()
        self._waiting.refuse()
        self._wake.set()
        self._call_in_loop(self._close_connection)
        thread = self._thread
        if thread is None:  # never started: no other thread holds these tasks
            self._fail_all(CLOSED)
            return True
        thread.join(max(0.1, deadline - time.monotonic()))
        if thread.is_alive():
            log.warning(
                "Producer: still running %.1f s after close; its %d unsettled tasks fail "
                "when it ends.",
                timeout,
                self.waiting,
            )
            return False
        return True

    # ----------------------------------------------------------------- the producer thread

    def _main(self) -> None:
        reason = CLOSED
        try:
            reason = self._run() or CLOSED
        finally:
            self._waiting.refuse()  # from now on submit() fails at once
            self._fail_all(reason)
            self._started.set()

    def _run(self) -> str | None:
        """Connect, publish and reconnect until closed; returns why it gave up, if it did."""
        attempt = 0
        index = 0
        ever_connected = False
        last_warning = ""  # the reconnect warning logged last (repeats go to debug)
        while not self._closing.is_set():
            address = self.settings.addresses[index % len(self.settings.addresses)]
            error: BaseException | None = None
            try:
                self._report = self._declare_queue(address.pika_parameters(), self.queue)
                error = self._run_connection(address)
            except Exception as exc:  # noqa: BLE001 - classified below
                error = exc
            was_up = self.connected.is_set()
            if was_up:
                ever_connected = True
                attempt = 0
                last_warning = ""
            self.connected.clear()
            self._ready = False
            self._alarms.reset()  # a new connection starts unblocked
            self._waiting.put_back(self._outstanding.take_all())  # in front, in order
            if self._closing.is_set():
                return None
            lost = describe_lost if was_up else describe  # never "cannot connect" once up
            reason = lost(error, address) if error else "The connection closed."
            retry = (ever_connected or self.keep_trying) and not (error and is_fatal(error))
            if not retry and len(self.settings.addresses) > index + 1 and not ever_connected:
                index += 1  # try the next node of a cluster before giving up
                continue
            ids = self._waiting.ids()
            self._emit(ProducerDisconnected(time.monotonic(), reason, self.waiting, retry, ids))
            if not retry:
                log.error("Producer: %s", reason)
                self._start_error = BrokerError(reason, fatal=bool(error and is_fatal(error)))
                return reason
            if not self._started.is_set():
                self._start_error = BrokerError(reason)
                self._started.set()
            attempt += 1
            index += 1
            delay = backoff_delay(attempt, self.max_backoff)
            # One line per change: a broker away for minutes repeats the same reason.
            level = logging.DEBUG if reason == last_warning else logging.WARNING
            last_warning = reason
            log.log(level, "Producer: %s Reconnecting in %.1f s.", reason, delay)
            self._wake.clear()
            if not self._closing.is_set():  # close() may have set the wake-up just before
                self._wake.wait(delay)
        return None

    def _run_connection(self, address: Any) -> BaseException | None:
        """Run one SelectConnection until it closes; returns why it closed."""
        self._address = address
        try:
            return run_select(
                self._connect,
                address.pika_parameters(),
                Handlers(self._on_connection_open, self._on_blocked, self._on_unblocked),
                self._attach,
                self._closing,
            )
        finally:
            self._channel = None

    def _attach(self, connection: Any) -> bool:
        """Make ``connection`` (or None) the current one; True when closing meanwhile."""
        with self._lock:
            self._connection = connection
            closing = self._closing.is_set()
        if closing and connection is not None:  # close()'s wake-up found no loop to stop
            connection.ioloop.add_callback_threadsafe(self._close_connection)
        return closing

    def _on_connection_open(self, connection: Any) -> None:
        connection.channel(on_open_callback=self._on_channel_open)

    def _on_channel_open(self, channel: Any) -> None:
        self._channel = channel
        channel.add_on_close_callback(self._on_channel_closed)
        channel.add_on_return_callback(self._on_return)
        channel.confirm_delivery(ack_nack_callback=self._on_confirm, callback=self._on_confirm_ok)

    def _on_confirm_ok(self, _frame: Any) -> None:
        self._ready = True
        self.connected.set()
        self._alarms.reset()
        self._check_stall()
        report = self._report
        self._emit(
            ProducerConnected(
                time.monotonic(),
                self._address.redacted,  # the node in use (a cluster: maybe not the first)
                report.describe() if report else "",
                report,
            )
        )
        self._started.set()
        self._pump()

    def _on_channel_closed(self, channel: Any, reason: BaseException) -> None:
        self._ready = False
        connection = self._connection
        if connection is not None and connection.is_open:
            log.warning("Producer: channel closed: %s", reason)
            connection.close()

    def _on_return(self, _channel: Any, _method: Any, properties: Any, _body: bytes) -> None:
        message_id = getattr(properties, "message_id", None)
        if message_id:
            self._outstanding.returned(str(message_id))

    def _on_confirm(self, frame: Any) -> None:
        method = frame.method
        settled = self._outstanding.confirm(
            int(method.delivery_tag),
            multiple=bool(method.multiple),
            acked=isinstance(method, Basic.Ack),
        )
        self._waiting.settle(settled.count)
        for event in settled.events(time.monotonic()):
            self._emit(event)
        self._pump()

    def _on_blocked(self, _connection: Any, frame: Any) -> None:
        self._emit(self._alarms.block(str(getattr(frame.method, "reason", "") or "")))

    def _on_unblocked(self, _connection: Any, _frame: Any) -> None:
        self._emit(self._alarms.unblock())

    def _check_stall(self) -> None:
        """Report publishes unconfirmed for too long (a timer in the producer thread)."""
        connection = self._connection
        if not self._ready or connection is None:
            return  # this connection is over; the next one arms its own timer
        connection.ioloop.call_later(min(1.0, self._alarms.stall_after / 4), self._check_stall)
        outstanding = self._outstanding
        event = self._alarms.stall(
            outstanding.oldest_sent(), len(outstanding), self.waiting, self.queue.name
        )
        if event is not None:
            self._emit(event)

    def _pump(self) -> None:
        """Publish waiting tasks while the window has room (producer thread only)."""
        channel = self._channel
        if not self._ready or channel is None or not channel.is_open:
            return
        published: list[str] = []
        routing_key = self.queue.name
        persistent = self.persistent
        gate = self._gate
        outstanding = self._outstanding
        now = self._clock()
        while batch := self._waiting.take(self.window - len(outstanding)):
            for task, future in batch:
                if future.done():  # cancelled by the caller
                    self._waiting.settle(1)
                    continue
                if gate is not None and len(published) % GATE_EVERY == GATE_EVERY - 1:
                    gate.wait_turn()
                outstanding.add((task, future), now)
                channel.basic_publish(
                    exchange="",
                    routing_key=routing_key,
                    body=task.body,
                    properties=properties_for(task, persistent=persistent),
                    mandatory=True,
                )
                published.append(task.id)
        if published:
            self._emit(TasksPublished(time.monotonic(), tuple(published)))

    def _call_in_loop(self, callback: Any) -> None:
        with self._lock:
            connection = self._connection
        if connection is None:
            return
        try:
            connection.ioloop.add_callback_threadsafe(callback)
        except Exception:  # noqa: BLE001 - the loop is stopping; the next connection pumps
            log.debug("Producer: could not schedule a callback", exc_info=True)

    def _close_connection(self) -> None:
        connection = self._connection
        if connection is not None and (connection.is_open or connection.is_opening):
            if self._alarms.blocked is not None and pika_internals.drop(connection):
                return  # a blocked broker reads nothing: it would never see a Connection.Close
            try:
                connection.close()
            except pe.ConnectionWrongStateError:
                pass

    def _fail_all(self, reason: str) -> None:
        """Fail every task left (the producer thread as it ends, or close() if it never ran)."""
        entries = self._outstanding.take_all() + self._waiting.take_all()
        failed = [task.id for task, future in entries if fail(future, BrokerError(reason))]
        self._waiting.settle(len(entries))
        if failed:
            self._emit(TasksRejected(time.monotonic(), tuple(failed), reason))

    def _emit(self, event: ProducerEvent) -> None:
        if self._observer is None:
            return
        try:
            self._observer.on_producer_event(event)
        except Exception:  # noqa: BLE001 - an observer's bug must not stop publishing
            log.exception("Producer: observer failed on %s", type(event).__name__)
