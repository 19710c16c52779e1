"""Whether the window may close now: tasks waiting for the broker are asked about first.

Quitting with tasks the broker has not confirmed asks the user (through an
``AskPending``): quit anyway, cancel, or publish and wait, in which case the
guard watches the controller and asks the window to close once every task
is confirmed.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from desktop.controller import Controller
from desktop.quit_question import AskPending, PendingChoice

log = logging.getLogger(__name__)


class CloseGuard(QObject):
    """Decides whether the window may close, and closes it later when asked to wait.

    Args:
        controller: the window's controller (its pending and unconfirmed counts).
        ask: asks what to do with tasks waiting for the broker.
        parent: the owning QObject (the window).

    Signals:
        waiting(int): the user chose to wait for this many tasks to be confirmed.
        close_requested(): every waited-for task is confirmed: close now.
    """

    waiting = Signal(int)
    close_requested = Signal()

    def __init__(
        self, controller: Controller, ask: AskPending, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self.controller = controller
        self.ask = ask
        self.forced = False  # closing cannot be cancelled any more
        self._timer = QTimer(self)
        self._timer.setInterval(100)
        self._timer.timeout.connect(self._on_tick)

    def may_close(self) -> bool:
        """True to close now; asks first when tasks wait for a broker that is away."""
        pending = self.controller.pending_count
        if self.forced or not pending:
            return True
        choice = self.ask(pending)
        if choice is PendingChoice.QUIT_ANYWAY:
            log.warning("Quitting with %d task(s) the broker never confirmed.", pending)
            return True
        if choice is PendingChoice.PUBLISH_AND_WAIT:
            log.info("Kanin closes once the %d waiting task(s) are confirmed.", pending)
            self.waiting.emit(pending)
            self._timer.start()
        return False

    def stop(self) -> None:
        """The window is closing: stop watching."""
        self._timer.stop()

    @Slot()
    def _on_tick(self) -> None:
        if self.controller.pending_count == 0 and self.controller.unconfirmed_count == 0:
            self._timer.stop()
            self.forced = True
            self.close_requested.emit()
