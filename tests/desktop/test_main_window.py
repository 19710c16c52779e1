"""The window against the real broker: enqueue, share, kill, close."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import replace

import pytest
from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtTest import QTest
from pytestqt.qtbot import QtBot

from core.events import WorkerState
from core.worker import AckMode
from desktop.controller import ConnectionState, Controller
from desktop.main_window import MainWindow
from desktop.task_model import Column, TaskState
from tests.desktop.conftest import WindowFactory
from tests.helpers.broker import connect, message_count


def wait_connected(qtbot: QtBot, controller: Controller) -> None:
    qtbot.waitUntil(
        lambda: controller.connection_state == ConnectionState.CONNECTED, timeout=15_000
    )


def wait_idle_workers(qtbot: QtBot, window: MainWindow, count: int) -> None:
    def ready() -> bool:
        idle = [s for s in window.controller.statuses if s.state is WorkerState.IDLE]
        return len(idle) >= count

    qtbot.waitUntil(ready, timeout=15_000)


def test_enqueued_row_goes_sending_queued_running_done(
    qtbot: QtBot, make_window: WindowFactory
) -> None:
    window = make_window()
    controller = window.controller
    model = controller.model
    wait_connected(qtbot, controller)
    seen: list[TaskState] = []

    def record(_top: QModelIndex, _bottom: QModelIndex, _roles: object = None) -> None:
        row = model.get(task_id)
        if row is not None and (not seen or seen[-1] is not row.state):
            seen.append(row.state)

    model.dataChanged.connect(record)
    [task_id] = controller.enqueue(["Hello.."])
    row = model.get(task_id)
    assert row is not None
    seen.append(row.state)
    assert row.state is TaskState.SENDING  # at once, before any broker round trip
    qtbot.waitUntil(lambda: row.state is TaskState.QUEUED, timeout=10_000)

    with qtbot.waitSignal(controller.task_finished, timeout=15_000) as finished:
        [name] = controller.add_workers(1)
    assert finished.args == [task_id]
    model.flush()
    assert seen == [TaskState.SENDING, TaskState.QUEUED, TaskState.RUNNING, TaskState.DONE]
    assert row.worker == name
    assert row.duration is not None
    assert row.duration >= 0.35
    card = window.workers_panel.card(name)
    qtbot.waitUntil(lambda: card.progress_percent == 100, timeout=5_000)
    qtbot.waitUntil(lambda: "done 1" in card.counts_text, timeout=5_000)
    assert "done 1" in card.accessibleDescription()  # a screen reader hears what is painted
    qtbot.waitUntil(lambda: "1 done" in window.task_panel.counts_label.text(), timeout=5_000)


def test_two_workers_share_six_equal_tasks(qtbot: QtBot, make_window: WindowFactory) -> None:
    window = make_window()
    controller = window.controller
    wait_connected(qtbot, controller)
    names = controller.add_workers(2)
    wait_idle_workers(qtbot, window, 2)
    ids = controller.enqueue(["Equal task.."] * 6)
    model = controller.model
    qtbot.waitUntil(lambda: model.counts()[TaskState.DONE] == 6, timeout=20_000)
    workers = {model.get(task_id).worker for task_id in ids}  # type: ignore[union-attr]
    assert workers == set(names)
    # The table says who ran what: every row names its worker.
    shown = {model.data(model.index(r, Column.WORKER)) for r in range(model.rowCount())}
    assert shown == set(names)
    # The cards' copy of the workers' counters is refreshed about ten times a second.
    qtbot.waitUntil(lambda: sum(s.done for s in controller.statuses) == 6, timeout=5_000)
    done = {s.name: s.done for s in controller.statuses}
    assert all(count >= 1 for count in done.values())
    assert message_count(controller.settings.queue) == 0


def test_killed_worker_task_is_redelivered_and_finishes_elsewhere(
    qtbot: QtBot, make_window: WindowFactory
) -> None:
    window = make_window()
    controller = window.controller
    wait_connected(qtbot, controller)
    controller.add_workers(2)
    wait_idle_workers(qtbot, window, 2)
    with qtbot.waitSignal(controller.task_started, timeout=10_000) as started:
        [task_id] = controller.enqueue(["Long task.........."])  # 10 dots: 2 s here
    first = started.args[1]
    qtbot.waitUntil(
        lambda: any(s.name == first and s.progress > 0.1 for s in controller.statuses),
        timeout=5_000,
    )
    returned: list[tuple[str, str]] = []
    controller.task_returned.connect(lambda tid, worker: returned.append((tid, worker)))
    model = controller.model
    with qtbot.waitSignal(controller.task_finished, timeout=15_000):
        window.workers_panel.select(first)
        window.workers_panel.kill_button.click()
    row = model.get(task_id)
    assert row is not None
    assert returned == [(task_id, first)]
    assert row.state is TaskState.DONE
    assert model.data(model.index(row.row, Column.STATE)) == "done (redelivered)"
    assert model.data(model.index(row.row, Column.WORKER)) == f"{row.worker} (after {first})"
    assert row.worker != first
    assert row.attempts == [first, row.worker]
    assert row.redelivered
    assert row.delivery_count == 2
    qtbot.waitUntil(lambda: "killed" in window.workers_panel.card(first).state_text, timeout=5_000)
    other = window.workers_panel.card(row.worker)
    qtbot.waitUntil(lambda: "redeliveries 1" in other.counts_text, timeout=5_000)
    assert model.counts()[TaskState.DONE] == 1
    assert message_count(controller.settings.queue) == 0  # nothing lost, nothing left


def test_closing_with_busy_workers_puts_tasks_back(
    qtbot: QtBot, make_window: WindowFactory
) -> None:
    window = make_window()
    controller = window.controller
    wait_connected(qtbot, controller)
    controller.enqueue(["Busy........................."] * 3)  # 30 dots: 6 s each here
    controller.add_workers(2)
    qtbot.waitUntil(
        lambda: sum(s.state is WorkerState.BUSY for s in controller.statuses) == 2,
        timeout=10_000,
    )
    queue = controller.settings.queue
    assert controller.gate.watching  # the workers take turns with the GUI thread
    began = time.monotonic()
    window.close()
    assert time.monotonic() - began < 5.0
    assert not controller.gate.watching  # closing never waits on a held worker
    alive = [t.name for t in threading.enumerate() if t.name.startswith("kanin-")]
    assert alive == []
    assert message_count(queue) == 3


def test_unreachable_broker_opens_the_window_and_says_so(
    qtbot: QtBot, make_window: WindowFactory
) -> None:
    window = make_window(url="amqp://guest:guest@127.0.0.1:1/%2F")
    controller = window.controller
    qtbot.waitUntil(lambda: window.banner.isVisible(), timeout=10_000)
    assert "Nothing answers at 127.0.0.1:1" in window.banner.label.text()
    assert window.settings_button.isVisible()
    [task_id] = controller.enqueue(["waits."])
    # It waits, visibly, to be published once a broker answers.
    assert controller.model.get(task_id).state is TaskState.WAITING  # type: ignore[union-attr]
    assert controller.pending_count == 1
    assert window.pending_label.isVisible()
    window.settings_button.click()
    qtbot.waitUntil(
        lambda: window.settings_dialog is not None and window.settings_dialog.isVisible()
    )
    assert window.settings_dialog is not None
    window.settings_dialog.reject()


def test_other_consumers_and_other_producers_tasks_are_shown(
    qtbot: QtBot, make_window: WindowFactory, queue_name: str
) -> None:
    window = make_window()
    controller = window.controller
    wait_connected(qtbot, controller)
    # A consumer that is not Kanin's (like the tutorial's worker.py in a terminal).
    outsider = connect()
    try:
        channel = outsider.channel()
        channel.basic_qos(prefetch_count=1)
        channel.basic_consume(queue=queue_name, on_message_callback=lambda *_: None)
        qtbot.waitUntil(
            lambda: "1 other" in window.queue_panel.consumers_source.text(), timeout=10_000
        )
        assert "passive queue.declare" in window.queue_panel.consumers_source.text()
        assert "passive queue.declare" in window.queue_panel.ready_source.text()
        assert window.queue_panel.chart.points()
    finally:
        outsider.close()
    # A task published by another producer (no message_id) appears once a Kanin worker takes it.
    publisher = connect()
    try:
        publisher.channel().basic_publish(
            exchange="", routing_key=queue_name, body=b"from outside."
        )
    finally:
        publisher.close()
    with qtbot.waitSignal(controller.task_finished, timeout=15_000) as finished:
        controller.add_workers(1)
    [task_id] = finished.args
    assert task_id.startswith("ext-")
    row = controller.model.get(task_id)
    assert row is not None
    assert row.body == "from outside."
    assert row.note == "Published by another producer."


def test_ctrl_return_enqueues_the_composed_task(qtbot: QtBot, make_window: WindowFactory) -> None:
    window = make_window()
    window.composer.text_edit.setText("By keyboard")
    window.composer.count_box.setValue(3)
    window.composer.text_edit.setFocus()
    QTest.keyClick(
        window.composer.text_edit, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier
    )
    qtbot.waitUntil(lambda: len(window.controller.model) == 3, timeout=2_000)
    assert window.controller.model.row_at(0).body == "By keyboard"


def test_stop_lets_the_task_finish_and_remove_stops_several(
    qtbot: QtBot, make_window: WindowFactory
) -> None:
    """Issue 15: Stop finishes the current task (the card says so), then the worker leaves."""
    window = make_window()
    controller = window.controller
    panel = window.workers_panel
    wait_connected(qtbot, controller)
    panel.count_box.setValue(3)
    panel.add_many_button.click()
    qtbot.waitUntil(lambda: len(panel.names()) == 3, timeout=5_000)
    wait_idle_workers(qtbot, window, 3)
    with qtbot.waitSignal(controller.task_started, timeout=10_000) as started:
        [task_id] = controller.enqueue(["Finished before leaving...."])
    worker = started.args[1]
    panel.select(worker)
    with qtbot.assertNotEmitted(controller.task_returned, wait=100):
        panel.stop_button.click()
        qtbot.waitUntil(
            lambda: panel.card(worker).state_text == "stopping after this task", timeout=5_000
        )
        with qtbot.waitSignal(controller.task_finished, timeout=10_000) as finished:
            pass
    assert finished.args == [task_id]
    row = controller.model.get(task_id)
    assert row is not None
    assert (row.state, row.worker, row.attempts, row.delivery_count) == (
        TaskState.DONE,
        worker,
        [worker],
        1,
    )
    qtbot.waitUntil(lambda: "stopped" in panel.card(worker).state_text, timeout=5_000)
    panel.count_box.setValue(2)
    panel.remove_many_button.click()
    qtbot.waitUntil(lambda: controller.worker_names(alive_only=True) == [], timeout=10_000)
    panel.clear_button.click()
    qtbot.waitUntil(lambda: panel.names() == [], timeout=5_000)
    assert message_count(controller.settings.queue) == 0  # done, not given back


def test_auto_ack_shows_the_killed_workers_task_as_lost(
    qtbot: QtBot, make_window: WindowFactory, caplog: pytest.LogCaptureFixture
) -> None:
    """Issue 15: lost, said once in the table, the log and the card; auto-ack always visible."""
    window = make_window()
    controller = window.controller
    wait_connected(qtbot, controller)
    assert window.status_line.mode_label.text() == "prefetch 1"
    controller.apply_settings(replace(controller.settings, ack_mode=AckMode.AUTO))
    wait_connected(qtbot, controller)
    chip = window.status_line.mode_label
    assert chip.isVisible()
    assert chip.text() == "⚠ auto-ack: a killed worker loses its task"
    with qtbot.waitSignal(controller.task_started, timeout=10_000) as started:
        [name] = controller.add_workers(1)
        [task_id] = controller.enqueue(["Doomed.........."])
    card = window.workers_panel.card(name)
    assert card.mode_text == "⚠ auto-ack: a killed worker loses its task"
    with caplog.at_level(logging.INFO), qtbot.waitSignal(controller.worker_killed, timeout=10_000):
        controller.kill_worker(started.args[1])
    row = controller.model.get(task_id)
    assert row is not None
    assert row.state is TaskState.LOST
    assert row.state_text == "lost: auto-ack, its worker was killed"
    ours = [r.getMessage() for r in caplog.records if r.name.startswith(("core", "desktop"))]
    assert [m for m in ours if "kill" in m.lower() or "lost" in m] == [
        f"{name} was killed with auto-ack: its task {task_id} is lost."
    ]
    assert not [m for m in ours if "returns to the queue" in m]
    qtbot.waitUntil(lambda: card.task_text == "killed: its task is lost (auto-ack)", timeout=5_000)
    assert message_count(controller.settings.queue) == 0  # gone: that is what auto-ack means
    assert name == started.args[1]


def test_with_a_cluster_a_node_that_is_down_is_skipped_and_the_status_bar_names_the_one_in_use(
    qtbot: QtBot, make_window: WindowFactory, broker_url: str
) -> None:
    window = make_window(url=f"amqp://guest:guest@127.0.0.1:1/%2F,{broker_url}")
    wait_connected(qtbot, window.controller)
    text = window.url_label.text()
    in_use = broker_url.split("@")[-1].split("/")[0]
    assert f"node in use: amqp://guest:***@{in_use}" in text
    assert "(2 of 2)" in text
    assert "127.0.0.1:1/" not in text  # the node that is down is not the one shown
    assert "127.0.0.1:1/" in window.url_label.toolTip()  # but it is still configured
    assert in_use in window.state_label.text()


def test_thirty_two_workers_on_zero_second_tasks_show_every_task_once(
    qtbot: QtBot, make_window: WindowFactory
) -> None:
    """The flood path: batched signals, the priority gate, painted cards, no task lost."""
    window = make_window()
    controller = window.controller
    wait_connected(qtbot, controller)
    ids = controller.enqueue([f"zero {i}" for i in range(600)])
    model = controller.model
    qtbot.waitUntil(lambda: model.counts()[TaskState.QUEUED] == 600, timeout=20_000)
    batches: list[list[str]] = []
    controller.tasks_finished.connect(batches.append)
    names = controller.add_workers(32)
    qtbot.waitUntil(lambda: model.counts()[TaskState.DONE] == 600, timeout=60_000)
    qtbot.waitUntil(lambda: sum(len(b) for b in batches) == 600, timeout=5_000)
    shown = [task_id for batch in batches for task_id in batch]
    assert sorted(shown) == sorted(ids)  # each task announced exactly once
    assert len(batches) < 600  # one signal per GUI tick, not one per task
    assert controller.gate.watching
    qtbot.waitUntil(lambda: window.workers_panel.names() == names, timeout=5_000)
    assert message_count(controller.settings.queue) == 0
