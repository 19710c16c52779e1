"""The producer: persistent tasks, publisher confirms, pipelined, reconnecting.

Publishing with ``confirm_delivery()`` on a blocking channel waits one round
trip per message. This producer keeps a window of outstanding publishes on an
asynchronous pika ``SelectConnection`` in its own thread and settles them as
the broker's (often ``multiple``) confirms arrive. A task counts as enqueued
only once confirmed. Publishes are ``mandatory``: a task that no queue takes
is reported unroutable, not silently dropped.

When the connection is lost, unconfirmed tasks go back to the front of the
waiting list and are published again after reconnecting (at least once).
"""

from __future__ import annotations

import collections
import gc
import logging
import threading
import time
from collections.abc import Iterable
from concurrent.futures import Future
from typing import Any

import pika
import pika.exceptions as pe
from pika.spec import Basic

from core.backoff import backoff_delay
from core.errors import BrokerError, describe, is_fatal
from core.events import (
    ProducerConnected,
    ProducerDisconnected,
    ProducerEvent,
    ProducerObserver,
    TasksConfirmed,
    TasksPublished,
    TasksRejected,
)
from core.priority import PriorityGate
from core.settings import ConnectionSettings
from core.tasks import Task, properties_for
from core.topology import QueueReport, QueueSpec, declare_queue

log = logging.getLogger(__name__)

