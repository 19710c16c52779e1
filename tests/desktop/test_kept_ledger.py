"""The task ledger kept across runs: close the window, open it again, the rows are back."""

from __future__ import annotations

from pytestqt.qtbot import QtBot

from core.journal import UNKNOWN_NOTE
from core.tasks import Task, properties_for
from desktop.controller import ConnectionState, Controller
from desktop.task_model import TaskState
from tests.desktop.conftest import WindowFactory
from tests.helpers.broker import connect, message_count


def wait_connected(qtbot: QtBot, controller: Controller) -> None:
    qtbot.waitUntil(
        lambda: controller.connection_state == ConnectionState.CONNECTED, timeout=15_000
    )


def test_rows_come_back_with_their_history_after_closing_and_opening_again(
    qtbot: QtBot, make_window: WindowFactory, queue_name: str
) -> None:
    window = make_window()
    controller = window.controller
    wait_connected(qtbot, controller)
    [done_id] = controller.enqueue(["Done before closing."])
    with qtbot.waitSignal(controller.task_finished, timeout=15_000):
        controller.add_workers(1)
    controller.remove_workers(1)
    qtbot.waitUntil(lambda: not controller.worker_names(alive_only=True), timeout=10_000)
    queued = controller.enqueue(["Waits for the next run."] * 3)
    model = controller.model
    qtbot.waitUntil(
        lambda: all(model.get(i).state is TaskState.QUEUED for i in queued),  # type: ignore[union-attr]
        timeout=10_000,
    )
    window.close()
    assert message_count(queue_name) == 3

    again = make_window()
    model = again.controller.model
    assert len(model) == 4  # before any connection: the rows come from the file
    done = model.get(done_id)
    assert done is not None
    assert done.state is TaskState.DONE
    assert done.worker == "W-1"
    assert done.attempts == ["W-1"]
    for task_id in queued:
        record = model.get(task_id)
        assert record is not None
        assert record.state_text == "queued (from an earlier run)"
        assert record.body == "Waits for the next run."
    # A task from another Kanin (e.g. `kanin new-task`) that this ledger never saw.
    stray = Task.new("Not from this window.")
    outsider = connect()
    try:
        outsider.channel().basic_publish(
            exchange="", routing_key=queue_name, body=stray.body, properties=properties_for(stray)
        )
    finally:
        outsider.close()
    controller = again.controller
    wait_connected(qtbot, controller)
    controller.add_workers(1)
    qtbot.waitUntil(
        lambda: all(model.get(i).state is TaskState.DONE for i in queued),  # type: ignore[union-attr]
        timeout=20_000,
    )
    qtbot.waitUntil(lambda: model.get(stray.id) is not None, timeout=10_000)
    stranger = model.get(stray.id)
    assert stranger is not None
    assert stranger.note == UNKNOWN_NOTE
    assert all(model.get(i).note != UNKNOWN_NOTE for i in queued)  # type: ignore[union-attr]
