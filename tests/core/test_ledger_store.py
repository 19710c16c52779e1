"""The kept ledger: the SQLite store's round trip and bound, and the journal's batches."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path

import pytest

from core.journal import UNKNOWN_NOTE, Journal
from core.ledger import Ledger, TaskState
from core.ledger_store import (
    MAX_TASKS,
    LedgerStore,
    Row,
    data_folder,
    restored,
    row_of,
    scope_of,
)
from core.tasks import Delivery, Task

SCOPE = scope_of(["127.0.0.1:5672"], "/", "q")


def delivery(task_id: str, *, foreign: bool = False) -> Delivery:
    return Delivery(task_id, b"x.", False, 1, foreign, None, 1.0)


def test_a_record_round_trips_with_its_history(tmp_path: Path) -> None:
    ledger = Ledger()
    [task] = [Task.new("Hello...")]
    ledger.add_tasks([task])
    ledger.mark_confirmed([task.id])
    ledger.mark_started("W-1", delivery(task.id), at=100.0)
    ledger.killed(task.id, "W-1", auto_ack=False)
    ledger.mark_started("W-2", delivery(task.id), at=101.0)
    ledger.mark_finished("W-2", task.id, 3.0, at=104.0)
    record = ledger.get(task.id)
    assert record is not None
    store = LedgerStore(tmp_path / "kept.sqlite3")
    store.write([row_of(record, SCOPE)])
    store.close()

    again = LedgerStore(tmp_path / "kept.sqlite3")
    [row] = again.load(SCOPE)
    assert again.load(scope_of(["127.0.0.1:5672"], "/", "other")) == []
    back = restored(row)
    assert back.task_id == task.id
    assert back.body == "Hello..."
    assert back.state is TaskState.DONE
    assert back.worker == "W-2"
    assert back.attempts == ["W-1", "W-2"]
    assert back.delivery_count == record.delivery_count
    assert back.duration == 3.0
    assert back.redelivered
    assert "W-1 was killed" in back.note
    assert back.state_text == "done (redelivered)"
    again.close()


def test_restored_states_say_what_happened_since(tmp_path: Path) -> None:
    ledger = Ledger()
    tasks = [Task.new(f"t{n}") for n in range(4)]
    ledger.add_tasks(tasks)
    queued, running, waiting, sending = (t.id for t in tasks)
    ledger.mark_confirmed([queued, running])
    ledger.mark_started("W-3", delivery(running), at=1.0)
    ledger.mark_waiting([waiting])
    rows = {r.task_id: restored(row_of(r, SCOPE)) for r in ledger._new}
    assert rows[queued].state is TaskState.QUEUED
    assert rows[queued].state_text == "queued (from an earlier run)"
    assert rows[running].state is TaskState.QUEUED
    assert "W-3" in rows[running].note
    for lost in (waiting, sending):
        assert rows[lost].state is TaskState.FAILED
        assert "Kanin quit before the broker confirmed it" in rows[lost].note


def test_the_store_keeps_only_the_newest_rows(tmp_path: Path) -> None:
    store = LedgerStore(tmp_path / "kept.sqlite3", limit=50)
    ledger = Ledger()
    tasks = [Task.new(f"task {n}") for n in range(120)]
    ledger.add_tasks(tasks)
    rows = [row_of(r, SCOPE) for r in ledger._new]
    for start in range(0, 120, 30):
        store.write(rows[start : start + 30])
    assert store.count() == 50
    kept = [row.task_id for row in store.load(SCOPE)]
    assert kept == [t.id for t in tasks[-50:]]
    # An update of a kept row keeps its place and does not grow the file.
    store.write([rows[-1]._replace(state=TaskState.DONE.name)])
    assert store.count() == 50
    assert store.load(SCOPE)[-1].state == "DONE"
    assert MAX_TASKS == 100_000
    store.close()


def test_the_file_is_in_wal_mode_and_in_the_data_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KANIN_DATA_DIR", str(tmp_path / "here"))
    assert data_folder() == tmp_path / "here"
    store = LedgerStore.in_data_folder()
    assert store.path.parent == tmp_path / "here"
    store.close()
    mode = sqlite3.connect(store.path).execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"


def test_the_journal_writes_changes_in_batches_from_its_own_thread(tmp_path: Path) -> None:
    store = LedgerStore(tmp_path / "kept.sqlite3")
    writers: list[str] = []
    original = store.write

    def write(rows: Sequence[Row]) -> None:
        writers.append(threading.current_thread().name)
        original(rows)

    store.write = write  # type: ignore[method-assign]
    ledger = Ledger()
    journal = Journal(store, SCOPE)
    ledger.watch(journal.note)
    tasks = [Task.new(f"n{n}") for n in range(10)]
    ledger.add_tasks(tasks)
    ledger.mark_confirmed([t.id for t in tasks])
    assert writers == []  # nothing is written per change
    assert journal.flush() == 10  # ten records, each changed twice: one batch of ten rows
    ledger.mark_started("W-1", delivery("not-kanins"), at=1.0)  # a task the ledger never had
    ledger.mark_started("W-1", delivery("ext-abc", foreign=True), at=1.0)
    assert journal.close()
    assert set(writers) == {"kanin-ledger-writer"}
    assert len(writers) == 2
    check = LedgerStore(tmp_path / "kept.sqlite3")
    rows = {row.task_id: row for row in check.load(SCOPE)}
    assert len(rows) == 12
    assert {rows[t.id].state for t in tasks} == {"QUEUED"}
    assert rows["not-kanins"].note == UNKNOWN_NOTE
    assert rows["ext-abc"].note == "Published by another producer."
    check.close()


def test_clearing_finished_tasks_drops_them_from_the_file(tmp_path: Path) -> None:
    store = LedgerStore(tmp_path / "kept.sqlite3")
    ledger = Ledger()
    journal = Journal(store, SCOPE)
    ledger.watch(journal.note)
    tasks = [Task.new("a"), Task.new("b")]
    ledger.add_tasks(tasks)
    ledger.mark_confirmed([t.id for t in tasks])
    ledger.mark_started("W-1", delivery(tasks[0].id), at=1.0)
    ledger.mark_finished("W-1", tasks[0].id, 0.1, at=2.0)
    ledger.show_new()
    assert ledger.clear_finished() == 1
    journal.forget_finished()
    assert journal.close()
    check = LedgerStore(tmp_path / "kept.sqlite3")
    assert [row.task_id for row in check.load(SCOPE)] == [tasks[1].id]
    check.close()
