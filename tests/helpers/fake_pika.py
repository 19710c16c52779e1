"""A hand-written stand-in for pika's ``BlockingConnection``, for unit tests of the worker.

It does what the worker asks of pika and records it: channels, declares,
``basic_qos``, consumes, acks, nacks, rejects, confirmed publishes, timers
and thread-safe callbacks. The test thread drives it: ``deliver()`` hands a
message to the consumer, ``fail()`` breaks the connection as a lost network
would. Deliveries, failures and callbacks are dispatched in the worker's
thread, inside ``process_data_events``, as pika does.

Like pika, using a channel after its connection closed raises; each
connection numbers its delivery tags from 1, so a tag from an old
connection acknowledged on a new one would show in ``Calls``.
"""

from __future__ import annotations

import collections
import itertools
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import pika
import pika.exceptions as pe

from core.topology import QueueType


@dataclass(frozen=True)
class Call:
    """One thing the worker asked of a fake connection or one of its channels."""

    name: str
    connection: int
    channel: int
    args: dict[str, Any] = field(default_factory=dict)
    at: float = field(default_factory=time.monotonic)


class RecordingSocket(socket.socket):
    """A real socket that remembers which threads shut it down."""

    shut_by: list[int]

    def shutdown(self, how: int) -> None:
        self.shut_by.append(threading.get_ident())
        super().shutdown(how)


def recording_socketpair() -> tuple[RecordingSocket, socket.socket]:
    """A connected pair whose first end records its shutdowns."""
    near, far = socket.socketpair()
    recording = RecordingSocket(near.family, near.type, near.proto, fileno=near.detach())
    recording.shut_by = []
    return recording, far


class FakeChannel:
    """A channel of a ``FakeConnection``."""

    def __init__(self, connection: FakeConnection, number: int) -> None:
        self._connection = connection
        self.number = number
        self.consumer: Callable[..., None] | None = None
        self.prefetch: int | None = None
        self.confirming = False
        self.closed_by_broker: pe.ChannelClosedByBroker | None = None
        self._tags = itertools.count(1)

    @property
    def is_open(self) -> bool:
        return self._connection.is_open and self.closed_by_broker is None

    @property
    def _closing_reason(self) -> BaseException | None:  # where pika keeps it
        return self.closed_by_broker

    def close(self) -> None:
        self._record("channel_close")

    def _record(self, name: str, **args: Any) -> None:
        if not self.is_open:
            raise pe.ChannelWrongStateError(f"{name} on a closed channel")
        self._connection.record(Call(name, self._connection.number, self.number, args))

    def queue_declare(
        self,
        queue: str,
        passive: bool = False,
        durable: bool = False,
        arguments: dict[str, Any] | None = None,
    ) -> Any:
        self._record("queue_declare", queue=queue, passive=passive, arguments=arguments)
        broker = self._connection.broker
        if passive and (
            queue in self._connection.missing or (broker is not None and not broker.queue_exists)
        ):
            raise pe.ChannelClosedByBroker(404, f"NOT_FOUND - no queue '{queue}'")
        self._connection.missing.discard(queue)
        if broker is not None:
            broker.queue_exists = True
        wanted = self._connection.queue_type
        if not passive and arguments != wanted.arguments():
            raise pe.ChannelClosedByBroker(406, "PRECONDITION_FAILED - inequivalent arg")
        return SimpleNamespace(method=SimpleNamespace(message_count=0, consumer_count=0))

    def basic_qos(self, prefetch_count: int = 0) -> None:
        self._record("basic_qos", prefetch_count=prefetch_count)
        self.prefetch = prefetch_count

    def add_on_cancel_callback(self, callback: Callable[[Any], None]) -> None:
        self._connection.on_cancel = callback

    def basic_consume(
        self,
        queue: str,
        on_message_callback: Callable[..., None],
        auto_ack: bool = False,
        arguments: dict[str, Any] | None = None,
    ) -> str:
        extra = {"arguments": arguments} if arguments is not None else {}
        self._record("basic_consume", queue=queue, auto_ack=auto_ack, **extra)
        broker = self._connection.broker
        if broker is not None and broker.consume_errors:
            raise broker.consume_errors.pop(0)
        self.consumer = on_message_callback
        self._connection.consuming = self
        return f"ctag-{self._connection.number}"

    def basic_cancel(self, consumer_tag: str) -> None:
        self._record("basic_cancel", consumer_tag=consumer_tag)

    def basic_ack(self, delivery_tag: int = 0, multiple: bool = False) -> None:
        self._record("basic_ack", delivery_tag=delivery_tag, multiple=multiple)

    def basic_nack(
        self, delivery_tag: int = 0, multiple: bool = False, requeue: bool = True
    ) -> None:
        self._record("basic_nack", delivery_tag=delivery_tag, multiple=multiple, requeue=requeue)

    def basic_reject(self, delivery_tag: int = 0, requeue: bool = True) -> None:
        self._record("basic_reject", delivery_tag=delivery_tag, requeue=requeue)

    def confirm_delivery(self) -> None:
        self._record("confirm_delivery")
        self.confirming = True

    def basic_publish(
        self,
        exchange: str,
        routing_key: str,
        body: bytes,
        properties: pika.BasicProperties | None = None,
        mandatory: bool = False,
    ) -> None:
        if self._connection.publish_error is not None:
            raise self._connection.publish_error
        self._record(
            "basic_publish",
            routing_key=routing_key,
            body=body,
            headers=dict(getattr(properties, "headers", None) or {}),
            confirmed=self.confirming,
        )

    def next_tag(self) -> int:
        return next(self._tags)


