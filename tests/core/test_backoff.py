"""The reconnect delay: capped doubling with jitter (no broker needed)."""

from __future__ import annotations

import pytest

from core.backoff import backoff_delay
from core.worker import WorkerOptions


def test_backoff_doubles_from_a_tenth_and_is_capped():
    top = [backoff_delay(n, 1.0, rng=lambda: 0.999999) for n in range(1, 8)]
    assert top == pytest.approx([0.1, 0.2, 0.4, 0.8, 1.0, 1.0, 1.0], rel=1e-5)


def test_backoff_jitter_stays_between_half_and_full():
    assert backoff_delay(3, 1.0, rng=lambda: 0.0) == pytest.approx(0.2)
    assert backoff_delay(1000, 1.0, rng=lambda: 0.5) == pytest.approx(0.75)


def test_backoff_a_larger_cap_lets_the_delay_grow_further():
    assert backoff_delay(6, 10.0, rng=lambda: 0.999999) == pytest.approx(3.2, rel=1e-5)
    assert backoff_delay(20, 10.0, rng=lambda: 0.999999) == pytest.approx(10.0, rel=1e-5)


def test_default_cap_keeps_reconnects_quick():
    assert WorkerOptions().max_backoff <= 1.0
