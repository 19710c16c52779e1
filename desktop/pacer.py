"""The GUI thread's pace: the priority gate's pulse, the tick and its cadences, collector freezing.

Every tuning constant of the window's event handling lives here. They were
measured with ``make bench`` (GUI-thread lateness and throughput with 1 to 32
workers); change one only with the bench rows before and after.
"""

from __future__ import annotations

import contextlib
import gc
import time
from collections.abc import Callable

from PySide6.QtCore import QObject, Qt, QTimer, Slot

from core.priority import PriorityGate
from desktop.bridge import EventBridge, Item
from desktop.crew import Crew
from desktop.task_model import TaskTableModel

TICK_MS = 33
"""The GUI timer's period: events are drained and shown about 30 times a second."""
CARD_EVERY = 3
"""Worker cards are refreshed every third tick (about 10 Hz): enough for progress bars..."""
FLOOD_CARD_EVERY = 9
"""...and every ninth (about 3.7 Hz) in a flood, when every card changes at every refresh."""
FLOOD_ITEMS = 64
"""Task changes in one tick from which the table is told of them every ``FLOOD_FLUSH_EVERY``
ticks (a confirm of 1,000 tasks counts 1,000)."""
FLUSH_EVERY = 3
"""Ticks between two table updates (about 10 Hz; at 30 Hz one busy worker spent about
300 µs of the GUI thread per task, mostly repainting the table)..."""
FEW_CHANGES = 3
"""...but a tick with this few changes (a task enqueued by hand) shows them at once..."""
FLOOD_FLUSH_EVERY = 15
"""About 2 Hz: a repaint of the table costs about 10 ms of the GUI thread idle, several
times that with 32 busy workers (measured: 8 -> 15 took p99 lateness 55 -> 49 ms)."""
TICK_BUDGET = 0.008
"""Seconds of event processing per tick; the rest waits for the next tick..."""
BACKLOG_LIMIT = 5_000
"""...unless more than this many events wait: then the tick works until they do not."""
DRAIN_CHUNK = 256
"""Events taken from the inbox and routed in one go, between two looks at the clock."""
ENQUEUE_CHUNK = 1_000
"""Tasks made, shown and handed to the producer per event-loop turn by a big ``enqueue()``."""
PULSE_MS = 10
"""The GUI thread's pulse for ``PriorityGate``: a beat every 10 ms..."""
PULSE_LATE = 0.012
"""...and workers step aside when the last beat is 12 ms old (2 ms late)..."""
PULSE_MAX_WAIT = 0.05
"""...for at most 50 ms (the GUI thread may be busy without beating)."""
HOLD_FROM_WORKERS = 2
"""Ticks hold the gate from this many running workers (one worker ran 11 % faster without,
the window as responsive; from four, holding was faster too: 2,641 against 2,421 msg/s)."""
TICK_SETTLE = 0.003
"""Each tick first waits up to 3 ms for busy workers to step aside (``PriorityGate.settle``)."""
FREEZE_ROWS = 10_000
"""After the table grew by this many rows the living objects are frozen for the collector."""
RATE_WINDOW = 5.0
"""Seconds over which the done and confirm rates are averaged."""


def freeze_long_lived() -> None:
    """Move everything alive out of the cyclic collector's sight (``gc.freeze()``).

    Called once the window is built (Qt's wrappers, modules, the window live as
    long as the app) and each time the task table has grown by ``FREEZE_ROWS``:
    rows live until cleared and hold no reference cycles, yet every full
    collection scanned them all (with 100,000 rows one took 84 to 224 ms here,
    in the GUI thread, stopping every thread). Frozen, they are skipped;
    reference counting still frees them when cleared. A young collection first
    frees the cyclic garbage of the moment.
    """
    gc.collect(1)
    gc.freeze()


def make_gate() -> PriorityGate:
    """The priority gate the window's workers share, tuned for the GUI thread's pulse."""
    return PriorityGate(late_after=PULSE_LATE, max_wait=PULSE_MAX_WAIT)


