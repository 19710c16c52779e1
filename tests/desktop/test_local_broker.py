"""The window and Kanin's managed local broker: the offer, Restart broker, quit, pending tasks.

Every test that starts, stops or restarts a broker does it on a private node
(``private_broker`` or a node of its own in a temporary folder); the system
broker is never touched.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pytestqt.qtbot import QtBot

from core.events import WorkerState
from core.local_broker import LocalBroker, find_server
from core.local_flow import DEAD_LETTER_ATTEMPTS
from core.work import poison_work
from desktop.controller import ConnectionState
from desktop.local_node import LocalNode
from desktop.quit_question import PendingChoice
from desktop.task_model import TaskState
from tests.desktop.conftest import WindowFactory
from tests.desktop.test_settings import Ticker
from tests.helpers.private_broker import _tear_down, ready_count

DEAD_URL = "amqp://guest:guest@127.0.0.1:1/%2F"


def connected(window: object) -> bool:
    controller = window.controller  # type: ignore[attr-defined]
    return bool(controller.connection_state == ConnectionState.CONNECTED)


def test_without_rabbitmq_installed_the_window_says_how_to_get_a_broker(
    qtbot: QtBot, make_window: WindowFactory
) -> None:
    node = LocalNode(find=lambda: None)
    window = make_window(url=DEAD_URL, local_node=node)
    offer = window.broker_offer
    qtbot.waitUntil(offer.isVisible, timeout=10_000)
    text = offer.text
    assert "RabbitMQ is not installed" in text
    assert "install" in text.lower()
    assert "kanin --url amqp://" in text
    assert not offer.action_button.isVisible()  # nothing to start
    assert not window.start_local_broker()
    assert not window.restart_broker_action.isEnabled()
    assert not window.restart_button.isVisible()


def test_local_broker_flag_without_rabbitmq_falls_back_to_the_configured_url(
    qtbot: QtBot, make_window: WindowFactory
) -> None:
    window = make_window(url=DEAD_URL, local_node=LocalNode(find=lambda: None), local_broker=True)
    assert "not installed" in window.broker_offer.text
    assert window.controller.started
    qtbot.waitUntil(window.banner.isVisible, timeout=10_000)  # and says why that fails


@pytest.mark.private_broker
def test_local_broker_flag_starts_the_node_without_asking_and_connects_only_to_it(
    qtbot: QtBot, make_window: WindowFactory, tmp_path: Path
) -> None:
    if find_server() is None:
        pytest.skip("rabbitmq-server is not installed")
    node = LocalNode(tmp_path / "kanin-node")
    try:
        with qtbot.waitSignal(node.started, timeout=60_000):
            window = make_window(url=DEAD_URL, local_node=node, local_broker=True)
            assert window.broker_offer.busy  # starting, with progress, no question asked
            assert not window.controller.started  # the configured URL is not tried
        qtbot.waitUntil(lambda: connected(window), timeout=20_000)
        broker = node.broker
        assert broker is not None
        assert f"127.0.0.1:{broker.amqp_port}" in window.controller.node
        assert not window.banner.isVisible()  # no "cannot be reached" for 127.0.0.1:1
        qtbot.waitUntil(lambda: not node.busy, timeout=20_000)
        window.close()
        assert not broker.is_running()
    finally:
        if node.broker is not None:
            _tear_down(node.broker)


@pytest.mark.private_broker
def test_offer_starts_a_local_node_without_blocking_and_quit_stops_it_keeping_its_tasks(
    qtbot: QtBot, make_window: WindowFactory, tmp_path: Path, queue_name: str
) -> None:
    if find_server() is None:
        pytest.skip("rabbitmq-server is not installed")
    base = tmp_path / "kanin-node"
    node = LocalNode(base)
    try:
        window = make_window(url=DEAD_URL, local_node=node)
        offer = window.broker_offer
        qtbot.waitUntil(lambda: offer.action_button.isVisible(), timeout=10_000)
        assert "No broker answers at amqp://guest:***@127.0.0.1:1" in offer.text
        ticker = Ticker()
        ticker.timer.start()
        with qtbot.waitSignal(node.started, timeout=60_000):
            offer.action_button.click()
            assert offer.progress.isVisible()
            assert "Starting" in offer.text
        ticker.timer.stop()
        assert ticker.ticks > 50  # the event loop ran all along (20 ms timer, ~6 s start)
        qtbot.waitUntil(lambda: connected(window), timeout=20_000)
        broker = node.broker
        assert broker is not None
        assert node.owned
        assert f"127.0.0.1:{broker.amqp_port}" in window.url_label.text()
        # The dead-letter policy is set; the node's last signal reaches the window just
        # after ``busy`` clears in the node's thread, so wait for the window's answer too.
        qtbot.waitUntil(
            lambda: not node.busy and window.restart_broker_action.isEnabled(), timeout=20_000
        )
        assert window.restart_button.isVisible()
        assert "stops it when you quit" in offer.text
        ids = window.controller.enqueue(["Kept for next time."] * 5)
        model = window.controller.model
        qtbot.waitUntil(
            lambda: all(model.get(i).state is TaskState.QUEUED for i in ids),  # type: ignore[union-attr]
            timeout=10_000,
        )
        window.close()
        assert not broker.is_running()  # Kanin started it, so quitting stopped it
        again = LocalBroker(base)
        assert again.node_name == broker.node_name
        assert again.amqp_port == broker.amqp_port
        again.start()
        assert ready_count(again, queue_name) == 5  # its data stayed
    finally:
        if node.broker is not None:
            _tear_down(node.broker)


@pytest.mark.private_broker
def test_restart_broker_with_busy_workers_shows_counts_and_every_task_completes(
    qtbot: QtBot, make_window: WindowFactory, private_broker: LocalBroker
) -> None:
    node = LocalNode(broker=private_broker)  # adopted: Kanin did not start it
    window = make_window(url=private_broker.amqp_url, local_node=node)
    controller = window.controller
    qtbot.waitUntil(lambda: connected(window), timeout=15_000)
    # The dead-letter policy is set; the node's last signal reaches the window just
    # after ``busy`` clears in the node's thread, so wait for the window's answer too.
    qtbot.waitUntil(
        lambda: not node.busy and window.restart_broker_action.isEnabled(), timeout=20_000
    )
    controller.add_workers(2)
    ids = controller.enqueue(["Survives a restart...."] * 8)  # 0.8 s each here
    qtbot.waitUntil(
        lambda: sum(s.state is WorkerState.BUSY for s in controller.statuses) == 2,
        timeout=10_000,
    )
    qtbot.waitUntil(
        lambda: controller.last_stats is not None and controller.last_stats.ready is not None,
        timeout=5_000,
    )
    banner = window.restart_banner
    with qtbot.waitSignal(node.restarted, timeout=60_000):
        window.restart_broker_action.trigger()
        assert banner.isVisible()
        assert banner.busy
        assert "Restarting the broker" in banner.text
        assert not window.restart_broker_action.isEnabled()  # one operation at a time
        assert "being worked on" in banner.text
    qtbot.waitUntil(lambda: "restarted and came back" in banner.text, timeout=30_000)
    text = banner.text
    assert "before:" in text
    assert "after:" in text
    assert "passive queue.declare" in text
    assert not window.banner.isVisible()  # the deliberate restart is not an error
    assert window.restart_broker_action.isEnabled()
    model = controller.model
    qtbot.waitUntil(
        lambda: all(model.get(i).state is TaskState.DONE for i in ids),  # type: ignore[union-attr]
        timeout=40_000,
    )
    window.close()
    assert private_broker.is_running()  # adopted, not started by Kanin: left running


@pytest.mark.private_broker
def test_tasks_enqueued_while_the_broker_is_down_wait_and_quitting_asks_first(
    qtbot: QtBot, make_window: WindowFactory, private_broker: LocalBroker, queue_name: str
) -> None:
    answers = [PendingChoice.CANCEL, PendingChoice.PUBLISH_AND_WAIT]
    asked: list[int] = []

    def ask(count: int) -> PendingChoice:
        asked.append(count)
        return answers.pop(0)

    window = make_window(url=private_broker.amqp_url, ask_pending=ask)
    controller = window.controller
    qtbot.waitUntil(lambda: connected(window), timeout=15_000)
    private_broker.stop()
    qtbot.waitUntil(
        lambda: controller.connection_state == ConnectionState.RECONNECTING, timeout=15_000
    )
    ids = controller.enqueue(["Waits for the broker."] * 3)
    model = controller.model
    assert all(model.get(i).state is TaskState.WAITING for i in ids)  # type: ignore[union-attr]
    assert "waiting for broker" in model.get(ids[0]).state_text  # type: ignore[union-attr]
    assert window.pending_label.isVisible()
    assert "3 waiting" in window.pending_label.text()
    assert window.composer.pending_label.isVisible()

    window.close()  # answered: cancel
    assert asked == [3]
    assert window.isVisible()
    window.close()  # answered: publish and wait
    assert asked == [3, 3]
    assert window.isVisible()
    private_broker.start()
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=30_000)  # closed once confirmed
    assert all(model.get(i).state is TaskState.QUEUED for i in ids)  # type: ignore[union-attr]
    assert ready_count(private_broker, queue_name) == 3


@pytest.mark.private_broker
def test_poison_task_shows_its_retries_then_lands_in_the_dead_letter_queue_shown_in_the_panel(
    qtbot: QtBot,
    make_window: WindowFactory,
    private_broker: LocalBroker,
    queue_name: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    node = LocalNode(broker=private_broker)
    window = make_window(url=private_broker.amqp_url, local_node=node, work=poison_work)
    controller = window.controller
    with qtbot.waitSignal(node.dead_lettering_ready, timeout=30_000):
        qtbot.waitUntil(lambda: connected(window), timeout=15_000)
    assert controller.max_attempts == DEAD_LETTER_ATTEMPTS
    panel = window.queue_panel
    qtbot.waitUntil(lambda: panel.dead_letter_shown, timeout=10_000)
    assert f"{queue_name}.dead" in panel.dead_source.text()
    assert panel.dead_value.text() == "0"
    seen: list[str] = []
    [task_id] = controller.enqueue(["A poison pill"])
    row = controller.model.get(task_id)
    assert row is not None
    record_failure = controller.model.ledger.mark_failed

    def spy(*args: Any, **kwargs: Any) -> None:  # the table's text after each failure
        record_failure(*args, **kwargs)
        seen.append(row.state_text)

    monkeypatch.setattr(controller.model.ledger, "mark_failed", spy)
    controller.add_workers(1)
    qtbot.waitUntil(lambda: row.state is TaskState.DEAD_LETTERED, timeout=20_000)
    assert row.delivery_count == DEAD_LETTER_ATTEMPTS
    assert row.state_text == f"dead-lettered after {DEAD_LETTER_ATTEMPTS} deliveries"
    assert seen == [
        "failed (delivery 1), retrying",
        "failed (delivery 2), retrying",
        f"dead-lettered after {DEAD_LETTER_ATTEMPTS} deliveries",
    ]
    qtbot.waitUntil(lambda: panel.dead_value.text() == "1", timeout=10_000)
    assert any(s.state is WorkerState.IDLE for s in controller.statuses)  # it survived
