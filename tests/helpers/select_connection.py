"""A fake pika ``SelectConnection`` for the producer's unit tests, driven by the test.

The producer runs the fake's I/O loop in its own thread, as it runs pika's:
every callback (connection and channel opened, confirms, returns, a lost
connection) runs in that thread, in the order the test asked for it. The
test thread only schedules: ``ack``, ``nack``, ``give_back``, ``drop``,
``block``, ``unblock``, ``fire_timers`` (the loop's ``call_later`` timers run
only then: the test decides when time passes), and ``sync`` to wait until
everything scheduled before has run.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from typing import Any

import pika.exceptions as pe
from pika.frame import Method
from pika.spec import Basic, BasicProperties, Confirm
from pika.spec import Connection as PikaConnection

from core.topology import QueueReport, QueueSpec

Callback = Callable[[], None]


class FakeLoop:
    """The connection's I/O loop: runs scheduled callbacks in the thread of ``start()``."""

    def __init__(self) -> None:
        self._calls: queue.SimpleQueue[Callback] = queue.SimpleQueue()
        self._stopping = False
        self._timers: list[Callback] = []  # the loop's thread only
        self.closed = False

    def add_callback_threadsafe(self, callback: Callback) -> None:
        self._calls.put(callback)

    def call_later(self, _delay: float, callback: Callback) -> object:
        """Keep a timer; it runs when the test calls ``fire_timers`` (the delay is ignored)."""
        self._timers.append(callback)
        return callback

    def fire_timers(self) -> None:
        """Run the timers set so far, in the loop's thread (timers they set wait for the next)."""

        def run() -> None:
            timers, self._timers = self._timers, []
            for timer in timers:
                timer()

        self.add_callback_threadsafe(run)

    def start(self) -> None:
        self._stopping = False
        while not self._stopping:
            self._calls.get()()

    def stop(self) -> None:  # called by callbacks, in the loop's thread, as pika's users do
        self._stopping = True

    def close(self) -> None:
        self.closed = True


class FakeChannel:
    """A confirm channel that records publishes and numbers them 1, 2, 3..."""

    def __init__(self, connection: FakeSelectConnection) -> None:
        self._connection = connection
        self.is_open = True
        self.on_confirm: Callable[[Method], None] | None = None
        self.on_return: Callable[[Any, Any, BasicProperties, bytes], None] | None = None
        self.on_close: Callable[[Any, BaseException], None] | None = None

    def add_on_close_callback(self, callback: Callable[[Any, BaseException], None]) -> None:
        self.on_close = callback

    def add_on_return_callback(
        self, callback: Callable[[Any, Any, BasicProperties, bytes], None]
    ) -> None:
        self.on_return = callback

    def confirm_delivery(
        self, ack_nack_callback: Callable[[Method], None], callback: Callable[[Method], None]
    ) -> None:
        self.on_confirm = ack_nack_callback
        self._connection.ioloop.add_callback_threadsafe(
            lambda: callback(Method(1, Confirm.SelectOk()))
        )

    def basic_publish(
        self,
        exchange: str,
        routing_key: str,
        body: bytes,
        properties: BasicProperties,
        mandatory: bool = False,
    ) -> None:
        assert self.is_open, "published on a closed channel"
        assert mandatory, "the producer publishes mandatory"
        self._connection.broker.record(self._connection, properties, body)


