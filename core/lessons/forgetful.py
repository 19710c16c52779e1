"""A connection whose channels forget to acknowledge: the tutorial's classic mistake, on purpose.

The real worker runs on it unchanged (through ``Worker``'s ``connect`` hook):
it works, reports each task done, and calls ``basic_ack``, which this channel
swallows and counts. The broker keeps every such task unacknowledged until
the connection dies, then hands them all out again.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

import pika
from pika.adapters.blocking_connection import BlockingChannel, BlockingConnection

from core.events import WorkerObserver
from core.settings import ConnectionSettings
from core.topology import QueueSpec
from core.worker import Worker, WorkerOptions


class Forgotten:
    """Counts acks that were never sent (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._count = 0

    def add(self) -> None:
        """One more ack forgotten."""
        with self._lock:
            self._count += 1

    @property
    def count(self) -> int:
        """Acks forgotten so far."""
        with self._lock:
            return self._count


class ForgetfulChannel(BlockingChannel):  # type: ignore[misc]  # pika: untyped
    """A channel whose ``basic_ack`` sends nothing (set up by ``ForgetfulConnection``)."""

    forgotten: Forgotten

    def basic_ack(self, delivery_tag: int = 0, multiple: bool = False) -> None:
        """Forget the ack: nothing goes to the broker."""
        self.forgotten.add()


class ForgetfulConnection(BlockingConnection):  # type: ignore[misc]  # pika: untyped
    """A ``BlockingConnection`` whose channels forget every ack.

    Args:
        parameters: as ``BlockingConnection`` takes them.
        forgotten: where the forgotten acks are counted.
    """

    def __init__(self, parameters: Sequence[pika.URLParameters], forgotten: Forgotten) -> None:
        self._forgotten = forgotten
        super().__init__(list(parameters))

    def channel(self, channel_number: int | None = None) -> BlockingChannel:
        """A channel like any other, except that its acks are forgotten."""
        channel = super().channel(channel_number)
        channel.__class__ = ForgetfulChannel  # same layout; only basic_ack differs
        channel.forgotten = self._forgotten
        return channel


def forgetful_workers(forgotten: Forgotten) -> Any:
    """A ``WorkerPool`` worker factory whose workers never acknowledge."""

    def make(
        name: str,
        settings: ConnectionSettings,
        queue: QueueSpec,
        observer: WorkerObserver | None,
        options: WorkerOptions | None,
        **kwargs: Any,
    ) -> Worker:
        def connect(parameters: list[pika.URLParameters]) -> BlockingConnection:
            return ForgetfulConnection(parameters, forgotten)

        return Worker(name, settings, queue, observer, options, connect=connect, **kwargs)

    return make
