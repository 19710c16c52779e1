"""The task ledger kept across runs: an SQLite file in the user's data folder.

Each task is one row keyed by its id, with the scope it belongs to (broker
addresses, vhost and queue) and its history: state, last worker, the workers
that took it, deliveries, times and note. The file is in WAL mode (a reader
never waits for the writer) and bounded: beyond ``MAX_TASKS`` rows the oldest
go. ``restored()`` turns the rows of a scope back into ledger records as they
stand after a restart: tasks that were in the queue are *queued (from an
earlier run)*, tasks that never reached the broker failed (Kanin quit first).
The ``core.journal`` writer thread is this store's only writer while Kanin runs.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import NamedTuple

import platformdirs

from core.ledger import Ledger, TaskRecord, TaskState

log = logging.getLogger(__name__)

DATA_ENV = "KANIN_DATA_DIR"
"""An environment variable naming the folder of Kanin's data (tests point it elsewhere)."""
FILE_NAME = "ledger.sqlite3"
MAX_TASKS = 100_000
"""Rows kept in the file (all scopes together); the oldest go first."""

_FIELDS = (
    "task_id",
    "scope",
    "body",
    "state",
    "worker",
    "attempts",
    "delivery_count",
    "enqueued",
    "started",
    "finished",
    "duration",
    "note",
    "redelivered",
)
_SCHEMA = """
CREATE TABLE IF NOT EXISTS tasks (
    seq INTEGER PRIMARY KEY,
    task_id TEXT NOT NULL UNIQUE,
    scope TEXT NOT NULL,
    body TEXT NOT NULL,
    state TEXT NOT NULL,
    worker TEXT NOT NULL,
    attempts TEXT NOT NULL,
    delivery_count INTEGER NOT NULL,
    enqueued REAL,
    started REAL,
    finished REAL,
    duration REAL,
    note TEXT NOT NULL,
    redelivered INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS tasks_by_scope ON tasks (scope, seq);
"""
_UPSERT = (
    f"INSERT INTO tasks ({', '.join(_FIELDS)}) VALUES ({', '.join('?' * len(_FIELDS))}) "
    "ON CONFLICT(task_id) DO UPDATE SET "
    + ", ".join(f"{name} = excluded.{name}" for name in _FIELDS[1:])
)
_FINAL_NAMES = tuple(state.name for state in TaskState if state.final)
_IN_QUEUE = (TaskState.QUEUED, TaskState.REDELIVERED, TaskState.RETRYING, TaskState.RUNNING)
_UNSENT = (TaskState.SENDING, TaskState.WAITING)


class Row(NamedTuple):
    """One task as stored (``state`` is a ``TaskState`` name, ``attempts`` comma-separated)."""

    task_id: str
    scope: str
    body: str
    state: str
    worker: str
    attempts: str
    delivery_count: int
    enqueued: float | None
    started: float | None
    finished: float | None
    duration: float | None
    note: str
    redelivered: int


def data_folder(environ: Mapping[str, str] | None = None) -> Path:
    """Kanin's data folder: ``$KANIN_DATA_DIR``, else the platform's user data folder."""
    env = os.environ if environ is None else environ
    override = env.get(DATA_ENV)
    return Path(override) if override else Path(platformdirs.user_data_dir("kanin"))


def scope_of(endpoints: Iterable[str], vhost: str, queue: str) -> str:
    """The key of a queue's tasks: ``host:port[,host:port] vhost queue`` (nodes in any order)."""
    return f"{','.join(sorted(endpoints))} {vhost} {queue}"


def row_of(record: TaskRecord, scope: str) -> Row:
    """A record's row (the GUI thread makes it; the writer thread stores it)."""
    return Row(
        record.task_id,
        scope,
        record.body,
        record.state.name,
        record.worker,
        ",".join(record.attempts),
        record.delivery_count,
        record.enqueued,
        record.started,
        record.finished,
        record.duration,
        record.note,
        int(record.redelivered),
    )


