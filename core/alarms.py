"""What the producer watches on an open connection: the broker's block, confirms that do not come.

A resource alarm (memory or disk) makes the broker block publishing
connections (``connection.blocked``) until it clears (``connection.unblocked``).
A queue that does not answer (a quorum queue without a leader, say) leaves
published tasks unconfirmed while the connection looks healthy. ``Alarms``
turns both into producer events; it lives in the producer's thread.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from core.events import ProducerBlocked, ProducerStalled, ProducerUnblocked

# The producer's own log: `kanin new-task` quiets it and says the same in its own words.
log = logging.getLogger("core.producer")


class Alarms:
    """The block and the stall of the producer's current connection (producer thread only).

    Args:
        stall_after: seconds a publish may await its confirm before it is
            reported, then again every as many seconds while the wait lasts.
        clock: the monotonic clock the publish times were taken with.

    Attributes:
        blocked: the broker's reason while it blocks the connection, else None
            (read by other threads: one attribute, replaced whole).
    """

    def __init__(self, stall_after: float, clock: Callable[[], float]) -> None:
        if stall_after <= 0:
            raise ValueError("The stall bound must be more than 0 seconds.")
        self.stall_after = stall_after
        self.blocked: str | None = None
        self._clock = clock
        self._reported: float | None = None  # when the current stall was last reported

    def reset(self) -> None:
        """A connection ended or began: not blocked, nothing reported."""
        self.blocked = None
        self._reported = None

    def block(self, reason: str) -> ProducerBlocked:
        """The broker blocked the connection; logs it and returns the event that says so."""
        self.blocked = reason
        event = ProducerBlocked(self._clock(), reason)
        log.warning("Producer: the broker blocked publishing (%s); waiting.", event.alarm)
        return event

    def unblock(self) -> ProducerUnblocked:
        """The broker lifted its block; logs it and returns the event that says so."""
        log.info("Producer: the broker lifted its block; publishing goes on.")
        self.blocked = None
        self._reported = None
        return ProducerUnblocked(self._clock())

    def stall(
        self, oldest: float | None, count: int, waiting: int, queue: str
    ) -> ProducerStalled | None:
        """The event to report now, if the oldest unconfirmed publish is too old.

        Args:
            oldest: when the oldest publish awaiting its confirm was made, or None.
            count: publishes awaiting their confirm.
            waiting: every task not settled yet.
            queue: the queue's name.

        Returns:
            ``ProducerStalled`` at most once every ``stall_after`` seconds while
            the wait lasts (logged); None otherwise, and always while blocked
            (the block explains the wait).
        """
        now = self._clock()
        if oldest is None or self.blocked is not None:
            self._reported = None
            return None
        age = now - oldest
        if age < self.stall_after:
            self._reported = None
            return None
        if self._reported is not None and now - self._reported < self.stall_after:
            return None
        self._reported = now
        log.warning(
            "Producer: %d tasks await the broker's confirm, the oldest for %.0f s.", count, age
        )
        return ProducerStalled(now, age, count, waiting, queue)
