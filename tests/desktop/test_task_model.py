"""The task table model over its ledger: cells, batched inserts of 100,000 rows, ranges, filtering.

The ledger's transitions alone are tested in ``tests/core/test_ledger.py``.
"""

from __future__ import annotations

from PySide6.QtCore import Qt

from core.tasks import Delivery, Task
from desktop.task_model import Column, TaskFilterModel, TaskState, TaskTableModel


def delivery(task_id: str, body: bytes = b"x.", *, redelivered: bool = False) -> Delivery:
    return Delivery(
        task_id=task_id,
        body=body,
        redelivered=redelivered,
        delivery_count=2 if redelivered else 1,
        foreign=False,
        created=None,
        work_seconds=float(body.count(b".")),
    )


def test_a_redelivered_task_shows_both_workers_and_its_redelivery() -> None:
    model = TaskTableModel()
    ledger = model.ledger
    task = Task.new("Hello.")
    model.add_tasks([task])
    ledger.mark_confirmed([task.id])
    ledger.mark_started("W-1", delivery(task.id), 100.0)
    model.flush()
    assert model.data(model.index(0, Column.STATE)) == "running on W-1"
    ledger.returned(task.id, "W-1", "stopped", auto_ack=False)
    model.flush()
    assert model.data(model.index(0, Column.STATE)) == "redelivered"
    assert model.data(model.index(0, Column.BODY), Qt.ItemDataRole.ToolTipRole) == (
        "W-1 gave it back (stopped); it is back in the queue."
    )
    ledger.mark_started("W-2", delivery(task.id, redelivered=True), 101.0)
    ledger.mark_finished("W-2", task.id, 1.0, 102.0)
    model.flush()
    assert model.data(model.index(0, Column.WORKER)) == "W-2 (after W-1)"
    assert model.data(model.index(0, Column.STATE)) == "done (redelivered)"
    assert model.data(model.index(0, Column.DELIVERIES)) == "2"
    assert model.data(model.index(0, Column.DURATION)) == "1.0 s"
    assert model.counts()[TaskState.DONE] == 1


def test_rows_appear_only_when_flushed() -> None:
    model = TaskTableModel()
    tasks = [Task.new(f"t{i}") for i in range(3)]
    model.add_tasks(tasks, flush=False)
    assert model.rowCount() == 0  # views have not been told yet
    assert len(model) == 3
    assert model.get(tasks[2].id) is not None
    flushed: list[int] = []
    model.flushed.connect(flushed.append)
    model.flush()
    assert model.rowCount() == 3
    assert flushed == [3]
    model.flush()  # nothing new: no signal
    assert flushed == [3]


def test_tasks_of_other_producers_appear_when_a_worker_takes_them() -> None:
    model = TaskTableModel()
    inserted: list[tuple[int, int]] = []
    model.rowsInserted.connect(lambda _parent, first, last: inserted.append((first, last)))
    foreign = Delivery("ext-abc", b"from worker.py...", False, 1, True, None, 3.0)
    model.ledger.mark_started("W-1", foreign, 5.0)
    model.flush()
    assert inserted == [(0, 0)]
    assert model.data(model.index(0, Column.BODY)) == "from worker.py..."
    assert model.data(model.index(0, Column.STATE)) == "running on W-1"


def test_changes_are_announced_in_few_ranges() -> None:
    model = TaskTableModel()
    tasks = [Task.new(f"t{i}") for i in range(1000)]
    model.add_tasks(tasks)
    ranges: list[tuple[int, int]] = []
    model.dataChanged.connect(lambda top, bottom, _roles: ranges.append((top.row(), bottom.row())))
    model.ledger.mark_confirmed(t.id for t in tasks)
    model.flush()
    assert ranges == [(0, 999)]
    ranges.clear()
    model.ledger.mark_started("W-1", delivery(tasks[10].id), 1.0)
    model.ledger.mark_started("W-2", delivery(tasks[500].id), 1.0)
    model.flush()
    assert ranges == [(10, 10), (500, 500)]


def test_100000_rows_inserted_in_batches_and_filtered(qtbot: object) -> None:
    model = TaskTableModel()
    proxy = TaskFilterModel(model)
    inserts: list[tuple[int, int]] = []
    model.rowsInserted.connect(lambda _parent, first, last: inserts.append((first, last)))
    batches = 10
    per_batch = 10_000
    all_ids: list[str] = []
    for b in range(batches):
        tasks = [Task.new(f"task {b}-{i}.") for i in range(per_batch)]
        all_ids.extend(t.id for t in tasks)
        model.add_tasks(tasks)
    assert model.rowCount() == 100_000
    assert len(inserts) == batches  # one beginInsertRows per batch
    assert inserts[0] == (0, per_batch - 1)
    assert inserts[-1] == (100_000 - per_batch, 100_000 - 1)

    model.ledger.mark_confirmed(all_ids)
    for n, task_id in enumerate(all_ids[:30_000]):
        model.ledger.mark_started(f"W-{n % 4 + 1}", delivery(task_id), float(n))
    for task_id in all_ids[:20_000]:
        model.ledger.mark_finished("W-1", task_id, 0.5, 2.0)
    model.ledger.mark_rejected(all_ids[-5:], "nack")
    model.flush()

    assert proxy.rowCount() == 100_000
    proxy.set_state(TaskState.DONE)
    assert proxy.rowCount() == 20_000
    proxy.set_state(TaskState.RUNNING)
    assert proxy.rowCount() == 10_000
    proxy.set_state(TaskState.QUEUED)
    assert proxy.rowCount() == 100_000 - 30_000 - 5
    proxy.set_state(TaskState.FAILED)
    assert proxy.rowCount() == 5
    first = proxy.mapToSource(proxy.index(0, 0)).row()
    assert model.row_at(first).task_id == all_ids[-5]
    proxy.set_state(None)
    assert proxy.rowCount() == 100_000

    # While filtered, finishing tasks moves them out of the "running" view.
    proxy.set_state(TaskState.RUNNING)
    for task_id in all_ids[20_000:25_000]:
        model.ledger.mark_finished("W-2", task_id, 0.5, 3.0)
    model.flush()
    assert proxy.rowCount() == 5_000
    assert model.counts()[TaskState.DONE] == 25_000


def test_cells_paint_the_same_through_multi_data_as_through_data(qtbot: object) -> None:
    from PySide6.QtCore import QIdentityProxyModel
    from PySide6.QtWidgets import QTableView

    model = TaskTableModel()
    tasks = [Task.new(f"Task {i} ..") for i in range(6)]
    model.add_tasks(tasks, enqueued=1_700_000_000.0)
    model.ledger.mark_confirmed([t.id for t in tasks[:5]])
    model.ledger.mark_started("W-1", delivery(tasks[1].id), 1_700_000_001.0)
    model.ledger.mark_started("W-2", delivery(tasks[2].id), 1_700_000_001.0)
    model.ledger.mark_finished("W-2", tasks[2].id, 0.5, 1_700_000_002.0)
    model.ledger.mark_failed(tasks[3].id, "boom", requeued=True, attempt=1)
    model.flush()
    identity = QIdentityProxyModel()  # asks data() role by role, never multiData()
    identity.setSourceModel(model)
    views = []
    for shown in (model, identity):
        view = QTableView()
        view.setModel(shown)
        view.resize(900, 260)
        views.append(view)
    direct, through_data = (view.grab().toImage() for view in views)
    assert direct == through_data
