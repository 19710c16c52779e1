"""The window through a broker restart (a private node): it says so, stays responsive, recovers."""

from __future__ import annotations

import pytest
from pytestqt.qtbot import QtBot

from core.events import WorkerState
from core.local_broker import LocalBroker
from desktop.controller import ConnectionState
from desktop.task_model import TaskState
from tests.desktop.conftest import WindowFactory
from tests.desktop.test_settings import Ticker

pytestmark = pytest.mark.private_broker


def test_broker_restart_shows_a_banner_and_every_task_still_finishes(
    qtbot: QtBot, make_window: WindowFactory, private_broker: LocalBroker
) -> None:
    window = make_window(url=private_broker.amqp_url)
    controller = window.controller
    qtbot.waitUntil(
        lambda: controller.connection_state == ConnectionState.CONNECTED, timeout=15_000
    )
    controller.add_workers(2)
    ids = controller.enqueue(["Survives a restart...."] * 6)  # 0.8 s each here
    qtbot.waitUntil(
        lambda: sum(s.state is WorkerState.BUSY for s in controller.statuses) == 2,
        timeout=10_000,
    )
    ticker = Ticker()
    ticker.timer.start()
    private_broker.stop()
    qtbot.waitUntil(window.banner.isVisible, timeout=15_000)
    assert "cannot be reached" in window.banner.label.text()
    ticks = ticker.ticks
    qtbot.waitUntil(lambda: ticker.ticks >= ticks + 10, timeout=3_000)  # the window lives on
    qtbot.waitUntil(
        lambda: any(s.state is WorkerState.RECONNECTING for s in controller.statuses),
        timeout=10_000,
    )
    private_broker.start()
    qtbot.waitUntil(
        lambda: controller.connection_state == ConnectionState.CONNECTED, timeout=30_000
    )
    assert not window.banner.isVisible()
    model = controller.model
    qtbot.waitUntil(
        lambda: all(model.get(i).state is TaskState.DONE for i in ids),  # type: ignore[union-attr]
        timeout=40_000,
    )
    ticker.timer.stop()
