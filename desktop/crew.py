"""The crew: the session's workers as the window commands them and shows them on cards."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from core.events import WorkerState
from core.pool import WorkerPool
from core.priority import PriorityGate
from core.status import WorkerStatus

log = logging.getLogger(__name__)


class Crew:
    """Starts, stops and kills the session's workers, and keeps the last copy of their states.

    Args:
        gate: the workers' priority gate (held while cards are made).
        on_updated: receives each new copy of the workers' states.

    Attributes:
        pool: the session's worker pool (``None`` when the settings are wrong).
        statuses: every worker's state, as the last ``refresh()`` copied it.
        running: workers not finished in that copy.

    Workers restarted on new settings keep their names and, through the counts
    carried over (``carry``), their counters: the cards go on where they were.
    """

    def __init__(
        self, gate: PriorityGate, on_updated: Callable[[list[WorkerStatus]], None]
    ) -> None:
        self.pool: WorkerPool | None = None
        self.statuses: list[WorkerStatus] = []
        self.running = 0
        self._gate = gate
        self._on_updated = on_updated
        self._carried: dict[str, WorkerStatus] = {}

    def follow(self, pool: WorkerPool | None) -> None:
        """Command another session's pool; the old copy of states is dropped."""
        self.pool = pool
        self.statuses = []
        self.running = 0
        self._carried = {}

    def carry(self, statuses: Sequence[WorkerStatus]) -> None:
        """Add these workers' counters to the same-named workers of the pool followed now."""
        self._carried = {status.name: status for status in statuses}

    def refresh(self) -> None:
        """Copy every worker's state and hand the copy on."""
        pool = self.pool
        self.statuses = statuses = pool.snapshot() if pool is not None else []
        if self._carried:
            for status in statuses:
                old = self._carried.get(status.name)
                if old is not None:
                    status.done += old.done
                    status.redeliveries += old.redeliveries
                    status.failures += old.failures
                    status.returned += old.returned
        self.running = sum(1 for s in statuses if not s.state.finished)
        self._on_updated(statuses)

    def add(self, count: int) -> list[str]:
        """Start ``count`` workers; returns their names."""
        pool = self.pool
        if pool is None or count < 1:
            return []
        with self._gate.first():  # a card per worker: Qt's constructors release the GIL
            names = pool.add(count)
            if len(names) <= 4:
                log.info("Started %s.", ", ".join(names))
            else:
                log.info("Started %d workers, %s to %s.", len(names), names[0], names[-1])
            self.refresh()
        return names

    def kill(self, name: str) -> None:
        """Crash a worker on purpose; what became of its task is logged once it is dead.

        With manual acks its unacked task goes back to the queue; with auto-ack it
        is lost (``core.router`` says which, in one line, from the worker's report).
        """
        if self.pool is None:
            return
        try:
            self.pool.kill(name)
            log.debug("Killing %s.", name)
        except KeyError:
            log.warning("There is no worker named %s.", name)

    def stop(self, name: str) -> None:
        """Stop a worker gracefully: it finishes its current task, then leaves."""
        if self.pool is None:
            return
        try:
            self.pool.stop(name, finish_current=True)
            log.info("Stopping %s once its current task is done.", name)
        except KeyError:
            log.warning("There is no worker named %s.", name)

    def remove(self, count: int) -> list[str]:
        """Stop ``count`` running workers, idle ones first, then the newest; returns their names."""
        pool = self.pool
        if pool is None:
            return []
        running = [
            s
            for s in pool.snapshot()
            if not s.state.finished and s.state is not WorkerState.STOPPING
        ]
        idle = [s.name for s in running if s.state is not WorkerState.BUSY]
        busy = [s.name for s in running if s.state is WorkerState.BUSY]
        chosen = (list(reversed(idle)) + list(reversed(busy)))[: max(0, count)]
        for name in chosen:
            pool.stop(name)
        if chosen:
            log.info("Stopping %s.", ", ".join(chosen))
        return chosen

    def remove_finished(self) -> list[str]:
        """Forget stopped, killed and failed workers; returns their names."""
        if self.pool is None:
            return []
        gone = self.pool.remove_finished()
        self.refresh()
        return gone

    def names(self, *, alive_only: bool = False) -> list[str]:
        """The workers' names, in the order they were added."""
        return self.pool.names(alive_only=alive_only) if self.pool is not None else []
