"""The worker's status board (``core.status``): copies, previews and a faulty observer."""

from __future__ import annotations

import logging

from core.events import WorkerEvent, WorkerState, WorkerStopped
from core.status import StatusBoard
from core.tasks import delivery_from
from tests.helpers.recorder import Recorder


def test_a_snapshot_is_a_copy():
    board = StatusBoard("w1")
    board.set(state=WorkerState.BUSY, done=2)
    board.status.counters["x"] = 1
    copy = board.snapshot()
    copy.done = 99
    copy.counters["x"] = 5
    assert (board.status.done, board.status.counters) == (2, {"x": 1})
    assert board.state is WorkerState.BUSY


def test_the_preview_is_made_when_read_and_kept_for_the_same_delivery():
    board = StatusBoard("w1")
    assert board.snapshot().task_preview == ""
    first = delivery_from(None, b"first task..", redelivered=False)
    board.previewed = first
    text = board.snapshot().task_preview
    assert text == first.preview
    assert board.snapshot().task_preview is text  # cached, not made again
    second = delivery_from(None, b"second", redelivered=False)
    board.previewed = second
    assert board.snapshot().task_preview == second.preview


class Broken:
    def on_worker_event(self, event: WorkerEvent) -> None:
        raise RuntimeError("observer bug")


def test_events_reach_the_observer():
    recorder = Recorder()
    StatusBoard("w1", recorder).emit(WorkerStopped("w1", 1.0))
    assert recorder.of(WorkerStopped) == [WorkerStopped("w1", 1.0)]


def test_a_faulty_observer_is_logged_not_raised(caplog):
    with caplog.at_level(logging.ERROR, logger="core.status"):
        StatusBoard("w1", Broken()).emit(WorkerStopped("w1", 1.0))
    assert "observer failed on WorkerStopped" in caplog.text
