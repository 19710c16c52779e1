"""A small live chart drawn with QPainter: queue depth and throughput over the last minutes.

PySide6-Essentials has no QtCharts, and two lines over a few hundred points
need none: the widget keeps samples in a bounded deque and repaints itself.
"""

from __future__ import annotations

import collections
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QEvent, QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPaintEvent, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

DEPTH_COLOR = QColor("#3b6fb6")
RATE_COLOR = QColor("#2e7d32")


@dataclass(frozen=True)
class ChartPoint:
    """One sample.

    Attributes:
        at: ``time.monotonic()`` of the sample.
        depth: messages ready in the queue (``None`` when unknown).
        rate: tasks done per second.
    """

    at: float
    depth: int | None
    rate: float


def nice_step(value: float) -> float:
    """The smallest of 1, 2, 5, 10, 20, 50, ... at or above ``value`` (at least 1)."""
    if value <= 1:
        return 1.0
    exponent = math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        candidate = step * 10**exponent
        if candidate >= value - 1e-9:
            return float(candidate)
    return float(10 ** (exponent + 1))  # pragma: no cover - the loop always returns


DIVISIONS = (4, 5, 6)
"""How many grid intervals an axis may have; both axes share the chosen one."""
SMALLEST_TOP = 4.0
"""The top of an axis with nothing (or less) to show."""


def axis_ticks(depth_peak: float, rate_peak: float) -> tuple[list[float], list[float]]:
    """Round ticks from 0 for both axes, the same number on each (they share the grid lines).

    Each axis steps by 1, 2 or 5 times a power of ten and ends at or above its
    peak plus 10 %; of the allowed numbers of grid intervals, the one that
    wastes the least height is kept.

    Args:
        depth_peak: the most messages ready in view.
        rate_peak: the most tasks done per second in view.

    Returns:
        The depth ticks and the rate ticks, bottom (0) to top.
    """
    wanted = (max(SMALLEST_TOP, depth_peak * 1.1), max(SMALLEST_TOP, rate_peak * 1.1))

    def waste(divisions: int) -> float:
        return sum(nice_step(value / divisions) * divisions / value for value in wanted)

    divisions = min(DIVISIONS, key=waste)
    depth_step, rate_step = (nice_step(value / divisions) for value in wanted)
    return (
        [depth_step * i for i in range(divisions + 1)],
        [rate_step * i for i in range(divisions + 1)],
    )


