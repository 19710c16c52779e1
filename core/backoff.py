"""The reconnect delay: capped doubling with jitter, for the worker and the producer."""

from __future__ import annotations

import random
from collections.abc import Callable


def backoff_delay(attempt: int, cap: float, rng: Callable[[], float] = random.random) -> float:
    """The wait before reconnect attempt ``attempt`` (1, 2, ...): capped doubling with jitter.

    Args:
        attempt: the attempt number, from 1.
        cap: the longest wait.
        rng: returns a float in [0, 1) (tests may fix it).

    Returns:
        ``min(cap, 0.1 * 2 ** (attempt - 1))`` scaled by a factor from 0.5 to 1.
    """
    base = min(cap, 0.1 * 2.0 ** min(attempt - 1, 30))
    return base * (0.5 + 0.5 * rng())
