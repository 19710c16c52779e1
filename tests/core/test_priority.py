"""PriorityGate: workers step aside while the watched thread is late, or goes first."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest

from core.priority import PriorityGate
from tests.helpers.gates import wait_for_waits


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def watched_gate(max_wait: float = 30.0) -> tuple[Clock, PriorityGate]:
    """A gate on a hand-moved clock, watched, late after 20 ms."""
    clock = Clock()
    gate = PriorityGate(late_after=0.02, max_wait=max_wait, clock=clock)
    gate.watch()
    return clock, gate


def in_thread(call: Callable[[], bool]) -> tuple[threading.Event, list[bool]]:
    """Run ``call`` in a thread; the event is set when it has returned, with its result."""
    done = threading.Event()
    result: list[bool] = []

    def run() -> None:
        result.append(call())
        done.set()

    threading.Thread(target=run, daemon=True).start()
    return done, result


def settle_in_thread(gate: PriorityGate, timeout: float) -> threading.Event:
    """``gate.settle(timeout)`` in a thread; the event is set when it has returned."""
    settled = threading.Event()

    def run() -> None:
        gate.settle(timeout)
        settled.set()

    threading.Thread(target=run, daemon=True).start()
    return settled


def test_workers_never_wait_while_nobody_is_watched():
    clock = Clock()
    gate = PriorityGate(late_after=0.01, clock=clock)
    clock.now += 60
    assert not gate.watching
    assert gate.wait_turn() is False
    assert gate.waits == 0


def test_workers_go_on_while_the_beats_are_on_time():
    clock, gate = watched_gate()
    for _ in range(5):
        clock.now += 0.01
        gate.beat()
        assert gate.wait_turn() is False
    clock.now += 0.02  # exactly late_after: still on time
    assert gate.wait_turn() is False


def test_a_late_beat_makes_workers_wait_until_the_next_beat():
    clock, gate = watched_gate()
    clock.now += 0.05
    done, result = in_thread(gate.wait_turn)
    wait_for_waits(gate)
    assert not done.is_set()
    gate.beat()
    assert done.wait(5)
    assert result == [True]
    assert gate.wait_turn() is False  # the beat was fresh


def test_a_worker_waits_at_most_max_wait():
    clock, gate = watched_gate(max_wait=0.05)
    clock.now += 1.0  # the watched thread never beats again
    done, result = in_thread(gate.wait_turn)
    assert done.wait(5)
    assert result == [True]


def test_first_makes_workers_wait_although_the_beats_are_on_time():
    _, gate = watched_gate()
    with gate.first():
        done, result = in_thread(gate.wait_turn)
        wait_for_waits(gate)
        assert not done.is_set()
    assert done.wait(5)
    assert result == [True]
    assert gate.wait_turn() is False


def test_holds_nest_and_the_last_let_go_releases():
    _, gate = watched_gate()
    gate.hold()
    gate.hold()
    gate.let_go()
    done, _ = in_thread(gate.wait_turn)
    wait_for_waits(gate)
    gate.let_go()  # wakes the waiter, which finds nothing held any more
    assert done.wait(5)
    assert gate.wait_turn() is False


def test_unwatch_releases_waiting_workers_at_once():
    clock, gate = watched_gate()
    clock.now += 1.0
    waiters = [in_thread(gate.wait_turn) for _ in range(3)]
    wait_for_waits(gate, 3)
    gate.unwatch()
    for done, result in waiters:
        assert done.wait(5)
        assert result == [True]
    assert gate.wait_turn() is False


@pytest.mark.parametrize(("late_after", "max_wait"), [(0, 1), (-1, 1), (1, 0)])
def test_limits_must_be_positive(late_after: float, max_wait: float):
    with pytest.raises(ValueError, match="positive"):
        PriorityGate(late_after=late_after, max_wait=max_wait)


def test_settle_returns_once_no_worker_is_inside_its_turn():
    gate = PriorityGate(late_after=10.0, max_wait=30.0)
    gate.watch()
    inside = threading.Event()
    leave = threading.Event()

    def work() -> bool:
        with gate.turn() as waited:
            inside.set()
            leave.wait(10)
        return waited

    done, result = in_thread(work)
    assert inside.wait(5)
    gate.hold()
    settled = settle_in_thread(gate, 30.0)
    assert not settled.wait(0.1)  # a worker is still busy
    leave.set()
    assert settled.wait(5)
    assert done.wait(5)
    assert result == [False]  # it had not waited: nothing was held when it began
    gate.let_go()


def test_settle_gives_up_after_its_timeout():
    gate = PriorityGate(late_after=10.0, max_wait=30.0)
    gate.watch()
    inside = threading.Event()
    leave = threading.Event()

    def work() -> bool:
        with gate.turn():
            inside.set()
            leave.wait(10)
        return True

    done, _ = in_thread(work)
    assert inside.wait(5)
    settled = settle_in_thread(gate, 0.05)
    assert settled.wait(5)  # back although the worker is still inside its turn
    leave.set()
    assert done.wait(5)
