"""The log panel: records from any thread reach the view; pika's chatter stays out; it follows."""

from __future__ import annotations

import logging
import threading

from PySide6.QtWidgets import QAbstractSlider, QLabel, QVBoxLayout, QWidget
from pytestqt.qtbot import QtBot

from desktop.log_view import LogView


def test_records_from_a_worker_thread_reach_the_view(qtbot: QtBot) -> None:
    logger = logging.getLogger("kanin-test-log-view")
    logger.propagate = False
    view = LogView()
    qtbot.addWidget(view)
    view.attach(logger)
    try:
        thread = threading.Thread(
            target=lambda: logger.info("hello from %s", "a worker"), name="kanin-test-logger"
        )
        thread.start()
        thread.join()
        logging.getLogger("pika.connection").info("socket chatter")
        qtbot.waitUntil(lambda: "hello from a worker" in view.toPlainText(), timeout=2_000)
        assert "INFO" in view.toPlainText()
    finally:
        view.detach()
    assert view.handler not in logger.handlers


def test_pika_is_quiet_below_critical(qtbot: QtBot) -> None:
    view = LogView()
    qtbot.addWidget(view)
    pika_log = logging.getLogger("pika.adapters.test")
    record = pika_log.makeRecord("pika.adapters.test", logging.ERROR, __file__, 1, "EOF", (), None)
    assert not view.handler.filter(record)
    kanin = logging.getLogger("desktop.controller")
    record = kanin.makeRecord("desktop.controller", logging.INFO, __file__, 1, "ok", (), None)
    assert view.handler.filter(record)


def fill(qtbot: QtBot, view: LogView, logger: logging.Logger, first: int, count: int) -> None:
    for n in range(first, first + count):
        logger.info("line %d", n)
    last = f"line {first + count - 1}"
    qtbot.waitUntil(lambda: last in view.toPlainText(), timeout=2_000)


def at_bottom(view: LogView) -> bool:
    bar = view.verticalScrollBar()
    return bar.maximum() > 0 and bar.value() == bar.maximum()


def test_the_log_keeps_following_when_a_banner_above_it_makes_it_shorter(qtbot: QtBot) -> None:
    logger = logging.getLogger("kanin-test-log-follow")
    logger.propagate = False
    page = QWidget()
    layout = QVBoxLayout(page)
    banner = QLabel("A banner that comes and goes above the log.")
    banner.setMinimumHeight(120)
    banner.hide()
    view = LogView()
    layout.addWidget(banner)
    layout.addWidget(view, 1)
    qtbot.addWidget(page)
    page.resize(500, 400)
    page.show()
    qtbot.waitExposed(page)
    view.attach(logger)
    try:
        fill(qtbot, view, logger, 0, 60)
        qtbot.waitUntil(lambda: at_bottom(view), timeout=2_000)
        banner.show()  # the view loses 120 px of height: the last lines would go out of sight
        qtbot.waitUntil(lambda: view.height() < 300, timeout=2_000)
        fill(qtbot, view, logger, 60, 5)
        qtbot.waitUntil(lambda: at_bottom(view), timeout=2_000)
        last_line_shown = view.cursorForPosition(view.viewport().rect().bottomLeft())
        assert "line 6" in last_line_shown.block().text()  # line 60..64 in sight
        banner.hide()
        fill(qtbot, view, logger, 65, 5)
        qtbot.waitUntil(lambda: at_bottom(view), timeout=2_000)
    finally:
        view.detach()


def test_the_log_stays_where_the_user_scrolled(qtbot: QtBot) -> None:
    logger = logging.getLogger("kanin-test-log-stay")
    logger.propagate = False
    view = LogView()
    qtbot.addWidget(view)
    view.resize(400, 200)
    view.show()
    qtbot.waitExposed(view)
    view.attach(logger)
    try:
        fill(qtbot, view, logger, 0, 60)
        qtbot.waitUntil(lambda: at_bottom(view), timeout=2_000)
        bar = view.verticalScrollBar()
        bar.triggerAction(QAbstractSlider.SliderAction.SliderToMinimum)  # the user reads back
        assert not view.following
        fill(qtbot, view, logger, 60, 5)
        assert bar.value() == 0
        bar.triggerAction(QAbstractSlider.SliderAction.SliderToMaximum)  # and comes back down
        assert view.following
        fill(qtbot, view, logger, 65, 5)
        qtbot.waitUntil(lambda: at_bottom(view), timeout=2_000)
    finally:
        view.detach()
