"""The task composer: a task text in the tutorial's format, a count, and mixed batches.

What cannot be sent is said next to the field the user typed it in, before
sending: an empty text (the button is disabled), a count above ``MAX_TASKS``
(the button is disabled and the limit stated). Nothing is changed silently.
"""

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

from desktop.hints import hint_style
from desktop.labels import ElidedLabel

MAX_TASKS = 100_000
"""The most tasks one click enqueues (the table keeps a row for each)."""
_TYPED_MAX = 9_999_999
"""The count boxes accept this much, so that a bigger count is seen and refused, not cut."""
_PROBLEM_STYLE = "color: #b42318;"
"""A problem's colour: 5.4:1 on the window's grey (WCAG AA asks 4.5:1)."""


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
        self.count_box = _count_box(
            1, f"How many copies to enqueue (at most {MAX_TASKS:,} at once)"
        )
        self.count_box.setPrefix("× ")
        self.enqueue_button = QPushButton("Enqueue")
        self.enqueue_button.setDefault(True)
        self.enqueue_button.setToolTip("Publish the task with a confirm (Ctrl+Return)")
        self.task_note = ElidedLabel(minimum_chars=24)
        """Under the task: its seconds of work, or why it cannot be sent (always one line)."""
        self.seconds_label = self.task_note
        self.pending_label = QLabel()
        self.pending_label.setWordWrap(True)
        self.pending_label.setStyleSheet("color: #8a4f00;")
        self.pending_label.hide()

        self.mixed_count = _count_box(10, f"How many tasks (at most {MAX_TASKS:,} at once)")
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
        self.mixed_note = ElidedLabel(minimum_chars=24)
        """Under the mixed batch: what it makes, or why it cannot be sent."""

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
        form.addRow("", self.task_note)
        form.addRow("Mixed", mixed)
        form.addRow("", self.mixed_note)
        form.addRow("", self.pending_label)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(form)

        self.enqueue_button.clicked.connect(self.request_enqueue)
        self.text_edit.returnPressed.connect(self.request_enqueue)
        self.text_edit.textChanged.connect(self._on_changed)
        self.mixed_button.clicked.connect(self.request_mixed)
        for box in (self.count_box, self.mixed_count, self.mixed_min, self.mixed_max):
            box.valueChanged.connect(self._on_changed)
        self._on_changed()

    @property
    def problem(self) -> str:
        """Why the task cannot be enqueued as composed ("" when it can)."""
        if not self.text_edit.text():
            return "Write a task first: an empty text cannot be enqueued."
        return _too_many(self.count_box.value())

    @property
    def mixed_problem(self) -> str:
        """Why the mixed batch cannot be enqueued as composed ("" when it can)."""
        return _too_many(self.mixed_count.value())

    @Slot()
    def _on_changed(self) -> None:
        seconds = self.text_edit.text().count(".")
        low, high = sorted((self.mixed_min.value(), self.mixed_max.value()))
        for problem, note, button, text in (
            (
                self.problem,
                self.task_note,
                self.enqueue_button,
                f"{seconds} second{'s' if seconds != 1 else ''} of work per task",
            ),
            (
                self.mixed_problem,
                self.mixed_note,
                self.mixed_button,
                f"{low} to {high} seconds of work each, at random",
            ),
        ):
            note.setText(problem or text)
            note.setStyleSheet(_PROBLEM_STYLE if problem else hint_style())
            button.setEnabled(not problem)

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
        """Ask for the composed task (the Enqueue button, Return, Ctrl+Return).

        Nothing is asked while the field says why it cannot be sent.
        """
        if self.problem:
            return
        self.enqueue_requested.emit(self.text_edit.text(), self.count_box.value())

    @Slot()
    def request_mixed(self) -> None:
        """Ask for a mixed batch (its button, Ctrl+Shift+Return), unless its count is refused."""
        if self.mixed_problem:
            return
        self.mixed_requested.emit(
            self.mixed_count.value(), self.mixed_min.value(), self.mixed_max.value()
        )


def _too_many(count: int) -> str:
    if count <= MAX_TASKS:
        return ""
    return f"At most {MAX_TASKS:,} tasks at once: lower the count ({count:,})."


def _count_box(value: int, tip: str) -> QSpinBox:
    box = QSpinBox()
    box.setRange(1, _TYPED_MAX)
    box.setValue(value)
    box.setGroupSeparatorShown(True)
    box.setToolTip(tip)
    return box
