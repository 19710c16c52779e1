"""Tasks waiting for a broker follow the session, and quitting waits for them visibly."""

from __future__ import annotations

from pytestqt.qtbot import QtBot

from desktop.controller import ConnectionState
from desktop.preferences import from_urls
from desktop.quit_question import PendingChoice
from desktop.task_model import TaskState
from tests.desktop.conftest import WindowFactory
from tests.helpers.broker import TEST_URL, message_count

DEAD_URL = "amqp://guest:guest@127.0.0.1:1/%2F"  # nothing listens on port 1


def test_tasks_waiting_on_a_dead_port_are_sent_to_the_broker_of_the_new_settings(
    qtbot: QtBot, make_window: WindowFactory, queue_name: str
) -> None:
    window = make_window(url=DEAD_URL)
    controller = window.controller
    qtbot.waitUntil(lambda: window.banner.isVisible(), timeout=10_000)
    ids = controller.enqueue(["Stranded.", "Stranded..", "Stranded..."])
    model = controller.model
    assert all(model.get(i).state is TaskState.WAITING for i in ids)  # type: ignore[union-attr]
    with qtbot.waitSignal(controller.tasks_handed_over, timeout=5_000) as handed:
        controller.apply_settings(from_urls([TEST_URL], controller.settings))
    count, where = handed.args
    assert count == 3
    assert "127.0.0.1:1" not in where
    assert "3 tasks waiting from the previous settings are sent to" in (
        window.statusBar().currentMessage()
    )
    qtbot.waitUntil(
        lambda: all(model.get(i).state is TaskState.QUEUED for i in ids),  # type: ignore[union-attr]
        timeout=15_000,
    )
    assert controller.pending_count == 0
    assert message_count(queue_name) == 3
    controller.add_workers(1)
    qtbot.waitUntil(
        lambda: all(model.get(i).state is TaskState.DONE for i in ids),  # type: ignore[union-attr]
        timeout=20_000,
    )
    assert not any(r.state is TaskState.WAITING for r in model.ledger.records)


def test_publish_and_wait_shows_progress_and_closes_once_the_broker_confirmed(
    qtbot: QtBot, make_window: WindowFactory, queue_name: str
) -> None:
    asked: list[int] = []

    def ask(count: int) -> PendingChoice:
        asked.append(count)
        return PendingChoice.PUBLISH_AND_WAIT

    window = make_window(url=DEAD_URL, ask_pending=ask)
    controller = window.controller
    qtbot.waitUntil(lambda: window.banner.isVisible(), timeout=10_000)
    ids = controller.enqueue(["Quit with me."] * 4)
    window.close()  # answered: publish and wait, while nothing listens
    assert asked == [4]
    assert window.isVisible()
    progress = window.close_guard.progress
    assert progress is not None
    assert progress.isVisible()
    assert "0 of 4 confirmed" in progress.labelText()
    assert "cannot be reached" in progress.labelText()
    # The broker is reachable again (the settings point at it): the tasks go out, the window closes.
    controller.apply_settings(from_urls([TEST_URL], controller.settings))
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=20_000)
    model = controller.model
    assert all(model.get(i).state is TaskState.QUEUED for i in ids)  # type: ignore[union-attr]
    assert message_count(queue_name) == 4


def test_publish_and_wait_asks_again_when_nothing_is_confirmed_and_can_quit_anyway(
    qtbot: QtBot, make_window: WindowFactory
) -> None:
    stuck: list[tuple[int, str]] = []
    answers = [PendingChoice.PUBLISH_AND_WAIT, PendingChoice.QUIT_ANYWAY]

    def ask_stuck(count: int, seconds: float, reason: str) -> PendingChoice:
        assert seconds >= 0.5
        stuck.append((count, reason))
        return answers.pop(0)

    window = make_window(url=DEAD_URL, ask_pending=lambda _count: PendingChoice.PUBLISH_AND_WAIT)
    controller = window.controller
    window.close_guard.patience = 0.5
    window.close_guard.ask_stuck = ask_stuck
    qtbot.waitUntil(
        lambda: controller.connection_state == ConnectionState.RECONNECTING, timeout=10_000
    )
    controller.enqueue(["Never confirmed."] * 2)
    window.close()
    assert window.isVisible()
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=10_000)
    assert len(stuck) == 2  # keep waiting once, then quit anyway
    assert stuck[0][0] == 2
    assert "127.0.0.1:1" in stuck[0][1]
