"""One asynchronous pika connection (``SelectConnection``), run to its end in the calling thread."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Handlers:
    """What the connection calls in its loop's thread.

    Attributes:
        opened: the connection is open (given the connection).
        blocked: the broker blocked it (given the connection and the method frame).
        unblocked: the broker lifted the block (same arguments).
    """

    opened: Callable[[Any], None]
    blocked: Callable[[Any, Any], None]
    unblocked: Callable[[Any, Any], None]


def run_select(
    connect: Callable[..., Any],
    parameters: Any,
    handlers: Handlers,
    attach: Callable[[Any], bool],
    closing: threading.Event,
) -> BaseException | None:
    """Open a connection and run its I/O loop until it closes.

    pika's ``blocked_connection_timeout`` is switched off: tearing a blocked
    connection down loses track of publishes the broker may already hold, and
    publishing them again would duplicate them. The handlers report the block.

    Args:
        connect: makes the connection, with the keywords of ``pika.SelectConnection``.
        parameters: pika's connection parameters (changed: no blocked timeout).
        handlers: the callbacks for its life.
        attach: called with the connection once made, then with None once it
            ended, so that other threads can reach its loop; True means the
            owner is closing (the loop is still run, to close cleanly).
        closing: set when the owner closes on purpose (its close is no error).

    Returns:
        Why it closed or could not open; None for a close asked for.
    """
    outcome: dict[str, BaseException | None] = {"error": None}

    def on_open_error(connection: Any, error: BaseException) -> None:
        outcome["error"] = error
        connection.ioloop.stop()

    def on_closed(connection: Any, reason: BaseException) -> None:
        if not closing.is_set():
            outcome["error"] = reason
        connection.ioloop.stop()

    parameters.blocked_connection_timeout = None
    connection = connect(
        parameters=parameters,
        on_open_callback=handlers.opened,
        on_open_error_callback=on_open_error,
        on_close_callback=on_closed,
    )
    connection.add_on_connection_blocked_callback(handlers.blocked)
    connection.add_on_connection_unblocked_callback(handlers.unblocked)
    attach(connection)
    try:
        connection.ioloop.start()
    finally:
        attach(None)
        if not connection.is_closed:
            try:
                connection.close()
                connection.ioloop.start()
            except Exception:  # noqa: BLE001 - best effort on the way out
                log.debug("closing the connection failed", exc_info=True)
        try:
            connection.ioloop.close()  # its wake-up socket pair, else a ResourceWarning
        except Exception:  # noqa: BLE001 - best effort on the way out
            log.debug("closing the I/O loop failed", exc_info=True)
    return outcome["error"]
