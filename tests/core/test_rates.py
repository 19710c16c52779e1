"""Kanin's own rates over a sliding window, and the queue sample built from a reading."""

from __future__ import annotations

import pytest

from core.events import WorkerState
from core.monitor import QueueStats
from core.rates import QueueSampler, RateMeter
from core.status import WorkerStatus


def test_a_single_reading_has_no_rate() -> None:
    meter = RateMeter(window=5.0)
    assert meter.add(100.0, done=10, confirmed=20) == (0.0, 0.0)


def test_rates_are_the_growth_since_the_oldest_reading_kept() -> None:
    meter = RateMeter(window=5.0)
    meter.add(100.0, 0, 0)
    meter.add(101.0, 4, 10)
    assert meter.add(102.0, 10, 30) == pytest.approx((5.0, 15.0))


def test_readings_older_than_the_window_are_dropped_but_two_are_kept() -> None:
    meter = RateMeter(window=5.0)
    meter.add(100.0, 0, 0)
    meter.add(104.0, 100, 100)
    # 100.0 is now older than 5 s: the rate runs from 104.0 (60 tasks in 6 s)...
    assert meter.add(110.0, 160, 100) == pytest.approx((10.0, 0.0))
    # ...and after a long pause the last two readings still give a rate.
    assert meter.add(200.0, 250, 100) == pytest.approx((1.0, 0.0))


def test_clearing_starts_the_rates_afresh() -> None:
    meter = RateMeter(window=5.0)
    meter.add(100.0, 0, 0)
    meter.clear()
    assert meter.add(101.0, 50, 50) == (0.0, 0.0)


def test_a_sample_counts_kanins_busy_and_consuming_workers() -> None:
    sampler = QueueSampler(window=5.0)
    stats = QueueStats(queue="work", at=0.0, ready=7, consumers=5)
    statuses = [
        WorkerStatus("W-1", WorkerState.BUSY),
        WorkerStatus("W-2", WorkerState.IDLE),
        WorkerStatus("W-3", WorkerState.CONNECTING),
        WorkerStatus("W-4", WorkerState.KILLED),
        WorkerStatus("W-5", WorkerState.BUSY),
    ]
    sampler.take(stats, (0, 0), statuses, now=10.0)
    sample = sampler.take(stats, (6, 2), statuses, now=12.0)
    assert sampler.last is stats
    assert (sample.kanin_unacked, sample.kanin_consumers) == (2, 3)
    assert (sample.done_rate, sample.confirm_rate) == pytest.approx((3.0, 1.0))
    sampler.clear()
    assert sampler.last is None
    assert sampler.take(stats, (9, 9), statuses, now=13.0).done_rate == 0.0
