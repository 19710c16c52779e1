"""The task table's Qt model: a thin adapter over the task ledger, and the state filter.

The ledger (``core.ledger``) holds the records and their transitions; this
module adds what Qt needs: columns, roles, colours, and the batched
announcements (one ``beginInsertRows`` per batch, changed rows in a few
``dataChanged`` ranges per flush), so the view repaints at the GUI timer's
pace rather than at the workers' pace.
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

from core.ledger import Ledger, TaskRecord, TaskState
from core.tasks import Task

__all__ = ["Column", "TaskFilterModel", "TaskState", "TaskTableModel"]

_Index = QModelIndex | QPersistentModelIndex
_MAX_RANGES = 32

_STATE_COLORS = {
    TaskState.SENDING: QColor("#8a8f98"),
    TaskState.WAITING: QColor("#a15c00"),
    TaskState.QUEUED: QColor("#3b6fb6"),
    TaskState.DELIVERED: QColor("#00838f"),
    TaskState.RUNNING: QColor("#c77700"),
    TaskState.REDELIVERED: QColor("#b03a8c"),
    TaskState.RETRYING: QColor("#d84315"),
    TaskState.DONE: QColor("#2e7d32"),
    TaskState.FAILED: QColor("#c62828"),
    TaskState.DEAD_LETTERED: QColor("#6a1b9a"),
    TaskState.LOST: QColor("#b71c1c"),
    TaskState.PURGED: QColor("#5d6470"),
}


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
    """The task ledger as a table, one row per task, in the order Kanin first saw them.

    Changes are made on ``ledger`` (the router does); ``flush()`` tells the
    views, in a few ranges. Everything runs in the GUI thread.

    Args:
        parent: the owning QObject.
        ledger: the ledger to show (a new, empty one by default).

    Attributes:
        ledger: the task ledger.

    Signals:
        flushed(int): ``flush()`` announced this many inserted or changed rows
            (views may scroll now, so that one repaint shows both).
    """

    flushed = Signal(int)

    def __init__(self, parent: QObject | None = None, ledger: Ledger | None = None) -> None:
        super().__init__(parent)
        self.ledger = ledger if ledger is not None else Ledger()
        self._rows = self.ledger.records  # the same list for the ledger's whole life

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

    def _value(self, row: TaskRecord, column: int, role: int) -> Any:
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
    def _text(row: TaskRecord, column: int) -> str:
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

    def row_at(self, position: int) -> TaskRecord:
        """The row at a source position."""
        return self._rows[position]

    def get(self, task_id: str) -> TaskRecord | None:
        """The row of a task, if it is known (rows not announced yet included)."""
        return self.ledger.get(task_id)

    def first_unfinished(self) -> int:
        """The position of the oldest task that is not in a final state (or the row count)."""
        return self.ledger.first_unfinished()

    def counts(self) -> dict[TaskState, int]:
        """How many tasks are in each state."""
        return self.ledger.counts()

    def __len__(self) -> int:
        return len(self.ledger)

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
        self.ledger.add_tasks(tasks, enqueued=enqueued)
        if flush:
            self.flush()

    def flush(self) -> None:
        """Insert the ledger's new rows in one batch and announce changed rows in a few ranges."""
        ledger = self.ledger
        rows = ledger.unshown + ledger.changed
        if rows:
            self._announce()
            self.flushed.emit(rows)

    def _announce(self) -> None:
        ledger = self.ledger
        new = ledger.unshown
        if new:
            first = len(self._rows)
            self.beginInsertRows(QModelIndex(), first, first + new - 1)
            ledger.show_new()
            self.endInsertRows()
        changed = ledger.take_changed()
        if not changed:
            return
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
        counts = self.ledger.counts()
        if not any(counts[state] for state in TaskState if state.final):
            return 0
        self.beginResetModel()
        removed = self.ledger.clear_finished()
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
