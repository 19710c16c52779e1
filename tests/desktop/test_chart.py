"""The QPainter chart: kept samples, visible span, round ticks, painting."""

from __future__ import annotations

import math

import pytest
from pytestqt.qtbot import QtBot

from desktop.chart import DIVISIONS, ThroughputChart, axis_text, axis_ticks, nice_step


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_nice_step_is_one_two_or_five_times_a_power_of_ten() -> None:
    assert [nice_step(v) for v in (0, 1, 1.5, 3, 7, 11, 420)] == [1, 1, 2, 5, 10, 20, 500]


def is_round(value: float) -> bool:
    """A multiple of 1, 2 or 5 times a power of ten, e.g. 40 (2 x 20), 1500 (3 x 500)."""
    return value == int(value)


@pytest.mark.parametrize(
    ("depth", "rate"),
    [(0, 0.0), (3, 0.4), (5, 1.0), (37, 2.5), (900, 13.0), (4321, 77.7), (123_456, 380.0)],
)
def test_ticks_are_round_steps_from_zero_shared_by_both_axes(depth: int, rate: float) -> None:
    depth_ticks, rate_ticks = axis_ticks(depth, rate)
    assert len(depth_ticks) == len(rate_ticks)
    assert len(depth_ticks) - 1 in DIVISIONS
    for ticks, peak in ((depth_ticks, depth), (rate_ticks, rate)):
        assert ticks[0] == 0
        step = ticks[1]
        mantissa = step / 10 ** math.floor(math.log10(step))
        assert round(mantissa, 9) in (1, 2, 5), step
        assert ticks == [step * i for i in range(len(ticks))]
        assert all(is_round(t) for t in ticks)  # never 1.2, 2.5, 3.8
        assert ticks[-1] >= peak * 1.1
    # Big ticks read as thousands: 50k, 100k, ... (no 123456.0 squeezed into the margin).
    labels = [axis_text(t) for t in axis_ticks(123_456, 0)[0][1:]]
    assert all(label.endswith("k") and "." not in label for label in labels), labels


def test_span_grows_by_minutes_and_old_samples_go(qtbot: QtBot) -> None:
    clock = Clock()
    chart = ThroughputChart(span=300, clock=clock)
    qtbot.addWidget(chart)
    assert chart.visible_span() == 60
    for second in range(400):
        clock.now = 1000.0 + second
        chart.add_point(second % 50, second / 100)
        if second == 30:
            assert chart.visible_span() == 60
        if second == 150:
            assert chart.visible_span() == 180
    assert chart.visible_span() == 300
    points = chart.points()
    assert points[0].at >= clock.now - 300
    assert len(points) == 301


def test_unknown_depth_leaves_a_gap(qtbot: QtBot) -> None:
    clock = Clock()
    chart = ThroughputChart(clock=clock)
    qtbot.addWidget(chart)
    for depth in (3, 4, None, None, 5, 6):
        clock.now += 1
        chart.add_point(depth, 1.0)
    before, after = chart.depth_runs()
    # The line stops at the last known depth and starts again at the next one:
    # nothing is drawn for the two seconds the depth was unknown.
    assert [(p.at, p.depth) for p in before] == [(1001.0, 3), (1002.0, 4)]
    assert [(p.at, p.depth) for p in after] == [(1005.0, 5), (1006.0, 6)]
    assert len(chart.visible_points()) == 6  # the rate line still has every sample
    chart.resize(400, 200)
    chart.show()
    assert not chart.grab().isNull()  # painting the broken line raises nothing


def test_axes_end_on_round_numbers_above_the_visible_samples(qtbot: QtBot) -> None:
    clock = Clock()
    chart = ThroughputChart(span=300, clock=clock)
    qtbot.addWidget(chart)
    assert chart.axis_tops() == (4, 4)  # nothing yet: the smallest axes
    chart.add_point(37, 2.5)
    assert chart.axis_tops() == (50, 5)  # 37 + 10 % headroom is 40.7: five steps of 10
    clock.now += 1
    chart.add_point(900, 13.0)
    assert chart.axis_tops() == (1000, 25)  # five steps of 200 and of 5
    # The peak scrolls out of the last five minutes and the axes shrink back.
    for second in range(2, 400):
        clock.now = 1000.0 + second
        chart.add_point(50, 3.0)
    assert all(p.depth == 50 for p in chart.visible_points())
    assert chart.axis_tops() == (80, 4)  # four steps of 20 and of 1
    # With no new sample for longer than the span, nothing is left to show.
    clock.now += 301
    assert chart.visible_points() == []
    assert chart.axis_tops() == (4, 4)
