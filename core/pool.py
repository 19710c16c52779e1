"""A pool of workers, each in its own thread with its own connection.

The pool names workers, starts their threads, and kills or stops them by
name. ``snapshot()`` copies every worker's state and counters; a GUI polls it
on a timer instead of reacting to every event.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from core.budget import TaskBudget
from core.events import WorkerObserver
from core.priority import PriorityGate
from core.settings import ConnectionSettings
from core.status import WorkerStatus
from core.topology import QueueSpec
from core.work import Work, dot_work
from core.worker import Worker, WorkerOptions

log = logging.getLogger(__name__)

STAGGER = 0.25
"""Longest wait (seconds) for a new worker's first connection attempt before the next starts."""


@dataclass(frozen=True)
class _Member:
    """A worker and the thread it runs in (started by ``add()`` or the pool's starter thread)."""

    worker: Worker
    thread: threading.Thread

    @property
    def ended(self) -> bool:
        return self.worker.finished.is_set() and not self.thread.is_alive()


class WorkerPool:
    """Starts, kills and stops workers by name.

    Args:
        settings: where the broker is.
        queue: the queue every worker consumes.
        observer: receives every worker's events, in the worker threads.
        options: the options new workers get (changeable through ``options``).
        work: the work function for new workers.
        budget: an optional shared task limit for all workers.
        name_prefix: names are ``<prefix>-1``, ``<prefix>-2``, ...
        worker_factory: builds a worker (tests may pass their own).
        gate: handed to every worker (see ``core.priority``).
        connecting_at_once: how many new workers may open their first connection
            at the same time (``None``: all, started by ``add()`` itself). The
            window uses 4: 32 handshakes at once kept its GUI thread from the
            GIL for up to 0.35 s.
    """

    def __init__(
        self,
        settings: ConnectionSettings,
        queue: QueueSpec,
        observer: WorkerObserver | None = None,
        options: WorkerOptions | None = None,
        *,
        work: Work = dot_work,
        budget: TaskBudget | None = None,
        name_prefix: str = "W",
        worker_factory: Callable[..., Worker] = Worker,
        gate: PriorityGate | None = None,
        connecting_at_once: int | None = None,
    ) -> None:
        self.settings = settings
        self.queue = queue
        self.options = options or WorkerOptions()
        self.work = work
        self._observer = observer
        self._budget = budget
        self._prefix = name_prefix
        self._factory = worker_factory
        self._gate = gate
        self._at_once = connecting_at_once
        self._numbers = itertools.count(1)
        self._lock = threading.Lock()
        self._members: dict[str, _Member] = {}

    def add(self, count: int = 1, *, keep_names: Sequence[str] = ()) -> list[str]:
        """Add and start ``count`` workers; returns their names.

        ``keep_names`` gives the first workers these names (a window restarting its
        workers on new settings keeps their names); later ones are numbered on.

        Without ``connecting_at_once`` the threads are started here, one after
        the other. With it, a short-lived starter thread starts them, each when
        few enough of the earlier ones are still opening their first connection
        (or ``STAGGER`` seconds later), and the names come back at once: the
        window's thread must not wait, since ``Thread.start()`` waits for the new
        thread to get the GIL and 32 new workers in its thread blocked it for
        0.2 to 0.3 s. A worker stopped or killed before its thread runs ends as
        soon as it starts.
        """
        names: list[str] = []
        members: list[_Member] = []
        for index in range(count):
            name = keep_names[index] if index < len(keep_names) else self._next_name()
            worker = self._factory(
                name,
                self.settings,
                self.queue,
                self._observer,
                self.options,
                work=self.work,
                budget=self._budget,
                gate=self._gate,
            )
            thread = threading.Thread(target=worker.run, name=f"kanin-worker-{name}", daemon=True)
            member = _Member(worker, thread)
            with self._lock:
                self._members[name] = member
            names.append(name)
            members.append(member)
        if members and self._at_once is None:
            _start_all(members, None)
        elif members:
            starter = threading.Thread(
                target=_start_all,
                args=(members, self._at_once),
                name="kanin-pool-starter",
                daemon=True,
            )
            starter.start()
        return names

    def set_max_attempts(self, attempts: int | None) -> None:
        """Running and new workers dead-letter a task at its ``attempts``-th failure."""
        self.options = replace(self.options, max_attempts=attempts)
        with self._lock:
            members = list(self._members.values())
        for member in members:
            member.worker.set_max_attempts(attempts)

    def _next_name(self) -> str:
        while True:
            name = f"{self._prefix}-{next(self._numbers)}"
            with self._lock:
                if name not in self._members:
                    return name

    def kill(self, name: str) -> None:
        """Crash the named worker (its unacked task goes back to the queue)."""
        self._get(name).kill()

    def stop(self, name: str, *, finish_current: bool = False) -> None:
        """Stop the named worker gracefully."""
        self._get(name).stop(finish_current=finish_current)

    def remove_finished(self) -> list[str]:
        """Forget workers whose thread has ended; returns their names."""
        with self._lock:
            gone = [n for n, m in self._members.items() if m.ended]
            for name in gone:
                del self._members[name]
        return gone

    def names(self, *, alive_only: bool = False) -> list[str]:
        """Worker names in the order they were added."""
        with self._lock:
            if alive_only:
                return [n for n, m in self._members.items() if not m.ended]
            return list(self._members)

    def worker(self, name: str) -> Worker:
        """The named worker (for its state; control it through the pool)."""
        return self._get(name)

    def snapshot(self) -> list[WorkerStatus]:
        """Every worker's state and counters, copied."""
        with self._lock:
            members = list(self._members.values())
        return [member.worker.status() for member in members]

    def stop_all(self, timeout: float = 10.0, *, finish_current: bool = False) -> bool:
        """Stop every worker and wait for the threads; True when all ended in time."""
        with self._lock:
            members = list(self._members.values())
        for member in members:
            member.worker.stop(finish_current=finish_current)
        return self._join(timeout, members)

    def kill_all(self, timeout: float = 10.0) -> bool:
        """Kill every worker and wait for the threads; True when all ended in time."""
        with self._lock:
            members = list(self._members.values())
        for member in members:
            member.worker.kill()
        return self._join(timeout, members)

    def join(self, timeout: float) -> bool:
        """Wait for every worker thread to end; True when they all did within ``timeout``."""
        with self._lock:
            members = list(self._members.values())
        return self._join(timeout, members)

    def _join(self, timeout: float, members: list[_Member]) -> bool:
        deadline = time.monotonic() + timeout
        for member in members:
            if member.worker.finished.wait(max(0.0, deadline - time.monotonic())):
                if member.thread.ident is not None:
                    member.thread.join(max(0.0, deadline - time.monotonic()))
        alive = [m.thread.name for m in members if not m.ended]
        if alive:
            log.warning("Workers still running after %.1f s: %s", timeout, ", ".join(alive))
        return not alive

    def _get(self, name: str) -> Worker:
        with self._lock:
            try:
                return self._members[name].worker
            except KeyError:
                raise KeyError(f"No worker named '{name}'.") from None


def _start_all(members: list[_Member], at_once: int | None) -> None:
    """Start worker threads one after the other, at most ``at_once`` still connecting."""
    for index, member in enumerate(members):
        try:
            member.thread.start()
        except RuntimeError:  # the system refused another thread
            log.exception("Could not start %s.", member.thread.name)
            member.worker.settled.set()
            member.worker.finished.set()
        if at_once is not None and index >= at_once - 1:
            members[index - at_once + 1].worker.settled.wait(STAGGER)
