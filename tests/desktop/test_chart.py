"""The QPainter chart: kept samples, visible span, painting."""

from __future__ import annotations

from pytestqt.qtbot import QtBot

from desktop.chart import ThroughputChart, nice_ceiling


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_nice_ceiling() -> None:
    assert [nice_ceiling(v) for v in (0, 1, 1.5, 3, 7, 11, 420)] == [1, 1, 2, 4, 8, 20, 500]


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
    chart.resize(400, 200)
    chart.show()
    image = chart.grab().toImage()
    assert image.width() == 400


def test_unknown_depth_leaves_a_gap(qtbot: QtBot) -> None:
    clock = Clock()
    chart = ThroughputChart(clock=clock)
    qtbot.addWidget(chart)
    for depth in (3, None, 5):
        clock.now += 1
        chart.add_point(depth, 0.0)
    assert [p.depth for p in chart.points()] == [3, None, 5]
    assert not chart.grab().isNull()
