"""The window's zoom: Ctrl++ / Ctrl+- / Ctrl+0 scale the application font, remembered."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from desktop.zoom import STEPS, Zoom
from tests.desktop.conftest import WindowFactory

NOWHERE = "amqp://guest:guest@127.0.0.1:1/%2F"


@pytest.fixture(autouse=True)
def system_font(qapp: QApplication) -> Iterator[None]:
    """Every other test sees the system font again."""
    yield
    QApplication.setFont(Zoom.base_font())


def test_zoom_actions_scale_the_font_and_are_remembered(
    qtbot: QtBot, make_window: WindowFactory, qsettings: QSettings
) -> None:
    window = make_window(url=NOWHERE)
    base = Zoom.base_font().pointSizeF()
    actions = window.menu_actions
    button_height = window.composer.enqueue_button.sizeHint().height()
    assert [a.text() for a in (actions.zoom_in, actions.zoom_out, actions.zoom_reset)] == [
        "Zoom &in",
        "Zoom &out",
        "&Actual size",
    ]
    assert actions.zoom_in.shortcut().toString() == "Ctrl++"
    assert actions.zoom_out.shortcut().toString() == "Ctrl+-"
    assert actions.zoom_reset.shortcut().toString() == "Ctrl+0"

    actions.zoom_in.trigger()
    actions.zoom_in.trigger()
    assert window.zoom.percent == 125
    assert QApplication.font().pointSizeF() == pytest.approx(base * 1.25)
    # The widgets follow the application font, the log and the chart too.
    for widget in (window.composer.text_edit, window.log_view, window.queue_panel.chart):
        assert widget.font().pointSizeF() == pytest.approx(base * 1.25), widget
    assert window.composer.enqueue_button.sizeHint().height() > button_height
    assert qsettings.value("window/zoom") in (125, "125")

    actions.zoom_out.trigger()
    assert window.zoom.percent == 110
    assert QApplication.font().pointSizeF() == pytest.approx(base * 1.10)
    window.close()

    # The next window opens at the remembered zoom; Ctrl+0 goes back to the system size.
    QApplication.setFont(Zoom.base_font())
    again = make_window(url=NOWHERE)
    assert again.zoom.percent == 110
    assert QApplication.font().pointSizeF() == pytest.approx(base * 1.10)
    again.menu_actions.zoom_reset.trigger()
    assert QApplication.font().pointSizeF() == pytest.approx(base)
    assert qsettings.value("window/zoom") in (100, "100")


def test_zoom_stops_at_the_smallest_and_biggest_steps(
    qtbot: QtBot, make_window: WindowFactory
) -> None:
    window = make_window(url=NOWHERE)
    for _ in range(len(STEPS) + 2):
        window.menu_actions.zoom_out.trigger()
    assert window.zoom.percent == STEPS[0]
    for _ in range(len(STEPS) + 2):
        window.menu_actions.zoom_in.trigger()
    assert window.zoom.percent == STEPS[-1]
