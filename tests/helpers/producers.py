"""A stand-in producer for ``core.sender``: records what is submitted, confirms at once or never."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from concurrent.futures import Future

from core.tasks import Task


class FakeProducer:
    """Has what ``core.sender.send`` needs of a producer.

    Args:
        confirm: resolve every future as it is submitted (else none ever is).
        blocked: the block's reason, or None.
        blocked_reads: the block lifts after ``blocked`` was read this many times (None: never).

    Attributes:
        sizes: how many tasks each ``submit`` call brought, in order.
    """

    def __init__(
        self, *, confirm: bool = True, blocked: str | None = None, blocked_reads: int | None = None
    ) -> None:
        self.connected = threading.Event()
        self.connected.set()
        self.sizes: list[int] = []
        self.block_reads = 0
        self._confirm = confirm
        self._blocked = blocked
        self._blocked_reads = blocked_reads

    @property
    def blocked(self) -> str | None:
        self.block_reads += 1
        if self._blocked_reads is not None and self.block_reads > self._blocked_reads:
            self._blocked = None
        return self._blocked

    def submit(self, tasks: Iterable[Task]) -> list[Future[str]]:
        futures: list[Future[str]] = []
        for task in tasks:
            future: Future[str] = Future()
            if self._confirm:
                future.set_result(task.id)
            futures.append(future)
        self.sizes.append(len(futures))
        return futures
