"""A worker's watch over its broker: silence, the queue's outages and re-creation, in words.

``Health`` lives in the worker's thread beside its connection. At each
connection it sets up the silence watch (``core.faults.SilenceWatch``) and
the consumer's arguments; at each failure it says what happened ("lost the
connection: no traffic from the broker for N s", "the queue ... does not
answer on node ..."); after a cancel or a ``404`` it checks whether the queue
was deleted and reports its re-creation.
"""

from __future__ import annotations

import functools
import logging
import time
from typing import Any

import pika.exceptions as pe
from pika.adapters.blocking_connection import BlockingChannel, BlockingConnection

from core import faults, pika_internals
from core.errors import describe
from core.events import QueueAvailable, QueueRecreated, QueueUnavailable
from core.options import WorkerOptions
from core.settings import ConnectionSettings
from core.status import StatusBoard

log = logging.getLogger(__name__)


class Cancelled(Exception):
    """The broker cancelled the consumer (queue deleted, consumer timeout on 4.3, ...)."""


class Health:
    """What one worker knows about its broker's health across connections.

    Args:
        board: the worker's status board (its name, observer and status).
        settings: the broker addresses.
        queue: the queue's name.
        options: the worker's options (heartbeat and fault bounds).

    Attributes:
        watch: the current connection's silence watch, if any.
        queue_may_be_gone: the consumer was cancelled or got a 404; checked at the next connection.
    """

    def __init__(
        self, board: StatusBoard, settings: ConnectionSettings, queue: str, options: WorkerOptions
    ) -> None:
        self.name = board.name
        self._board = board
        self._settings = settings
        self._queue = queue
        self._options = options
        self._node = settings.primary.endpoint
        self._internal_errors = faults.InternalErrors(queue, options.unavailable_after)
        self.watch: faults.SilenceWatch | None = None
        self.queue_may_be_gone = False

    @property
    def outage_reported(self) -> bool:
        """True while a ``QueueUnavailable`` stands (the queue has not answered since)."""
        return self._internal_errors.reported

    def connected(self, connection: BlockingConnection) -> faults.SilenceWatch | None:
        """A new connection is open: learn the node, start the silence watch (returned)."""
        properties = pika_internals.server_properties(connection)
        endpoint = pika_internals.peer(connection) or self._settings.primary.endpoint
        self._node = faults.node_name(properties, endpoint)
        heartbeat = pika_internals.negotiated_heartbeat(connection)
        limit = self._options.silence_timeout
        self.watch = None
        if limit and heartbeat:  # without heartbeats an idle broker is silent
            self.watch = faults.SilenceWatch(
                max(limit, 2 * heartbeat + 1),
                functools.partial(pika_internals.bytes_received, connection),
                endpoint,
            )
        return self.watch

    def describe(self, exc: BaseException, *, was_connected: bool) -> str:
        """One sentence for a connection's end; a connection that had been up is "lost".

        Args:
            exc: what ended it.
            was_connected: the connection had been consuming.
        """
        if isinstance(exc, Cancelled):
            return "The broker cancelled the consumer."
        if faults.is_heartbeat_timeout(exc) and self.watch is not None:
            return self.watch.describe_loss()
        message = describe(exc, self._settings.primary)
        prefix = "Cannot connect to "
        if was_connected and message.startswith(prefix):
            return "Lost the connection to " + message[len(prefix) :]
        return message

    def consume_arguments(self, connection: BlockingConnection) -> dict[str, Any] | None:
        """``x-consumer-timeout`` when asked for and the broker (3.12 on) accepts it."""
        wanted = self._options.request_consumer_timeout
        if wanted is None:
            return None
        if not faults.allows_consumer_timeout(pika_internals.server_properties(connection)):
            log.warning(
                "%s: this broker predates RabbitMQ 3.12 and cannot take a per-consumer "
                "timeout; its own consumer_timeout applies.",
                self.name,
            )
            return None
        return {"x-consumer-timeout": round(wanted * 1000)}

    def queue_missing(self, connection: BlockingConnection) -> bool:
        """After a cancel or a 404: True when the queue is gone (a passive declare says 404)."""
        if not self.queue_may_be_gone:
            return False
        channel = connection.channel()
        try:
            channel.queue_declare(queue=self._queue, passive=True)
        except pe.ChannelClosedByBroker as exc:
            return bool(exc.reply_code == 404)
        _close_quietly(channel)
        return False

    def session_failed(self, exc: BaseException) -> bool:
        """Note a connection's failure; True when it was a broker's internal error (retry it)."""
        if isinstance(exc, Cancelled) or (
            isinstance(exc, pe.ChannelClosedByBroker) and exc.reply_code == 404
        ):
            self.queue_may_be_gone = True
        if not faults.is_internal_error(exc):
            return False
        message = self._internal_errors.failed(self._node)
        if message is not None:
            since = time.monotonic() - (self._internal_errors.since or time.monotonic())
            log.warning("%s: %s", self.name, message)
            self._board.set(message=message)
            self._board.emit(
                QueueUnavailable(
                    self.name, time.monotonic(), self._queue, self._node, since, message
                )
            )
        return True

    def consuming(self, recreated: bool) -> None:
        """The queue is consumed again: say so after an outage or its re-creation."""
        self.queue_may_be_gone = False
        now = time.monotonic()
        if self._internal_errors.answered():
            log.warning("%s: the queue %s answers again.", self.name, self._queue)
            self._board.emit(QueueAvailable(self.name, now, self._queue))
        if recreated:
            message = (
                f"The queue {self._queue} was deleted while the worker consumed it; "
                "it was declared again (empty: the tasks it held are gone)."
            )
            log.warning("%s: %s", self.name, message)
            self._board.emit(QueueRecreated(self.name, now, self._queue, message))


def _close_quietly(channel: BlockingChannel) -> None:
    try:
        channel.close()
    except Exception:  # noqa: BLE001 - best effort
        log.debug("closing a channel failed", exc_info=True)
