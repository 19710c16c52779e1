"""The workers panel: buttons to add, kill and stop workers, and one card per worker.

Cards are refreshed from ``Controller.workers_updated`` (a copy of
``pool.snapshot()`` about ten times a second); a card paints itself, and only
when a value changed, so idle workers cost nothing to repaint.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QRectF, Qt, Signal, Slot
from PySide6.QtGui import QColor, QFont, QMouseEvent, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from core.events import WorkerState
from core.status import WorkerStatus
from desktop.card_grid import CardGrid
from desktop.consumer_mode import card_line, empty_hint
from desktop.hints import explain, hint_color
from desktop.labels import ElidedLabel

CARD_WIDTH = 172
"""A card's narrowest width at the default font (cards widen to share a row's width)."""
NEW_CARDS_PER_UPDATE = 32
"""Cards made per update at most (2.5 ms for 32 here), so that adding 64 workers does
not make one long GUI turn: Qt's widget constructors release the GIL to busy workers."""
_PAD_X = 9
_PAD_Y = 7
_GAP = 4
_LEFT = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
_RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
_CENTER = Qt.AlignmentFlag.AlignCenter

_STATE_STYLE = {
    WorkerState.CONNECTING: ("#6b7280", "connecting"),
    WorkerState.IDLE: ("#2e7d32", "idle"),
    WorkerState.BUSY: ("#9a5800", "busy"),
    WorkerState.RECONNECTING: ("#8e24aa", "reconnecting"),
    WorkerState.STOPPING: ("#6b7280", "stopping"),
    WorkerState.STOPPED: ("#6b7280", "stopped"),
    WorkerState.KILLED: ("#c62828", "killed"),
    WorkerState.FAILED: ("#c62828", "failed"),
}
_STATE_COLORS = {state: QColor(color) for state, (color, _text) in _STATE_STYLE.items()}
_SELECTED = QColor("#2b6cb0")
_WARNING = QColor("#c62828")


