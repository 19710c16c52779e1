"""A grid of same-width cards whose column count follows the width (the worker cards')."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QGridLayout, QWidget


class CardGrid(QWidget):
    """Cards in a grid whose column count follows the width.

    A Python ``QLayout`` subclass (Qt's flow layout example) would be the
    textbook answer, but PySide6 6.12 on Python 3.11 mishandles the reference
    count of ``None`` returned from ``QLayout.itemAt`` and aborts the process
    after a few hundred relayouts; a ``QGridLayout`` refilled on resize avoids
    overriding any layout virtual.

    Args:
        card_width: every card's width in pixels.
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
        self._grid.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)

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
        return max(1, (usable + spacing) // (self._card_width + spacing))

    def _relayout(self, *, force: bool = False) -> None:
        columns = self.columns()
        if columns == self._columns and not force:
            return
        self._columns = columns
        for card in self._cards:
            self._grid.removeWidget(card)
        for index, card in enumerate(self._cards):
            self._grid.addWidget(card, index // columns, index % columns)

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802
        """Re-flow the cards when the number of columns changes."""
        super().resizeEvent(event)
        self._relayout()
