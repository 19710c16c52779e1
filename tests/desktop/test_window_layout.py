"""The window holds still: no width of its own making, banners that move nothing, cards in view."""

from __future__ import annotations

import time

from PySide6.QtCore import QPoint, QRect
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QApplication, QLabel, QWidget
from pytestqt.qtbot import QtBot

from core.events import WorkerState
from core.monitor import QueueStats, Source
from core.status import WorkerStatus
from desktop.banners import NoticeBanner
from desktop.controller import ConnectionState, QueueSample
from desktop.hints import AA_CONTRAST, contrast_ratio, hint_color
from desktop.main_window import MainWindow
from tests.desktop.conftest import WindowFactory

NOWHERE = "amqp://guest:guest@127.0.0.1:1/%2F"  # nothing listens: tasks wait, banners show


def settle(qtbot: QtBot) -> None:
    """Let posted layout requests and resizes run."""
    QApplication.processEvents()
    qtbot.wait(50)
    QApplication.processEvents()


def own_cards(window: MainWindow) -> None:
    """The test alone feeds the worker cards (the controller's empty pool would remove them)."""
    window.controller.workers_updated.disconnect(window.workers_panel._on_workers_updated)


def place(widget: QWidget, window: MainWindow) -> QRect:
    """The widget's rectangle in the window's coordinates."""
    return QRect(widget.mapTo(window, QPoint(0, 0)), widget.size())


def statuses(count: int, *, busy: bool = True) -> list[WorkerStatus]:
    state = WorkerState.BUSY if busy else WorkerState.IDLE
    return [
        WorkerStatus(
            name=f"W-{n}",
            state=state,
            task_id=f"{n:016x}",
            task_preview="A rather long task text with many dots.........",
            progress=0.5,
            done=123_456,
            redeliveries=9_999,
            failures=77,
        )
        for n in range(1, count + 1)
    ]


def test_big_figures_and_long_messages_never_widen_the_window(
    qtbot: QtBot, make_window: WindowFactory, queue_name: str
) -> None:
    window = make_window(url=NOWHERE)
    own_cards(window)
    window.resize(1380, 800)
    settle(qtbot)
    assert window.width() == 1380
    # 100,000 tasks that wait for a broker that is not there: every count grows.
    window.composer.count_box.setValue(100_000)
    window.composer.enqueue_button.click()
    qtbot.waitUntil(lambda: window.controller.pending_count == 100_000, timeout=60_000)
    qtbot.waitUntil(lambda: "100000" in window.task_panel.counts_label.text(), timeout=10_000)
    assert window.pending_label.isVisible()
    window.status_line.show_state(
        ConnectionState.RECONNECTING,
        "Nothing answers at 127.0.0.1:1 (connection refused); Kanin tries again every few "
        "seconds and publishes the waiting tasks with confirms once the broker is back.",
    )
    long_urls = ",".join(f"amqp://guest@rabbit-node-{n}.example.internal:5672/" for n in range(4))
    window.status_line.url_label.setText(f"{long_urls}   ·   queue {queue_name}")
    stats = QueueStats(
        queue=queue_name,
        at=time.time(),
        ready=12_345_678,
        consumers=640,
        unacked=9_876_543,
        sources=(
            ("ready", Source.AMQP),
            ("consumers", Source.AMQP),
            ("unacked", Source.MANAGEMENT),
        ),
    )
    window.queue_panel._on_sample_taken(QueueSample(stats, 64, 64, 12345.6, 23456.7))
    window.workers_panel._on_workers_updated(statuses(64))
    window.workers_panel.select("W-64")
    # The table's counts as its refresh writes them once 100,000 tasks are under way.
    window.task_panel.counts_label.setText(
        "   100000 tasks: 12000 sending, 50000 queued, 64 running, 37836 done, 100 failed"
    )
    settle(qtbot)
    assert window.width() == 1380
    assert window.minimumSizeHint().width() <= 1380
    # Everything in the status bar and the table's row of buttons is still in the window.
    inside = window.rect()
    status = window.status_line
    shown = [status.pending_label, status.url_label, status.state_label, window.restart_button]
    shown += [window.task_panel.clear_button, window.task_panel.follow_box]
    for widget in shown:
        if widget.isVisible():
            assert inside.contains(place(widget, window)), widget


def test_dismissing_a_banner_moves_no_button(qtbot: QtBot, make_window: WindowFactory) -> None:
    window = make_window(url=NOWHERE)
    window.resize(1380, 800)
    qtbot.waitUntil(lambda: window.banner.isVisible(), timeout=10_000)
    settle(qtbot)
    composer = window.composer
    buttons = [composer.enqueue_button, composer.mixed_button, window.workers_panel.add_button]
    window.restart_banner.show_message("Kanin's local broker restarted.", kind="ok")
    settle(qtbot)
    with_error = [place(b, window) for b in buttons]
    # The banners go, one by one: the buttons stay where the pointer is.
    window.restart_banner.close_button.click()
    settle(qtbot)
    assert [place(b, window) for b in buttons] == with_error
    window.banner.hide()
    window.broker_offer.dismiss()
    settle(qtbot)
    assert [place(b, window) for b in buttons] == with_error