class EarlierRecord(TaskRecord):
    """A task kept from an earlier run: while queued it says so (*queued (from an earlier run)*)."""

    __slots__ = ()

    @property
    def state_text(self) -> str:
        """The state in words, *queued (from an earlier run)* until a worker takes it."""
        text = super().state_text
        if self.state is TaskState.QUEUED:
            text += " (from an earlier run)"
        return text


def restored(row: Row) -> TaskRecord:
    """A stored task as it stands when Kanin starts again.

    Final states stay. A task that was in the queue (queued, back in it, or
    running: its worker's connection closed, so the broker requeued it) is
    *queued (from an earlier run)*. A task the broker never confirmed was lost
    when Kanin quit: it failed.
    """
    try:
        state = TaskState[row.state]
    except KeyError:
        state = TaskState.QUEUED
    note = row.note
    if state is TaskState.RUNNING:
        note = f"Kanin stopped while {row.worker} ran it; the broker put it back in the queue."
    elif state in _UNSENT:
        state, note = TaskState.FAILED, "Not sent: Kanin quit before the broker confirmed it."
    if state in _IN_QUEUE:
        record: TaskRecord = EarlierRecord(row.task_id, row.body, TaskState.QUEUED, row.enqueued)
    else:
        record = TaskRecord(row.task_id, row.body, state, row.enqueued)
    record.worker = row.worker
    record.attempts = [name for name in row.attempts.split(",") if name]
    record.delivery_count = row.delivery_count
    record.started = row.started
    record.finished = row.finished
    record.duration = row.duration
    record.note = note
    record.redelivered = bool(row.redelivered)
    return record


def restore_into(ledger: Ledger, records: Iterable[TaskRecord]) -> None:
    """Add kept records to a ledger that nobody watches yet (shown at its next ``show_new()``)."""
    for record in records:
        # Ledger has no public way to add a whole record, and core/ledger.py is at
        # the house limit of 450 lines: its own bookkeeping call, before watch().
        ledger._add(record)


class LedgerStore:
    """The SQLite file of kept tasks (one writer at a time; a lock guards the connection).

    Args:
        path: the database file (its folder is made if missing).
        limit: rows kept, all scopes together.

    Raises:
        sqlite3.Error, OSError: the file cannot be opened or made.
    """

    def __init__(self, path: Path, *, limit: int = MAX_TASKS) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.limit = max(1, limit)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)

    @classmethod
    def in_data_folder(cls, environ: Mapping[str, str] | None = None) -> LedgerStore:
        """The store in Kanin's data folder (see ``data_folder``)."""
        return cls(data_folder(environ) / FILE_NAME)

    def load(self, scope: str) -> list[Row]:
        """The rows of a scope, oldest first."""
        with self._lock:
            cursor = self._db.execute(
                f"SELECT {', '.join(_FIELDS)} FROM tasks WHERE scope = ? ORDER BY seq", (scope,)
            )
            return [Row(*values) for values in cursor]

    def write(self, rows: Sequence[Row]) -> None:
        """Insert or update rows in one transaction, then drop the oldest beyond the limit."""
        if not rows:
            return
        with self._lock:
            db = self._db
            db.execute("BEGIN")
            try:
                db.executemany(_UPSERT, rows)
                newest = db.execute("SELECT MAX(seq) FROM tasks").fetchone()[0]
                if newest is not None and newest > self.limit:
                    db.execute("DELETE FROM tasks WHERE seq <= ?", (newest - self.limit,))
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise

    def forget_finished(self, scope: str) -> None:
        """Drop the scope's tasks in a final state (the table's Clear finished)."""
        marks = ", ".join("?" * len(_FINAL_NAMES))
        with self._lock:
            self._db.execute(
                f"DELETE FROM tasks WHERE scope = ? AND state IN ({marks})", (scope, *_FINAL_NAMES)
            )

    def count(self) -> int:
        """Rows in the file, all scopes."""
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM tasks").fetchone()[0])

    def close(self) -> None:
        """Close the file."""
        with self._lock:
            self._db.close()
