"""The log panel: records from any thread reach the view; pika's chatter stays out."""

from __future__ import annotations

import logging
import threading

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
