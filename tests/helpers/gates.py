"""Waiting on a PriorityGate in tests (no bare sleeps: short timed waits on an event)."""

from __future__ import annotations

import threading

from core.priority import PriorityGate


def wait_for_waits(gate: PriorityGate, count: int = 1, timeout: float = 10.0) -> None:
    """Until workers have stepped aside ``count`` times in all (they block in ``wait_turn``)."""
    idle = threading.Event()
    for _ in range(int(timeout / 0.005)):
        if gate.waits >= count:
            return
        idle.wait(0.005)
    raise AssertionError(f"workers stepped aside {gate.waits} of {count} times")
