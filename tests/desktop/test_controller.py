"""The controller without a window: big enqueues, and whole task lives against the real broker."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace

import pytest
from pytestqt.qtbot import QtBot

from core.ledger import TaskRecord, TaskState
from core.tasks import Delivery
from desktop.controller import ConnectionState, Controller
from desktop.pacer import ENQUEUE_CHUNK
from desktop.preferences import AppSettings, from_urls
from tests.helpers.broker import delete_queue, message_count, unique_queue

SECONDS_PER_DOT = 0.2


def quick_work(delivery: Delivery) -> float:
    """The tutorial's work, five times faster."""
    return delivery.body.count(b".") * SECONDS_PER_DOT


@pytest.fixture
def settings(broker_url: str, queue_name: str) -> AppSettings:
    return replace(from_urls([broker_url]), queue=queue_name)


@pytest.fixture
def controller(qtbot: QtBot, settings: AppSettings) -> Iterator[Controller]:
    """A started controller on the test's queue, shut down (every thread joined) afterwards."""
    controller = Controller(settings, work=quick_work, management_port=None, watch_interval=0.5)
    controller.start()
    qtbot.waitUntil(
        lambda: controller.connection_state is ConnectionState.CONNECTED, timeout=15_000
    )
    yield controller
    assert controller.shutdown(10.0)
    controller.deleteLater()


def states_of(controller: Controller, task_id: str) -> list[TaskState]:
    """Every state the task takes from now on, as the ledger changes it."""
    seen: list[TaskState] = []

    def heard(record: TaskRecord, _former: TaskState | None) -> None:
        if record.task_id == task_id:
            seen.append(record.state)

    controller.model.ledger.watch(heard)
    return seen


def test_a_big_enqueue_returns_every_id_at_once_and_shows_rows_chunk_by_chunk(
    qtbot: QtBot, settings: AppSettings
) -> None:
    controller = Controller(settings)  # not started: nothing connects
    total = ENQUEUE_CHUNK * 2 + 7
    ids = controller.enqueue([f"task {i}" for i in range(total)])
    assert len(set(ids)) == total
    assert all(re.fullmatch("[0-9a-f]{16}", i) for i in ids)  # as Task.new makes them
    model = controller.model
    assert len(model) == ENQUEUE_CHUNK  # the first chunk at once, the rest on later turns
    assert controller.unconfirmed_count == total  # handed to the producer or still to hand
    later = controller.enqueue(["after the big one"])  # waits for it, in order
    qtbot.waitUntil(lambda: len(model) == total + 1, timeout=5_000)
    assert [model.row_at(p).task_id for p in range(len(model))] == ids + later
    assert model.row_at(total - 1).body == f"task {total - 1}"
    assert controller.unconfirmed_count == total + 1
    controller.deleteLater()


def test_an_enqueued_task_is_confirmed_then_done_by_a_worker(
    qtbot: QtBot, controller: Controller
) -> None:
    finished: list[list[str]] = []
    controller.tasks_finished.connect(finished.append)
    [task_id] = controller.enqueue(["Hello."])
    seen = states_of(controller, task_id)
    record = controller.model.get(task_id)
    assert record is not None
    qtbot.waitUntil(lambda: record.state is TaskState.QUEUED, timeout=10_000)
    with qtbot.waitSignal(controller.task_finished, timeout=15_000) as done:
        [worker] = controller.add_workers(1)
    assert done.args == [task_id]
    assert seen == [TaskState.QUEUED, TaskState.RUNNING, TaskState.DONE]
    assert record.attempts == [worker]
    assert record.duration == pytest.approx(SECONDS_PER_DOT, abs=0.15)
    assert [task_id] in finished
    assert message_count(controller.settings.queue) == 0


def test_a_killed_workers_task_is_redelivered_then_done_by_another(
    qtbot: QtBot, controller: Controller
) -> None:
    [task_id] = controller.enqueue(["Long ........"])  # 1.6 s of work
    seen = states_of(controller, task_id)
    record = controller.model.get(task_id)
    assert record is not None
    controller.add_workers(2)
    qtbot.waitUntil(lambda: record.state is TaskState.RUNNING, timeout=15_000)
    first = record.worker
    returned: list[tuple[str, str]] = []
    controller.task_returned.connect(lambda task_id, worker: returned.append((task_id, worker)))
    with qtbot.waitSignal(controller.worker_killed, timeout=10_000) as killed:
        controller.kill_worker(first)
    assert killed.args == [first]
    assert returned == [(task_id, first)]
    with qtbot.waitSignal(controller.task_finished, timeout=15_000):
        pass
    # The broker requeues the task as the connection drops: the other worker may
    # start it before the killed worker's report is routed.
    queued, running, back, done = (
        TaskState.QUEUED,
        TaskState.RUNNING,
        TaskState.REDELIVERED,
        TaskState.DONE,
    )
    assert seen in ([queued, running, back, running, done], [queued, running, running, done])
    assert record.redelivered
    assert record.worker != first
    assert record.attempts == [first, record.worker]
    assert "was killed" in record.note
    assert message_count(controller.settings.queue) == 0  # nothing lost, nothing left


def test_late_events_of_the_old_session_never_reach_the_new_one(
    qtbot: QtBot, controller: Controller, queue_name: str
) -> None:
    old_ids = controller.enqueue(["Slow " + "." * 30, "Slow " + "." * 30])  # 6 s each
    old_rows = [controller.model.get(i) for i in old_ids]
    controller.add_workers(2)
    qtbot.waitUntil(
        lambda: all(r is not None and r.state is TaskState.RUNNING for r in old_rows),
        timeout=15_000,
    )
    returned: list[tuple[str, str]] = []
    controller.task_returned.connect(lambda task_id, worker: returned.append((task_id, worker)))
    changed: list[str] = []
    controller.model.ledger.watch(lambda record, _former: changed.append(record.task_id))
    other = unique_queue()
    try:
        controller.apply_settings(replace(controller.settings, queue=other))
        qtbot.waitUntil(
            lambda: controller.connection_state is ConnectionState.CONNECTED, timeout=15_000
        )
        # The old workers stop in the background and give their tasks back (a nack
        # each, reported into the old session's inbox): the old queue holds both again.
        qtbot.waitUntil(lambda: message_count(queue_name) == 2, timeout=20_000)
        [new_id] = controller.enqueue(["New."])
        with qtbot.waitSignal(controller.task_finished, timeout=15_000) as done:
            pass  # the new session's workers take it: ticks ran after the returns
        assert done.args == [new_id]
        assert returned == []
        assert set(changed) == {new_id}
        assert all(r is not None and r.state is TaskState.RUNNING for r in old_rows)
        assert controller.settings.queue == other
    finally:
        controller.shutdown(10.0)
        delete_queue(other)
