"""The task table's model: one row per task, fast with 100,000 rows.

Rows live in a list and are found by task id through a dict; inserts are
batched (one ``beginInsertRows`` per batch) and changes are collected and
announced with a few ``dataChanged`` ranges per flush, so the view repaints at
the GUI timer's pace rather than at the workers' pace.
"""

from __future__ import annotations

import enum
import time
from collections.abc import Iterable, Sequence
from typing import Any, cast

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QModelRoleData,
    QModelRoleDataSpan,
    QObject,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
    Signal,
)
from PySide6.QtGui import QBrush, QColor

from core.tasks import Delivery, Task, preview

_Index = QModelIndex | QPersistentModelIndex
_MAX_RANGES = 32


class TaskState(enum.Enum):
    """Where a task is in its life, as the table shows it."""

    SENDING = "sending"
    WAITING = "waiting for broker"
    QUEUED = "queued"
    RUNNING = "running"
    REDELIVERED = "redelivered"
    RETRYING = "failed, retrying"
    DONE = "done"
    FAILED = "failed"
    DEAD_LETTERED = "dead-lettered"

    @property
    def final(self) -> bool:
        """True for states a task does not leave (done, failed, dead-lettered)."""
        return self in (TaskState.DONE, TaskState.FAILED, TaskState.DEAD_LETTERED)


_STATE_COLORS = {
    TaskState.SENDING: QColor("#8a8f98"),
    TaskState.WAITING: QColor("#a15c00"),
    TaskState.QUEUED: QColor("#3b6fb6"),
    TaskState.RUNNING: QColor("#c77700"),
    TaskState.REDELIVERED: QColor("#b03a8c"),
    TaskState.RETRYING: QColor("#d84315"),
    TaskState.DONE: QColor("#2e7d32"),
    TaskState.FAILED: QColor("#c62828"),
    TaskState.DEAD_LETTERED: QColor("#6a1b9a"),
}


class TaskRow:
    """One task as the table knows it (GUI thread only).

    Attributes:
        task_id: the task's id (``message_id``, or ``ext-...`` for other producers' tasks).
        body: a printable preview of the body (made when first read).
        state: where the task is.
        worker: the worker running it or that ran it last.
        attempts: every worker that took it, in order.
        delivery_count: deliveries so far (from the broker when it counts them).
        enqueued: wall-clock time it was created, if known.
        started: wall-clock time the last delivery started.
        finished: wall-clock time it was acknowledged.
        duration: seconds of work of the successful delivery.
        note: why it failed or came back.
        redelivered: True once it has been given back to the queue at least once.
        row: the row's position in the model.
    """

    __slots__ = (
        "task_id",
        "_body",
        "_raw",
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
        "row",
    )

    def __init__(
        self, task_id: str, body: str | bytes, state: TaskState, enqueued: float | None
    ) -> None:
        self.task_id = task_id
        # Raw bytes (another producer's task) are previewed when first shown, not
        # for every delivery that flies past in a flood of zero-second tasks.
        self._body = body if isinstance(body, str) else ""
        self._raw = body if isinstance(body, bytes) else None
        self.state = state
        self.worker = ""
        self.attempts: list[str] = []
        self.delivery_count = 0
        self.enqueued = enqueued
        self.started: float | None = None
        self.finished: float | None = None
        self.duration: float | None = None
        self.note = ""
        self.redelivered = False
        self.row = -1

    @property
    def body(self) -> str:
        """A printable preview of the body."""
        if self._raw is not None:
            self._body = preview(self._raw)
            self._raw = None
        return self._body

    @property
    def state_text(self) -> str:
        """The state column's text, e.g. ``running on W-2`` or ``done (redelivered)``."""
        if self.state is TaskState.RUNNING:
            text = f"running on {self.worker}"
        elif self.state is TaskState.RETRYING and self.delivery_count:
            text = f"failed (delivery {self.delivery_count}), retrying"
        elif self.state is TaskState.DEAD_LETTERED and self.delivery_count:
            text = f"dead-lettered after {self.delivery_count} deliveries"
        else:
            text = str(self.state.value)
        if self.redelivered and self.state in (TaskState.RUNNING, TaskState.DONE):
            text += " (redelivered)"
        return text

    def matches(self, state: TaskState | None) -> bool:
        """True when the row belongs under the state filter (``None``: every row)."""
        if state is None:
            return True
        if state is TaskState.REDELIVERED:
            return self.redelivered or self.state is TaskState.REDELIVERED
        return self.state is state


