"""What is in the queue at one moment, as a lesson about the queue needs it: ready + unacked.

A passive ``queue.declare`` counts only the *ready* messages: tasks being
worked on (delivered, not yet acknowledged) are missing, so a restart with
two busy workers looks like the loss of two tasks. A ``QueueCount`` adds the
unacknowledged ones, from the management API when it answered, else from
Kanin's own workers (other consumers' then go uncounted), and says which.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.monitor import QueueStats, Source

_READY_SOURCES = {
    Source.AMQP: "the broker's count, from a passive queue.declare",
    Source.MANAGEMENT: "the broker's count, from the management API",
}
KANIN_WORKERS = "Kanin's own workers (other consumers not counted)"


@dataclass(frozen=True)
class QueueCount:
    """Tasks in the queue: waiting (ready) and being worked on (unacked), each with its source.

    Attributes:
        ready: messages ready for delivery (``None``: no reading).
        unacked: delivered and not yet acknowledged.
        ready_source: where ``ready`` came from, in words.
        unacked_source: where ``unacked`` came from, in words.
    """

    ready: int | None
    unacked: int
    ready_source: str
    unacked_source: str

    @classmethod
    def of(cls, stats: QueueStats | None, kanin_unacked: int) -> QueueCount:
        """The count of a reading, with Kanin's workers' unacked tasks when the API is silent.

        Args:
            stats: the watcher's reading (``None``: none yet).
            kanin_unacked: tasks Kanin's workers hold unacknowledged at about that time.
        """
        if stats is None:
            return cls(None, kanin_unacked, "no reading", KANIN_WORKERS)
        ready_source = stats.source_of("ready")
        if stats.unacked is not None and stats.source_of("unacked") is Source.MANAGEMENT:
            unacked, unacked_source = stats.unacked, _READY_SOURCES[Source.MANAGEMENT]
        else:
            unacked, unacked_source = kanin_unacked, KANIN_WORKERS
        return cls(
            stats.ready,
            unacked,
            _READY_SOURCES.get(ready_source, ready_source.value),
            unacked_source,
        )

    @property
    def total(self) -> int | None:
        """Ready + unacked (``None`` without a reading)."""
        return None if self.ready is None else self.ready + self.unacked

    def text(self) -> str:
        """E.g. ``10 in the queue (8 waiting, 2 being worked on)``."""
        if self.ready is None:
            return f"no reading from the broker yet ({self.unacked} being worked on)"
        return f"{self.total} in the queue ({self.ready} waiting, {self.unacked} being worked on)"

    def sources(self) -> str:
        """Where the figures came from, e.g. ``waiting: ...; being worked on: ...``."""
        return f"waiting: {self.ready_source}; being worked on: {self.unacked_source}"


def restart_summary(before: QueueCount, after: QueueCount, done: int) -> str:
    """The restart's counts in one line: before, done in between, after.

    E.g. ``before: 10 in the queue (8 waiting, 2 being worked on) · done during
    the restart: 0 · after: 10 in the queue (6 waiting, 4 being worked on)``.
    """
    return f"before: {before.text()} · done during the restart: {done} · after: {after.text()}"
