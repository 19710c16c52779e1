"""How explanations look: a muted colour that still reads (WCAG AA) at the window's own font size.

Explanations used to be ``palette(mid)`` (about 1.8:1 on the window's grey)
in small type. WCAG 2 asks at least 4.5:1 for body text; the hint colour is
the window's text colour blended towards its background only as far as that
ratio allows, so it follows light and dark palettes alike.
"""

from __future__ import annotations

import functools

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication, QLabel, QWidget

AA_CONTRAST = 4.5
"""The least contrast WCAG 2 (level AA) asks for normal-size text."""
_TARGET = 5.0  # a little above AA, so rounding and other backgrounds keep it


def relative_luminance(color: QColor) -> float:
    """The WCAG 2 relative luminance of a colour (0 black to 1 white)."""

    def channel(value: float) -> float:
        return value / 12.92 if value <= 0.03928 else ((value + 0.055) / 1.055) ** 2.4

    return (
        0.2126 * channel(color.redF())
        + 0.7152 * channel(color.greenF())
        + 0.0722 * channel(color.blueF())
    )


def contrast_ratio(first: QColor, second: QColor) -> float:
    """The WCAG 2 contrast ratio of two colours, from 1 (none) to 21 (black on white)."""
    light, dark = sorted((relative_luminance(first), relative_luminance(second)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def hint_color(palette: QPalette | None = None) -> QColor:
    """A muted text colour with at least AA contrast on both the window and the base colours.

    Args:
        palette: the palette to read (default: the application's).

    Returns:
        The text colour blended towards the window colour as far as ``_TARGET`` allows.
    """
    palette = palette or QApplication.palette()
    roles = (QPalette.ColorRole.WindowText, QPalette.ColorRole.Window, QPalette.ColorRole.Base)
    return QColor.fromRgba(_blend(*(palette.color(role).rgba() for role in roles)))


@functools.lru_cache(maxsize=16)
def _blend(text_rgba: int, window_rgba: int, base_rgba: int) -> int:
    text, window = QColor.fromRgba(text_rgba), QColor.fromRgba(window_rgba)
    backgrounds = (window, QColor.fromRgba(base_rgba))
    best = QColor(text)
    for step in range(1, 20):
        share = step / 20
        candidate = QColor.fromRgbF(
            text.redF() + (window.redF() - text.redF()) * share,
            text.greenF() + (window.greenF() - text.greenF()) * share,
            text.blueF() + (window.blueF() - text.blueF()) * share,
        )
        if min(contrast_ratio(candidate, b) for b in backgrounds) < _TARGET:
            break
        best = candidate
    return best.rgba()


def hint_style(palette: QPalette | None = None) -> str:
    """The style sheet of an explanation: the hint colour at the inherited (application) size."""
    return f"color: {hint_color(palette).name()};"


def explain(widget: QWidget, extra: str = "") -> QWidget:
    """Style a label (or any widget with text) as an explanation.

    Args:
        widget: the label.
        extra: more style sheet declarations, e.g. a padding.

    Returns:
        The same widget.
    """
    widget.setStyleSheet(f"{hint_style()} {extra}".strip())
    if isinstance(widget, QLabel):
        widget.setProperty("explanation", True)
    return widget
