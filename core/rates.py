"""Kanin's own rates (done and confirmed per second over a sliding window) and the queue sample."""

from __future__ import annotations

import collections
from collections.abc import Iterable
from dataclasses import dataclass

from core.events import WorkerState
from core.monitor import QueueStats
from core.status import WorkerStatus


class RateMeter:
    """Two running totals turned into rates per second over the last ``window`` seconds.

    Args:
        window: seconds the rates are averaged over (the oldest readings are
            dropped once older, but at least two readings are kept).
    """

    def __init__(self, window: float) -> None:
        self._window = window
        self._samples: collections.deque[tuple[float, int, int]] = collections.deque()

    def clear(self) -> None:
        """Forget every reading (a new session starts)."""
        self._samples.clear()

    def add(self, now: float, done: int, confirmed: int) -> tuple[float, float]:
        """Record the totals at ``now`` and return the rates since the oldest reading kept.

        Args:
            now: ``time.monotonic()`` of the reading.
            done: tasks acknowledged so far.
            confirmed: tasks confirmed by the broker so far.

        Returns:
            ``(done per second, confirmed per second)``; zeros from a single reading.
        """
        samples = self._samples
        samples.append((now, done, confirmed))
        while len(samples) > 2 and samples[0][0] < now - self._window:
            samples.popleft()
        first_at, first_done, first_confirmed = samples[0]
        if now <= first_at:
            return 0.0, 0.0
        elapsed = now - first_at
        return (done - first_done) / elapsed, (confirmed - first_confirmed) / elapsed


@dataclass(frozen=True)
class QueueSample:
    """One point of the queue panel's figures and chart.

    Attributes:
        stats: the watcher's reading (with its sources).
        kanin_unacked: deliveries held by Kanin's own workers right now.
        kanin_consumers: Kanin workers consuming right now.
        done_rate: tasks acknowledged per second by Kanin's workers (last few seconds).
        confirm_rate: tasks confirmed by the broker per second (last few seconds).
    """

    stats: QueueStats
    kanin_unacked: int
    kanin_consumers: int
    done_rate: float
    confirm_rate: float

    @classmethod
    def of(
        cls,
        stats: QueueStats,
        statuses: Iterable[WorkerStatus],
        rates: tuple[float, float],
    ) -> QueueSample:
        """The sample of a reading, Kanin's workers' states and ``RateMeter.add``'s rates."""
        live = [s for s in statuses if not s.state.finished]
        return cls(
            stats=stats,
            kanin_unacked=sum(1 for s in live if s.state is WorkerState.BUSY),
            kanin_consumers=sum(1 for s in live if s.state in (WorkerState.IDLE, WorkerState.BUSY)),
            done_rate=rates[0],
            confirm_rate=rates[1],
        )


class QueueSampler:
    """Turns the watcher's readings of the work queue into ``QueueSample``s with Kanin's rates.

    Args:
        window: seconds the rates are averaged over.

    Attributes:
        last: the latest reading (``None`` before the first, or after ``clear()``).
    """

    def __init__(self, window: float) -> None:
        self.last: QueueStats | None = None
        self._meter = RateMeter(window)

    def clear(self) -> None:
        """Forget the readings and the rates (a new session starts)."""
        self.last = None
        self._meter.clear()

    def take(
        self,
        stats: QueueStats,
        totals: tuple[int, int],
        statuses: Iterable[WorkerStatus],
        now: float,
    ) -> QueueSample:
        """The sample of a reading.

        Args:
            stats: the reading.
            totals: tasks acknowledged and tasks confirmed so far.
            statuses: Kanin's workers' states.
            now: ``time.monotonic()``.
        """
        self.last = stats
        rates = self._meter.add(now, *totals)
        return QueueSample.of(stats, statuses, rates)
