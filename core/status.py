"""A worker's status board: state and counters its thread writes and others copy; its observer."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field, replace
from typing import Any

from core.events import WorkerEvent, WorkerObserver, WorkerState
from core.tasks import Delivery

log = logging.getLogger(__name__)


@dataclass
class WorkerStatus:
    """A worker's state and counters; copied out by ``Worker.status()``."""

    name: str
    state: WorkerState = WorkerState.CONNECTING
    task_id: str | None = None
    task_preview: str = ""
    progress: float = 0.0
    done: int = 0
    redeliveries: int = 0
    failures: int = 0
    returned: int = 0
    message: str = ""
    counters: dict[str, int] = field(default_factory=dict)
    buffered: int = 0
    """Deliveries received and not started yet (they wait behind the current task)."""
    finishing: bool = False
    """Asked to stop once its current task is done."""


class StatusBoard:
    """Where a worker's thread reports: its live status (under a lock) and its observer.

    Args:
        name: the worker's name.
        observer: receives events in the worker's thread, if any.

    Attributes:
        lock: guards ``status`` and ``previewed``; the worker's thread holds it only briefly.
        status: the live status; write it holding ``lock``.
        previewed: the last started delivery. Its preview is made when a copy
            is read (a few dozen times a second), not for every task (about
            1.5 µs each).
    """

    def __init__(self, name: str, observer: WorkerObserver | None = None) -> None:
        self.name = name
        self.lock = threading.Lock()
        self.status = WorkerStatus(name=name)
        self.previewed: Delivery | None = None
        self._observer = observer
        self._preview_cache: tuple[Delivery | None, str] = (None, "")

    def snapshot(self) -> WorkerStatus:
        """A copy of the state and counters, with the current task's preview (any thread)."""
        with self.lock:
            copy = replace(self.status, counters=dict(self.status.counters))
            delivery = self.previewed
        if delivery is not None:
            cached, text = self._preview_cache
            if cached is not delivery:
                text = delivery.preview
                self._preview_cache = (delivery, text)
            copy.task_preview = text
        return copy

    @property
    def state(self) -> WorkerState:
        """The current state (any thread)."""
        with self.lock:
            return self.status.state

    def set(self, **changes: Any) -> None:
        """Change fields of the status under the lock."""
        with self.lock:
            for key, value in changes.items():
                setattr(self.status, key, value)

    def emit(self, event: WorkerEvent) -> None:
        """Hand an event to the observer; an observer's exception is logged, never raised."""
        if self._observer is None:
            return
        try:
            self._observer.on_worker_event(event)
        except Exception:  # noqa: BLE001 - an observer's bug must not crash the worker
            log.exception("%s: observer failed on %s", self.name, type(event).__name__)