class WorkerCard(QWidget):
    """One worker: name, state, current task with progress, counters, prefetch and buffer.

    The last line says how the worker consumes: its prefetch and the tasks
    delivered to it that wait behind the current one, or, with auto-ack, a
    warning that a killed worker loses its task.

    The card paints itself in one ``paintEvent`` (a rounded frame, text and a
    progress bar) instead of being a frame of labels and a ``QProgressBar``:
    32 such cards updated ten times a second cost the GUI thread about 15 ms a
    refresh as widgets, mostly in the progress bars' and rich-text labels' own
    painting and layout.

    Args:
        name: the worker's name.
        parent: the parent widget.

    Signals:
        clicked(str): the card was clicked (worker name), to select it.
    """

    clicked = Signal(str)

    def __init__(self, name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.name = name
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setToolTip(f"{name}: click to select it for Kill or Stop")
        self.setAccessibleName(f"Worker {name}")
        self.resize(CARD_WIDTH, 0)
        self._fit_height()
        self._selected = False
        self._values: tuple[object, ...] = ()
        self.state_text = ""
        """The state shown, e.g. ``busy``."""
        self.task_text = "waiting for a task"
        """The task line shown (elided to the card's width)."""
        self.counts_text = ""
        """The counters line, e.g. ``done 3 · redeliveries 1``."""
        self.progress_percent = 0
        """The progress bar's value, 0 to 100."""
        self.mode_text = card_line(1, False, 0)
        """The last line: prefetch and buffered tasks, or the auto-ack warning."""
        self._mode = (1, False)
        self._buffered = 0
        self._color = _STATE_COLORS[WorkerState.CONNECTING]
        self._enabled_bar = True

    def _fit_height(self) -> None:
        line = self.fontMetrics().height()
        self.setFixedHeight(5 * line + 4 * _GAP + 2 * _PAD_Y + 2)

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802
        """A new font (zoom) makes the card taller or shorter."""
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:
            self._fit_height()

    @property
    def selected(self) -> bool:
        """True when this card is the selected worker."""
        return self._selected

    def set_selected(self, selected: bool) -> None:
        """Highlight the card (or not): a thicker blue border."""
        if selected != self._selected:
            self._selected = selected
            self.update()

    def set_mode(self, prefetch: int, auto_ack: bool) -> None:
        """How the worker consumes (the settings in effect): shown on the last line."""
        self._mode = (prefetch, auto_ack)
        self._show_mode(self._buffered)

    def _show_mode(self, buffered: int) -> None:
        self._buffered = buffered
        text = card_line(*self._mode, buffered)
        if text != self.mode_text:
            self.mode_text = text
            self.update()

    def update_status(self, status: WorkerStatus) -> None:
        """Show a worker's latest state; an unchanged card is not repainted."""
        percent = int(round(status.progress * 100))
        values = (
            status.state,
            status.task_id,
            status.task_preview,
            percent,
            status.done,
            status.redeliveries,
            status.failures,
            status.message,
            status.buffered,
            status.finishing,
        )
        if values == self._values:
            return
        self._values = values
        text = _STATE_STYLE[status.state][1]
        if status.finishing and status.state is WorkerState.BUSY:
            text = "stopping after this task"
        self._color = _STATE_COLORS[status.state]
        self.state_text = text
        self._enabled_bar = not status.state.finished
        if status.state is WorkerState.BUSY and status.task_id:
            task_text = f"{status.task_id[:8]}  {status.task_preview}"
        elif status.state is WorkerState.IDLE and status.done and percent >= 100:
            task_text = "finished; waiting for the next task"
        elif status.state.finished or status.state is WorkerState.RECONNECTING:
            task_text = status.message or f"{text}; no task"
        elif status.state is WorkerState.CONNECTING:
            task_text = "connecting to the broker…"
        else:
            task_text = "waiting for a task"
        self.task_text = task_text
        self.setToolTip(status.message or f"{self.name}: {task_text} (click to select it)")
        self.progress_percent = percent if status.state is not WorkerState.CONNECTING else 0
        self.counts_text = f"done {status.done}   ·   redeliveries {status.redeliveries}" + (
            f"   ·   failed {status.failures}" if status.failures else ""
        )
        self._show_mode(status.buffered)
        # What the labels used to tell a screen reader, now that the card paints them.
        self.setAccessibleDescription(
            f"{text}; {task_text}; {self.progress_percent}%; {self.counts_text}; {self.mode_text}"
        )
        self.update()

    def paintEvent(self, _event: QPaintEvent) -> None:  # noqa: N802
        """Frame, name and state, task, progress bar, counters."""
        palette = self.palette()
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        frame = QRectF(self.rect()).adjusted(1, 1, -1, -1)
        border = QPen(_SELECTED, 2) if self._selected else QPen(palette.mid().color(), 1)
        painter.setPen(border)
        painter.setBrush(palette.base())
        painter.drawRoundedRect(frame, 6, 6)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)

        metrics = self.fontMetrics()
        line = metrics.height()
        left = _PAD_X
        width = self.width() - 2 * _PAD_X
        y = _PAD_Y
        bold = QFont(self.font())
        bold.setBold(True)
        painter.setFont(bold)
        painter.setPen(palette.text().color())
        painter.drawText(left, y, width, line, _LEFT, self.name)
        painter.setPen(self._color)
        painter.drawText(left, y, width, line, _RIGHT, f"● {self.state_text}")
        painter.setFont(self.font())

        y += line + _GAP
        painter.setPen(palette.text().color())
        elided = metrics.elidedText(self.task_text, Qt.TextElideMode.ElideRight, width)
        painter.drawText(left, y, width, line, _LEFT, elided)

        y += line + _GAP
        bar = QRectF(left, y + 1, width, line - 2)
        painter.setPen(QPen(palette.mid().color(), 1))
        painter.setBrush(palette.window())
        painter.drawRect(bar)
        if self.progress_percent > 0:
            fill = QRectF(bar).adjusted(1, 1, 0, 0)
            fill.setWidth((bar.width() - 1) * self.progress_percent / 100)
            color = palette.highlight().color() if self._enabled_bar else palette.mid().color()
            painter.fillRect(fill, color)
        painter.setPen(palette.text().color())
        painter.drawText(bar, _CENTER, f"{self.progress_percent}%")

        y += line + _GAP
        painter.setPen(hint_color(palette))
        counts = metrics.elidedText(self.counts_text, Qt.TextElideMode.ElideRight, width)
        painter.drawText(left, y, width, line, _LEFT, counts)

        y += line + _GAP
        painter.setPen(_WARNING if self._mode[1] else palette.text().color())
        elided = metrics.elidedText(self.mode_text, Qt.TextElideMode.ElideRight, width)
        painter.drawText(left, y, width, line, _LEFT, elided)
        painter.end()

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        """Select this worker."""
        self.clicked.emit(self.name)
        super().mousePressEvent(event)