class Pacer(QObject):
    """Beats the gate's pulse and runs the tick: drain, route, then show what has time to show.

    Worker threads step aside when the GUI thread's pulse is late
    (``core.priority``); a tick holds them back while it runs once two or more
    are running. Each tick routes the inbox's events for about ``TICK_BUDGET``;
    the table is told of changes at about 10 Hz (a lone change at once, about
    2 Hz in a flood) and the worker cards refreshed at about 10 Hz (3.7 Hz in
    a flood).

    Args:
        gate: the gate the workers share (see ``make_gate``).
        model: the task table to flush.
        crew: the workers whose cards to refresh.
        route: handles a batch of events; returns how many task changes it held.
        on_ticked: called at the end of each tick, still holding the workers back.
        tick_ms: the tick's period.
        parent: the owning QObject.

    Attributes:
        bridge: the session's inbox the tick drains.
    """

    def __init__(
        self,
        gate: PriorityGate,
        model: TaskTableModel,
        crew: Crew,
        route: Callable[[list[Item]], int],
        on_ticked: Callable[[], None],
        tick_ms: int = TICK_MS,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.gate = gate
        self.bridge = EventBridge()
        self._model = model
        self._crew = crew
        self._route = route
        self._on_ticked = on_ticked
        self._ticks = 0
        self._since_flush = 0
        self._rows_frozen = 0  # the table's size when the living objects were last frozen
        self._pulse = QTimer(self)
        self._pulse.setTimerType(Qt.TimerType.PreciseTimer)
        self._pulse.setInterval(PULSE_MS)
        self._pulse.timeout.connect(gate.beat)
        self._timer = QTimer(self)
        self._timer.setInterval(tick_ms)
        self._timer.timeout.connect(self._on_timeout)

    def start(self) -> None:
        """Start ticking and beating; the workers start taking turns with this thread."""
        self._timer.start()
        self.gate.watch()
        self._pulse.start()

    def stop(self) -> None:
        """Stop for good: no tick, no beat, and workers never wait for this thread again."""
        self._timer.stop()
        self._pulse.stop()
        self.gate.unwatch()  # this thread now waits for the workers: never the other way round

    def pause(self, paused: bool) -> None:
        """Stop (or restart) the tick only; the pulse and the gate go on."""
        if paused:
            self._timer.stop()
        else:
            self._timer.start()

    @Slot()
    def _on_timeout(self) -> None:
        # A lone worker does not crowd the GIL: the tick then holds nobody back.
        crowded = self._crew.running >= HOLD_FROM_WORKERS
        with self.gate.first(settle=TICK_SETTLE) if crowded else contextlib.nullcontext():
            self._tick()

    def _tick(self) -> None:
        handled = self._drain()
        self._ticks += 1
        # The table is told of changes at most every FLUSH_EVERY ticks, a lone change
        # at once, and in a flood (thousands of zero-second tasks a second) every
        # FLOOD_FLUSH_EVERY ticks: each repaint draws every visible cell (the
        # ledger's counts and records are up to date meanwhile).
        self._since_flush += 1
        flood = handled >= FLOOD_ITEMS
        if self._since_flush >= (FLOOD_FLUSH_EVERY if flood else FLUSH_EVERY) or (
            0 < handled <= FEW_CHANGES
        ):
            self._model.flush()
            self._since_flush = 0
        self._freeze_if_grown(len(self._model))  # enqueued and foreign tasks add rows
        if self._ticks % (FLOOD_CARD_EVERY if flood else CARD_EVERY) == 0:
            self._crew.refresh()
        self._on_ticked()

    def _drain(self) -> int:
        bridge = self.bridge
        deadline = time.perf_counter() + TICK_BUDGET
        handled = 0
        while True:
            items = bridge.drain(DRAIN_CHUNK)
            handled += self._route(items)
            if len(items) < DRAIN_CHUNK:
                return handled
            if time.perf_counter() > deadline and len(bridge) <= BACKLOG_LIMIT:
                return handled  # the rest next tick, 33 ms from now

    def _freeze_if_grown(self, rows: int) -> None:
        self._rows_frozen = min(self._rows_frozen, rows)  # "Clear finished" shrank it
        if rows - self._rows_frozen >= FREEZE_ROWS:
            freeze_long_lived()
            self._rows_frozen = rows
