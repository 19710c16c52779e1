"""Queue figures: ready and consumers from AMQP, the rest from the management API.

A passive ``queue_declare`` on the monitor's own connection gives the ready
count and the consumer count (every consumer, Kanin's or not). Unacked
counts, totals and rates exist only in the management HTTP API; when it
answers, they are added. Every figure says where it came from.
"""

from __future__ import annotations

import enum
import logging
import time
from dataclasses import dataclass
from typing import Any

import pika
import pika.exceptions as pe

from core.errors import BrokerError, describe
from core.management import DEFAULT_PORT, ManagementApi, ManagementError
from core.settings import BrokerAddress, ConnectionSettings

log = logging.getLogger(__name__)

DEFAULT_MANAGEMENT_PORT = DEFAULT_PORT
MANAGEMENT_RETRY = 30.0  # seconds before asking an API that failed again


class Source(enum.Enum):
    """Where a figure came from."""

    AMQP = "AMQP passive declare"
    MANAGEMENT = "management API"
    NONE = "unavailable"


@dataclass(frozen=True)
class QueueStats:
    """One reading of the queue.

    Attributes:
        queue: the queue's name.
        at: ``time.time()`` of the reading.
        ready: messages ready for delivery.
        consumers: consumers attached, from any client.
        unacked: delivered, not yet acknowledged (management API only).
        total: ready + unacked (management API only).
        publish_rate: messages/s published (management API only).
        deliver_rate: messages/s delivered (management API only).
        ack_rate: messages/s acknowledged (management API only).
        queue_type: "quorum" or "classic" (management API only).
        sources: field name -> where it came from.
        error: why figures are missing, if they are.
    """

    queue: str
    at: float
    ready: int | None
    consumers: int | None
    unacked: int | None = None
    total: int | None = None
    publish_rate: float | None = None
    deliver_rate: float | None = None
    ack_rate: float | None = None
    queue_type: str | None = None
    sources: tuple[tuple[str, Source], ...] = ()
    error: str = ""

    def source_of(self, name: str) -> Source:
        """Where the named figure came from."""
        return dict(self.sources).get(name, Source.NONE)


@dataclass(frozen=True)
class BrokerInfo:
    """What the broker said about itself when the watcher connected.

    Attributes:
        product: e.g. ``RabbitMQ``.
        version: e.g. ``3.10.8``.
    """

    product: str
    version: str


class QueueMonitor:
    """Reads queue figures; use it from one thread only.

    Args:
        settings: where the broker is.
        queue: the queue to watch.
        management_port: the management plugin's HTTP port; ``None`` to skip it.
        http_timeout: seconds to wait for the management API.
    """

    def __init__(
        self,
        settings: ConnectionSettings,
        queue: str,
        *,
        management_port: int | None = DEFAULT_MANAGEMENT_PORT,
        http_timeout: float = 1.0,
    ) -> None:
        self.settings = settings
        self.queue = queue
        self.management_port = management_port
        self.http_timeout = http_timeout
        self._connection: pika.BlockingConnection | None = None
        self._channel: Any = None
        self._management_down_until = 0.0

    def poll(self) -> QueueStats:
        """Take one reading; never raises for broker trouble (``error`` says what failed)."""
        now = time.time()
        address = self.settings.primary
        ready: int | None = None
        consumers: int | None = None
        sources: dict[str, Source] = {}
        error = ""
        try:
            ready, consumers = self._declare_passive()
            sources["ready"] = sources["consumers"] = Source.AMQP
        except BrokerError as exc:
            error = str(exc)
        except Exception as exc:  # noqa: BLE001 - reported in the reading
            error = describe(exc, address)
            self.close()
        management = self._management(address)
        fields: dict[str, Any] = {}
        if management is not None:
            fields = {
                "unacked": _int(management.get("messages_unacknowledged")),
                "total": _int(management.get("messages")),
                "queue_type": management.get("type"),
            }
            stats = management.get("message_stats") or {}
            fields["publish_rate"] = _rate(stats, "publish_details")
            fields["deliver_rate"] = _rate(stats, "deliver_get_details")
            fields["ack_rate"] = _rate(stats, "ack_details")
            for name, value in fields.items():
                if value is not None:
                    sources[name] = Source.MANAGEMENT
            if ready is None and _int(management.get("messages_ready")) is not None:
                ready = _int(management.get("messages_ready"))
                sources["ready"] = Source.MANAGEMENT
            if consumers is None and _int(management.get("consumers")) is not None:
                consumers = _int(management.get("consumers"))
                sources["consumers"] = Source.MANAGEMENT
        return QueueStats(
            queue=self.queue,
            at=now,
            ready=ready,
            consumers=consumers,
            sources=tuple(sources.items()),
            error=error,
            **fields,
        )

    def close(self) -> None:
        """Close the monitor's connection."""
        connection, self._connection, self._channel = self._connection, None, None
        if connection is not None:
            try:
                if connection.is_open:
                    connection.close()
            except Exception:  # noqa: BLE001 - closing a broken connection
                log.debug("monitor: close failed", exc_info=True)

    def _declare_passive(self) -> tuple[int, int]:
        if self._connection is None or not self._connection.is_open:
            self._connection = pika.BlockingConnection(self.settings.pika_parameters())
            self._channel = None
        if self._channel is None or not self._channel.is_open:
            self._channel = self._connection.channel()
        try:
            ok = self._channel.queue_declare(queue=self.queue, passive=True)
        except pe.ChannelClosedByBroker as exc:
            self._channel = None
            if exc.reply_code == 404:
                raise BrokerError(f"Queue '{self.queue}' does not exist (yet).") from exc
            raise
        return int(ok.method.message_count), int(ok.method.consumer_count)

    def _management(self, address: BrokerAddress) -> dict[str, Any] | None:
        """The API's record of the queue, or ``None`` (then not asked again for a while)."""
        if self.management_port is None or time.monotonic() < self._management_down_until:
            return None
        api = ManagementApi.for_broker(address, self.management_port, self.http_timeout)
        try:
            return api.queue(address.vhost, self.queue)
        except ManagementError as exc:
            log.debug("management API not available at %s: %s", address.host, exc)
            self._management_down_until = time.monotonic() + MANAGEMENT_RETRY
            return None


def _int(value: Any) -> int | None:
    return int(value) if isinstance(value, int | float) else None


def _rate(stats: dict[str, Any], key: str) -> float | None:
    details = stats.get(key)
    if isinstance(details, dict) and isinstance(details.get("rate"), int | float):
        return float(details["rate"])
    return None
