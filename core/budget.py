"""The task budget: a thread-safe limit on how many tasks a group of workers may take."""

from __future__ import annotations

import threading


class TaskBudget:
    """A shared limit on how many tasks a group of workers may take (``--max-tasks``).

    Args:
        limit: how many tasks may be claimed in all.
    """

    def __init__(self, limit: int) -> None:
        self._lock = threading.Lock()
        self._left = limit
        self._done = 0
        self.limit = limit
        self.exhausted = threading.Event()

    def try_claim(self) -> bool:
        """Take one task from the budget; False when none is left."""
        with self._lock:
            if self._left <= 0:
                return False
            self._left -= 1
            return True

    def give_back(self) -> None:
        """Return a claim whose task was not completed."""
        with self._lock:
            self._left += 1

    def completed(self) -> None:
        """Record an acknowledged task; sets ``exhausted`` at the limit."""
        with self._lock:
            self._done += 1
            if self._done >= self.limit:
                self.exhausted.set()

    @property
    def done(self) -> int:
        """Tasks completed so far."""
        with self._lock:
            return self._done
