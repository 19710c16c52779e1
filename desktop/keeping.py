"""Keeping the window's task ledger across runs: its scope, restoring it, journaling its changes.

The file itself and its writer thread are Qt-free (``core.ledger_store``,
``core.journal``); this module ties them to the window's task model: the
kept tasks of the starting queue come back as rows, every later change is
journaled, and the table's *Clear finished* clears them from the file too.
"""

from __future__ import annotations

import logging
import sqlite3

from PySide6.QtCore import QObject, Slot

from core.journal import Journal
from core.ledger_store import LedgerStore, scope_of
from core.settings import SettingsError
from desktop.preferences import AppSettings
from desktop.task_model import TaskTableModel

log = logging.getLogger(__name__)


def scope_for(settings: AppSettings) -> str:
    """The ledger scope of a session: its broker addresses, vhost and queue."""
    try:
        addresses = settings.connection().addresses
    except SettingsError:
        return scope_of([settings.redacted], "", settings.queue)
    return scope_of([a.endpoint for a in addresses], addresses[0].vhost, settings.queue)


def open_store() -> LedgerStore | None:
    """The ledger file in Kanin's data folder, or ``None`` (logged) when it cannot be opened."""
    try:
        return LedgerStore.in_data_folder()
    except (OSError, sqlite3.Error) as exc:
        log.warning("Tasks are not kept across runs: the ledger file cannot be opened (%s).", exc)
        return None


class _Clearing(QObject):
    """Forwards the model's reset (its Clear finished) to the journal."""

    def __init__(self, journal: Journal, model: TaskTableModel) -> None:
        super().__init__(model)
        self._journal = journal
        model.modelReset.connect(self._on_model_reset)

    @Slot()
    def _on_model_reset(self) -> None:
        self._journal.forget_finished()


def keep_ledger(model: TaskTableModel, store: LedgerStore, scope: str) -> Journal:
    """Restore the scope's kept tasks into the model and journal every change from now on.

    Args:
        model: the window's task model (its ledger has no watcher yet).
        store: the open ledger file.
        scope: the starting session's scope (``scope_for``).

    Returns:
        The journal; the controller ticks it, moves it to each session's scope and closes it.
    """
    journal = Journal(store, scope)
    count = journal.restore_into(model.ledger)
    if count:
        model.flush()
        log.info("%d task(s) of this queue kept from earlier runs are shown again.", count)
    model.ledger.watch(journal.note)
    _Clearing(journal, model)
    return journal
