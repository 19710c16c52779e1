"""The window's arrangement: the banner strip on top, a left column and a right splitter.

Left: the composer, the queue panel and the log. Right: the worker cards over
the task table. Widgets are made by the window; this module only places them.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGroupBox, QSplitter, QVBoxLayout, QWidget

from desktop.banners import BannerArea, NoticeBanner


def arrange(
    left_panels: list[tuple[str, QWidget, int]],
    right_panels: list[tuple[str, QWidget, int]],
    banners: list[NoticeBanner],
) -> tuple[QWidget, QSplitter, BannerArea]:
    """Place the panels in one central widget.

    Args:
        left_panels: ``(title, panel, stretch)`` from top to bottom in the left column.
        right_panels: ``(title, panel, stretch)`` from top to bottom in the right splitter.
        banners: the notice banners, shown in one strip that keeps its height.

    Returns:
        The central widget, the horizontal splitter between the columns, and the banner strip.
    """
    left = QWidget()
    left_layout = QVBoxLayout(left)
    left_layout.setContentsMargins(0, 0, 0, 0)
    for title, panel, stretch in left_panels:
        left_layout.addWidget(_group(title, panel), stretch)

    right = QSplitter(Qt.Orientation.Vertical)
    for index, (title, panel, stretch) in enumerate(right_panels):
        right.addWidget(_group(title, panel))
        right.setStretchFactor(index, stretch)
    right.setSizes([300, 480])
    right.setChildrenCollapsible(False)

    splitter = QSplitter(Qt.Orientation.Horizontal)
    splitter.addWidget(left)
    splitter.addWidget(right)
    splitter.setStretchFactor(0, 0)
    splitter.setStretchFactor(1, 1)
    splitter.setSizes([480, 800])
    splitter.setChildrenCollapsible(False)

    central = QWidget()
    layout = QVBoxLayout(central)
    layout.setContentsMargins(8, 6, 8, 4)
    # The banners' strip keeps its height: nothing below it moves when one goes.
    area = BannerArea(banners)
    layout.addWidget(area)
    layout.addWidget(splitter, 1)
    return central, splitter, area


def _group(title: str, widget: QWidget) -> QGroupBox:
    box = QGroupBox(title)
    layout = QVBoxLayout(box)
    layout.setContentsMargins(8, 6, 8, 8)
    layout.addWidget(widget)
    return box
