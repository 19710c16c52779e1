"""Every use of pika's private attributes, in one place: the server's properties and the socket.

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
