"""The failure policy: what becomes of a task whose work raised, and how attempts are counted.

The attempt number comes from the broker on quorum queues
(``x-delivery-count``, which also counts returns after a lost connection).
Classic queues count nothing, so Kanin does: instead of nacking, it publishes
a copy with ``x-kanin-attempts`` (failures so far) to the back of the queue,
waits for the broker's confirm, and only then acks the original (a crash in
between leaves a duplicate, never a loss). At the last attempt the task is
rejected without requeue, and the queue's dead-letter policy
(``core.policies``) routes it to the dead-letter queue on either type.
Without a limit a failed task is simply nacked back to the queue.
"""

from __future__ import annotations

import copy
import logging
from typing import Any

import pika
import pika.exceptions as pe
from pika.adapters.blocking_connection import BlockingChannel, BlockingConnection

from core.tasks import Delivery
from core.topology import QueueType

log = logging.getLogger(__name__)

ATTEMPTS_HEADER = "x-kanin-attempts"
"""Failed attempts so far, on a task Kanin republished to a queue that does not count."""


def recorded_failures(properties: Any) -> int | None:
    """Failed attempts recorded by Kanin in ``x-kanin-attempts``, if any.

    Args:
        properties: the delivery's ``pika.BasicProperties`` (or ``None``).

    Returns:
        The count, or ``None`` when the header is absent or not a count.
    """
    headers = getattr(properties, "headers", None) if properties is not None else None
    value = headers.get(ATTEMPTS_HEADER) if isinstance(headers, dict) else None
    return value if isinstance(value, int) and value >= 0 else None


class FailurePolicy:
    """Settles the failed tasks of one connection (manual acks): requeue, recount or dead-letter.

    Made afresh for each connection; the republish channel is opened on the
    first republish only.

    Args:
        connection: the worker's connection (used in the worker's thread only).
        queue: the queue's name, where republished copies go.
        max_attempts: failures before dead-lettering; ``None`` requeues forever.
        queue_type: what the declare found; quorum queues count deliveries themselves.
        name: the worker's name, for the log.

    Attributes:
        limit: failures before dead-lettering (``None``: requeue forever); the
            worker's thread reads it at each failure, other threads may change it.
    """

    def __init__(
        self,
        connection: BlockingConnection,
        queue: str,
        max_attempts: int | None,
        queue_type: QueueType,
        name: str = "worker",
    ) -> None:
        self._connection = connection
        self._queue = queue
        self.limit = max_attempts
        self._counts_itself = queue_type is QueueType.QUORUM
        self._name = name
        self._channel: BlockingChannel | None = None

    def settle(
        self, channel: BlockingChannel, tag: int, delivery: Delivery, properties: Any
    ) -> bool:
        """Settle a failed delivery on the channel that delivered it.

        Args:
            channel: the consuming channel.
            tag: the delivery tag.
            delivery: the task (``delivery_count`` is the attempt that failed, when known).
            properties: the delivery's properties, copied into a republished task.

        Returns:
            True when the task goes back to the queue, False when it was
            rejected to the dead-letter queue.
        """
        attempt = delivery.delivery_count or 1
        limit = self.limit
        if limit is not None and attempt >= limit:
            channel.basic_reject(delivery_tag=tag, requeue=False)
            return False
        if (
            limit is not None
            and not self._counts_itself
            and self.republish(properties, delivery, attempt)
        ):
            channel.basic_ack(delivery_tag=tag)
        else:
            channel.basic_nack(delivery_tag=tag, requeue=True)
        return True

    def republish(self, properties: Any, delivery: Delivery, failures: int) -> bool:
        """Publish a copy of a failed task carrying its failure count, with a confirm.

        Args:
            properties: the original's properties (headers are kept).
            delivery: the failed task.
            failures: the count to write into ``x-kanin-attempts``.

        Returns:
            True once the broker confirmed the copy; False when it could not be published.
        """
        try:
            if self._channel is None or not self._channel.is_open:
                self._channel = self._connection.channel()
                self._channel.confirm_delivery()
            props = copy.copy(properties) if properties is not None else pika.BasicProperties()
            props.headers = {**(getattr(props, "headers", None) or {}), ATTEMPTS_HEADER: failures}
            self._channel.basic_publish(
                exchange="",
                routing_key=self._queue,
                body=delivery.body,
                properties=props,
                mandatory=True,
            )
        except (pe.UnroutableError, pe.NackError, pe.ChannelClosed) as exc:
            log.warning("%s: could not republish task %s: %s", self._name, delivery.task_id, exc)
            self._channel = None
            return False
        return True