class FakeConnection:
    """A ``BlockingConnection`` stand-in; see the module docstring.

    Args:
        number: tells connections apart in the record.
        queue_type: the type a declare succeeds with (others get a 406, as from a broker).
        record: keeps a call (shared by every connection of one ``FakeBroker``).
    """

    def __init__(self, number: int, queue_type: QueueType, record: Callable[[Call], None]) -> None:
        self.number = number
        self.queue_type = queue_type
        self.record = record
        self.is_open = True
        self.consuming: FakeChannel | None = None
        self.on_cancel: Callable[[Any], None] | None = None
        self.publish_error: Exception | None = None  # raised by basic_publish when set
        self.missing: set[str] = set()  # queues a passive declare does not find (404)
        self._condition = threading.Condition()
        self._inbox: collections.deque[tuple[str, Any]] = collections.deque()
        self._timers: list[tuple[float, Callable[[], None]]] = []
        self._channels = itertools.count(1)
        # Where pika keeps its socket (core.pika_internals reads it): a real socket
        # whose far end shows whether it was shut down.
        self.socket, self.peer = recording_socketpair()
        self.broker: FakeBroker | None = None  # set by the FakeBroker that made it
        # What pika keeps privately (core.pika_internals reads it): the socket, the
        # broker's Connection.Start properties, the agreed parameters, bytes read.
        self._impl = SimpleNamespace(
            _transport=SimpleNamespace(_sock=self.socket),
            server_properties={"product": "RabbitMQ", "version": "3.10.8"},
            params=SimpleNamespace(host="127.0.0.1", port=5672, heartbeat=0),
            bytes_received=0,
        )

    def socket_shut(self) -> bool:
        """True once the connection's socket was shut down (its far end reads end-of-file)."""
        self.peer.setblocking(False)
        try:
            return self.peer.recv(1) == b""
        except BlockingIOError:
            return False

    # ------------------------------------------------------------- driven by the test thread

    def deliver(
        self,
        body: bytes,
        *,
        redelivered: bool = False,
        headers: dict[str, Any] | None = None,
        message_id: str | None = None,
    ) -> None:
        """Hand a message to the consumer (dispatched in the worker's thread)."""
        properties = pika.BasicProperties(delivery_mode=2, headers=headers, message_id=message_id)
        self._post("deliver", (body, redelivered, properties))

    def fail(self, error: Exception | None = None) -> None:
        """Break the connection: the worker's next ``process_data_events`` raises ``error``."""
        self._post("fail", error or pe.StreamLostError("Transport indicated EOF"))

    def close_channel(self, reply_code: int, reply_text: str) -> None:
        """The broker closes the consuming channel as on a consumer timeout."""
        self._post("close_channel", (reply_code, reply_text))

    def cancel(self) -> None:
        """The broker cancels the consumer (as when its queue is deleted)."""
        self._post("cancel", None)

    def close_sockets(self) -> None:
        self.socket.close()
        self.peer.close()

    def _post(self, kind: str, item: Any) -> None:
        with self._condition:
            self._inbox.append((kind, item))
            self._condition.notify_all()

    # ------------------------------------------------------------- pika's interface

    def channel(self) -> FakeChannel:
        if not self.is_open:
            raise pe.ConnectionWrongStateError("channel() on a closed connection")
        channel = FakeChannel(self, next(self._channels))
        self.record(Call("channel", self.number, channel.number))
        return channel

    def add_callback_threadsafe(self, callback: Callable[[], Any]) -> None:
        with self._condition:
            if not self.is_open:
                raise pe.ConnectionWrongStateError("add_callback_threadsafe() on a closed one")
        self._post("callback", callback)

    def call_later(self, delay: float, callback: Callable[[], None]) -> None:
        with self._condition:
            self._timers.append((time.monotonic() + delay, callback))

    def process_data_events(self, time_limit: float | None = 0) -> None:
        """Dispatch what arrived; wait for something at most ``time_limit`` (None: until any)."""
        deadline = None if time_limit is None else time.monotonic() + time_limit
        with self._condition:
            while not self._inbox and not self._due():
                waits = [t for t, _ in self._timers] + ([deadline] if deadline is not None else [])
                timeout = max(0.0, min(waits) - time.monotonic()) if waits else None
                if deadline is not None and time.monotonic() >= deadline:
                    return
                self._condition.wait(timeout)
            items = list(self._inbox)
            self._inbox.clear()
            now = time.monotonic()
            due = [cb for t, cb in self._timers if t <= now]
            self._timers = [(t, cb) for t, cb in self._timers if t > now]
        for callback in due:
            callback()
        for kind, item in items:
            self._dispatch(kind, item)

    def _due(self) -> bool:
        now = time.monotonic()
        return any(t <= now for t, _ in self._timers)

    def _dispatch(self, kind: str, item: Any) -> None:
        if kind == "fail":
            self.is_open = False
            raise item
        if kind == "callback":
            item()
        elif kind == "close_channel" and self.consuming is not None:
            self.consuming.closed_by_broker = pe.ChannelClosedByBroker(*item)
        elif kind == "cancel" and self.on_cancel is not None:
            self.on_cancel(None)
        elif kind == "deliver":
            channel = self.consuming
            assert channel is not None, "nobody consumes"
            assert channel.consumer is not None, "nobody consumes"
            body, redelivered, properties = item
            method = SimpleNamespace(delivery_tag=channel.next_tag(), redelivered=redelivered)
            channel.consumer(channel, method, properties, body)

    def close(self) -> None:
        if not self.is_open:
            raise pe.ConnectionWrongStateError("close() on a closed connection")
        self.is_open = False
        if self.socket_shut():  # pika could not write Connection.Close either
            raise pe.StreamLostError("Stream connection lost: BrokenPipeError")
        self.record(Call("close", self.number, 0))


