"""The failure policy: what becomes of a task whose work raised, and how attempts are counted.

The attempt number comes from the broker on quorum queues
(``x-delivery-count``, which also counts returns after a lost connection).
Classic queues count nothing, so Kanin does: instead of nacking, it publishes
a copy with ``x-kanin-attempts`` (failures so far) to the back of the queue,
waits for the broker's confirm, and only then acks the original (a crash in
between leaves a duplicate, never a loss).

A failed task is held for a delay that doubles with each failure
(``retry_delay``: 1 s, 2 s, 4 s... up to a minute) before it goes back, so a
poison task fails about once a second at most, not a thousand times, and its
log lines are as few. At the last attempt Kanin publishes it to
``<queue>.dead`` itself (declaring that queue when missing) and acks the
original: this works on any broker, with or without the dead-letter policy of
``core.policies`` (which a broker Kanin does not manage may not allow).
Should that publish fail, the task goes back to the queue: it is never lost.
"""

from __future__ import annotations

import copy
import logging
import threading
import time
from collections.abc import Sequence
from typing import Any

import pika
import pika.exceptions as pe
from pika.adapters.blocking_connection import BlockingChannel, BlockingConnection

from core.policies import dead_letter_queue_name
from core.tasks import Delivery
from core.topology import QueueType

DEFAULT_MAX_ATTEMPTS = 5
"""Attempts before a failing task is dead-lettered, unless told otherwise (``kanin worker``)."""
RETRY_BASE = 1.0
RETRY_CAP = 60.0

log = logging.getLogger(__name__)

ATTEMPTS_HEADER = "x-kanin-attempts"
"""Failed attempts so far, on a task Kanin republished to a queue that does not count."""


def retry_delay(failures: int, base: float = RETRY_BASE, cap: float = RETRY_CAP) -> float:
    """How long a task that failed ``failures`` times is held before it goes back.

    Args:
        failures: failed attempts so far (1 after the first).
        base: the delay after the first failure.
        cap: the longest delay.

    Returns:
        ``min(cap, base * 2 ** (failures - 1))``.
    """
    return min(cap, base * 2.0 ** min(max(failures, 1) - 1, 30))


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
        max_attempts: failures before dead-lettering; ``None`` requeues forever
            (still with the growing delay).
        queue_type: what the declare found; quorum queues count deliveries themselves.
        name: the worker's name, for the log.
        interrupts: events that cut a retry delay short (the worker's stop and kill).
        retry_base: the delay after the first failure (``retry_delay``); 0 for none.
        retry_cap: the longest delay.

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
        interrupts: Sequence[threading.Event] = (),
        *,
        retry_base: float = RETRY_BASE,
        retry_cap: float = RETRY_CAP,
    ) -> None:
        self._connection = connection
        self._queue = queue
        self.limit = max_attempts
        self._type = queue_type
        self._counts_itself = queue_type is QueueType.QUORUM
        self._name = name
        self._interrupts = tuple(interrupts)
        self._retry_base = retry_base
        self._retry_cap = retry_cap
        self._channel: BlockingChannel | None = None
        self._dead_declared = False

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
            True when the task goes back to the queue, False when it went to
            the dead-letter queue.
        """
        attempt = delivery.delivery_count or 1
        limit = self.limit
        if limit is not None and attempt >= limit:
            if self.dead_letter(properties, delivery, attempt):
                channel.basic_ack(delivery_tag=tag)
                return False
            log.warning("%s: task %s stays in the queue", self._name, delivery.task_id)
        self.hold(attempt)
        if not self._counts_itself and self.republish(properties, delivery, attempt):
            channel.basic_ack(delivery_tag=tag)
        else:
            channel.basic_nack(delivery_tag=tag, requeue=True)
        return True

    def hold(self, failures: int) -> None:
        """Wait ``retry_delay(failures)``, the connection's events flowing, unless interrupted."""
        if self._retry_base <= 0:
            return
        end = time.monotonic() + retry_delay(failures, self._retry_base, self._retry_cap)
        while not any(event.is_set() for event in self._interrupts):
            left = end - time.monotonic()
            if left <= 0:
                return
            self._connection.process_data_events(time_limit=min(0.1, left))

    def dead_letter(self, properties: Any, delivery: Delivery, failures: int) -> bool:
        """Publish the task to ``<queue>.dead`` (declared when missing), with a confirm.

        Returns:
            True once the broker confirmed it there.
        """
        dead = dead_letter_queue_name(self._queue)
        if not self._dead_declared:
            try:
                self._declare(dead)
            except pe.AMQPError as exc:
                log.warning("%s: cannot declare the queue %s: %s", self._name, dead, exc)
                self._channel = None
                return False
            self._dead_declared = True
        return self._publish(dead, properties, delivery, failures)

    def _declare(self, dead: str) -> None:
        """Make sure the dead-letter queue exists: adopt it, else create it like the work queue."""
        try:
            self._confirming().queue_declare(queue=dead, passive=True)
        except pe.ChannelClosedByBroker as exc:
            self._channel = None
            if exc.reply_code != 404:
                raise
            self._confirming().queue_declare(
                queue=dead, durable=True, arguments=self._type.arguments()
            )
            log.info("%s: declared the dead-letter queue %s", self._name, dead)

    def _confirming(self) -> BlockingChannel:
        """The republish channel, with confirms (opened on first use)."""
        if self._channel is None or not self._channel.is_open:
            self._channel = self._connection.channel()
            self._channel.confirm_delivery()
        return self._channel

    def republish(self, properties: Any, delivery: Delivery, failures: int) -> bool:
        """Publish a copy of a failed task carrying its failure count, with a confirm.

        Args:
            properties: the original's properties (headers are kept).
            delivery: the failed task.
            failures: the count to write into ``x-kanin-attempts``.

        Returns:
            True once the broker confirmed the copy; False when it could not be published.
        """
        return self._publish(self._queue, properties, delivery, failures)

    def _publish(self, queue: str, properties: Any, delivery: Delivery, failures: int) -> bool:
        try:
            channel = self._confirming()
            props = copy.copy(properties) if properties is not None else pika.BasicProperties()
            props.headers = {**(getattr(props, "headers", None) or {}), ATTEMPTS_HEADER: failures}
            channel.basic_publish(
                exchange="", routing_key=queue, body=delivery.body, properties=props, mandatory=True
            )
        except (pe.UnroutableError, pe.NackError, pe.ChannelClosed) as exc:
            log.warning(
                "%s: could not publish task %s to %s: %s", self._name, delivery.task_id, queue, exc
            )
            self._channel = None
            return False
        return True
