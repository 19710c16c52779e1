"""Turn-taking for the GIL: busy worker threads step aside when a watched thread runs late.

CPython hands its GIL to whichever waiting thread wakes first. With dozens of
worker threads each processing thousands of deliveries a second, a thread
that only wakes now and then (the window's GUI thread, woken by its event
loop) can wait hundreds of milliseconds for its turn: the window freezes.
Making the workers do less does not cure that; giving the late thread its
turn does.

The watched thread calls ``PriorityGate.beat()`` on a short period (the
window: a 10 ms timer). Workers call ``wait_turn()`` between deliveries; it
costs one clock reading while the beats are on time. When the last beat is
older than ``late_after``, the watched thread is waiting for the GIL, so the
worker blocks (the GIL released) until the next beat, at most ``max_wait``.
Once every busy worker has stepped aside the late thread runs at once; its
beat lets them all go on. Around a longer piece of work the watched thread
says ``with gate.first():`` and workers step aside until it is done: its own
calls that release the GIL (Qt's widget constructors and signal emits do) get
it straight back. Workers check after acknowledging a task, so the broker
sends the next one while they wait. Headless workers have no gate and pay
nothing.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

_SETTLE_STEP = 0.0005


class PriorityGate:
    """Lets one thread (the GUI's) go first when it is late.

    Args:
        late_after: seconds since the last beat after which workers step aside.
            Set it a few milliseconds above the beat period.
        max_wait: the longest a worker waits for a beat (the watched thread may
            be busy for a long while without beating: workers then go on).
        clock: a monotonic clock in seconds (tests may pass their own).
    """

    def __init__(
        self,
        late_after: float = 0.02,
        max_wait: float = 0.05,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if late_after <= 0 or max_wait <= 0:
            raise ValueError("late_after and max_wait must be positive.")
        self._busy: set[int] = set()  # threads inside ``turn()``
        self.late_after = late_after
        self.max_wait = max_wait
        self._clock = clock
        self._condition = threading.Condition(threading.Lock())
        self._generation = 0
        self._last_beat = clock()
        self._open = True  # open: nobody is watched, workers never wait
        self._held = 0  # nesting depth of ``first()``
        self.waits = 0
        """How many times a worker stepped aside (for benchmarks and tests)."""

    @property
    def watching(self) -> bool:
        """True between ``watch()`` and ``unwatch()``."""
        return not self._open

    def watch(self) -> None:
        """Start watching the beats (the watched thread calls ``beat()`` from now on)."""
        with self._condition:
            self._last_beat = self._clock()
            self._open = False

    def unwatch(self) -> None:
        """Stop watching: no worker waits any more, and any waiting one goes on at once."""
        with self._condition:
            self._open = True
            self._generation += 1
            self._condition.notify_all()

    def beat(self) -> None:
        """The watched thread is running: workers that stepped aside go on."""
        with self._condition:
            self._last_beat = self._clock()
            self._generation += 1
            self._condition.notify_all()

    @contextmanager
    def first(self, settle: float = 0.0) -> Iterator[None]:
        """Workers step aside while the calling (watched) thread runs the block (then a beat).

        Args:
            settle: first wait up to this long for busy workers (see ``settle()``).
        """
        self.hold()
        if settle > 0:
            self.settle(settle)
        try:
            yield
        finally:
            self.let_go()

    def hold(self) -> None:
        """Workers step aside from now until the matching ``let_go()`` (they may nest)."""
        with self._condition:
            self._held += 1

    def let_go(self) -> None:
        """End one ``hold()``; the last one lets waiting workers go on."""
        with self._condition:
            self._held = max(0, self._held - 1)
            self._last_beat = self._clock()
            self._generation += 1
            self._condition.notify_all()

    @contextmanager
    def turn(self) -> Iterator[bool]:
        """Around one task's processing: wait while the watched thread is late or first.

        The worker counts as busy inside the block, for ``settle()``. Yields
        True when the worker waited first.
        """
        waited = self.wait_turn()
        me = threading.get_ident()
        self._busy.add(me)  # set.add and set.discard are atomic under the GIL
        try:
            yield waited
        finally:
            self._busy.discard(me)

    def settle(self, timeout: float) -> None:
        """In the watched thread, after ``hold()``: let busy workers reach their next check.

        Sleeps (the GIL released) in short steps until no worker is inside
        ``turn()``, at most ``timeout`` seconds. Work done after that meets
        fewer workers coming back for the GIL than work done straight away.
        It sleeps in real time, so it reads the real clock, not ``clock``.
        """
        deadline = time.monotonic() + timeout
        while self._busy and time.monotonic() < deadline:
            time.sleep(_SETTLE_STEP)

    def _must_wait(self) -> bool:
        if self._open:
            return False
        return self._held > 0 or self._clock() - self._last_beat > self.late_after

    def wait_turn(self) -> bool:
        """Called by a worker between tasks: step aside while the watched thread is late or first.

        Returns:
            True when the worker waited.
        """
        if not self._must_wait():
            return False
        with self._condition:
            if not self._must_wait():
                return False
            generation = self._generation
            self.waits += 1
            self._condition.wait_for(lambda: self._generation != generation, self.max_wait)
        return True


def lower_thread_priority(nice: int) -> None:
    """Lower the calling thread's CPU priority (Linux: per thread; elsewhere nothing)."""
    if not sys.platform.startswith("linux"):
        return  # PRIO_PROCESS with a thread id would mean the whole process there
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), nice)
    except OSError as exc:
        logging.getLogger(__name__).debug("could not lower the thread's priority: %s", exc)
