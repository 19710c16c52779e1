"""An observer that records events and lets tests wait on them (no sleeps)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

from core.events import ProducerEvent, WorkerEvent

E = TypeVar("E")


class Recorder:
    """Collects worker and producer events; ``wait_for`` blocks on a condition."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self.events: list[WorkerEvent | ProducerEvent] = []

    def on_worker_event(self, event: WorkerEvent) -> None:
        with self._cond:
            self.events.append(event)
            self._cond.notify_all()

    def on_producer_event(self, event: ProducerEvent) -> None:
        with self._cond:
            self.events.append(event)
            self._cond.notify_all()

    def of(self, kind: type[E]) -> list[E]:
        with self._cond:
            return [e for e in self.events if isinstance(e, kind)]

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 20.0) -> None:
        with self._cond:
            if not self._cond.wait_for(predicate, timeout):
                kinds = [type(e).__name__ for e in self.events[-20:]]
                raise AssertionError(f"condition not met within {timeout} s; last events: {kinds}")

    def wait_count(self, kind: type[E], count: int, timeout: float = 20.0) -> list[E]:
        self.wait_for(lambda: len(self.of(kind)) >= count, timeout)
        return self.of(kind)
