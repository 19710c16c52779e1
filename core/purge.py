"""Purging the work queue: the broker call on a short-lived connection, and what it means."""

from __future__ import annotations

from collections.abc import Iterable

import pika
import pika.exceptions as pe

from core.errors import BrokerError, describe
from core.ledger import Ledger, TaskState
from core.settings import ConnectionSettings

IN_THE_QUEUE = (TaskState.QUEUED, TaskState.REDELIVERED, TaskState.RETRYING)
"""States of Kanin's tasks that wait in the queue (as far as Kanin knows)."""


def purge_queue(settings: ConnectionSettings, queue: str) -> int:
    """Remove every ready message from ``queue``; returns how many the broker removed.

    Blocks (open, ``queue.purge``, close): call it off the GUI thread. Messages
    delivered and not yet acknowledged stay; they come back if given back.

    Raises:
        BrokerError: the broker cannot be reached, or refused the purge.
    """
    try:
        connection = pika.BlockingConnection(settings.pika_parameters())
    except pe.AMQPError as exc:
        raise BrokerError(describe(exc, settings.primary)) from exc
    try:
        frame = connection.channel().queue_purge(queue)
        return int(frame.method.message_count)
    except pe.AMQPError as exc:
        raise BrokerError(describe(exc, settings.primary)) from exc
    finally:
        if connection.is_open:
            connection.close()


def in_the_queue(ledger: Ledger) -> list[str]:
    """The ids of Kanin's tasks in the queue now (taken before a purge)."""
    return [r.task_id for r in ledger.records if r.state in IN_THE_QUEUE]


def mark_purged(ledger: Ledger, task_ids: Iterable[str], queue: str) -> int:
    """Tasks still in the queue after a purge of it were removed: they are *purged*.

    Returns:
        How many records changed.
    """
    marked = 0
    for task_id in task_ids:
        record = ledger.get(task_id)
        if record is not None and record.state in IN_THE_QUEUE:
            record.note = f"Purged from {queue} before any worker took it."
            # The ledger's own bookkeeping call (counts, changed rows, its watcher):
            # core/ledger.py is at the house limit of 450 lines.
            ledger._move(record, TaskState.PURGED)
            marked += 1
    return marked
