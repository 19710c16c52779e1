"""A worker's inbox: deliveries received from the broker and not started yet.

pika hands a consumer's deliveries to its callback as they arrive; the
worker keeps them here and starts them one at a time. With a prefetch above
1 (or auto-ack, which has no limit) the broker sends more while one is being
worked on: those wait here, and the inbox reports each with ``TaskDelivered``
so that a window can show it as *delivered, waiting on W-n* rather than
*queued* (the broker's ready count no longer holds it). A delivery started at
once reports nothing here, so prefetch 1 costs nothing.
"""

from __future__ import annotations

import collections
import time
from typing import Any

from core.events import TaskDelivered, WorkerState
from core.status import StatusBoard
from core.tasks import delivery_from

Received = tuple[Any, Any, bytes]
"""pika's ``(method, properties, body)`` of one delivery."""


class Inbox:
    """Deliveries waiting to be started, oldest first (the worker's thread only; ``len`` any).

    Args:
        board: the worker's status board: its state says whether it is busy, and
            its observer receives ``TaskDelivered``.
        max_work_seconds: cap on a task's work time, for the reported delivery.
    """

    def __init__(self, board: StatusBoard, max_work_seconds: float) -> None:
        self._board = board
        self._max_work_seconds = max_work_seconds
        self._items: collections.deque[Received] = collections.deque()

    def append(self, received: Received) -> None:
        """Keep a delivery; report it when it has to wait (the worker is busy or others wait)."""
        board = self._board
        waits = bool(self._items) or board.status.state is WorkerState.BUSY
        self._items.append(received)
        if waits:
            method, properties, body = received
            delivery = delivery_from(
                properties,
                body,
                redelivered=bool(method.redelivered),
                max_work_seconds=self._max_work_seconds,
            )
            board.emit(TaskDelivered(board.name, time.monotonic(), delivery))

    def popleft(self) -> Received:
        """The oldest delivery (``IndexError`` when there is none)."""
        return self._items.popleft()

    def clear(self) -> None:
        """Forget every delivery (their connection is gone: the broker has requeued them)."""
        self._items.clear()

    def __len__(self) -> int:
        return len(self._items)

    def __bool__(self) -> bool:
        return bool(self._items)