class Column(enum.IntEnum):
    """The table's columns."""

    ID = 0
    BODY = 1
    STATE = 2
    WORKER = 3
    DELIVERIES = 4
    ENQUEUED = 5
    STARTED = 6
    FINISHED = 7
    DURATION = 8


_HEADERS = {
    Column.ID: "Id",
    Column.BODY: "Body",
    Column.STATE: "State",
    Column.WORKER: "Worker",
    Column.DELIVERIES: "Deliveries",
    Column.ENQUEUED: "Enqueued",
    Column.STARTED: "Started",
    Column.FINISHED: "Finished",
    Column.DURATION: "Duration",
}
_COLUMN_COUNT = len(Column)
_DISPLAY = Qt.ItemDataRole.DisplayRole.value
_FOREGROUND = Qt.ItemDataRole.ForegroundRole.value
_TOOLTIP = Qt.ItemDataRole.ToolTipRole.value
_ALIGNMENT = Qt.ItemDataRole.TextAlignmentRole.value
_RIGHT = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
_RIGHT_ALIGNED = frozenset((Column.DELIVERIES.value, Column.DURATION.value))
_STATE_COLUMN = Column.STATE.value
_brushes: dict[TaskState, QBrush] = {}


def _brush(state: TaskState) -> QBrush:
    """The state column's brush (made once per state, after the QApplication exists)."""
    brush = _brushes.get(state)
    if brush is None:
        brush = _brushes[state] = QBrush(_STATE_COLORS[state])
    return brush


def _clock_text(value: float | None) -> str:
    if value is None:
        return ""
    return time.strftime("%H:%M:%S", time.localtime(value)) + f".{int(value % 1 * 10)}"


