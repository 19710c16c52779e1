"""The controller alone (not started, no broker): how a big enqueue is spread over turns."""

from __future__ import annotations

from pytestqt.qtbot import QtBot

from desktop.controller import ENQUEUE_CHUNK, Controller
from desktop.preferences import from_urls


def test_a_big_enqueue_returns_every_id_at_once_and_shows_rows_chunk_by_chunk(
    qtbot: QtBot,
) -> None:
    controller = Controller(from_urls(["amqp://guest:guest@127.0.0.1:5672/%2F"]))
    total = ENQUEUE_CHUNK * 2 + 7
    ids = controller.enqueue([f"task {i}" for i in range(total)])
    assert len(ids) == len(set(ids)) == total
    assert all(len(i) == 16 and int(i, 16) >= 0 for i in ids)
    model = controller.model
    assert len(model) == ENQUEUE_CHUNK  # the first chunk at once, the rest on later turns
    assert controller.unconfirmed_count == total  # handed to the producer or still to hand
    later = controller.enqueue(["after the big one"])  # waits for it, in order
    qtbot.waitUntil(lambda: len(model) == total + 1, timeout=5_000)
    assert [model.row_at(p).task_id for p in range(len(model))] == ids + later
    assert model.row_at(total - 1).body == f"task {total - 1}"
    assert controller.unconfirmed_count == total + 1
    controller.deleteLater()