_Entry = tuple[Task, "Future[str]"]
GATE_EVERY = 100
"""Publishes between two looks at the gate (a publish costs about 30 µs of Python)."""


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
    ) -> None:
        self.settings = settings
        self._gate = gate
        self.queue = queue
        self.persistent = persistent
        self.window = max(1, window)
        self.keep_trying = keep_trying
        self.max_backoff = max_backoff
        self._observer = observer
        self._waiting: collections.deque[_Entry] = collections.deque()
        self._outstanding: collections.OrderedDict[int, _Entry] = collections.OrderedDict()
        self._returned: set[str] = set()
        self._seq = 0
        self._lock = threading.Lock()
        self._connection: pika.SelectConnection | None = None
        self._channel: Any = None
        self._ready = False
        self._closing = threading.Event()
        self._wake = threading.Event()
        self._started = threading.Event()
        self._start_error: BrokerError | None = None
        self._thread: threading.Thread | None = None
        self._report: QueueReport | None = None
        self._address: Any = settings.primary  # the node of the current connection
        self._unsettled = 0
        self._idle = threading.Condition(self._lock)
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
        # A Future holds a Condition and an RLock: making 100,000 of them sets off the
        # cyclic garbage collector hundreds of times, each pass walking the whole heap
        # (1.1 s instead of 0.17 s next to a full task table). They form no cycles, so
        # the collector is paused while they are made.
        collecting = gc.isenabled()
        gc.disable()
        try:
            entries: list[_Entry] = [(task, Future()) for task in tasks]
        finally:
            if collecting:
                gc.enable()
        with self._lock:
            if self._closing.is_set() or (self._start_error is not None and not self.keep_trying):
                error = BrokerError("The producer is closed; the task was not sent.")
                for _task, future in entries:
                    future.set_exception(error)
                return [future for _task, future in entries]
            self._unsettled += len(entries)
            self._waiting.extend(entries)
        self._schedule_pump()
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
        with self._lock:
            return self._unsettled

    def pending(self) -> list[Task]:
        """The tasks not yet confirmed, oldest first: published ones, then waiting ones.

        While the broker is down this is the list the window shows; every task
        in it is published (again) with a confirm once the broker is back.
        """
        for _ in range(10):
            try:
                outstanding = [task for task, _future in list(self._outstanding.values())]
                break
            except RuntimeError:  # changed by the producer thread meanwhile: read again
                continue
        else:
            outstanding = []
        with self._lock:
            waiting = [task for task, future in self._waiting if not future.done()]
        return outstanding + waiting

    @property
    def report(self) -> QueueReport | None:
        """What the last declare found."""
        return self._report

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Wait until every submitted task is settled; True when it happened in time."""
        with self._idle:
            return self._idle.wait_for(lambda: self._unsettled == 0, timeout)

    def close(self, timeout: float = 10.0, *, drain: bool = True) -> bool:
        """Stop the producer; with ``drain`` first wait for outstanding confirms.

        Tasks still unconfirmed at the end fail with ``BrokerError``.

        Returns:
            True when nothing was left unsettled.
        """
        deadline = time.monotonic() + timeout
        if drain and self.connected.is_set():
            self.wait_idle(timeout)
        self._closing.set()
        self._wake.set()
        self._call_in_loop(self._close_connection)
        if self._thread is not None:
            self._thread.join(max(0.1, deadline - time.monotonic()))
        self._fail_all("The producer closed before the broker confirmed the task.")
        return self.waiting == 0

    # ----------------------------------------------------------------- the producer thread

    def _main(self) -> None:
        attempt = 0
        index = 0
        ever_connected = False
        while not self._closing.is_set():
            address = self.settings.addresses[index % len(self.settings.addresses)]
            error: BaseException | None = None
            try:
                self._declare(address)
                error = self._run_connection(address)
            except Exception as exc:  # noqa: BLE001 - classified below
                error = exc
            if self.connected.is_set():
                ever_connected = True
                attempt = 0
            self.connected.clear()
            self._ready = False
            self._requeue_outstanding()
            if self._closing.is_set():
                break
            reason = describe(error, address) if error else "The connection closed."
            retry = (ever_connected or self.keep_trying) and not (error and is_fatal(error))
            if not retry and len(self.settings.addresses) > index + 1 and not ever_connected:
                index += 1  # try the next node of a cluster before giving up
                continue
            self._emit(ProducerDisconnected(time.monotonic(), reason, self.waiting, retry))
            if not retry:
                log.error("Producer: %s", reason)
                self._start_error = BrokerError(reason, fatal=bool(error and is_fatal(error)))
                self._fail_all(reason)
                self._started.set()
                return
            if not self._started.is_set():
                self._start_error = BrokerError(reason)
                self._started.set()
            attempt += 1
            index += 1
            delay = backoff_delay(attempt, self.max_backoff)
            log.warning("Producer: %s Reconnecting in %.1f s.", reason, delay)
            self._wake.clear()
            self._wake.wait(delay)
        self._started.set()

    def _declare(self, address: Any) -> None:
        params = address.pika_parameters()
        connection = pika.BlockingConnection(params)
        try:
            _channel, self._report = declare_queue(connection, self.queue)
        finally:
            if connection.is_open:
                connection.close()

    def _run_connection(self, address: Any) -> BaseException | None:
        """Run one SelectConnection until it closes; returns why it closed."""
        self._address = address
        outcome: dict[str, BaseException | None] = {"error": None}

        def on_open_error(connection: pika.SelectConnection, error: BaseException) -> None:
            outcome["error"] = error
            connection.ioloop.stop()

        def on_closed(connection: pika.SelectConnection, reason: BaseException) -> None:
            if not self._closing.is_set():
                outcome["error"] = reason
            connection.ioloop.stop()

        connection = pika.SelectConnection(
            parameters=address.pika_parameters(),
            on_open_callback=self._on_connection_open,
            on_open_error_callback=on_open_error,
            on_close_callback=on_closed,
        )
        with self._lock:
            self._connection = connection
            closing = self._closing.is_set()
        if closing:  # close() came while connecting: its wake-up found no loop to stop
            connection.ioloop.add_callback_threadsafe(self._close_connection)
        try:
            connection.ioloop.start()
        finally:
            with self._lock:
                self._connection = None
                self._channel = None
            if not connection.is_closed:
                try:
                    connection.close()
                    connection.ioloop.start()
                except Exception:  # noqa: BLE001 - best effort on the way out
                    log.debug("Producer: closing failed", exc_info=True)
            try:
                connection.ioloop.close()  # its wake-up socket pair, else a ResourceWarning
            except Exception:  # noqa: BLE001 - best effort on the way out
                log.debug("Producer: closing the I/O loop failed", exc_info=True)
        return outcome["error"]

    def _on_connection_open(self, connection: pika.SelectConnection) -> None:
        connection.channel(on_open_callback=self._on_channel_open)

    def _on_channel_open(self, channel: Any) -> None:
        self._channel = channel
        channel.add_on_close_callback(self._on_channel_closed)
        channel.add_on_return_callback(self._on_return)
        self._seq = 0
        channel.confirm_delivery(ack_nack_callback=self._on_confirm, callback=self._on_confirm_ok)

    def _on_confirm_ok(self, _frame: Any) -> None:
        self._ready = True
        self.connected.set()
        report = self._report
        self._emit(
            ProducerConnected(
                time.monotonic(),
                self._address.redacted,  # the node in use (a cluster: maybe not the first)
                report.describe() if report else "",
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
            self._returned.add(str(message_id))

    def _on_confirm(self, frame: Any) -> None:
        method = frame.method
        acked = isinstance(method, Basic.Ack)
        tag = int(method.delivery_tag)
        settled: list[_Entry] = []
        if method.multiple:
            while self._outstanding:
                first = next(iter(self._outstanding))
                if first > tag:
                    break
                settled.append(self._outstanding.popitem(last=False)[1])
        else:
            entry = self._outstanding.pop(tag, None)
            if entry is not None:
                settled.append(entry)
        confirmed: list[str] = []
        rejected: list[str] = []
        unroutable: list[str] = []
        for task, future in settled:
            if task.id in self._returned:
                self._returned.discard(task.id)
                unroutable.append(task.id)
                future.set_exception(
                    BrokerError(
                        f"No queue took task {task.id}: is queue '{self.queue.name}' there?"
                    )
                )
            elif acked:
                confirmed.append(task.id)
                future.set_result(task.id)
            else:
                rejected.append(task.id)
                future.set_exception(BrokerError(f"The broker refused task {task.id} (nack)."))
        self._settle(len(settled))
        now = time.monotonic()
        if confirmed:
            self._emit(TasksConfirmed(now, tuple(confirmed)))
        if rejected:
            self._emit(TasksRejected(now, tuple(rejected), "The broker refused the task (nack)."))
        if unroutable:
            self._emit(
                TasksRejected(now, tuple(unroutable), "No queue took the task (unroutable).")
            )
        self._pump()

    def _pump(self) -> None:
        """Publish waiting tasks while the window has room (producer thread only)."""
        channel = self._channel
        if not self._ready or channel is None or not channel.is_open:
            return
        published: list[str] = []
        routing_key = self.queue.name
        persistent = self.persistent
        gate = self._gate
        sent = 0
        while self._waiting and len(self._outstanding) < self.window:
            sent += 1
            if gate is not None and sent % GATE_EVERY == 0:
                gate.wait_turn()
            entry = self._waiting.popleft()
            task = entry[0]
            if entry[1].done():  # cancelled by the caller
                self._settle(1)
                continue
            self._seq += 1
            self._outstanding[self._seq] = entry
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

    def _schedule_pump(self) -> None:
        self._call_in_loop(self._pump)

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
            try:
                connection.close()
            except pe.ConnectionWrongStateError:
                pass

    def _requeue_outstanding(self) -> None:
        """Put unconfirmed publishes back in front of the waiting list, in order."""
        if self._outstanding:
            entries = list(self._outstanding.values())
            self._outstanding.clear()
            self._returned.clear()
            with self._lock:
                self._waiting.extendleft(reversed(entries))

    def _fail_all(self, reason: str) -> None:
        with self._lock:
            entries = list(self._outstanding.values()) + list(self._waiting)
            self._outstanding.clear()
            self._waiting.clear()
        failed = []
        for task, future in entries:
            if not future.done():
                future.set_exception(BrokerError(reason))
                failed.append(task.id)
        self._settle(len(entries))
        if failed:
            self._emit(TasksRejected(time.monotonic(), tuple(failed), reason))

    def _settle(self, count: int) -> None:
        with self._idle:
            self._unsettled = max(0, self._unsettled - count)
            if self._unsettled == 0:
                self._idle.notify_all()

    def _emit(self, event: ProducerEvent) -> None:
        if self._observer is None:
            return
        try:
            self._observer.on_producer_event(event)
        except Exception:  # noqa: BLE001 - an observer's bug must not stop publishing
            log.exception("Producer: observer failed on %s", type(event).__name__)
