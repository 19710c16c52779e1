"""The task composer: a task text in the tutorial's format, a count, and mixed batches."""

from __future__ import annotations

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import (
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)


class TaskComposer(QWidget):
    """Write a task (each ``.`` is a second of work) and enqueue it, or a mixed batch.

    Args:
        parent: the parent widget.

    Signals:
        enqueue_requested(str, int): enqueue this text this many times.
        mixed_requested(int, int, int): enqueue N tasks of a random number of dots
            (count, fewest dots, most dots).
    """

    enqueue_requested = Signal(str, int)
    mixed_requested = Signal(int, int, int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.text_edit = QLineEdit("Hello World...")
        self.text_edit.setPlaceholderText("Task text: each '.' is one second of work")
        self.text_edit.setClearButtonEnabled(True)
        self.text_edit.setToolTip(
            "Each '.' in the text is one second of work (as in the tutorial); a task "
            "containing the word 'poison' fails, to show retries and the dead-letter queue"
        )
        self.count_box = QSpinBox()
        self.count_box.setRange(1, 100_000)
        self.count_box.setValue(1)
        self.count_box.setPrefix("× ")
        self.count_box.setToolTip("How many copies to enqueue")
        self.enqueue_button = QPushButton("Enqueue")
        self.enqueue_button.setDefault(True)
        self.enqueue_button.setToolTip("Publish the task with a confirm (Ctrl+Return)")
        self.seconds_label = QLabel()
        self.seconds_label.setStyleSheet("color: palette(mid);")
        self.pending_label = QLabel()
        self.pending_label.setWordWrap(True)
        self.pending_label.setStyleSheet("color: #a15c00;")
        self.pending_label.hide()

        self.mixed_count = QSpinBox()
        self.mixed_count.setRange(1, 100_000)
        self.mixed_count.setValue(10)
        self.mixed_min = QSpinBox()
        self.mixed_min.setRange(0, 60)
        self.mixed_min.setValue(0)
        self.mixed_max = QSpinBox()
        self.mixed_max.setRange(0, 60)
        self.mixed_max.setValue(5)
        self.mixed_button = QPushButton("Enqueue mixed batch")
        self.mixed_button.setToolTip(
            "Tasks of random lengths, from the fewest to the most dots (Ctrl+Shift+Return)"
        )

        row = QHBoxLayout()
        row.addWidget(self.text_edit, 1)
        row.addWidget(self.count_box)
        row.addWidget(self.enqueue_button)
        mixed = QHBoxLayout()
        mixed.addWidget(self.mixed_count)
        mixed.addWidget(QLabel("tasks of"))
        mixed.addWidget(self.mixed_min)
        mixed.addWidget(QLabel("to"))
        mixed.addWidget(self.mixed_max)
        mixed.addWidget(QLabel("s"))
        mixed.addStretch(1)
        mixed.addWidget(self.mixed_button)

        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.addRow("Task", row)
        form.addRow("", self.seconds_label)
        form.addRow("Mixed", mixed)
        form.addRow("", self.pending_label)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(form)

        self.enqueue_button.clicked.connect(self.request_enqueue)
        self.text_edit.returnPressed.connect(self.request_enqueue)
        self.text_edit.textChanged.connect(self._on_text_changed)
        self.mixed_button.clicked.connect(self.request_mixed)
        self._on_text_changed(self.text_edit.text())

    @Slot(str)
    def _on_text_changed(self, text: str) -> None:
        seconds = text.count(".")
        self.seconds_label.setText(
            f"{seconds} second{'s' if seconds != 1 else ''} of work per task"
        )

    def set_pending(self, count: int) -> None:
        """Say how many tasks wait for the broker (hidden at zero).

        Args:
            count: tasks enqueued or unconfirmed while the broker is away.
        """
        noun = "task waits" if count == 1 else "tasks wait"
        self.pending_label.setText(
            f"{count} {noun} for the broker: published with confirms once it is back."
        )
        self.pending_label.setVisible(count > 0)

    @Slot()
    def request_enqueue(self) -> None:
        """Ask for the composed task (the Enqueue button, Return, Ctrl+Return)."""
        self.enqueue_requested.emit(self.text_edit.text(), self.count_box.value())

    @Slot()
    def request_mixed(self) -> None:
        """Ask for a mixed batch (its button, Ctrl+Shift+Return)."""
        self.mixed_requested.emit(
            self.mixed_count.value(), self.mixed_min.value(), self.mixed_max.value()
        )
