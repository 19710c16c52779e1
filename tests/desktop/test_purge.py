"""Purge the queue from the window: the count, the confirmation, the purge, the rows marked."""

from __future__ import annotations

from pytestqt.qtbot import QtBot

from desktop.controller import ConnectionState
from desktop.purge import question
from desktop.task_model import TaskState
from tests.desktop.conftest import WindowFactory
from tests.helpers.broker import connect, message_count


def test_the_question_names_the_count_and_the_queue() -> None:
    assert question("task_queue", 100_000).startswith(
        "Purge 100,000 tasks from task_queue? They cannot be recovered."
    )
    assert question("q", 1).startswith("Purge 1 task from q?")
    assert question("q", None).startswith("Purge every task waiting in q?")


def test_purge_asks_with_the_count_then_empties_the_queue_and_marks_kanins_tasks(
    qtbot: QtBot, make_window: WindowFactory, queue_name: str
) -> None:
    window = make_window()
    controller = window.controller
    qtbot.waitUntil(
        lambda: controller.connection_state == ConnectionState.CONNECTED, timeout=15_000
    )
    ids = controller.enqueue(["Purge me."] * 5)
    outsider = connect()
    try:
        outsider.channel().basic_publish(exchange="", routing_key=queue_name, body=b"other.")
    finally:
        outsider.close()
    qtbot.waitUntil(
        lambda: controller.last_stats is not None and controller.last_stats.ready == 6,
        timeout=15_000,
    )
    asked: list[str] = []
    answers = [False, True]

    def ask(text: str) -> bool:
        asked.append(text)
        return answers.pop(0)

    window.purger.ask = ask
    action = window.menu_actions.purge_queue
    action.trigger()  # declined: nothing happens
    assert asked == [
        f"Purge 6 tasks from {queue_name}? They cannot be recovered.\n"
        "Tasks a worker holds right now are not purged."
    ]
    assert message_count(queue_name) == 6
    with qtbot.waitSignal(window.purger.purged, timeout=10_000) as purged:
        action.trigger()
    assert purged.args == [queue_name, 6, 5]
    assert message_count(queue_name) == 0
    model = controller.model
    for task_id in ids:
        record = model.get(task_id)
        assert record is not None
        assert record.state is TaskState.PURGED
        assert queue_name in record.note
    assert "Purged 6 task(s)" in window.statusBar().currentMessage()
