"""The log panel: a ``logging.Handler`` whose records are shown by a GUI timer.

``emit`` may run in any thread (workers log from theirs), so the handler only
formats the record and appends the line to a deque; the view's timer moves
the lines into a read-only text box ten times a second.
"""

from __future__ import annotations

import collections
import logging

from PySide6.QtCore import QTimer, Slot
from PySide6.QtGui import QFont, QResizeEvent
from PySide6.QtWidgets import QAbstractSlider, QPlainTextEdit, QWidget

MAX_LINES = 5000


class QueueingHandler(logging.Handler):
    """Keeps formatted records until the GUI takes them; safe from any thread.

    Args:
        level: the lowest level kept.
        capacity: older lines are dropped beyond this many pending.
    """

    def __init__(self, level: int = logging.INFO, capacity: int = MAX_LINES) -> None:
        super().__init__(level)
        self.lines: collections.deque[str] = collections.deque(maxlen=capacity)
        self.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)-7s %(message)s", datefmt="%H:%M:%S")
        )

    def filter(self, record: logging.LogRecord) -> bool:
        """Keep Kanin's records; pika's only when critical.

        pika reports every dropped socket at ERROR with its internals (a killed
        worker is one); Kanin says the same in one plain sentence. The log
        file still has pika's records.
        """
        if record.name.startswith("pika") and record.levelno < logging.CRITICAL:
            return False
        return bool(super().filter(record))

    def emit(self, record: logging.LogRecord) -> None:
        """Format and keep the record (never raises)."""
        try:
            self.lines.append(self.format(record))
        except Exception:  # noqa: BLE001 - logging must not break the caller
            self.handleError(record)

    def take(self) -> list[str]:
        """The pending lines, oldest first."""
        lines = []
        while True:
            try:
                lines.append(self.lines.popleft())
            except IndexError:
                return lines


class LogView(QPlainTextEdit):
    """Shows log records of the ``logging`` module, following new lines while at the bottom.

    Whether to follow is the user's choice, read from their own scrolling
    (wheel, scrollbar, keys): a layout change that makes the view shorter
    (a banner above it) keeps the last line in sight instead of leaving the
    view a few lines above the bottom, where it would stop following.

    Args:
        handler: the handler to drain (attach it to a logger with ``attach``).
        parent: the parent widget.
    """

    def __init__(
        self, handler: QueueingHandler | None = None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.handler = handler or QueueingHandler()
        self._logger: logging.Logger | None = None
        self._previous_level = logging.NOTSET
        self.setReadOnly(True)
        self.setMaximumBlockCount(MAX_LINES)
        self.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        self.setPlaceholderText("Log messages appear here.")
        font = QFont()
        font.setFamilies(["DejaVu Sans Mono", "monospace"])
        font.setStyleHint(QFont.StyleHint.Monospace)
        self.setFont(font)  # only the family is set: the size follows the window's (zoom)
        self.following = True
        """True while new lines scroll into view (the user is at the bottom)."""
        bar = self.verticalScrollBar()
        bar.actionTriggered.connect(self._on_scrolled_by_user)
        bar.sliderReleased.connect(self._on_slider_released)
        bar.rangeChanged.connect(self._on_range_changed)
        self._timer = QTimer(self)
        self._timer.setInterval(100)
        self._timer.timeout.connect(self._on_timeout)
        self._timer.start()

    def attach(self, logger: logging.Logger) -> None:
        """Start showing the records of ``logger`` (and its children)."""
        self.detach()
        logger.addHandler(self.handler)
        self._previous_level = logger.level
        if logger.getEffectiveLevel() > self.handler.level:
            logger.setLevel(self.handler.level)
        self._logger = logger

    def detach(self) -> None:
        """Stop receiving records (call when the window closes)."""
        if self._logger is not None:
            self._logger.removeHandler(self.handler)
            self._logger.setLevel(self._previous_level)
            self._logger = None

    @Slot()
    def _on_timeout(self) -> None:
        lines = self.handler.take()
        if not lines:
            return
        self.appendPlainText("\n".join(lines))
        self._follow()

    @Slot(int)
    def _on_scrolled_by_user(self, action: int) -> None:
        # Emitted before the move: the slider's position is where it goes.
        if action != QAbstractSlider.SliderAction.SliderNoAction.value:
            bar = self.verticalScrollBar()
            self.following = bar.sliderPosition() >= bar.maximum() - 2

    @Slot()
    def _on_slider_released(self) -> None:
        bar = self.verticalScrollBar()
        self.following = bar.value() >= bar.maximum() - 2

    @Slot(int, int)
    def _on_range_changed(self, _low: int, _high: int) -> None:
        self._follow()

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802
        """Keep the last line in sight when the view changes size while following."""
        super().resizeEvent(event)
        self._follow()

    def _follow(self) -> None:
        if self.following:
            bar = self.verticalScrollBar()
            bar.setValue(bar.maximum())