class WorkersPanel(QWidget):
    """Add, kill and stop workers; a card per worker.

    Args:
        parent: the parent widget.

    Signals:
        add_requested(int): add this many workers.
        remove_requested(int): stop this many workers.
        kill_requested(str): kill the named worker.
        stop_requested(str): stop the named worker gracefully.
        clear_requested(): forget finished workers.
    """

    add_requested = Signal(int)
    remove_requested = Signal(int)
    kill_requested = Signal(str)
    stop_requested = Signal(str)
    clear_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._cards: dict[str, WorkerCard] = {}
        self._states: dict[str, WorkerState] = {}
        self._selected: str | None = None
        self._prefetch = 1
        self._auto_ack = False

        self.add_button = QPushButton("Add worker")
        self.add_button.setToolTip("Start one more worker thread with its own connection (Ctrl+N)")
        self.kill_button = QPushButton("Kill")
        self.kill_button.setToolTip(
            "Crash the selected worker: its unacknowledged task goes back to the queue (Ctrl+K)"
        )
        self.stop_button = QPushButton("Stop")
        self.stop_button.setToolTip(
            "Stop the selected worker gracefully: it finishes its current task, then leaves "
            "(Ctrl+T)"
        )
        self.count_box = QSpinBox()
        self.count_box.setRange(1, 64)
        self.count_box.setValue(4)
        self.count_box.setToolTip("How many workers to add or remove at once")
        self.add_many_button = QPushButton("Add")
        self.remove_many_button = QPushButton("Remove")
        self.remove_many_button.setToolTip("Stop that many workers, idle ones first")
        self.clear_button = QPushButton("Clear stopped")
        self.clear_button.setToolTip("Remove the cards of stopped, killed and failed workers")
        self.summary = ElidedLabel(minimum_chars=10)
        self.summary.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        for button in (self.kill_button, self.stop_button):
            # Wide enough for "Kill W-000": selecting a worker moves no button beside it.
            button.setMinimumWidth(button.fontMetrics().horizontalAdvance("Kill W-000") + 24)

        buttons = QHBoxLayout()
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.kill_button)
        buttons.addWidget(self.stop_button)
        buttons.addSpacing(16)
        buttons.addWidget(self.add_many_button)
        buttons.addWidget(self.count_box)
        buttons.addWidget(self.remove_many_button)
        buttons.addSpacing(16)
        buttons.addWidget(self.clear_button)
        buttons.addStretch(1)
        buttons.addWidget(self.summary)

        self._cards_widget = CardGrid(CARD_WIDTH)
        self.empty_label = QLabel()
        self._show_empty_hint()
        self.empty_label.setWordWrap(True)
        explain(self.empty_label, "padding: 12px;")
        self._scroll = QScrollArea()
        self._scroll.setWidgetResizable(True)
        self._scroll.setFrameShape(QFrame.Shape.NoFrame)
        self._scroll.setWidget(self._cards_widget)
        self._scroll.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(buttons)
        layout.addWidget(self.empty_label, 1)
        layout.addWidget(self._scroll, 1)
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self._scroll.hide()

        self.add_button.clicked.connect(self._on_add_clicked)
        self.add_many_button.clicked.connect(self._on_add_many_clicked)
        self.remove_many_button.clicked.connect(self._on_remove_many_clicked)
        self.kill_button.clicked.connect(self._on_kill_clicked)
        self.stop_button.clicked.connect(self._on_stop_clicked)
        self.clear_button.clicked.connect(self.clear_requested)
        self._update_buttons()

    # ----------------------------------------------------------------- queries

    def card(self, name: str) -> WorkerCard:
        """The card of a worker (``KeyError`` when there is none)."""
        return self._cards[name]

    def names(self) -> list[str]:
        """Workers with a card, in order."""
        return list(self._cards)

    @property
    def selected(self) -> str | None:
        """The selected worker's name."""
        return self._selected

    def select(self, name: str | None) -> None:
        """Select a worker (its card is highlighted; Kill and Stop act on it)."""
        self._selected = name if name in self._cards else None
        for card_name, card in self._cards.items():
            card.set_selected(card_name == self._selected)
        self._update_buttons()

    def set_mode(self, prefetch: int, auto_ack: bool) -> None:
        """How the workers consume (the settings in effect): on every card and in the hint."""
        self._prefetch = prefetch
        self._auto_ack = auto_ack
        for card in self._cards.values():
            card.set_mode(prefetch, auto_ack)
        self._show_empty_hint()

    def _show_empty_hint(self) -> None:
        self.empty_label.setText(empty_hint(self._prefetch, self._auto_ack))

    # ----------------------------------------------------------------- updates

    @Slot(object)
    def _on_workers_updated(self, statuses: list[WorkerStatus]) -> None:
        names = [s.name for s in statuses]
        for name in list(self._cards):
            if name not in names:
                old = self._cards.pop(name)
                self._states.pop(name, None)
                self._cards_widget.remove_card(old)
                old.deleteLater()
        new: list[WorkerCard] = []
        for status in statuses:
            card = self._cards.get(status.name)
            if card is None:
                if len(new) >= NEW_CARDS_PER_UPDATE:
                    continue  # its card comes with a later update
                card = WorkerCard(status.name, self._cards_widget)
                card.set_mode(self._prefetch, self._auto_ack)
                card.clicked.connect(self._on_card_clicked)
                self._cards[status.name] = card
                new.append(card)
            card.update_status(status)
            self._states[status.name] = status.state
        if new:
            self._cards_widget.add_cards(new)
        if self._selected not in self._cards or self._is_finished(self._selected):
            live = [s.name for s in statuses if not s.state.finished]
            self.select(live[0] if live else None)
        self._update_buttons()
        live_count = sum(1 for s in statuses if not s.state.finished)
        busy = sum(1 for s in statuses if s.state is WorkerState.BUSY)
        self.summary.setText(f"{live_count} running, {busy} busy" if statuses else "")
        self.empty_label.setVisible(not statuses)
        self._scroll.setVisible(bool(statuses))

    def _is_finished(self, name: str | None) -> bool:
        state = self._states.get(name or "")
        return state is None or state.finished or state is WorkerState.STOPPING

    def _update_buttons(self) -> None:
        can_act = self._selected is not None and not self._is_finished(self._selected)
        self.kill_button.setEnabled(can_act)
        self.stop_button.setEnabled(can_act)
        self.kill_button.setText(f"Kill {self._selected}" if can_act else "Kill")
        self.stop_button.setText(f"Stop {self._selected}" if can_act else "Stop")
        self.clear_button.setEnabled(any(s.finished for s in self._states.values()))
        self.remove_many_button.setEnabled(any(not s.finished for s in self._states.values()))

    # ----------------------------------------------------------------- user actions

    @Slot(str)
    def _on_card_clicked(self, name: str) -> None:
        self.select(name)

    @Slot()
    def _on_add_clicked(self) -> None:
        self.add_requested.emit(1)

    @Slot()
    def _on_add_many_clicked(self) -> None:
        self.add_requested.emit(self.count_box.value())

    @Slot()
    def _on_remove_many_clicked(self) -> None:
        self.remove_requested.emit(self.count_box.value())

    @Slot()
    def _on_kill_clicked(self) -> None:
        if self._selected is not None:
            self.kill_requested.emit(self._selected)

    @Slot()
    def _on_stop_clicked(self) -> None:
        if self._selected is not None:
            self.stop_requested.emit(self._selected)
