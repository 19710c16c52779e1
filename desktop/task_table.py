"""The task table panel: a filter by state, counts, and the table view over the task model."""

from __future__ import annotations

from PySide6.QtCore import QTimer, Signal, Slot
from PySide6.QtWidgets import (
    QAbstractItemView,
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

_COLUMN_WIDTHS = {
    Column.ID: 128,
    Column.BODY: 140,
    Column.STATE: 175,
    Column.WORKER: 120,
    Column.DELIVERIES: 64,
    Column.ENQUEUED: 80,
    Column.STARTED: 80,
    Column.FINISHED: 80,
    Column.DURATION: 70,
}


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
        self.proxy = TaskFilterModel(model, self)
        self.filter_box = QComboBox()
        self.filter_box.addItem("All tasks", None)
        for state in TaskState:
            self.filter_box.addItem(state.value.capitalize(), state)
        self.filter_box.setToolTip("Show only the tasks in one state")
        self.filter_box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.counts_label = QLabel()
        self.clear_button = QPushButton("Clear finished")
        self.clear_button.setToolTip("Remove done and failed tasks from the table (Ctrl+L)")

        self.view = QTableView()
        self.view.setModel(self.proxy)
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
        for column, width in _COLUMN_WIDTHS.items():
            self.view.setColumnWidth(column, width)
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
        top.addWidget(self.clear_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.empty_label)
        layout.addWidget(self.view, 1)

        self.filter_box.currentIndexChanged.connect(self._on_filter_changed)
        self.clear_button.clicked.connect(self.clear_requested)
        self._timer = QTimer(self)
        self._timer.setInterval(300)
        self._timer.timeout.connect(self._on_timeout)
        self._timer.start()
        self._on_timeout()

    def set_filter(self, state: TaskState | None) -> None:
        """Show only the tasks in ``state`` (``None``: all)."""
        index = self.filter_box.findData(state)
        self.filter_box.setCurrentIndex(max(0, index))

    @Slot(int)
    def _on_filter_changed(self, index: int) -> None:
        self.proxy.set_state(self.filter_box.itemData(index))

    @Slot()
    def _on_timeout(self) -> None:
        counts = self.model.counts()
        total = len(self.model)
        self.empty_label.setVisible(total == 0)
        parts = [f"{counts[s]} {s.value}" for s in TaskState if counts[s]]
        self.counts_label.setText(
            f"   {total} task{'s' if total != 1 else ''}"
            + (": " + ", ".join(parts) if parts else "")
        )
        self.clear_button.setEnabled(bool(counts[TaskState.DONE] or counts[TaskState.FAILED]))
