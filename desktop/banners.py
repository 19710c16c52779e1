"""Notice strips above the panels: the connection problem, the local-broker offer, the restart."""

from __future__ import annotations

import html
import time
from collections.abc import Sequence

from PySide6.QtCore import QEvent, QObject, QSize, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

_STYLES = {
    "info": ("#e8f1fb", "#b6d0ee", "#0f3a66"),
    "ok": ("#e8f5e9", "#b9dcbb", "#1b5e20"),
    "warn": ("#fff4e5", "#f3d19c", "#6b3f00"),
    "error": ("#fdecea", "#f5c2c0", "#7f1d1d"),
}


class NoticeBanner(QFrame):
    """A strip with a sentence, an optional busy bar with elapsed seconds, a button and a close box.

    Args:
        action_text: the action button's text ("" for none); shown when a message asks for it.
        parent: the parent widget.
        dismissable: show a close box (a banner that says why the broker is away has none:
            it goes when the broker is back).

    Signals:
        action_requested(): the action button was clicked.
    """

    action_requested = Signal()

    def __init__(
        self, action_text: str = "", parent: QWidget | None = None, *, dismissable: bool = True
    ) -> None:
        super().__init__(parent)
        self._dismissable = dismissable
        self.setObjectName("notice")
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.label.setTextFormat(Qt.TextFormat.RichText)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.progress = QProgressBar()
        self.progress.setRange(0, 0)  # busy: the operation gives no percentage
        self.progress.setFixedWidth(120)
        self.progress.setTextVisible(False)
        self.progress.hide()
        self.elapsed_label = QLabel()
        self.elapsed_label.hide()
        self.action_button = QPushButton(action_text)
        self.action_button.setVisible(bool(action_text))
        self.close_button = QPushButton("Dismiss")
        self.close_button.setVisible(dismissable)
        self._layout = layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 6, 10, 6)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.progress)
        layout.addWidget(self.elapsed_label)
        layout.addWidget(self.action_button)
        layout.addWidget(self.close_button)
        self._began = 0.0
        self._timer = QTimer(self)
        self._timer.setInterval(250)
        self._timer.timeout.connect(self._on_tick)
        self.action_button.clicked.connect(self.action_requested)
        self.close_button.clicked.connect(self._on_close_clicked)
        self._style("info")
        self.hide()

    @property
    def text(self) -> str:
        """The sentence shown (rich text)."""
        return self.label.text()

    @property
    def busy(self) -> bool:
        """True while the busy bar runs."""
        return self._timer.isActive()

    def add_button(self, text: str) -> QPushButton:
        """A button shown with every message, before the close box; connect its ``clicked``.

        Args:
            text: the button's text.

        Returns:
            The button.
        """
        button = QPushButton(text)
        self._layout.insertWidget(self._layout.indexOf(self.close_button), button)
        return button

    def show_message(
        self, html: str, *, kind: str = "info", busy: bool = False, action: bool = False
    ) -> None:
        """Show the banner.

        Args:
            html: the sentence (rich text).
            kind: ``info``, ``ok``, ``warn`` or ``error`` (the colours).
            busy: run the busy bar and count the seconds (until the next message
                without ``busy``).
            action: show the action button.
        """
        self._style(kind)
        self.label.setText(html)
        if busy and not self._timer.isActive():
            self._began = time.monotonic()
            self._timer.start()
            self._on_tick()
        elif not busy:
            self._timer.stop()
        self.progress.setVisible(busy)
        self.elapsed_label.setVisible(busy)
        self.action_button.setVisible(action and bool(self.action_button.text()))
        self.close_button.setVisible(self._dismissable and not busy)
        self.show()

    def show_titled(self, title: str, text: str, kind: str = "info") -> None:
        """Show a bold title and a plain sentence (both escaped), e.g. why the broker is away.

        Args:
            title: the title, in bold.
            text: the sentence after it, as plain text.
            kind: ``info``, ``ok``, ``warn`` or ``error`` (the colours).
        """
        self.show_message(
            f"<b>{html.escape(title)}</b> {html.escape(text, quote=False)}", kind=kind
        )

    def dismiss(self) -> None:
        """Hide the banner and stop its timer."""
        self._timer.stop()
        self.hide()

    @Slot()
    def _on_close_clicked(self) -> None:
        self.dismiss()

    @Slot()
    def _on_tick(self) -> None:
        self.elapsed_label.setText(f"{time.monotonic() - self._began:.0f} s")

    def _style(self, kind: str) -> None:
        background, border, color = _STYLES.get(kind, _STYLES["info"])
        self.setStyleSheet(
            f"QFrame#notice {{ background: {background}; border: 1px solid {border};"
            f" border-radius: 4px; }} QFrame#notice QLabel {{ color: {color}; }}"
        )


class BannerArea(QWidget):
    """The strip that holds the banners and keeps its height, so nothing under the pointer moves.

    It reserves the height of a one-line banner from the start; when banners
    need more (two at once, a wrapped sentence) it grows, and it does not
    shrink back when they go: dismissing a banner never slides the buttons
    below it under the pointer.

    The banners sit in an inner widget that the area places by hand: a layout
    of the area's own would answer the window's layout for it (Qt asks a
    widget's layout for its height, not the widget).

    Args:
        banners: the banners, top to bottom (the area becomes their parent).
        parent: the parent widget.
    """

    def __init__(self, banners: Sequence[NoticeBanner], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.banners = tuple(banners)
        self._tallest = 0
        self._reserve = 0
        self._inner = QWidget(self)
        self._layout = QVBoxLayout(self._inner)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setSpacing(4)
        for banner in self.banners:
            self._layout.addWidget(banner)
        self._inner.installEventFilter(self)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)

    def reserved_height(self) -> int:
        """The height of a banner of one line, kept even when no banner shows."""
        if not self._reserve:
            button = QPushButton("Dismiss")
            button.setFont(self.font())
            height = max(button.sizeHint().height(), self.fontMetrics().height())
            self._reserve = height + 12 + 2  # the banner's margins and border
        return self._reserve

    def needed_height(self, width: int) -> int:
        """What the banners shown need at ``width`` (0 when none shows)."""
        if not any(banner.isVisibleTo(self) for banner in self.banners):
            return 0
        if self._layout.hasHeightForWidth():
            return self._layout.totalHeightForWidth(width)
        return self._layout.totalSizeHint().height()

    def _keep(self) -> int:
        needed = self.needed_height(self.width())
        self._tallest = max(self._tallest, needed, self.reserved_height())
        return self._tallest

    def sizeHint(self) -> QSize:  # noqa: N802
        """The tallest the banners have needed, at least one banner's height."""
        return QSize(self._layout.totalSizeHint().width(), self._keep())

    def minimumSizeHint(self) -> QSize:  # noqa: N802
        """As tall as ``sizeHint``: the area never gives its height back."""
        return QSize(self._layout.totalMinimumSize().width(), self._keep())

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        """A banner came or went: place them again and say the height may grow."""
        if watched is self._inner and event.type() == QEvent.Type.LayoutRequest:
            self._place()
            self.updateGeometry()
        return False

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802
        """The banners take the area's width."""
        super().resizeEvent(event)
        self._place()

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802
        """A new font (zoom) measures the banners again; the user moved everything anyway."""
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:
            self._reserve = 0
            self._tallest = 0
            self.updateGeometry()

    def _place(self) -> None:
        width = self.width()
        self._inner.setGeometry(0, 0, width, max(self.needed_height(width), 0))
