"""One connection session: the producer, the worker pool and the queue watcher of one setting.

When the settings change, the controller retires the whole session (it is
closed in a background thread) and starts a new one with its own bridge, so
late events of the old workers never mix with the new ones.
"""

from __future__ import annotations

import time

from core.pool import WorkerPool
from core.priority import PriorityGate
from core.producer import Producer
from core.settings import SettingsError
from core.work import Work
from desktop.bridge import EventBridge
from desktop.preferences import AppSettings
from desktop.watcher import QueueWatcher

CONNECTING_AT_ONCE = 4
"""New workers of the window opening their first connection at the same time."""


class Session:
    """The core objects of one set of settings: bridge, producer, pool and watcher.

    Nothing connects until ``start()``; the producer and the watcher then connect
    in their own threads. A settings problem leaves every part ``None`` and
    ``error`` set.

    Args:
        settings: the connection, queue and worker settings.
        work: decides each task's work.
        watch_interval: seconds between queue readings.
        management_port: the management plugin's port, ``None`` to skip it.
        error: a problem found beforehand (e.g. a bad ``--url``); nothing is built.
        gate: the window's ``PriorityGate``, handed to every worker.
    """

    def __init__(
        self,
        settings: AppSettings,
        work: Work,
        watch_interval: float,
        management_port: int | None,
        error: str = "",
        gate: PriorityGate | None = None,
    ) -> None:
        self.settings = settings
        self.bridge = EventBridge()
        self.error = error
        self.producer: Producer | None = None
        self.pool: WorkerPool | None = None
        self.watcher: QueueWatcher | None = None
        if error:
            return
        try:
            connection = settings.connection()
            queue = settings.queue_spec()
        except SettingsError as exc:
            self.error = str(exc)
            return
        self.producer = Producer(
            connection,
            queue,
            self.bridge,
            persistent=settings.persistent,
            keep_trying=True,
            gate=gate,
        )
        self.pool = WorkerPool(
            connection,
            queue,
            self.bridge,
            settings.worker_options(),
            work=work,
            gate=gate,
            connecting_at_once=CONNECTING_AT_ONCE,
        )
        self.watcher = QueueWatcher(
            connection,
            queue.name,
            self.bridge,
            interval=watch_interval,
            management_port=management_port,
        )

    def start(self) -> None:
        """Start the producer and the watcher threads; returns at once."""
        if self.producer is not None:
            self.producer.start(timeout=0)  # never waits: the thread connects on its own
        if self.watcher is not None:
            self.watcher.start()

    def close(self, timeout: float) -> bool:
        """Stop workers (their tasks go back), drain the producer, stop the watcher."""
        deadline = time.monotonic() + timeout
        if self.watcher is not None:
            self.watcher.stop()
        ok = True
        if self.pool is not None:
            ok = self.pool.stop_all(timeout=max(0.5, timeout * 0.6)) and ok
        if self.producer is not None:
            ok = self.producer.close(timeout=max(0.5, deadline - time.monotonic())) and ok
        if self.watcher is not None:
            ok = self.watcher.join(max(0.5, deadline - time.monotonic())) and ok
        return ok
