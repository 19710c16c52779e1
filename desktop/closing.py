"""Whether the window may close now: tasks waiting for the broker are asked about first.

Quitting with tasks the broker has not confirmed asks the user (through an
``AskPending``): quit anyway, cancel, or publish and wait. Waiting shows a
progress dialog with the counts (confirmed of how many, and why nothing moves
while the broker is away); the guard asks the window to close once every task
is confirmed. When no task was confirmed for ``patience`` seconds it asks
again (``AskStuck``): keep waiting, quit anyway, or do not quit.
"""

from __future__ import annotations

import logging
import time

from PySide6.QtCore import QObject, Qt, QTimer, Signal, Slot
from PySide6.QtWidgets import QProgressDialog, QWidget

from desktop.controller import ConnectionState, Controller
from desktop.quit_question import AskPending, AskStuck, PendingChoice, ask_stuck_with_dialog

log = logging.getLogger(__name__)

PATIENCE = 20.0
"""Seconds without a confirm before the user is asked whether to keep waiting."""


class CloseGuard(QObject):
    """Decides whether the window may close, and closes it later when asked to wait.

    Args:
        controller: the window's controller (its pending and unconfirmed counts).
        ask: asks what to do with tasks waiting for the broker.
        parent: the owning QObject (the window; the progress dialog's parent when a widget).

    Attributes:
        forced: closing cannot be cancelled any more.
        patience: seconds without progress before ``ask_stuck`` is asked.
        ask_stuck: asks whether to keep waiting when nothing is confirmed any more.
        progress: the progress dialog while waiting (``None`` otherwise).

    Signals:
        waiting(int): the user chose to wait for this many tasks to be confirmed.
        close_requested(): every waited-for task is confirmed (or the user gave up): close now.
    """

    waiting = Signal(int)
    close_requested = Signal()

    def __init__(
        self, controller: Controller, ask: AskPending, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self.controller = controller
        self.ask = ask
        self.forced = False
        self.patience = PATIENCE
        self._widget = parent if isinstance(parent, QWidget) else None
        self.ask_stuck: AskStuck = ask_stuck_with_dialog(self._widget)
        self.progress: QProgressDialog | None = None
        self._total = 0
        self._remaining = 0
        self._since = 0.0  # time.monotonic() of the last progress (or of "keep waiting")
        self._timer = QTimer(self)
        self._timer.setInterval(100)
        self._timer.timeout.connect(self._on_tick)

    @property
    def remaining(self) -> int:
        """Tasks the broker has not confirmed yet (waiting, sending or being enqueued)."""
        controller = self.controller
        return max(controller.pending_count, controller.unconfirmed_count)

    def may_close(self) -> bool:
        """True to close now; asks first when tasks wait for a broker that is away."""
        pending = self.controller.pending_count
        if self.forced or not pending:
            return True
        if self._timer.isActive():  # already waiting: closing again changes nothing
            return False
        choice = self.ask(pending)
        if choice is PendingChoice.QUIT_ANYWAY:
            log.warning("Quitting with %d task(s) the broker never confirmed.", pending)
            return True
        if choice is PendingChoice.PUBLISH_AND_WAIT:
            log.info("Kanin closes once the %d waiting task(s) are confirmed.", pending)
            self._total = max(pending, self.remaining)
            self._remaining = self._total
            self._since = time.monotonic()
            self.waiting.emit(pending)
            self._show_progress()
            self._timer.start()
        return False

    def stop(self) -> None:
        """The window is closing (or stays): stop watching, hide the progress."""
        self._timer.stop()
        if self.progress is not None:
            self.progress.hide()
            self.progress.deleteLater()
            self.progress = None

    def _show_progress(self) -> None:
        dialog = QProgressDialog(self._widget)
        dialog.setWindowTitle("Publishing before Kanin closes")
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.setAutoClose(False)
        dialog.setAutoReset(False)
        dialog.setMinimumDuration(0)
        dialog.setRange(0, self._total)
        dialog.setCancelButtonText("Quit anyway")
        dialog.canceled.connect(self._on_quit_anyway)
        self.progress = dialog
        self._update_progress()
        dialog.show()

    def _update_progress(self) -> None:
        dialog = self.progress
        if dialog is None:
            return
        confirmed = max(0, self._total - self._remaining)
        text = (
            f"Kanin closes once the broker has confirmed every waiting task: "
            f"{confirmed} of {self._total} confirmed."
        )
        controller = self.controller
        if controller.connection_state != ConnectionState.CONNECTED:
            text += f"\nThe broker cannot be reached yet: {controller.connection_message}"
        dialog.setLabelText(text)
        dialog.setValue(confirmed)

    def _finish(self) -> None:
        self.stop()
        self.forced = True
        self.close_requested.emit()

    @Slot()
    def _on_quit_anyway(self) -> None:
        if not self._timer.isActive():
            return
        log.warning("Quitting with %d task(s) the broker never confirmed.", self.remaining)
        self._finish()

    @Slot()
    def _on_tick(self) -> None:
        remaining = self.remaining
        if remaining < self._remaining:
            self._since = time.monotonic()
        self._remaining = min(remaining, self._total)
        if self.controller.pending_count == 0 and self.controller.unconfirmed_count == 0:
            log.info("Every waiting task is confirmed: Kanin closes.")
            self._finish()
            return
        self._update_progress()
        waited = time.monotonic() - self._since
        if waited < self.patience:
            return
        self._timer.stop()
        choice = self.ask_stuck(remaining, waited, self.controller.connection_message)
        if choice is PendingChoice.QUIT_ANYWAY:
            log.warning("Quitting with %d task(s) the broker never confirmed.", remaining)
            self._finish()
        elif choice is PendingChoice.CANCEL:
            log.info("Not quitting: %d task(s) still wait for the broker.", remaining)
            self.stop()
        else:
            self._since = time.monotonic()
            self._timer.start()
