"""The producer's watch (``core.alarms``): the broker's block and publishes left unconfirmed."""

from __future__ import annotations

import pytest

from core.alarms import Alarms
from core.events import ProducerBlocked


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_stall_is_reported_past_the_bound_then_once_per_bound():
    clock = Clock()
    alarms = Alarms(10.0, clock)
    clock.now = 9.9
    assert alarms.stall(0.0, 2, 5, "q") is None
    clock.now = 10.0
    first = alarms.stall(0.0, 2, 5, "q")
    assert first is not None
    assert (first.at, first.oldest_age, first.count, first.waiting, first.queue) == (
        10.0,
        10.0,
        2,
        5,
        "q",
    )
    clock.now = 19.0
    assert alarms.stall(0.0, 2, 5, "q") is None
    clock.now = 20.0
    again = alarms.stall(0.0, 2, 5, "q")
    assert again is not None
    assert again.oldest_age == 20.0


def test_a_confirm_ends_the_stall_and_a_new_one_is_reported_at_once():
    clock = Clock()
    alarms = Alarms(10.0, clock)
    clock.now = 12.0
    assert alarms.stall(0.0, 1, 1, "q") is not None
    clock.now = 13.0
    assert alarms.stall(None, 0, 0, "q") is None  # confirmed: nothing awaits
    clock.now = 25.0
    assert alarms.stall(14.0, 1, 1, "q") is not None  # a new stall, not held back


def test_no_stall_is_reported_while_blocked_and_the_block_ends_with_unblock_or_reset():
    clock = Clock()
    alarms = Alarms(10.0, clock)
    event = alarms.block("low on disk")
    assert alarms.blocked == "low on disk"
    assert event.alarm == "disk alarm: the broker is low on disk space"
    clock.now = 100.0
    assert alarms.stall(0.0, 1, 1, "q") is None
    alarms.unblock()
    assert alarms.blocked is None
    assert alarms.stall(0.0, 1, 1, "q") is not None
    alarms.block("low on memory")
    alarms.reset()
    assert alarms.blocked is None


@pytest.mark.parametrize(
    ("reason", "alarm"),
    [
        ("low on memory", "memory alarm: the broker is low on memory"),
        ("low on disk", "disk alarm: the broker is low on disk space"),
        ("something else", "resource alarm: something else"),
        ("", "resource alarm"),
    ],
)
def test_the_alarm_is_named_in_plain_words(reason, alarm):
    assert ProducerBlocked(0.0, reason).alarm == alarm


def test_the_bound_must_be_positive():
    with pytest.raises(ValueError, match="more than 0 seconds"):
        Alarms(0.0, Clock())
