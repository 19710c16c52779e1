"""The task table panel: a filter by state, counts, and the table view over the task model."""

from __future__ import annotations

import time

from PySide6.QtCore import QTimer, Signal, Slot
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from desktop.task_model import Column, TaskFilterModel, TaskState, TaskTableModel

REFRESH_MS = 300
"""Counts and scroll position are refreshed this often at most (and after model flushes)."""
REPAINT_NOW_ROWS = 64
"""From this many rows changed in one model flush (a flood of tasks), the table repaints at once."""
FOLLOW_CONTEXT = 2
"""Finished rows kept visible above the oldest unfinished one when following."""

_COLUMN_SAMPLES = {
    Column.ID: "0123456789abcdef",
    Column.BODY: "Resize image 10 ....",
    Column.STATE: "running on W-10 (redelivered)",
    Column.WORKER: "W-10 (after W-9)",
    Column.DELIVERIES: "Deliveries",
    Column.ENQUEUED: "00:00:00.0",
    Column.STARTED: "00:00:00.0",
    Column.FINISHED: "00:00:00.0",
    Column.DURATION: "Duration",
}
"""Text that each column should show unclipped; widths follow the font."""


class TaskTablePanel(QWidget):
    """Shows every task with its state; a combo box filters by state.

    Args:
        model: the task model.
        parent: the parent widget.

    Signals:
        clear_requested(): forget done and failed tasks.
    """

    clear_requested = Signal()

    def __init__(self, model: TaskTableModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        # The proxy follows the model (a Python filterAcceptsRow per inserted or
        # changed row) only while a filter is chosen; otherwise it is detached.
        self.proxy = TaskFilterModel(model, self)
        self.proxy.detach()
        self.filter_box = QComboBox()
        self.filter_box.addItem("All tasks", None)
        for state in TaskState:
            self.filter_box.addItem(state.value.capitalize(), state)
        self.filter_box.setToolTip("Show only the tasks in one state")
        self.filter_box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.counts_label = QLabel()
        self.follow_box = QCheckBox("Follow the work")
        self.follow_box.setChecked(True)
        self.follow_box.setToolTip(
            "Keep the oldest unfinished task near the top; scrolling by hand turns it off"
        )
        self.clear_button = QPushButton("Clear finished")
        self.clear_button.setToolTip("Remove done and failed tasks from the table (Ctrl+L)")

        self.view = QTableView()
        # Showing every task, the view reads the model itself: a proxy in between
        # would turn each painted cell into several more Python calls (and would
        # not pass on multiData). The proxy is put in only while a filter is chosen.
        self.view.setModel(model)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setAlternatingRowColors(True)
        self.view.setWordWrap(False)
        self.view.setSortingEnabled(False)
        vertical = self.view.verticalHeader()
        vertical.setVisible(False)
        vertical.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        vertical.setDefaultSectionSize(self.fontMetrics().height() + 6)
        header = self.view.horizontalHeader()
        header.setHighlightSections(False)
        metrics = self.view.fontMetrics()
        for column, sample in _COLUMN_SAMPLES.items():
            self.view.setColumnWidth(column, metrics.horizontalAdvance(sample) + 14)
        header.setStretchLastSection(True)

        self.empty_label = QLabel(
            "No tasks yet. Write a task above (each '.' is one second of work) and press "
            "<b>Enqueue</b> or Ctrl+Return. Tasks show up at once as <i>sending</i>, then "
            "<i>queued</i> once the broker confirms them."
        )
        self.empty_label.setWordWrap(True)
        self.empty_label.setStyleSheet("color: palette(mid); padding: 4px;")

        top = QHBoxLayout()
        top.addWidget(QLabel("Show"))
        top.addWidget(self.filter_box)
        top.addWidget(self.counts_label, 1)
        top.addWidget(self.follow_box)
        top.addWidget(self.clear_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.empty_label)
        layout.addWidget(self.view, 1)

        self.filter_box.currentIndexChanged.connect(self._on_filter_changed)
        self.clear_button.clicked.connect(self.clear_requested)
        self.view.verticalScrollBar().actionTriggered.connect(self._on_scrolled_by_hand)
        self._timer = QTimer(self)
        self._timer.setInterval(REFRESH_MS)
        self._timer.timeout.connect(self.refresh)
        self._timer.start()
        self._refreshed = 0.0
        model.flushed.connect(self._on_model_flushed)
        self.refresh()

    def set_filter(self, state: TaskState | None) -> None:
        """Show only the tasks in ``state`` (``None``: all)."""
        index = self.filter_box.findData(state)
        self.filter_box.setCurrentIndex(max(0, index))

    @Slot(int)
    def _on_filter_changed(self, index: int) -> None:
        state = self.filter_box.itemData(index)
        if state is not None:
            self.proxy.attach()
        self.proxy.set_state(state)
        wanted = self.model if state is None else self.proxy
        if self.view.model() is not wanted:
            header = self.view.horizontalHeader().saveState()
            self.view.setModel(wanted)
            self.view.horizontalHeader().restoreState(header)
        if state is None:
            self.proxy.detach()

    @Slot(int)
    def _on_model_flushed(self, rows: int) -> None:
        # Scroll in the same event-loop turn as the model's changes, so that one
        # repaint of the table shows both (a repaint costs about 10 ms).
        if time.monotonic() - self._refreshed >= REFRESH_MS / 1000 * 0.8:
            self.refresh()
            self._timer.start()  # the next timed refresh REFRESH_MS from now
        if rows >= REPAINT_NOW_ROWS:
            # Painted later by the event loop, each visible cell would be a call from
            # C++ into Python that must win the GIL back from the worker threads
            # (about 250 cells): painted now, the GIL is held throughout.
            self.view.viewport().repaint()

    @Slot()
    def refresh(self) -> None:
        """Update the counts and, when following, the scroll position (a 300 ms timer calls it)."""
        self._refreshed = time.monotonic()
        counts = self.model.counts()
        total = len(self.model)
        self.empty_label.setVisible(total == 0)
        parts = [f"{counts[s]} {s.value}" for s in TaskState if counts[s]]
        self.counts_label.setText(
            f"   {total} task{'s' if total != 1 else ''}"
            + (": " + ", ".join(parts) if parts else "")
        )
        self.clear_button.setEnabled(any(counts[s] for s in TaskState if s.final))
        if self.follow_box.isChecked():
            self.follow()

    def follow(self) -> None:
        """Scroll so that the oldest unfinished task is near the top (two rows of context)."""
        position = self.model.first_unfinished()
        if position >= self.model.rowCount():
            position = self.model.rowCount() - 1
        if position < 0:
            return
        position = max(0, position - FOLLOW_CONTEXT)
        index = self.model.index(position, 0)
        if self.view.model() is self.proxy:
            index = self.proxy.mapFromSource(index)
        if index.isValid():
            self.view.scrollTo(index, QAbstractItemView.ScrollHint.PositionAtTop)

    @Slot(int)
    def _on_scrolled_by_hand(self, _action: int) -> None:
        self.follow_box.setChecked(False)
