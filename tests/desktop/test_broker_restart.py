"""The window through a broker restart (a private node): it says so, stays responsive, recovers."""

from __future__ import annotations

import pytest
from pytestqt.qtbot import QtBot

from core.events import WorkerState
from core.local_broker import LocalBroker
from desktop.broker_flow import RestartReport
from desktop.controller import ConnectionState
from desktop.local_node import LocalNode
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


def test_restart_counts_the_tasks_being_worked_on_so_none_seems_lost(
    qtbot: QtBot, make_window: WindowFactory, private_broker: LocalBroker
) -> None:
    node = LocalNode(broker=private_broker)  # adopted: Kanin did not start it
    window = make_window(url=private_broker.amqp_url, local_node=node)
    controller = window.controller
    qtbot.waitUntil(
        lambda: controller.connection_state == ConnectionState.CONNECTED, timeout=15_000
    )
    qtbot.waitUntil(
        lambda: not node.busy and window.restart_broker_action.isEnabled(), timeout=20_000
    )
    controller.add_workers(2)
    controller.enqueue(["Long enough to span the restart" + "." * 40] * 10)  # 8 s each here
    qtbot.waitUntil(
        lambda: sum(s.state is WorkerState.BUSY for s in controller.statuses) == 2,
        timeout=10_000,
    )
    # A reading taken while both workers hold a task: 8 ready, 2 unacked.
    qtbot.waitUntil(
        lambda: controller.last_stats is not None and controller.last_stats.ready == 8,
        timeout=10_000,
    )
    with qtbot.waitSignal(window.broker_flow.restart_reported, timeout=90_000) as reported:
        window.restart_broker_action.trigger()
    report = reported.args[0]
    assert isinstance(report, RestartReport)
    before, after = report.record.before, report.after
    assert before is not None
    assert after is not None
    assert (before.ready, before.unacked, before.total) == (8, 2, 10)
    assert after.total is not None
    assert after.total + report.done_during == 10  # every task is accounted for
    text = window.restart_banner.text
    assert "before: 10 in the queue (8 waiting, 2 being worked on)" in text
    assert f"done during the restart: {report.done_during}" in text
    assert f"after: {after.total} in the queue" in text
    assert "being worked on: Kanin's own workers" in text  # no management API here
