"""The grid of worker cards: as many columns as fit the width, the cards sharing a row's width."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QGridLayout, QWidget


class CardGrid(QWidget):
    """Cards in a grid whose column count follows the width; the cards share a row's width.

    The grid asks for one card's width at least, never for a whole row: inside
    a scroll area, a grid that kept the width of four columns could not re-flow
    when a vertical scrollbar took room, and its last column was hidden
    behind the scrollbar.

    A Python ``QLayout`` subclass (Qt's flow layout example) would be the
    textbook answer, but PySide6 6.12 on Python 3.11 mishandles the reference
    count of ``None`` returned from ``QLayout.itemAt`` and aborts the process
    after a few hundred relayouts; a ``QGridLayout`` refilled on resize avoids
    overriding any layout virtual.

    Args:
        card_width: a card's narrowest width in pixels at the default font.
        parent: the parent widget.
    """

    def __init__(self, card_width: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._card_width = card_width
        self._cards: list[QWidget] = []
        self._columns = 0
        self._grid = QGridLayout(self)
        self._grid.setContentsMargins(2, 2, 2, 2)
        self._grid.setSpacing(8)
        self._grid.setAlignment(Qt.AlignmentFlag.AlignTop)
        self._base_char_width = max(1, self.fontMetrics().averageCharWidth())
        self._fit_minimum()

    @property
    def card_width(self) -> int:
        """A card's narrowest width now: grows with the font (zoom)."""
        scale = self.fontMetrics().averageCharWidth() / self._base_char_width
        return max(self._card_width, int(self._card_width * scale))

    def _fit_minimum(self) -> None:
        # Set by hand, the minimum is not the grid's (a whole row): the layout keeps it.
        self.setMinimumWidth(self.card_width + 4)

    def add_cards(self, cards: Sequence[QWidget]) -> None:
        """Append cards (laid out once, after the last)."""
        self._cards.extend(cards)
        self._relayout(force=True)

    def remove_card(self, card: QWidget) -> None:
        """Take a card out (the caller deletes it)."""
        if card in self._cards:
            self._cards.remove(card)
            self._grid.removeWidget(card)
            self._relayout(force=True)

    def columns(self) -> int:
        """How many cards fit side by side at the current width."""
        spacing = self._grid.spacing()
        usable = max(0, self.width() - 4)
        return max(1, (usable + spacing) // (self.card_width + spacing))

    def _relayout(self, *, force: bool = False) -> None:
        columns = self.columns()
        spacing = self._grid.spacing()
        width = max(self.card_width, (self.width() - 4 - spacing * (columns - 1)) // columns)
        for card in self._cards:
            card.setFixedWidth(width)
        if columns == self._columns and not force:
            return
        self._columns = columns
        for card in self._cards:
            self._grid.removeWidget(card)
        for index, card in enumerate(self._cards):
            self._grid.addWidget(card, index // columns, index % columns)

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802
        """Re-flow the cards: as many columns as fit, sharing the width."""
        super().resizeEvent(event)
        self._relayout()

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802
        """A new font (zoom) changes the cards' narrowest width."""
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:
            self._fit_minimum()
            self._relayout(force=True)
