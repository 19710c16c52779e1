"""The ledger's journal: changes noted by the ledger's watch hook, written in batches by a thread.

The owner thread of the ledger (the window's GUI thread) pays a dict
assignment per change (``note``, the ``Ledger.watch`` listener). Now and then
(``tick``, from the GUI timer) it turns at most ``BATCH`` noted records into
rows, oldest change first, and hands them to the writer thread
(``kanin-ledger-writer``), which stores them in one transaction. ``close()``
writes what is left and ends the thread.
"""

from __future__ import annotations

import logging
import queue
import sqlite3
import threading
import time

from core.ledger import Ledger, TaskRecord, TaskState
from core.ledger_store import LedgerStore, Row, restore_into, restored, row_of

log = logging.getLogger(__name__)

BATCH = 2_000
"""Records turned into rows per flush (a few ms of the owner thread at most)."""
EVERY = 0.5
"""Seconds between two flushes by ``tick``, unless a whole batch is waiting."""

UNKNOWN_NOTE = "From another producer: not in Kanin's ledger."

_Job = tuple[str, "list[Row] | str"] | None


class Journal:
    """Keeps a ledger in a ``LedgerStore`` (owner thread: every method but the writer's loop).

    Args:
        store: where the rows go.
        scope: the scope of the session in force (see ``core.ledger_store.scope_of``).
    """

    def __init__(self, store: LedgerStore, scope: str) -> None:
        self.store = store
        self._scope = scope
        self._noted: dict[str, TaskRecord] = {}
        self._jobs: queue.SimpleQueue[_Job] = queue.SimpleQueue()
        self._last = time.monotonic()
        self._closed = False
        self._thread = threading.Thread(
            target=self._write_loop, name="kanin-ledger-writer", daemon=True
        )
        self._thread.start()

    def restore_into(self, ledger: Ledger) -> int:
        """Put the scope's kept tasks back into ``ledger``; returns how many came back."""
        records = [restored(row) for row in self.store.load(self._scope)]
        restore_into(ledger, records)
        return len(records)

    @property
    def scope(self) -> str:
        """The scope rows are written under."""
        return self._scope

    def set_scope(self, scope: str) -> None:
        """A new session: what was noted so far is written under the old scope first."""
        if scope != self._scope:
            self.flush(everything=True)
            self._scope = scope

    def note(self, record: TaskRecord, former: TaskState | None) -> None:
        """The ``Ledger.watch`` listener: remember the record for the next flush.

        A record the ledger adds as *queued* came from a delivery of a task it did
        not know (Kanin's own start as *sending*): when the task carries Kanin's
        identity (the ledger notes tasks without one already), it is said to be
        another producer's too: another Kanin, ``kanin new-task``, or a run whose
        rows are gone.
        """
        if former is None and record.state is TaskState.QUEUED and not record.note:
            record.note = UNKNOWN_NOTE
        self._noted[record.task_id] = record

    def tick(self) -> None:
        """Flush a batch when one is full or ``EVERY`` seconds have passed since the last flush."""
        now = time.monotonic()
        noted = len(self._noted)
        if noted >= BATCH or (noted and now - self._last >= EVERY):
            self._last = now
            self.flush()

    def flush(self, *, everything: bool = False) -> int:
        """Hand up to ``BATCH`` noted records (all with ``everything``) to the writer."""
        noted = self._noted
        if not noted or self._closed:
            return 0
        if everything or len(noted) <= BATCH:
            taken = len(noted)
            rows = [row_of(record, self._scope) for record in noted.values()]
            noted.clear()
        else:
            ids = [task_id for task_id, _ in zip(noted, range(BATCH), strict=False)]
            rows = [row_of(noted.pop(task_id), self._scope) for task_id in ids]
            taken = len(rows)
        self._jobs.put(("write", rows))
        return taken

    def forget_finished(self) -> None:
        """The table's finished tasks were cleared: drop them from the file too."""
        self.flush(everything=True)
        if not self._closed:
            self._jobs.put(("forget", self._scope))

    def close(self, timeout: float = 5.0) -> bool:
        """Write what is left, end the writer thread and close the store; True when it ended."""
        if self._closed:
            return True
        self.flush(everything=True)
        self._closed = True
        self._jobs.put(None)
        self._thread.join(timeout)
        if self._thread.is_alive():
            log.warning("The task ledger's writer was still busy %.0f s after closing.", timeout)
            return False
        self.store.close()
        return True

    def _write_loop(self) -> None:
        while (job := self._jobs.get()) is not None:
            kind, payload = job
            try:
                if kind == "write" and isinstance(payload, list):
                    self.store.write(payload)
                elif isinstance(payload, str):
                    self.store.forget_finished(payload)
            except sqlite3.Error as exc:
                log.warning("The task ledger could not be saved (%s): %s", self.store.path, exc)