class ThroughputChart(QWidget):
    """Queue depth (left axis) and tasks done per second (right axis) over ``span`` seconds.

    Args:
        span: seconds shown, e.g. 300 for the last five minutes.
        clock: returns the current ``time.monotonic()`` (tests may pass their own).
        parent: the parent widget.
    """

    def __init__(
        self,
        span: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.span = span
        self._clock = clock
        self._points: collections.deque[ChartPoint] = collections.deque()
        self.setMinimumHeight(self.fontMetrics().height() * 9)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setToolTip(
            "Blue: messages ready in the queue. Green: tasks acknowledged per second "
            "by Kanin's workers. Up to the last five minutes."
        )

    def sizeHint(self) -> QSize:  # noqa: N802
        """A comfortable size."""
        line = self.fontMetrics().height()
        return QSize(line * 28, line * 18)

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802
        """A new font (zoom) scales the chart's least height with its labels."""
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:
            self.setMinimumHeight(self.fontMetrics().height() * 9)

    def add_point(self, depth: int | None, rate: float, at: float | None = None) -> None:
        """Append a sample and forget those older than the span.

        Args:
            depth: messages ready, if known.
            rate: tasks done per second.
            at: when, in ``time.monotonic()`` seconds (default: now).
        """
        now = self._clock() if at is None else at
        self._points.append(ChartPoint(now, depth, max(0.0, rate)))
        while self._points and self._points[0].at < now - self.span:
            self._points.popleft()
        self.update()

    def points(self) -> list[ChartPoint]:
        """The samples kept."""
        return list(self._points)

    def visible_span(self, now: float | None = None) -> float:
        """Seconds shown: one minute at first, growing by minutes up to ``span``."""
        current = self._clock() if now is None else now
        if not self._points:
            return min(self.span, 60.0)
        age = current - self._points[0].at
        return min(self.span, max(60.0, math.ceil(age / 60.0) * 60.0))

    def visible_points(self, now: float | None = None) -> list[ChartPoint]:
        """The samples inside the visible span, oldest first."""
        current = self._clock() if now is None else now
        span = self.visible_span(current)
        return [p for p in self._points if p.at >= current - span]

    def depth_runs(self, now: float | None = None) -> list[list[ChartPoint]]:
        """The stretches of visible samples the depth line joins; an unknown depth breaks it."""
        runs: list[list[ChartPoint]] = []
        run: list[ChartPoint] = []
        for p in self.visible_points(now):
            if p.depth is None:
                if run:
                    runs.append(run)
                run = []
            else:
                run.append(p)
        if run:
            runs.append(run)
        return runs

    def axis_ticks(self, now: float | None = None) -> tuple[list[float], list[float]]:
        """The round ticks of the depth and rate axes (see ``axis_ticks``)."""
        points = self.visible_points(now)
        return axis_ticks(
            max((p.depth or 0 for p in points), default=0),
            max((p.rate for p in points), default=0.0),
        )

    def axis_tops(self, now: float | None = None) -> tuple[float, float]:
        """The round values at the top of the depth and rate axes (at least 4 each)."""
        depth, rate = self.axis_ticks(now)
        return depth[-1], rate[-1]

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        """Draw axes, grid, both lines and the legend."""
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        palette = self.palette()
        painter.fillRect(self.rect(), palette.base())
        painter.setFont(self.font())  # the window's size: small type did not read at a distance
        metrics = painter.fontMetrics()
        left = metrics.horizontalAdvance("00000") + 8
        right = metrics.horizontalAdvance("000.0") + 8
        top = metrics.height() + 8
        bottom = metrics.height() + 6
        plot = QRectF(left, top, self.width() - left - right, self.height() - top - bottom)
        if plot.width() < 20 or plot.height() < 20:
            painter.end()
            return
        now = self._clock()
        span = self.visible_span(now)
        points = self.visible_points(now)
        depth_ticks, rate_ticks = self.axis_ticks(now)
        depth_max, rate_max = depth_ticks[-1], rate_ticks[-1]
        divisions = len(depth_ticks) - 1
        text_color = palette.text().color()
        grid = QColor(text_color)
        grid.setAlpha(40)

        painter.setPen(QPen(grid, 1))
        for i in range(divisions + 1):
            y = plot.top() + plot.height() * i / divisions
            painter.drawLine(QPointF(plot.left(), y), QPointF(plot.right(), y))
            painter.setPen(DEPTH_COLOR)
            painter.drawText(
                QRectF(0, y - metrics.height() / 2, left - 4, metrics.height()),
                int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter),
                axis_text(depth_ticks[divisions - i]),
            )
            painter.setPen(RATE_COLOR)
            painter.drawText(
                QRectF(plot.right() + 4, y - metrics.height() / 2, right - 4, metrics.height()),
                int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter),
                axis_text(rate_ticks[divisions - i]),
            )
            painter.setPen(QPen(grid, 1))
        painter.setPen(text_color)
        step = 15 if span <= 60 else 60
        for k in range(int(span // step) + 1):
            ago = k * step
            x = plot.right() - plot.width() * ago / span
            if ago == 0:
                label = "now"
            elif step == 60:
                label = f"-{ago // 60} min"
            else:
                label = f"-{ago} s"
            painter.drawText(
                QRectF(x - 40, plot.bottom() + 2, 80, metrics.height()),
                int(Qt.AlignmentFlag.AlignCenter),
                label,
            )

        def x_of(at: float) -> float:
            return plot.right() - plot.width() * (now - at) / span

        depth_path = QPainterPath()
        for run in self.depth_runs(now):
            for i, p in enumerate(run):
                depth = p.depth or 0
                point = QPointF(x_of(p.at), plot.bottom() - plot.height() * depth / depth_max)
                if i == 0:
                    depth_path.moveTo(point)
                else:
                    depth_path.lineTo(point)
        rate_path = QPainterPath()
        for i, p in enumerate(points):
            point = QPointF(x_of(p.at), plot.bottom() - plot.height() * p.rate / rate_max)
            if i == 0:
                rate_path.moveTo(point)
            else:
                rate_path.lineTo(point)
        painter.setPen(QPen(RATE_COLOR, 1.6))
        painter.drawPath(rate_path)
        painter.setPen(QPen(DEPTH_COLOR, 2.0))
        painter.drawPath(depth_path)

        painter.setPen(QPen(grid, 1))
        painter.drawRect(plot)
        legend_y = 2
        painter.setPen(DEPTH_COLOR)
        painter.drawText(QRectF(left, legend_y, 200, metrics.height()), "■ ready (messages)")
        painter.setPen(RATE_COLOR)
        painter.drawText(
            QRectF(plot.right() - 200, legend_y, 200, metrics.height()),
            int(Qt.AlignmentFlag.AlignRight),
            "done per second ■",
        )
        if not points:
            painter.setPen(text_color)
            painter.drawText(
                plot, int(Qt.AlignmentFlag.AlignCenter), "waiting for the first reading…"
            )
        painter.end()


def axis_text(value: float) -> str:
    """A tick's label: ``40``, ``250k``, ``1.5M``."""
    if value >= 1_000_000:
        return f"{value / 1_000_000:g}M"
    if value >= 10_000:
        return f"{value / 1000:g}k"
    if value == int(value):
        return f"{value:.0f}"
    return f"{value:g}"
