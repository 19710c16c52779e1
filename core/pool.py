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
from collections.abc import Callable

from core.events import WorkerObserver
from core.settings import ConnectionSettings
from core.topology import QueueSpec
from core.worker import TaskBudget, Work, Worker, WorkerOptions, WorkerStatus, dot_work

log = logging.getLogger(__name__)


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
    ) -> None:
        self.settings = settings
        self.queue = queue
        self.options = options or WorkerOptions()
        self.work = work
        self._observer = observer
        self._budget = budget
        self._prefix = name_prefix
        self._factory = worker_factory
        self._numbers = itertools.count(1)
        self._lock = threading.Lock()
        self._workers: dict[str, Worker] = {}
        self._threads: dict[str, threading.Thread] = {}

    def add(self, count: int = 1) -> list[str]:
        """Start ``count`` new workers; returns their names."""
        names = []
        for _ in range(count):
            name = f"{self._prefix}-{next(self._numbers)}"
            worker = self._factory(
                name,
                self.settings,
                self.queue,
                self._observer,
                self.options,
                work=self.work,
                budget=self._budget,
            )
            thread = threading.Thread(target=worker.run, name=f"kanin-worker-{name}", daemon=True)
            with self._lock:
                self._workers[name] = worker
                self._threads[name] = thread
            thread.start()
            names.append(name)
        return names

    def kill(self, name: str) -> None:
        """Crash the named worker (its unacked task goes back to the queue)."""
        self._get(name).kill()

    def stop(self, name: str, *, finish_current: bool = False) -> None:
        """Stop the named worker gracefully."""
        self._get(name).stop(finish_current=finish_current)

    def remove_finished(self) -> list[str]:
        """Forget workers whose thread has ended; returns their names."""
        with self._lock:
            gone = [n for n, t in self._threads.items() if not t.is_alive()]
            for name in gone:
                del self._workers[name]
                del self._threads[name]
        return gone

    def names(self, *, alive_only: bool = False) -> list[str]:
        """Worker names in the order they were added."""
        with self._lock:
            if alive_only:
                return [n for n, t in self._threads.items() if t.is_alive()]
            return list(self._workers)

    def worker(self, name: str) -> Worker:
        """The named worker (for its state; control it through the pool)."""
        return self._get(name)

    def snapshot(self) -> list[WorkerStatus]:
        """Every worker's state and counters, copied."""
        with self._lock:
            workers = list(self._workers.values())
        return [worker.status() for worker in workers]

    def stop_all(self, timeout: float = 10.0, *, finish_current: bool = False) -> bool:
        """Stop every worker and wait for the threads; True when all ended in time."""
        with self._lock:
            workers = list(self._workers.values())
            threads = list(self._threads.values())
        for worker in workers:
            worker.stop(finish_current=finish_current)
        return self.join(timeout, threads)

    def kill_all(self, timeout: float = 10.0) -> bool:
        """Kill every worker and wait for the threads; True when all ended in time."""
        with self._lock:
            workers = list(self._workers.values())
            threads = list(self._threads.values())
        for worker in workers:
            worker.kill()
        return self.join(timeout, threads)

    def join(self, timeout: float, threads: list[threading.Thread] | None = None) -> bool:
        """Wait for worker threads to end; True when they all did within ``timeout``."""
        if threads is None:
            with self._lock:
                threads = list(self._threads.values())
        deadline = time.monotonic() + timeout
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        alive = [t.name for t in threads if t.is_alive()]
        if alive:
            log.warning("Workers still running after %.1f s: %s", timeout, ", ".join(alive))
        return not alive

    def _get(self, name: str) -> Worker:
        with self._lock:
            try:
                return self._workers[name]
            except KeyError:
                raise KeyError(f"No worker named '{name}'.") from None
