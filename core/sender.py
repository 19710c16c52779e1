"""``kanin new-task``: tasks made and sent in chunks, and what the broker throws back, said.

Tasks are made a chunk at a time while at most two chunks await their
confirms, so ``--count 100000`` holds a few thousand tasks in memory, not all
of them. Each confirmed task prints the tutorial's `` [x] Sent <message>``.
What the producer reports goes to stderr, one line each: a block by the
broker (a resource alarm: the command waits, and says so), tasks that stay
unconfirmed (a queue that does not answer), a lost connection.

The command gives up (``SendingStopped``) when ``timeout`` seconds pass
without every task confirmed, or, when no timeout is given, after
``NO_PROGRESS_LIMIT`` seconds without any confirm while the broker is not
blocking publishers (a block is waited out: it clears when the broker has
room again).
"""

from __future__ import annotations

import collections
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from typing import Protocol, TextIO

from core.events import (
    ProducerBlocked,
    ProducerDisconnected,
    ProducerEvent,
    ProducerStalled,
    ProducerUnblocked,
)
from core.tasks import Task

CHUNK = 2000
"""Tasks made and submitted at once; at most two chunks await their confirms."""
NO_PROGRESS_LIMIT = 60.0
"""Seconds without a confirm (and no block) after which sending gives up without a timeout."""
POLL = 0.5
"""Longest wait on one confirm before the limits are checked again."""


class Sending(Protocol):
    """What sending needs of a producer (``core.producer.Producer`` has it)."""

    connected: threading.Event

    @property
    def blocked(self) -> str | None:
        """The broker's reason while it blocks publishing, else None."""

    def submit(self, tasks: Iterable[Task]) -> list[Future[str]]:
        """Queue tasks; each future resolves to the task id once confirmed."""


class SendingStopped(Exception):
    """Sending gave up before every task was confirmed; the message says why, in one sentence."""


class Reporter:
    """Prints what the producer reports about the broker, one line each, to ``err``.

    Args:
        err: where the lines go (stderr).
        can_give_up: say how to give up while blocked (``--timeout``) when no timeout is set.
    """

    def __init__(self, err: TextIO, *, can_give_up: bool = True) -> None:
        self._err = err
        self._hint = " (Ctrl+C to stop, or --timeout SECONDS to give up)" if can_give_up else ""

    def on_producer_event(self, event: ProducerEvent) -> None:
        """Print one line for a block, its end, a stall or a lost connection."""
        if isinstance(event, ProducerBlocked):
            line = f"the broker blocked publishing ({event.alarm}); waiting for it to clear"
            line += self._hint
        elif isinstance(event, ProducerUnblocked):
            line = "the broker lifted its block; publishing goes on"
        elif isinstance(event, ProducerStalled):
            line = (
                f"{event.count} tasks await the broker's confirm, the oldest for "
                f"{event.oldest_age:.0f} s: queue '{event.queue}' does not answer"
            )
        elif isinstance(event, ProducerDisconnected) and event.retrying:
            line = f"{event.reason.rstrip('.')}; reconnecting, {event.waiting} tasks wait"
        else:
            return
        print(f"kanin: {line}.", file=self._err, flush=True)


def send(
    producer: Sending,
    message: str,
    count: int,
    out: TextIO,
    *,
    timeout: float | None = None,
    chunk: int = CHUNK,
    clock: Callable[[], float] = time.monotonic,
    poll: float = POLL,
) -> None:
    """Submit ``count`` tasks of ``message`` and print `` [x] Sent`` for each once confirmed.

    Args:
        producer: a started producer.
        message: the task text.
        count: how many tasks.
        out: where the tutorial's lines go.
        timeout: give up when not every task is confirmed within this many seconds.
        chunk: tasks made at once (at most two chunks await their confirms).
        clock: the monotonic clock (tests may pass their own).
        poll: the longest wait on one confirm before the limits are checked.

    Raises:
        BrokerError: the broker refused a task, or the producer gave up on it.
        SendingStopped: the time ran out (``timeout``, or no progress without a block).
    """
    started = clock()
    deadline = None if timeout is None else started + timeout
    pending: collections.deque[Future[str]] = collections.deque()
    made = confirmed = 0
    progress, seen = started, 0  # when ``seen`` confirms were first counted
    line = f" [x] Sent {message}"
    while confirmed < count:
        while made < count and len(pending) < 2 * chunk:
            size = min(chunk, count - made)
            pending.extend(producer.submit(Task.new(message) for _ in range(size)))
            made += size
        future = pending[0]
        if not future.done():  # the clock is read only when a confirm is awaited
            now = clock()
            if confirmed != seen:
                progress, seen = now, confirmed
            wait = poll if deadline is None else max(0.0, min(poll, deadline - now))
            try:
                future.result(timeout=wait)
            except TimeoutError:
                now = clock()
                if producer.blocked is not None:
                    progress = now  # a block is waited out; only --timeout ends it
                _check_limits(producer, now, deadline, timeout, progress, confirmed, count)
                continue
        future.result()  # raises the task's failure
        pending.popleft()
        confirmed += 1
        print(line, file=out, flush=count == 1)
    out.flush()


def _check_limits(
    producer: Sending,
    now: float,
    deadline: float | None,
    timeout: float | None,
    progress: float,
    confirmed: int,
    count: int,
) -> None:
    """Raise ``SendingStopped`` when the deadline passed or nothing moved for too long."""
    blocked = producer.blocked
    state = (
        f"; the broker still blocks publishing ({_alarm(blocked)})"
        if blocked is not None
        else ""
        if producer.connected.is_set()
        else "; the producer is not connected to the broker"
    )
    unconfirmed = (
        f"{confirmed} of {count} tasks confirmed; the others were not "
        "(those already sent may still reach the queue)"
    )
    if deadline is not None and now >= deadline:
        raise SendingStopped(f"Gave up after {timeout:g} s (--timeout): {unconfirmed}{state}.")
    if deadline is None and now - progress >= NO_PROGRESS_LIMIT:
        raise SendingStopped(
            f"The broker confirmed no task for {NO_PROGRESS_LIMIT:.0f} s: {unconfirmed}{state}."
        )


def _alarm(reason: str) -> str:
    return ProducerBlocked(0.0, reason).alarm