class TaskTableModel(QAbstractTableModel):
    """Every task Kanin has seen, in the order it first saw them.

    The ``mark_*`` methods record changes; ``flush()`` tells the views, in a
    few ranges. Everything runs in the GUI thread.

    Args:
        parent: the owning QObject.

    Signals:
        flushed(int): ``flush()`` announced this many inserted or changed rows
            (views may scroll now, so that one repaint shows both).
    """

    flushed = Signal(int)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._rows: list[TaskRow] = []
        self._by_id: dict[str, TaskRow] = {}
        self._new: list[TaskRow] = []
        self._changed: set[int] = set()
        self._counts: dict[TaskState, int] = dict.fromkeys(TaskState, 0)
        self._frontier = 0

    # ----------------------------------------------------------------- Qt model API

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008, N802
        """Rows shown (tasks), zero under a valid parent."""
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008, N802
        """The number of columns."""
        return 0 if parent.isValid() else _COLUMN_COUNT

    def headerData(  # noqa: N802
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        """Column titles."""
        if orientation is Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return _HEADERS[Column(section)]
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        """The text, colour or tooltip of one cell."""
        if not index.isValid():
            return None
        return self._value(self._rows[index.row()], index.column(), int(role))

    def multiData(  # noqa: N802
        self,
        index: _Index,
        roleDataSpan: QModelRoleDataSpan | QModelRoleData,  # noqa: N803
    ) -> None:
        """Every role a delegate asks for one cell, in one call.

        Qt's item delegates ask for about seven roles per painted cell; each
        ``data()`` call from C++ must take the GIL from busy worker threads, so
        answering them all in one Python call keeps repaints cheap.
        """
        items = (
            (roleDataSpan,)
            if isinstance(roleDataSpan, QModelRoleData)
            else cast("Iterable[QModelRoleData]", roleDataSpan)  # a sequence at run time
        )
        if not index.isValid():
            for item in items:
                item.clearData()
            return
        row = self._rows[index.row()]
        column = index.column()
        for item in items:
            role = item.role()
            if role == _DISPLAY:
                item.setData(self._text(row, column))
            elif role == _FOREGROUND and column == _STATE_COLUMN:
                item.setData(_brush(row.state))
            elif role == _ALIGNMENT and column in _RIGHT_ALIGNED:
                item.setData(_RIGHT)
            elif role == _TOOLTIP:
                value = self._value(row, column, role)
                if value is None:
                    item.clearData()
                else:
                    item.setData(value)
            else:
                item.clearData()

    def _value(self, row: TaskRow, column: int, role: int) -> Any:
        if role == _DISPLAY:
            return self._text(row, column)
        if role == _FOREGROUND:
            return _brush(row.state) if column == _STATE_COLUMN else None
        if role == _ALIGNMENT:
            return _RIGHT if column in _RIGHT_ALIGNED else None
        if role == _TOOLTIP:
            if row.note:
                return row.note
            if column == Column.WORKER and len(row.attempts) > 1:
                return "Taken by " + " then ".join(row.attempts)
        return None

    @staticmethod
    def _text(row: TaskRow, column: int) -> str:
        if column == Column.ID:
            return row.task_id
        if column == Column.BODY:
            return row.body
        if column == Column.STATE:
            return row.state_text
        if column == Column.WORKER:
            if len(row.attempts) > 1:
                return f"{row.worker} (after {', '.join(row.attempts[:-1])})"
            return row.worker
        if column == Column.DELIVERIES:
            return str(row.delivery_count) if row.delivery_count else ""
        if column == Column.ENQUEUED:
            return _clock_text(row.enqueued)
        if column == Column.STARTED:
            return _clock_text(row.started)
        if column == Column.FINISHED:
            return _clock_text(row.finished)
        if column == Column.DURATION:
            return f"{row.duration:.1f} s" if row.duration is not None else ""
        return ""

    # ----------------------------------------------------------------- queries

    def row_at(self, position: int) -> TaskRow:
        """The row at a source position."""
        return self._rows[position]

    def get(self, task_id: str) -> TaskRow | None:
        """The row of a task, if it is known (pending inserts included)."""
        return self._by_id.get(task_id)

    def first_unfinished(self) -> int:
        """The position of the oldest task that is neither done nor failed (or the row count).

        Amortised O(1): the search resumes where the last one stopped, since
        done and failed rows rarely change again.
        """
        rows = self._rows
        position = min(self._frontier, len(rows))
        while position < len(rows) and rows[position].state.final:
            position += 1
        self._frontier = position
        return position

    def counts(self) -> dict[TaskState, int]:
        """How many tasks are in each state."""
        return dict(self._counts)

    def __len__(self) -> int:
        return len(self._rows) + len(self._new)

    # ----------------------------------------------------------------- changes

    def add_tasks(
        self, tasks: Sequence[Task], *, enqueued: float | None = None, flush: bool = True
    ) -> None:
        """Add Kanin's own tasks as *sending*, in one insert (flushed at once by default).

        Args:
            tasks: the new tasks.
            enqueued: the time to show; defaults to each task's creation time.
            flush: tell the views now; False leaves it to the next ``flush()``
                (a big enqueue adds rows in chunks and lets the GUI timer show them).
        """
        previews: dict[bytes, str] = {}  # a batch is often N copies of one text
        for task in tasks:
            text = previews.get(task.body)
            if text is None:
                text = previews[task.body] = task.preview
            row = TaskRow(
                task.id,
                text,
                TaskState.SENDING,
                task.created if enqueued is None else enqueued,
            )
            self._add(row)
        if flush:
            self.flush()

    def _add(self, row: TaskRow) -> None:
        if row.task_id in self._by_id:
            return
        self._by_id[row.task_id] = row
        self._new.append(row)
        self._counts[row.state] += 1

    def _set_state(self, row: TaskRow, state: TaskState) -> None:
        self._counts[row.state] -= 1
        self._counts[state] += 1
        row.state = state
        if row.row >= 0:
            self._changed.add(row.row)
            if row.row < self._frontier and not state.final:
                self._frontier = row.row

    def _touch(self, row: TaskRow) -> None:
        if row.row >= 0:
            self._changed.add(row.row)

    def mark_confirmed(self, task_ids: Iterable[str]) -> None:
        """The broker confirmed these tasks: *sending* (or *waiting*) becomes *queued*."""
        for task_id in task_ids:
            row = self._by_id.get(task_id)
            if row is not None and row.state in (TaskState.SENDING, TaskState.WAITING):
                self._set_state(row, TaskState.QUEUED)

    def mark_waiting(self, task_ids: Iterable[str]) -> None:
        """The broker is away: these unconfirmed tasks wait to be published once it is back."""
        for task_id in task_ids:
            row = self._by_id.get(task_id)
            if row is not None and row.state is TaskState.SENDING:
                self._set_state(row, TaskState.WAITING)

    def mark_published(self, task_ids: Iterable[str]) -> None:
        """The producer handed these tasks to the broker: *waiting* becomes *sending*."""
        for task_id in task_ids:
            row = self._by_id.get(task_id)
            if row is not None and row.state is TaskState.WAITING:
                self._set_state(row, TaskState.SENDING)

    def mark_rejected(self, task_ids: Iterable[str], reason: str) -> None:
        """The broker refused these tasks, or they could not be sent."""
        for task_id in task_ids:
            row = self._by_id.get(task_id)
            if row is not None and row.state in (
                TaskState.SENDING,
                TaskState.WAITING,
                TaskState.QUEUED,
            ):
                row.note = reason
                self._set_state(row, TaskState.FAILED)

    def mark_started(self, worker: str, delivery: Delivery, at: float) -> None:
        """A worker took a task; unknown tasks (other producers') are added here."""
        row = self._by_id.get(delivery.task_id)
        if row is None:
            row = TaskRow(delivery.task_id, delivery.body, TaskState.QUEUED, delivery.created)
            if delivery.foreign:
                row.note = "Published by another producer."
            self._add(row)
        if delivery.redelivered:
            row.redelivered = True
        row.worker = worker
        row.attempts.append(worker)
        row.delivery_count = delivery.delivery_count or max(row.delivery_count + 1, 2)
        row.started = at
        row.finished = None
        row.duration = None
        self._set_state(row, TaskState.RUNNING)

    def mark_finished(self, worker: str, task_id: str, duration: float, at: float) -> None:
        """A worker acknowledged a task."""
        row = self._by_id.get(task_id)
        if row is None:
            return
        row.worker = worker
        row.finished = at
        row.duration = duration
        self._set_state(row, TaskState.DONE)

    def mark_returned(self, task_id: str, reason: str) -> None:
        """A task went back to the queue unfinished: it will be redelivered."""
        row = self._by_id.get(task_id)
        if row is None or row.state is not TaskState.RUNNING:
            return
        row.redelivered = True
        row.note = reason
        self._set_state(row, TaskState.REDELIVERED)

    def mark_lost(self, task_id: str, reason: str) -> None:
        """A task died with its worker and will not come back (auto-ack)."""
        row = self._by_id.get(task_id)
        if row is None or row.state is not TaskState.RUNNING:
            return
        row.note = reason
        self._set_state(row, TaskState.FAILED)

    def mark_failed(
        self,
        task_id: str,
        error: str,
        requeued: bool,
        *,
        attempt: int | None = None,
        dead_lettered: bool = False,
    ) -> None:
        """The work raised: a requeued task is *failed, retrying*, else failed or dead-lettered.

        Args:
            task_id: the task.
            error: what the work raised.
            requeued: the task went back to the queue and will come back.
            attempt: which delivery failed, when the broker (or Kanin) counted it.
            dead_lettered: not requeued, but routed to the dead-letter queue.
        """
        row = self._by_id.get(task_id)
        if row is None:
            return
        if attempt:
            row.delivery_count = attempt
        if requeued:
            row.note = f"{error} (back in the queue)"
            row.redelivered = True
            self._set_state(row, TaskState.RETRYING)
        elif dead_lettered:
            row.note = f"{error} (moved to the dead-letter queue)"
            self._set_state(row, TaskState.DEAD_LETTERED)
        else:
            row.note = f"{error} (not requeued)"
            self._set_state(row, TaskState.FAILED)

    def flush(self) -> None:
        """Insert pending rows in one batch and announce changed rows in a few ranges."""
        if self._new or self._changed:
            rows = len(self._new) + len(self._changed)
            self._announce()
            self.flushed.emit(rows)

    def _announce(self) -> None:
        if self._new:
            first = len(self._rows)
            last = first + len(self._new) - 1
            self.beginInsertRows(QModelIndex(), first, last)
            for offset, row in enumerate(self._new):
                row.row = first + offset
            self._rows.extend(self._new)
            self._new = []
            self.endInsertRows()
        if not self._changed:
            return
        changed = sorted(self._changed)
        self._changed.clear()
        ranges: list[tuple[int, int]] = []
        start = end = changed[0]
        for position in changed[1:]:
            if position == end + 1:
                end = position
            else:
                ranges.append((start, end))
                start = end = position
        ranges.append((start, end))
        if len(ranges) > _MAX_RANGES:
            ranges = [(changed[0], changed[-1])]
        last_column = len(Column) - 1
        for first_row, last_row in ranges:
            self.dataChanged.emit(self.index(first_row, 0), self.index(last_row, last_column))

    def clear_finished(self) -> int:
        """Forget done, failed and dead-lettered tasks; returns how many rows went away."""
        self.flush()
        keep = [r for r in self._rows if not r.state.final]
        removed = len(self._rows) - len(keep)
        if not removed:
            return 0
        self.beginResetModel()
        self._frontier = 0
        self._rows = keep
        self._by_id = {r.task_id: r for r in keep}
        for position, row in enumerate(keep):
            row.row = position
        self._counts = dict.fromkeys(TaskState, 0)
        for row in keep:
            self._counts[row.state] += 1
        self.endResetModel()
        return removed


class TaskFilterModel(QSortFilterProxyModel):
    """Shows the rows of one state (or all), without calling ``data()`` per row.

    Args:
        source: the task model.
        parent: the owning QObject.
    """

    def __init__(self, source: TaskTableModel, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._source = source
        self._state: TaskState | None = None
        self.setSourceModel(source)
        self.setDynamicSortFilter(True)

    @property
    def state(self) -> TaskState | None:
        """The state shown, or ``None`` for every task."""
        return self._state

    @property
    def attached(self) -> bool:
        """True while the proxy follows the task model."""
        return self.sourceModel() is not None

    def attach(self) -> None:
        """Follow the task model again (after ``detach()``)."""
        if not self.attached:
            self.setSourceModel(self._source)

    def detach(self) -> None:
        """Stop following the task model: no Python filter call per inserted or changed row."""
        if self.attached:
            self.setSourceModel(None)  # type: ignore[arg-type]  # Qt takes nullptr; the stub not

    def set_state(self, state: TaskState | None) -> None:
        """Show only the tasks in ``state`` (``None``: all)."""
        if state is self._state:
            return
        self.beginFilterChange()
        self._state = state
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def filterAcceptsRow(self, source_row: int, source_parent: _Index) -> bool:  # noqa: N802
        """True when the row is in the chosen state."""
        if self._state is None:
            return True
        return self._source.row_at(source_row).matches(self._state)