class FakeBroker:
    """Makes ``FakeConnection``s for ``Worker(connect=...)`` and keeps them for the test.

    Args:
        queue_type: the type of the queue the connections pretend exists.
        refuse: how many first connection attempts raise ``AMQPConnectionError``.
    """

    def __init__(self, queue_type: QueueType = QueueType.QUORUM, refuse: int = 0) -> None:
        self.queue_type = queue_type
        self.calls: list[Call] = []
        self.connections: list[FakeConnection] = []
        self._refuse = refuse
        self._condition = threading.Condition()
        self.queue_exists = True  # False: a passive declare gets 404 (the queue was deleted)
        self.consume_errors: list[Exception] = []  # raised by the next basic_consume calls
        self.server_properties: dict[str, Any] = {"product": "RabbitMQ", "version": "3.10.8"}
        self.heartbeat = 0  # the heartbeat new connections agree on

    def connect(self, params: Any) -> FakeConnection:
        """The ``connect=`` callable: a new connection, numbered from 1."""
        with self._condition:
            if self._refuse > 0:
                self._refuse -= 1
                raise pe.AMQPConnectionError("refused")
            connection = FakeConnection(len(self.connections) + 1, self.queue_type, self._record)
            connection.broker = self
            connection._impl.server_properties = dict(self.server_properties)
            connection._impl.params.heartbeat = self.heartbeat
            self.connections.append(connection)
            self._condition.notify_all()
            return connection

    def _record(self, call: Call) -> None:
        with self._condition:
            self.calls.append(call)
            self._condition.notify_all()

    def of(self, name: str, connection: int | None = None) -> list[Call]:
        """The recorded calls of one kind, optionally of one connection."""
        with self._condition:
            return [c for c in self.calls if c.name == name and connection in (None, c.connection)]

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 10.0) -> None:
        """Block until ``predicate()`` holds, re-checked whenever a call or connection is made."""
        with self._condition:
            if not self._condition.wait_for(predicate, timeout):
                raise AssertionError(f"not met within {timeout} s; calls: {self.calls[-10:]}")

    def close(self) -> None:
        for connection in self.connections:
            connection.close_sockets()
