"""Queue topology: declare the work queue the way the tutorial does, or adopt what exists.

Kanin declares its queue durable with exactly ``{"x-queue-type": "quorum"}``
(or no arguments for a classic queue) and never any other argument: extra
``x-`` arguments would make the tutorial's scripts fail with 406. When the
queue already exists with other arguments, Kanin adopts it as it is.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pika
import pika.exceptions as pe
from pika.adapters.blocking_connection import BlockingChannel, BlockingConnection

from core.errors import BrokerError

log = logging.getLogger(__name__)

DEFAULT_QUEUE = "task_queue"


class QueueType(enum.Enum):
    """The kind of a queue."""

    QUORUM = "quorum"
    CLASSIC = "classic"
    UNKNOWN = "unknown"

    def arguments(self) -> dict[str, str] | None:
        """The declare arguments for this type, exactly as the tutorial sends them."""
        if self is QueueType.QUORUM:
            return {"x-queue-type": "quorum"}
        return None


@dataclass(frozen=True)
class QueueSpec:
    """The queue Kanin works on.

    Attributes:
        name: the queue name (the routing key on the default exchange).
        queue_type: the type to create when the queue does not exist.
    """

    name: str = DEFAULT_QUEUE
    queue_type: QueueType = QueueType.QUORUM

    def __post_init__(self) -> None:
        if not self.name or len(self.name.encode("utf-8")) > 255:
            raise ValueError("The queue name must be 1 to 255 bytes long.")
        if self.name.startswith("amq."):
            raise ValueError("Queue names starting with 'amq.' are reserved by the broker.")
        if self.queue_type is QueueType.UNKNOWN:
            raise ValueError("Choose quorum or classic for a new queue.")


@dataclass(frozen=True)
class QueueReport:
    """What the declare found.

    Attributes:
        name: the queue.
        queue_type: its kind, as far as it could be told.
        adopted: True when the queue existed with other arguments and was taken as is.
        ready: messages ready, from the declare-ok.
        consumers: consumers, from the declare-ok.
    """

    name: str
    queue_type: QueueType
    adopted: bool
    ready: int
    consumers: int

    def describe(self) -> str:
        """A sentence for logs and the window."""
        kind = {
            QueueType.QUORUM: "a quorum queue",
            QueueType.CLASSIC: "a classic queue",
            QueueType.UNKNOWN: "a queue of another kind",
        }[self.queue_type]
        how = "adopted as it is (it was declared differently)" if self.adopted else "declared"
        return f"Queue '{self.name}' {how}: {kind}, {self.ready} ready, {self.consumers} consumers."


def _try_declare(
    channel: BlockingChannel, name: str, queue_type: QueueType | None
) -> tuple[int, int]:
    if queue_type is None:
        ok = channel.queue_declare(queue=name, passive=True)
    else:
        ok = channel.queue_declare(queue=name, durable=True, arguments=queue_type.arguments())
    return int(ok.method.message_count), int(ok.method.consumer_count)


def declare_queue(
    connection: BlockingConnection,
    spec: QueueSpec,
    *,
    channel_factory: Callable[[], BlockingChannel] | None = None,
) -> tuple[BlockingChannel, QueueReport]:
    """Declare the queue, or adopt it when it exists with other arguments.

    A 406 closes the channel, so each further try uses a fresh one; the
    returned channel is open and may be used for consuming or publishing.

    Args:
        connection: an open connection.
        spec: the queue wanted.
        channel_factory: makes a channel (defaults to ``connection.channel``).

    Returns:
        An open channel and the report.

    Raises:
        BrokerError: when the queue cannot be declared nor found.
    """
    new_channel = channel_factory or connection.channel
    other = QueueType.CLASSIC if spec.queue_type is QueueType.QUORUM else QueueType.QUORUM
    attempts: list[tuple[QueueType | None, bool]] = [
        (spec.queue_type, False),
        (other, True),
        (None, True),
    ]
    last: pe.ChannelClosedByBroker | None = None
    for queue_type, adopted in attempts:
        channel = new_channel()
        try:
            ready, consumers = _try_declare(channel, spec.name, queue_type)
        except pe.ChannelClosedByBroker as exc:
            last = exc
            if exc.reply_code == 406:
                continue
            if exc.reply_code == 404:
                raise BrokerError(f"Queue '{spec.name}' does not exist.", fatal=True) from exc
            raise BrokerError(
                f"The broker refused queue '{spec.name}': {exc.reply_code} {exc.reply_text}.",
                fatal=True,
            ) from exc
        report = QueueReport(
            name=spec.name,
            queue_type=queue_type or QueueType.UNKNOWN,
            adopted=adopted,
            ready=ready,
            consumers=consumers,
        )
        if adopted:
            log.warning("%s", report.describe())
        else:
            log.debug("%s", report.describe())
        return channel, report
    raise BrokerError(
        f"Queue '{spec.name}' exists but could not be adopted: {last}", fatal=True
    )  # pragma: no cover - the passive declare only fails with 404 or 405


def declare_blocking(parameters: Any, queue: QueueSpec) -> QueueReport:
    """Declare (or adopt) the queue over a short-lived ``BlockingConnection``.

    Args:
        parameters: pika's connection parameters for one node (or a list of them).
        queue: the queue to declare or adopt.

    Returns:
        What the declare found.
    """
    connection = pika.BlockingConnection(parameters)
    try:
        return declare_queue(connection, queue)[1]
    finally:
        if connection.is_open:
            connection.close()
