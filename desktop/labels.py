"""A label that never widens the window: its text is elided to the room it is given.

A plain ``QLabel`` asks for its whole text as its minimum width; in a status
bar or a row of buttons, a longer message or a count with more digits then
widens the window by itself and pushes buttons off the screen.
"""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QPainter, QPaintEvent, QPalette
from PySide6.QtWidgets import QLabel, QSizePolicy, QWidget


class ElidedLabel(QLabel):
    """A plain-text label whose minimum width is a few characters, not its text.

    It asks for its whole text as its size hint, gets what the layout can
    spare, and draws the text elided (``…``) when it does not fit; the whole
    text is then its tooltip. ``text()`` is always the whole text.

    Args:
        text: the text (plain, not rich text).
        elide: where to cut a text that does not fit.
        minimum_chars: the width it keeps at least, in average characters.
        parent: the parent widget.
    """

    def __init__(
        self,
        text: str = "",
        *,
        elide: Qt.TextElideMode = Qt.TextElideMode.ElideRight,
        minimum_chars: int = 8,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(text, parent)
        self._elide = elide
        self._minimum_chars = minimum_chars
        self._tooltip = ""
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)

    def setToolTip(self, tip: str) -> None:  # noqa: N802
        """The tooltip shown while the text fits (the whole text is shown when it does not)."""
        self._tooltip = tip
        super().setToolTip(tip)

    def minimumSizeHint(self) -> QSize:  # noqa: N802
        """A few characters wide, one line high: the text never sets the window's width."""
        metrics = self.fontMetrics()
        margins = self.contentsMargins()
        width = metrics.averageCharWidth() * self._minimum_chars
        return QSize(
            width + margins.left() + margins.right(),
            metrics.height() + margins.top() + margins.bottom(),
        )

    def elided(self) -> str:
        """The text as drawn at the current width."""
        room = self.contentsRect().width()
        return self.fontMetrics().elidedText(self.text(), self._elide, room)

    def paintEvent(self, _event: QPaintEvent) -> None:  # noqa: N802
        """Draw the text, elided to the width."""
        shown = self.elided()
        whole = self.text()
        tip = self._tooltip if shown == whole else f"{whole}\n{self._tooltip}".strip()
        if super().toolTip() != tip:
            super().setToolTip(tip)
        painter = QPainter(self)
        self.style().drawItemText(
            painter,
            self.contentsRect(),
            int(self.alignment()),
            self.palette(),
            self.isEnabled(),
            shown,
            QPalette.ColorRole.WindowText,
        )
        painter.end()
