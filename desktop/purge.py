"""The window's Purge the queue: the count, a confirmation, the purge off the GUI thread, the rows.

The question names the queue and the broker's latest ready count. The purge
runs on a short-lived connection in a thread of its own (``kanin-purge``);
once the broker answered, Kanin's tasks that were in the queue when the user
confirmed are marked *purged* in the ledger.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtWidgets import QMessageBox, QWidget

from core.errors import BrokerError
from core.purge import in_the_queue, mark_purged, purge_queue
from core.settings import ConnectionSettings, SettingsError
from desktop.controller import Controller

log = logging.getLogger(__name__)

AskPurge = Callable[[str], bool]
"""Shows the question's text and returns True to purge; tests inject their own answer."""


def question(queue: str, ready: int | None) -> str:
    """The confirmation's text, e.g. ``Purge 100,000 tasks from task_queue? ...``."""
    if ready is None:
        what = "every task waiting in"
    else:
        what = f"{ready:,} task{'' if ready == 1 else 's'} from"
    return (
        f"Purge {what} {queue}? They cannot be recovered.\n"
        "Tasks a worker holds right now are not purged."
    )


def ask_with_dialog(parent: QWidget | None) -> AskPurge:
    """The default confirmation: a modal question over ``parent``, No by default."""

    def ask(text: str) -> bool:
        answer = QMessageBox.warning(
            parent,
            "Purge the queue",
            text,
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No,
        )
        return answer == QMessageBox.StandardButton.Yes

    return ask


class Purger(QObject):
    """Purges the work queue when the user confirms.

    Args:
        controller: the window's controller (settings, latest reading, task model).
        ask: the confirmation.
        parent: the owning QObject.

    Signals:
        purged(str, int, int): the queue was purged (queue, messages the broker
            removed, Kanin's tasks marked *purged*).
        failed(str): the purge could not be done (why).
    """

    purged = Signal(str, int, int)
    failed = Signal(str)
    _answered = Signal(str, int, str)  # from the purge thread: queue, count, error

    def __init__(
        self, controller: Controller, ask: AskPurge, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self.controller = controller
        self.ask = ask
        self._ids: list[str] = []
        self._thread: threading.Thread | None = None
        self._answered.connect(self._on_answered)

    @property
    def busy(self) -> bool:
        """True while a purge runs."""
        return self._thread is not None and self._thread.is_alive()

    def request(self) -> bool:
        """Ask, then purge in the background; False when declined, busy or impossible."""
        controller = self.controller
        settings = controller.settings
        if self.busy:
            return False
        try:
            connection = settings.connection()
        except SettingsError as exc:
            self.failed.emit(str(exc))
            return False
        stats = controller.last_stats
        ready = stats.ready if stats is not None and stats.queue == settings.queue else None
        if not self.ask(question(settings.queue, ready)):
            return False
        controller.model.flush()
        self._ids = in_the_queue(controller.model.ledger)
        log.info("Purging the queue %s.", settings.queue)
        self._thread = threading.Thread(
            target=self._purge, args=(connection, settings.queue), name="kanin-purge", daemon=True
        )
        self._thread.start()
        return True

    def _purge(self, connection: ConnectionSettings, queue: str) -> None:
        try:
            count = purge_queue(connection, queue)
        except BrokerError as exc:
            self._answered.emit(queue, 0, str(exc) or "The purge failed.")
        else:
            self._answered.emit(queue, count, "")

    @Slot(str, int, str)
    def _on_answered(self, queue: str, count: int, error: str) -> None:
        ids, self._ids = self._ids, []
        if error:
            log.warning("The queue %s was not purged: %s", queue, error)
            self.failed.emit(error)
            return
        model = self.controller.model
        marked = mark_purged(model.ledger, ids, queue)
        model.flush()
        log.info("Purged %d task(s) from %s (%d of them Kanin's).", count, queue, marked)
        self.purged.emit(queue, count, marked)