class FakeSelectConnection:
    """One connection: opens (or is refused) as soon as its loop runs."""

    def __init__(
        self,
        broker: FakeBroker,
        on_open_callback: Callable[[Any], None],
        on_open_error_callback: Callable[[Any, BaseException], None],
        on_close_callback: Callable[[Any, BaseException], None],
        refuse: bool,
    ) -> None:
        self.broker = broker
        self.ioloop = FakeLoop()
        self.channel_: FakeChannel | None = None
        self.published: list[str] = []  # task ids; the delivery tag is the index + 1
        self.is_open = False
        self.is_opening = True
        self.is_closed = False
        self._on_close = on_close_callback
        self.on_blocked: Callable[[Any, Method], None] | None = None
        self.on_unblocked: Callable[[Any, Method], None] | None = None
        self.parameters: Any = None  # what the producer asked pika for
        if refuse:
            error = pe.AMQPConnectionError("connection refused (fake)")
            self.ioloop.add_callback_threadsafe(
                lambda: self._fail_open(on_open_error_callback, error)
            )
        else:
            self.ioloop.add_callback_threadsafe(lambda: self._open(on_open_callback))

    def _open(self, on_open: Callable[[Any], None]) -> None:
        self.is_opening, self.is_open = False, True
        on_open(self)

    def _fail_open(
        self, on_error: Callable[[Any, BaseException], None], error: BaseException
    ) -> None:
        self.is_opening, self.is_closed = False, True
        on_error(self, error)

    def add_on_connection_blocked_callback(self, callback: Callable[[Any, Method], None]) -> None:
        self.on_blocked = callback

    def add_on_connection_unblocked_callback(self, callback: Callable[[Any, Method], None]) -> None:
        self.on_unblocked = callback

    def channel(self, on_open_callback: Callable[[FakeChannel], None]) -> None:
        channel = self.channel_ = FakeChannel(self)
        self.ioloop.add_callback_threadsafe(lambda: on_open_callback(channel))

    def close(self) -> None:
        if self.is_closed:
            raise pe.ConnectionWrongStateError("already closed")
        self.ioloop.add_callback_threadsafe(
            lambda: self._closed(pe.ConnectionClosedByClient(200, "Normal shutdown"))
        )

    def _closed(self, reason: BaseException) -> None:
        if self.is_closed:
            return
        self.is_open = self.is_opening = False
        self.is_closed = True
        if self.channel_ is not None:
            self.channel_.is_open = False
        self._on_close(self, reason)

    # ------------------------------------------------------------- driven by the test thread

    def ack(self, tag: int, *, multiple: bool = False) -> None:
        """The broker confirms publish ``tag`` (and every earlier one when ``multiple``)."""
        self._confirm(Basic.Ack(delivery_tag=tag, multiple=multiple))

    def nack(self, tag: int, *, multiple: bool = False) -> None:
        """The broker refuses publish ``tag`` (and every earlier one when ``multiple``)."""
        self._confirm(Basic.Nack(delivery_tag=tag, multiple=multiple))

    def give_back(self, tag: int) -> None:
        """The broker returns publish ``tag`` as unroutable (its ack must follow)."""

        def deliver() -> None:
            assert self.channel_ is not None
            assert self.channel_.on_return is not None
            properties = BasicProperties(message_id=self.published[tag - 1])
            self.channel_.on_return(self.channel_, Basic.Return(312, "NO_ROUTE"), properties, b"")

        self.ioloop.add_callback_threadsafe(deliver)

    def block(self, reason: str = "low on memory") -> None:
        """The broker sends ``connection.blocked`` (a resource alarm)."""

        def deliver() -> None:
            assert self.on_blocked is not None, "the producer did not ask to hear of blocks"
            self.on_blocked(self, Method(0, PikaConnection.Blocked(reason)))

        self.ioloop.add_callback_threadsafe(deliver)

    def unblock(self) -> None:
        """The broker sends ``connection.unblocked``."""

        def deliver() -> None:
            assert self.on_unblocked is not None, "the producer did not ask to hear of unblocks"
            self.on_unblocked(self, Method(0, PikaConnection.Unblocked()))

        self.ioloop.add_callback_threadsafe(deliver)

    def fire_timers(self) -> None:
        """Run the loop's timers now (see ``FakeLoop.call_later``)."""
        self.ioloop.fire_timers()

    def drop(self, error: BaseException | None = None) -> None:
        """The network goes: the connection closes without the producer asking.

        Args:
            error: why (pika's ``StreamLostError`` by default).
        """
        reason = error or pe.StreamLostError("Stream connection lost (fake)")
        self.ioloop.add_callback_threadsafe(lambda: self._closed(reason))

    def sync(self, timeout: float = 5.0) -> None:
        """Wait until the loop has run every callback scheduled before this call."""
        done = threading.Event()
        self.ioloop.add_callback_threadsafe(done.set)
        assert done.wait(timeout), "the producer's loop did not run"

    def _confirm(self, method: Basic.Ack | Basic.Nack) -> None:
        def deliver() -> None:
            assert self.channel_ is not None
            assert self.channel_.on_confirm is not None
            self.channel_.on_confirm(Method(1, method))

        self.ioloop.add_callback_threadsafe(deliver)


class FakeBroker:
    """Hands the producer fake connections (its ``connect=``) and declares (its ``declare=``).

    Args:
        refuse: how many connection attempts fail before one opens.
        declare_error: raised by every declare, when given (e.g. a fatal ``BrokerError``).
    """

    def __init__(self, refuse: int = 0, declare_error: BaseException | None = None) -> None:
        self._cond = threading.Condition()
        self.connections: list[FakeSelectConnection] = []
        self.refuse = refuse
        self.declare_error = declare_error
        self.report: QueueReport | None = None

    def connect(
        self,
        *,
        parameters: Any,
        on_open_callback: Callable[[Any], None],
        on_open_error_callback: Callable[[Any, BaseException], None],
        on_close_callback: Callable[[Any, BaseException], None],
    ) -> FakeSelectConnection:
        with self._cond:
            refuse = self.refuse > 0
            self.refuse -= 1
            connection = FakeSelectConnection(
                self, on_open_callback, on_open_error_callback, on_close_callback, refuse
            )
            connection.parameters = parameters
            if not refuse:
                self.connections.append(connection)
            self._cond.notify_all()
            return connection

    def declare(self, parameters: Any, spec: QueueSpec) -> QueueReport:
        if self.declare_error is not None:
            raise self.declare_error
        self.report = QueueReport(spec.name, spec.queue_type, False, 0, 0)
        return self.report

    def record(
        self, connection: FakeSelectConnection, properties: BasicProperties, body: bytes
    ) -> None:
        with self._cond:
            connection.published.append(str(properties.message_id))
            self._cond.notify_all()

    def wait_published(self, count: int, connection: int = -1, timeout: float = 5.0) -> list[str]:
        """Wait until connection ``connection`` (the last by default) made ``count`` publishes.

        Returns:
            The ids it published, in order (so far: maybe more than ``count``).
        """

        def enough() -> bool:
            return (
                len(self.connections) > (connection if connection >= 0 else 0)
                and len(self.connections[connection].published) >= count
            )

        with self._cond:
            assert self._cond.wait_for(enough, timeout), "the producer did not publish in time"
            return list(self.connections[connection].published)

    def wait_connections(self, count: int, timeout: float = 5.0) -> FakeSelectConnection:
        """Wait until ``count`` connections have opened; returns the last one."""
        with self._cond:
            assert self._cond.wait_for(lambda: len(self.connections) >= count, timeout)
            return self.connections[-1]