def test_a_banner_in_a_quiet_window_moves_no_button(
    qtbot: QtBot, make_window: WindowFactory
) -> None:
    window = make_window()
    window.resize(1380, 800)
    qtbot.waitUntil(
        lambda: window.controller.connection_state == ConnectionState.CONNECTED, timeout=15_000
    )
    settle(qtbot)
    button = window.composer.mixed_button
    before = place(button, window)
    window.restart_banner.show_message("The broker restarted: 10 tasks before, 10 after.")
    settle(qtbot)
    assert place(button, window) == before
    window.restart_banner.close_button.click()
    settle(qtbot)
    assert place(button, window) == before


def test_at_1380_pixels_four_worker_cards_are_in_full_view(
    qtbot: QtBot, make_window: WindowFactory
) -> None:
    window = make_window(url=NOWHERE)
    own_cards(window)
    window.resize(1380, 800)
    settle(qtbot)
    panel = window.workers_panel
    panel._on_workers_updated(statuses(4))
    settle(qtbot)
    assert len(panel.names()) == 4
    assert_cards_in_view(window)
    # Wider (a maximised window), then back to 1380 px: the cards re-flow, none is
    # left behind a scrollbar in a row as wide as before.
    window.resize(1600, 800)
    settle(qtbot)
    assert_cards_in_view(window)
    window.resize(1380, 800)
    settle(qtbot)
    assert_cards_in_view(window)
    # More cards than fit in height: the vertical scrollbar takes room and the cards
    # re-flow beside it instead of going under it.
    panel._on_workers_updated(statuses(12))
    settle(qtbot)
    assert len(panel.names()) == 12
    assert panel._scroll.verticalScrollBar().isVisible()
    assert not panel._scroll.horizontalScrollBar().isVisible()
    for name in panel.names():
        card = panel.card(name)
        right = card.mapTo(panel._scroll.viewport(), QPoint(card.width(), 0)).x()
        assert right <= panel._scroll.viewport().width(), name


def test_at_the_first_size_on_a_1366_screen_four_worker_cards_are_in_full_view(
    qtbot: QtBot, make_window: WindowFactory
) -> None:
    """The window first opens 1280 px wide on a 1366x768 screen: four cards in one row."""
    window = make_window(url=NOWHERE)
    own_cards(window)
    window.resize(1280, 740)
    settle(qtbot)
    window.workers_panel._on_workers_updated(statuses(4))
    settle(qtbot)
    assert_cards_in_view(window)
    tops = {window.workers_panel.card(name).y() for name in window.workers_panel.names()}
    assert len(tops) == 1  # one row


def assert_cards_in_view(window: MainWindow) -> None:
    """Every card lies inside the scroll area's viewport, with no horizontal scrollbar."""
    panel = window.workers_panel
    viewport = panel._scroll.viewport()
    for name in panel.names():
        card = panel.card(name)
        where = QRect(card.mapTo(viewport, QPoint(0, 0)), card.size())
        assert viewport.rect().contains(where), (name, where, viewport.rect())
    assert not panel._scroll.horizontalScrollBar().isVisible()


def test_every_explanation_reads_with_aa_contrast(qtbot: QtBot, make_window: WindowFactory) -> None:
    window = make_window(url=NOWHERE)
    qtbot.waitUntil(lambda: window.banner.isVisible(), timeout=10_000)
    own_cards(window)
    settle(qtbot)
    base_size = QApplication.font().pointSizeF()
    checked = 0
    for label in window.findChildren(QLabel):
        if not label.isVisible() or not label.text().strip():
            continue
        if label.window() is not window or _in_banner(label):
            continue  # a banner's label is on the banner's colour (tests/desktop/test_banners.py)
        label.ensurePolished()
        palette = label.palette()
        text = palette.color(QPalette.ColorRole.WindowText)
        background = palette.color(QPalette.ColorRole.Window)
        assert contrast_ratio(text, background) >= AA_CONTRAST, (label.text(), text.name())
        assert label.font().pointSizeF() >= base_size, label.text()
        checked += 1
    assert checked > 10
    # The worker cards paint their counters in the hint colour, on the card's base colour.
    window.workers_panel._on_workers_updated(statuses(1))
    card = window.workers_panel.card("W-1")
    assert contrast_ratio(hint_color(card.palette()), card.palette().base().color()) >= 4.5


def _in_banner(widget: QWidget) -> bool:
    parent = widget.parentWidget()
    while parent is not None:
        if isinstance(parent, NoticeBanner):
            return True
        parent = parent.parentWidget()
    return False


def test_a_first_window_fits_the_screen(qtbot: QtBot, make_window: WindowFactory) -> None:
    window = make_window(url=NOWHERE)  # nothing remembered: the default size
    settle(qtbot)
    screen = window.screen().availableGeometry()
    # On a 1366x768 screen a 1280x800 window hid its status bar below the edge.
    assert window.height() <= max(screen.height(), window.minimumSizeHint().height())
    assert window.width() <= max(screen.width(), window.minimumSizeHint().width())
