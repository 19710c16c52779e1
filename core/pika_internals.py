"""Every use of pika's private attributes, in one place: server properties, socket, close reasons.

pika 1.4 offers no public way to read what the broker announced in
``Connection.Start`` (product, version, capabilities) or to drop a connection
the way a crashed process does. Both live behind ``connection._impl``; if a
pika release moves them, ``tests/integration/test_pika_internals.py`` fails.
"""

from __future__ import annotations

import logging
import socket
from typing import Any

from pika.adapters.blocking_connection import BlockingConnection

log = logging.getLogger(__name__)


def server_properties(connection: BlockingConnection) -> dict[str, Any]:
    """The properties the broker sent in ``Connection.Start``.

    Args:
        connection: an open connection.

    Returns:
        The table (keys such as ``product``, ``version``, ``capabilities``;
        values often ``bytes``), or an empty dict when pika keeps it elsewhere.
    """
    impl = getattr(connection, "_impl", None)
    properties = getattr(impl, "server_properties", None)
    return properties if isinstance(properties, dict) else {}


def socket_of(connection: BlockingConnection) -> socket.socket | None:
    """The connection's TCP socket, or ``None`` when it is closed (or pika keeps it elsewhere)."""
    impl = getattr(connection, "_impl", connection)  # a SelectConnection is its own impl
    transport = getattr(impl, "_transport", None)
    sock = getattr(transport, "_sock", None)
    return sock if isinstance(sock, socket.socket) else None


def drop(connection: BlockingConnection) -> bool:
    """Cut the connection's TCP stream at once, without AMQP's ``Connection.Close``.

    Call it in the connection's own thread (from another one, schedule it with
    ``connection.add_callback_threadsafe``). The broker sees the peer vanish,
    as when a process crashes, and requeues every unacked delivery; pika
    notices on its next read or write.

    Args:
        connection: the connection to drop.

    Returns:
        True when a socket was shut down, False when there was none to shut.
    """
    sock = socket_of(connection)
    if sock is None:
        if connection.is_open:
            log.warning("pika's socket was not found: the connection could not be dropped")
        return False
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        return False  # already shut down or never connected
    return True


def closing_reason(channel: Any) -> BaseException | None:
    """Why a ``BlockingChannel`` closed (e.g. ``ChannelClosedByBroker(406, ...)``), if known.

    pika keeps it to raise on the next channel call; reading it lets a worker
    say why at once instead of failing later on an ack.
    """
    reason = getattr(channel, "_closing_reason", None)
    return reason if isinstance(reason, BaseException) else None


def bytes_received(connection: BlockingConnection) -> int | None:
    """Bytes the connection has read from the broker so far (what pika's heartbeat check counts)."""
    impl = getattr(connection, "_impl", None)
    count = getattr(impl, "bytes_received", None)
    return count if isinstance(count, int) else None


def negotiated_heartbeat(connection: BlockingConnection) -> int | None:
    """The heartbeat timeout, in seconds, agreed with the broker (0: none), if known."""
    impl = getattr(connection, "_impl", None)
    value = getattr(getattr(impl, "params", None), "heartbeat", None)
    return value if isinstance(value, int) else None


def peer(connection: BlockingConnection) -> str | None:
    """``host:port`` of the broker this connection reached (one of several addresses), if known."""
    params = getattr(getattr(connection, "_impl", None), "params", None)
    host, port = getattr(params, "host", None), getattr(params, "port", None)
    return f"{host}:{port}" if isinstance(host, str) and isinstance(port, int) else None
