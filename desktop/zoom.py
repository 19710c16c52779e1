"""The window's zoom: the application font scaled in steps, and the layouts with it.

Every widget takes its size from the application font (none sets a point
size of its own), so scaling that one font scales text, cards, chart and
rows alike; the zoom is remembered in the preferences.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QCoreApplication, QEvent, QObject, Signal, Slot
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QApplication

from desktop.preferences import SettingsStore

log = logging.getLogger(__name__)

STEPS = (70, 80, 90, 100, 110, 125, 150, 175, 200)
"""The zoom levels, in percent of the system font."""
_BASE_PROPERTY = "kanin_base_font"


class Zoom(QObject):
    """Scales the application font by steps; remembers the step in the preferences.

    Args:
        store: where the zoom is remembered.
        parent: the parent object.

    Signals:
        changed(int): the zoom changed (percent).
    """

    changed = Signal(int)

    def __init__(self, store: SettingsStore, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._store = store
        self.percent = 100
        """The zoom in force, in percent of the system font."""
        self.set_percent(store.load_zoom(), remember=False)

    @staticmethod
    def base_font() -> QFont:
        """The application font before any zoom (kept on the application the first time)."""
        app = QApplication.instance()
        assert isinstance(app, QApplication)
        base = app.property(_BASE_PROPERTY)
        if not isinstance(base, QFont):
            base = QFont(QApplication.font())
            app.setProperty(_BASE_PROPERTY, base)
        return QFont(base)

    def point_size(self) -> float:
        """The application font's point size at this zoom."""
        return self.base_font().pointSizeF() * self.percent / 100

    def set_percent(self, percent: int, *, remember: bool = True) -> None:
        """Scale the application font to ``percent`` of the system font (nearest step).

        Args:
            percent: the wanted zoom.
            remember: store it in the preferences.
        """
        percent = min(STEPS, key=lambda step: abs(step - percent))
        font = self.base_font()
        font.setPointSizeF(font.pointSizeF() * percent / 100)
        QApplication.setFont(font)
        # Widgets hear of it through posted events: deliver them now, so the whole
        # window is laid out once at the new size.
        QCoreApplication.sendPostedEvents(None, QEvent.Type.ApplicationFontChange)
        changed = percent != self.percent
        self.percent = percent
        if remember:
            self._store.save_zoom(percent)
        if changed:
            log.debug("Zoom %d %%.", percent)
            self.changed.emit(percent)

    @Slot()
    def zoom_in(self) -> None:
        """One step bigger (Ctrl++)."""
        bigger = [step for step in STEPS if step > self.percent]
        self.set_percent(bigger[0] if bigger else STEPS[-1])

    @Slot()
    def zoom_out(self) -> None:
        """One step smaller (Ctrl+-)."""
        smaller = [step for step in STEPS if step < self.percent]
        self.set_percent(smaller[-1] if smaller else STEPS[0])

    @Slot()
    def reset(self) -> None:
        """The system font's size (Ctrl+0)."""
        self.set_percent(100)
