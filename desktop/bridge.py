"""The bridge from core threads to the GUI thread: a thread-safe inbox drained by a GUI timer.

Workers, the producer and the queue watcher report from their own threads.
Their observer calls must return at once and must never touch Qt objects, so
the bridge only appends each event to a ``collections.deque`` (its ``append``
and ``popleft`` are atomic). The controller's GUI timer drains the inbox a few
dozen times a second and turns each batch into model updates and Qt signals.
With 32 workers on zero-second tasks that is thousands of events per second
folded into about 30 repaints.
"""

from __future__ import annotations

import collections

from core.events import ProducerEvent, WorkerEvent
from core.monitor import BrokerInfo, QueueStats

__all__ = ["BrokerInfo", "EventBridge", "Item"]

Item = WorkerEvent | ProducerEvent | QueueStats | BrokerInfo


class EventBridge:
    """Collects events from any thread for the GUI thread to drain.

    It implements the core's ``WorkerObserver`` and ``ProducerObserver``
    protocols. One bridge serves one connection session; when the settings
    change, the controller makes a new bridge and stops draining the old one,
    so late events of stopped workers cannot be mistaken for new ones.
    """

    def __init__(self) -> None:
        self._inbox: collections.deque[Item] = collections.deque()

    def on_worker_event(self, event: WorkerEvent) -> None:
        """Called in a worker thread: store the event."""
        self._inbox.append(event)

    def on_producer_event(self, event: ProducerEvent) -> None:
        """Called in the producer thread: store the event."""
        self._inbox.append(event)

    def post(self, item: QueueStats | BrokerInfo) -> None:
        """Called in the watcher thread: store a reading."""
        self._inbox.append(item)

    def drain(self, limit: int = 50_000) -> list[Item]:
        """Take up to ``limit`` items, oldest first (GUI thread).

        Args:
            limit: most items to take in one go, so one tick stays short.

        Returns:
            The items, possibly none.
        """
        items: list[Item] = []
        inbox = self._inbox
        for _ in range(min(limit, len(inbox))):
            try:
                items.append(inbox.popleft())
            except IndexError:
                break
        return items

    def __len__(self) -> int:
        return len(self._inbox)
