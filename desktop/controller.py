"""The window's controller: owns the producer, the worker pool and the queue watcher.

Everything here runs in the GUI thread except the core objects' own threads.
Core threads report into an ``EventBridge``; a ``QTimer`` (about 30 Hz)
drains it, updates the task model in batches, copies ``pool.snapshot()`` for
the worker cards, and emits the discrete Qt signals below. No pika call is
made in the GUI thread: the producer, workers and watcher connect in their
threads, and stopping them only sets events or schedules thread-safe callbacks.

The self-test and the screenshot code drive the window through this object
(``window.controller``): ``enqueue(texts)``, ``add_workers(count)``,
``kill_worker(name)``, ``stop_worker(name)``, ``shutdown(timeout)`` and the
signals ``task_finished(str)`` and ``connection_failed(str)``.
"""

from __future__ import annotations

import collections
import contextlib
import gc
import logging
import os
import random
import threading
import time
from dataclasses import dataclass, replace

from PySide6.QtCore import QMetaMethod, QObject, Qt, QTimer, Signal, SignalInstance, Slot

from core.events import (
    ProducerConnected,
    ProducerDisconnected,
    TaskFailed,
    TaskFinished,
    TaskReturned,
    TasksConfirmed,
    TasksPublished,
    TasksRejected,
    TaskStarted,
    WorkerConnected,
    WorkerFailed,
    WorkerKilled,
    WorkerState,
    WorkerStopped,
)
from core.monitor import QueueStats
from core.priority import PriorityGate
from core.status import WorkerStatus
from core.tasks import Task
from core.topology import QueueType
from core.work import Work, dot_work
from core.worker import AckMode
from desktop.bridge import BrokerInfo, Item
from desktop.preferences import AppSettings, from_urls
from desktop.session import Session
from desktop.task_model import TaskState, TaskTableModel

log = logging.getLogger(__name__)

TICK_MS = 33
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
_CHUNK = 256
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


class ConnectionState:
    """The connection states shown in the status bar."""

    CONNECTING = "connecting"
    CONNECTED = "connected"
    RECONNECTING = "reconnecting"
    FAILED = "failed"


@dataclass(frozen=True)
class QueueSample:
    """One point of the queue panel's figures and chart.

    Attributes:
        stats: the watcher's reading (with its sources).
        kanin_unacked: deliveries held by Kanin's own workers right now.
        kanin_consumers: Kanin workers consuming right now.
        done_rate: tasks acknowledged per second by Kanin's workers (last few seconds).
        confirm_rate: tasks confirmed by the broker per second (last few seconds).
    """

    stats: QueueStats
    kanin_unacked: int
    kanin_consumers: int
    done_rate: float
    confirm_rate: float


class Controller(QObject):
    """Runs the work queue behind the window.

    Args:
        settings: the connection, queue and worker settings to start with.
        work: decides each task's work (default: one second per ``.``); tests pass faster ones.
        tick_ms: the GUI timer's period for draining events and polling workers.
        watch_interval: seconds between queue readings.
        management_port: the management plugin's port, ``None`` to skip it.
        initial_error: a settings problem found before starting (e.g. a bad ``--url``):
            shown as a failed connection until new settings are applied.
        parent: the owning QObject.

    Signals:
        task_started(str, str): a worker took a task (task id, worker name).
        task_finished(str): a task was acknowledged (task id); emitted only while
            connected to, since one emit per task is costly in a flood.
        tasks_finished(object): the ids of the tasks acknowledged since the last
            tick, a ``list[str]`` (never empty): one emit per tick.
        task_returned(str, str): a task went back to the queue (task id, worker name).
        worker_killed(str): a worker was killed (worker name).
        workers_updated(object): the latest ``list[WorkerStatus]``, about 10 times a second.
        sample_taken(object): a ``QueueSample``, about once a second.
        connection_changed(str, str): connection state and a sentence about it.
        connection_failed(str): the broker cannot be reached or refused the login (message).
        broker_identified(str): the broker's product and version, e.g. ``RabbitMQ 3.10.8``.
        settings_applied(): new settings are in effect.
        dead_letter_sampled(object): a ``QueueStats`` of the dead-letter queue
            ``<queue>.dead`` (``ready`` is ``None`` while it does not exist).
        pending_changed(int): tasks waiting for the broker (not yet confirmed
            while it is away); emitted when the number changes.
        ticked(): the end of each GUI tick, while the workers still step aside
            (``PriorityGate.first``): the window paints what the tick changed
            there and then, with the GIL to itself.
    """

    task_started = Signal(str, str)
    task_finished = Signal(str)
    tasks_finished = Signal(object)
    task_returned = Signal(str, str)
    worker_killed = Signal(str)
    workers_updated = Signal(object)
    sample_taken = Signal(object)
    connection_changed = Signal(str, str)
    connection_failed = Signal(str)
    broker_identified = Signal(str)
    settings_applied = Signal()
    dead_letter_sampled = Signal(object)
    pending_changed = Signal(int)
    ticked = Signal()

    def __init__(
        self,
        settings: AppSettings,
        *,
        work: Work = dot_work,
        tick_ms: int = TICK_MS,
        watch_interval: float = 1.0,
        management_port: int | None = 15672,
        initial_error: str = "",
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._work = work
        self._watch_interval = watch_interval
        self._management_port = management_port
        self.model = TaskTableModel(self)
        # Worker threads step aside when this thread's pulse is late (core.priority).
        self.gate = PriorityGate(late_after=PULSE_LATE, max_wait=PULSE_MAX_WAIT)
        self._pulse = QTimer(self)
        self._pulse.setTimerType(Qt.TimerType.PreciseTimer)
        self._pulse.setInterval(PULSE_MS)
        self._pulse.timeout.connect(self.gate.beat)
        self._session = Session(
            settings, work, watch_interval, management_port, initial_error, gate=self.gate
        )
        self._retired: list[threading.Thread] = []
        self._state = ConnectionState.CONNECTING
        self._message = "Connecting to the broker…"
        self._broker = ""
        self._queue_kind = ""
        self._producer_dead = ""
        self._finished_total = 0
        self._confirmed_total = 0
        self._samples: collections.deque[tuple[float, int, int]] = collections.deque()
        self._statuses: list[WorkerStatus] = []
        self._last_stats: QueueStats | None = None
        self._max_attempts: int | None = None
        self._node = ""
        self._pending = 0
        self._task_counter = 0
        self._rows_frozen = 0  # the model's size when the living objects were last frozen
        self._ticks = 0
        self._since_flush = 0
        self._started = False
        self._shut_down = False
        self._signal_methods: dict[str, QMetaMethod] = {}
        self._timer = QTimer(self)
        self._timer.setInterval(tick_ms)
        self._timer.timeout.connect(self._on_tick)
        # A big enqueue() is sent ENQUEUE_CHUNK tasks per event-loop turn: (ids, texts, created).
        self._backlog: collections.deque[tuple[list[str], list[str], float]] = collections.deque()
        self._backlog_size = 0
        self._backlog_timer = QTimer(self)
        self._backlog_timer.setSingleShot(True)
        self._backlog_timer.setInterval(0)
        self._backlog_timer.timeout.connect(self._on_backlog_turn)

    # ----------------------------------------------------------------- properties

    @property
    def settings(self) -> AppSettings:
        """The settings in effect."""
        return self._session.settings

    @property
    def connection_state(self) -> str:
        """One of ``ConnectionState``'s values."""
        return self._state

    @property
    def connection_message(self) -> str:
        """A sentence about the connection, for the status bar and the banner."""
        return self._message

    @property
    def broker_version(self) -> str:
        """``RabbitMQ 3.10.8``, or "" until the watcher has connected once."""
        return self._broker

    @property
    def queue_kind(self) -> str:
        """``quorum queue`` or ``classic queue`` once the queue was declared, else ""."""
        return self._queue_kind

    @property
    def queue_type(self) -> QueueType | None:
        """The queue's type as the producer's declare found it (``None`` before)."""
        producer = self._session.producer
        report = producer.report if producer is not None else None
        return report.queue_type if report is not None else None

    @property
    def max_attempts(self) -> int | None:
        """Attempts before a failing task is dead-lettered (``None``: given back forever)."""
        return self._max_attempts

    def set_max_attempts(self, attempts: int | None) -> None:
        """Workers started from now on dead-letter a task at its ``attempts``-th failure.

        Call it once the queue's dead-letter policy exists (``core.policies``):
        without it the broker would drop the rejected task.

        Args:
            attempts: the limit, or ``None`` to give failed tasks back forever.
        """
        self._max_attempts = attempts
        pool = self._session.pool
        if pool is not None:
            pool.options = replace(pool.options, max_attempts=attempts)
        if self._session.watcher is not None and attempts is not None:
            self._session.watcher.look_for_dead_letters()  # the policy came with the queue

    @property
    def started(self) -> bool:
        """True once ``start()`` was called."""
        return self._started

    @property
    def last_stats(self) -> QueueStats | None:
        """The work queue's latest reading by the watcher (``None`` before the first)."""
        return self._last_stats

    @property
    def node(self) -> str:
        """The broker node the producer is connected to, redacted ("" when not connected)."""
        return self._node

    @property
    def pending_count(self) -> int:
        """Tasks waiting for the broker: enqueued or unconfirmed while it is away."""
        return self._pending

    @property
    def unconfirmed_count(self) -> int:
        """Tasks the broker has not confirmed yet (sent, waiting, or still being enqueued)."""
        producer = self._session.producer
        return (producer.waiting if producer is not None else 0) + self._backlog_size

    def queued_by_bookkeeping(self) -> int:
        """Kanin's own count of its tasks in the queue: confirmed, not yet taken or back."""
        counts = self.model.counts()
        return counts[TaskState.QUEUED] + counts[TaskState.REDELIVERED] + counts[TaskState.RETRYING]

    def use_local_broker(self, url: str) -> None:
        """Switch to the managed local node at ``url`` (not remembered), starting if needed.

        Args:
            url: the node's AMQP URL (``LocalBroker.amqp_url``).
        """
        self.apply_settings(from_urls([url], self.settings))
        self.start()

    @property
    def statuses(self) -> list[WorkerStatus]:
        """The last copy of every worker's state."""
        return list(self._statuses)

    # ----------------------------------------------------------------- life cycle

    def start(self) -> None:
        """Start connecting (in core threads) and the GUI timer. Returns at once."""
        if self._started:
            return
        self._started = True
        self._begin_session()
        self._timer.start()
        self.gate.watch()
        self._pulse.start()

    def _begin_session(self) -> None:
        session = self._session
        self._producer_dead = ""
        self._queue_kind = ""
        self._node = ""
        self._last_stats = None
        self._samples.clear()
        if session.error:
            self._set_state(ConnectionState.FAILED, session.error)
            self._producer_dead = session.error
            self.connection_failed.emit(session.error)
            return
        self._set_state(ConnectionState.CONNECTING, f"Connecting to {session.settings.redacted}…")
        session.start()

    def apply_settings(self, settings: AppSettings) -> None:
        """Switch to new settings: the old workers stop in the background, as many start anew.

        Args:
            settings: the new settings (already validated by the dialog).
        """
        old = self._session
        alive = len(old.pool.names(alive_only=True)) if old.pool is not None else 0
        self._process(old.bridge.drain())
        self._retire(old)
        if settings.queue != old.settings.queue or settings.urls != old.settings.urls:
            self._max_attempts = None  # the dead-letter policy was for the old queue
        self._session = Session(
            settings, self._work, self._watch_interval, self._management_port, gate=self.gate
        )
        if self._max_attempts is not None:
            self.set_max_attempts(self._max_attempts)
        self._statuses = []
        if self._started:
            self._begin_session()
            if alive and self._session.pool is not None:
                self._session.pool.add(alive)
        self.settings_applied.emit()

    def pause_updates(self, paused: bool) -> None:
        """Stop (or restart) draining events into the window; the core keeps running.

        Used by ``--screenshot`` to photograph a moment (e.g. tasks still *sending*).

        Args:
            paused: True to stop the GUI timer, False to start it again.
        """
        if paused:
            self._timer.stop()
        elif self._started and not self._shut_down:
            self._timer.start()

    def retry(self) -> None:
        """Reconnect with the same settings (after the broker came back or was fixed)."""
        self.apply_settings(self._session.settings)

    def _retire(self, session: Session) -> None:
        thread = threading.Thread(
            target=session.close, args=(10.0,), name="kanin-teardown", daemon=True
        )
        thread.start()
        self._retired.append(thread)

    def shutdown(self, timeout: float = 8.0) -> bool:
        """Stop everything: workers give their tasks back, the producer drains its confirms.

        Blocks for at most about ``timeout`` seconds (call it when the window closes).

        Args:
            timeout: seconds to wait for every thread.

        Returns:
            True when every thread ended in time.
        """
        if self._shut_down:
            return True
        while self._backlog:  # a big enqueue still under way: hand it all over now
            self._backlog_turn()
        self._shut_down = True
        self._timer.stop()
        self._pulse.stop()
        self.gate.unwatch()  # this thread now waits for the workers: never the other way round
        deadline = time.monotonic() + timeout
        ok = self._session.close(timeout)
        for thread in self._retired:
            thread.join(max(0.1, deadline - time.monotonic()))
            ok = ok and not thread.is_alive()
        self._process(self._session.bridge.drain())
        self.model.flush()
        if not ok:
            log.warning("Some threads were still running %.0f s after closing.", timeout)
        return ok

    # ----------------------------------------------------------------- tasks

    def enqueue(self, texts: list[str]) -> list[str]:
        """Enqueue one task per text; they show at once as *sending*.

        Up to ``ENQUEUE_CHUNK`` tasks are made, shown and handed to the producer
        at once. A bigger batch gets its ids at once and goes out in chunks of
        ``ENQUEUE_CHUNK``, one per event-loop turn (the first one now), so the
        window stays responsive; later enqueues wait for it, in order.

        Args:
            texts: task bodies in the tutorial's format (each ``.`` is a second of work).

        Returns:
            The new tasks' ids.
        """
        if not texts:
            return []
        if len(texts) <= ENQUEUE_CHUNK and not self._backlog:
            return self._send([Task.new(text) for text in texts])
        raw = os.urandom(8 * len(texts)).hex()  # what Task.new's ids are: 16 hex digits
        ids = [raw[i : i + 16] for i in range(0, len(raw), 16)]
        created = time.time()
        for start in range(0, len(texts), ENQUEUE_CHUNK):
            end = start + ENQUEUE_CHUNK
            self._backlog.append((ids[start:end], list(texts[start:end]), created))
        self._backlog_size += len(texts)
        log.info("Enqueued %d tasks.", len(texts))
        if not self._backlog_timer.isActive():
            self._on_backlog_turn()
        return ids

    @Slot()
    def _on_backlog_turn(self) -> None:
        with self.gate.first():
            self._backlog_turn()

    def _backlog_turn(self) -> None:
        if self._backlog:
            ids, texts, created = self._backlog.popleft()
            self._backlog_size -= len(ids)
            tasks = [
                Task(id=task_id, body=text.encode("utf-8"), created=created)
                for task_id, text in zip(ids, texts, strict=True)
            ]
            self._send(tasks, quiet=True)
        if self._backlog:
            self._backlog_timer.start()

    def _send(self, tasks: list[Task], *, quiet: bool = False) -> list[str]:
        # A chunk of a big enqueue (quiet) is shown by the next tick, not repainted now.
        self.model.add_tasks(tasks, flush=not quiet)
        ids = [task.id for task in tasks]
        producer = self._session.producer
        if self._producer_dead or producer is None or self._shut_down:
            reason = self._producer_dead or "Kanin is closing; the task was not sent."
            self.model.mark_rejected(ids, f"Not sent: {reason}")
            self.model.flush()
        else:
            producer.submit(tasks)
            if self._state != ConnectionState.CONNECTED:
                self.model.mark_waiting(ids)
                self.model.flush()
                self._update_pending()
            if len(tasks) == 1 and not quiet:
                log.info("Enqueued task %s: %s", ids[0], tasks[0].preview)
            elif not quiet:
                log.info("Enqueued %d tasks.", len(tasks))
        return ids

    def enqueue_mixed(self, count: int, min_dots: int, max_dots: int) -> list[str]:
        """Enqueue ``count`` tasks of random lengths.

        Args:
            count: how many tasks.
            min_dots: fewest dots (seconds of work) per task.
            max_dots: most dots per task.

        Returns:
            The new tasks' ids.
        """
        low, high = sorted((max(0, min_dots), max(0, max_dots)))
        texts = []
        for _ in range(count):
            self._task_counter += 1
            texts.append(f"Task {self._task_counter} " + "." * random.randint(low, high))
        return self.enqueue(texts)

    # ----------------------------------------------------------------- workers

    def add_workers(self, count: int = 1) -> list[str]:
        """Start ``count`` workers, each in its own thread with its own connection.

        Returns:
            The new workers' names.
        """
        pool = self._session.pool
        if pool is None or self._shut_down or count < 1:
            return []
        with self.gate.first():  # a card per worker: Qt's constructors release the GIL
            names = pool.add(count)
            if len(names) <= 4:
                log.info("Started %s.", ", ".join(names))
            else:
                log.info("Started %d workers, %s to %s.", len(names), names[0], names[-1])
            self._refresh_workers()
        return names

    def kill_worker(self, name: str) -> None:
        """Crash a worker on purpose: its unacked task goes back to the queue."""
        pool = self._session.pool
        if pool is None:
            return
        try:
            pool.kill(name)
            log.info("Killing %s: its unacknowledged task returns to the queue.", name)
        except KeyError:
            log.warning("There is no worker named %s.", name)

    def stop_worker(self, name: str) -> None:
        """Stop a worker gracefully: its current task is given back with a nack."""
        pool = self._session.pool
        if pool is None:
            return
        try:
            pool.stop(name)
            log.info("Stopping %s.", name)
        except KeyError:
            log.warning("There is no worker named %s.", name)

    def remove_workers(self, count: int) -> list[str]:
        """Stop ``count`` running workers, idle ones first, then the newest.

        Returns:
            The names of the workers asked to stop.
        """
        pool = self._session.pool
        if pool is None:
            return []
        running = [
            s
            for s in pool.snapshot()
            if not s.state.finished and s.state is not WorkerState.STOPPING
        ]
        idle = [s.name for s in running if s.state is not WorkerState.BUSY]
        busy = [s.name for s in running if s.state is WorkerState.BUSY]
        chosen = (list(reversed(idle)) + list(reversed(busy)))[: max(0, count)]
        for name in chosen:
            pool.stop(name)
        if chosen:
            log.info("Stopping %s.", ", ".join(chosen))
        return chosen

    def remove_finished_workers(self) -> list[str]:
        """Forget stopped, killed and failed workers (their cards go away)."""
        pool = self._session.pool
        if pool is None:
            return []
        gone = pool.remove_finished()
        self._refresh_workers()
        return gone

    def worker_names(self, *, alive_only: bool = False) -> list[str]:
        """The workers' names, in the order they were added."""
        pool = self._session.pool
        return pool.names(alive_only=alive_only) if pool is not None else []

    # ----------------------------------------------------------------- the GUI timer

    @Slot()
    def _on_tick(self) -> None:
        running = sum(1 for status in self._statuses if not status.state.finished)
        # A lone worker does not crowd the GIL: the tick then holds nobody back.
        crowded = running >= HOLD_FROM_WORKERS
        with self.gate.first(settle=TICK_SETTLE) if crowded else contextlib.nullcontext():
            self._tick()
            self.ticked.emit()

    def _tick(self) -> None:
        bridge = self._session.bridge
        deadline = time.perf_counter() + TICK_BUDGET
        handled = 0
        while True:
            items = bridge.drain(_CHUNK)
            handled += self._process(items)
            if len(items) < _CHUNK:
                break
            if time.perf_counter() > deadline and len(bridge) <= BACKLOG_LIMIT:
                break  # the rest next tick, 33 ms from now
        self._ticks += 1
        # The table is told of changes at most every FLUSH_EVERY ticks (about 10 Hz),
        # a lone change at once, and in a flood (thousands of zero-second tasks a
        # second) every FLOOD_FLUSH_EVERY ticks: each repaint draws every visible cell
        # (the model's counts and rows are up to date meanwhile).
        self._since_flush += 1
        every = FLUSH_EVERY if handled < FLOOD_ITEMS else FLOOD_FLUSH_EVERY
        if self._since_flush >= every or 0 < handled <= FEW_CHANGES:
            self.model.flush()
            self._since_flush = 0
        self._update_pending()
        self._freeze_if_grown()  # every tick: enqueued and other producers' tasks add rows
        if self._ticks % (CARD_EVERY if handled < FLOOD_ITEMS else FLOOD_CARD_EVERY) == 0:
            self._refresh_workers()

    def _freeze_if_grown(self) -> None:
        rows = len(self.model)
        self._rows_frozen = min(self._rows_frozen, rows)  # "Clear finished" shrank it
        if rows - self._rows_frozen >= FREEZE_ROWS:
            freeze_long_lived()
            self._rows_frozen = rows

    def _refresh_workers(self) -> None:
        pool = self._session.pool
        self._statuses = pool.snapshot() if pool is not None else []
        self.workers_updated.emit(self._statuses)

    def _process(self, items: list[Item]) -> int:
        """Turn core events into model updates and signals; returns how many tasks changed."""
        if not items:
            return 0
        changed = len(items)
        offset = time.time() - time.monotonic()
        model = self.model
        # Each Qt call may hand the GIL to a busy worker thread for a whole switch
        # interval: per-task signals are emitted only when someone listens.
        announce_started = self._is_connected("task_started")
        announce_finished = self._is_connected("task_finished")
        finished: list[str] = []
        auto_ack = self._session.settings.ack_mode is AckMode.AUTO
        for item in items:
            if isinstance(item, TaskStarted):
                model.mark_started(item.worker, item.delivery, item.at + offset)
                if announce_started:
                    self.task_started.emit(item.delivery.task_id, item.worker)
            elif isinstance(item, TaskFinished):
                self._finished_total += 1
                model.mark_finished(item.worker, item.task_id, item.duration, item.at + offset)
                finished.append(item.task_id)
                if announce_finished:
                    self.task_finished.emit(item.task_id)
            elif isinstance(item, TasksPublished):
                model.mark_published(item.task_ids)
                changed += len(item.task_ids) - 1
            elif isinstance(item, TasksConfirmed):
                self._confirmed_total += len(item.task_ids)
                model.mark_confirmed(item.task_ids)
                changed += len(item.task_ids) - 1
            elif isinstance(item, TaskReturned):
                if auto_ack:
                    model.mark_lost(
                        item.task_id,
                        f"Lost: {item.worker} stopped ({item.reason}) after the broker had "
                        "already counted it as acknowledged (auto-ack).",
                    )
                else:
                    model.mark_returned(
                        item.task_id,
                        f"{item.worker} gave it back ({item.reason}); it is back in the queue.",
                    )
                    self.task_returned.emit(item.task_id, item.worker)
            elif isinstance(item, WorkerKilled):
                if item.task_id is not None and auto_ack:
                    model.mark_lost(
                        item.task_id,
                        f"Lost: {item.worker} was killed, and with auto-ack the broker had "
                        "already forgotten the task.",
                    )
                    log.warning(
                        "%s was killed in auto-ack mode: its task %s is lost, and so is any "
                        "task the broker had already pushed to it.",
                        item.worker,
                        item.task_id,
                    )
                elif item.task_id is not None:
                    model.mark_returned(
                        item.task_id,
                        f"{item.worker} was killed before acknowledging it; "
                        "the broker put it back in the queue.",
                    )
                    self.task_returned.emit(item.task_id, item.worker)
                log.info("%s was killed.", item.worker)
                self.worker_killed.emit(item.worker)
            elif isinstance(item, TaskFailed):
                model.mark_failed(
                    item.task_id,
                    item.error,
                    item.requeued,
                    attempt=item.attempt,
                    dead_lettered=not item.requeued and not auto_ack,
                )
            elif isinstance(item, TasksRejected):
                model.mark_rejected(item.task_ids, item.reason)
            elif isinstance(item, QueueStats):
                self._on_stats(item)
            elif isinstance(item, ProducerConnected):
                self._on_connected(item)
            elif isinstance(item, ProducerDisconnected):
                self._on_disconnected(item)
            elif isinstance(item, WorkerFailed):
                if self._state != ConnectionState.CONNECTED:
                    self._set_state(ConnectionState.FAILED, item.message)
                    self.connection_failed.emit(item.message)
            elif isinstance(item, WorkerConnected | WorkerStopped):
                log.debug("%s: %s", item.worker, type(item).__name__)
            elif isinstance(item, BrokerInfo):
                self._broker = f"{item.product} {item.version}"
                self.broker_identified.emit(self._broker)
        if finished:
            self.tasks_finished.emit(finished)
        return changed

    def _on_connected(self, event: ProducerConnected) -> None:
        report = event.report
        if report is not None:
            kind = f"{report.queue_type.value} queue"
            self._queue_kind = f"{kind}, adopted as it is" if report.adopted else kind
        settings = self._session.settings
        self._node = event.broker
        self._set_state(
            ConnectionState.CONNECTED,
            f"connected to {event.broker.split('@')[-1]} as {settings.username}, "
            f"queue '{settings.queue}' ({self._queue_kind})",
        )
        log.info("Connected to %s. %s", event.broker, event.queue_description)

    def _is_connected(self, name: str) -> bool:
        # QMetaMethod.fromSignal() releases the GIL (about 1.5 ms to get it back from
        # busy workers): each signal's method is looked up once.
        method = self._signal_methods.get(name)
        if method is None:
            signal: SignalInstance = getattr(self, name)
            method = self._signal_methods[name] = QMetaMethod.fromSignal(signal)
        return self.isSignalConnected(method)

    def _on_disconnected(self, event: ProducerDisconnected) -> None:
        self._node = ""
        self.model.mark_waiting(event.waiting_ids)
        if event.retrying:
            self._set_state(ConnectionState.RECONNECTING, f"{event.reason} Kanin keeps trying.")
        else:
            self._producer_dead = event.reason
            self._set_state(ConnectionState.FAILED, event.reason)
        self.connection_failed.emit(event.reason)

    def _update_pending(self) -> None:
        count = self.model.counts()[TaskState.WAITING]
        if count != self._pending:
            self._pending = count
            self.pending_changed.emit(count)

    def _on_stats(self, stats: QueueStats) -> None:
        if stats.queue != self._session.settings.queue:
            self.dead_letter_sampled.emit(stats)
            return
        self._last_stats = stats
        now = time.monotonic()
        samples = self._samples
        samples.append((now, self._finished_total, self._confirmed_total))
        while len(samples) > 2 and samples[0][0] < now - RATE_WINDOW:
            samples.popleft()
        done_rate = confirm_rate = 0.0
        first = samples[0]
        if now > first[0]:
            elapsed = now - first[0]
            done_rate = (self._finished_total - first[1]) / elapsed
            confirm_rate = (self._confirmed_total - first[2]) / elapsed
        live = [s for s in self._statuses if not s.state.finished]
        sample = QueueSample(
            stats=stats,
            kanin_unacked=sum(1 for s in live if s.state is WorkerState.BUSY),
            kanin_consumers=sum(1 for s in live if s.state in (WorkerState.IDLE, WorkerState.BUSY)),
            done_rate=done_rate,
            confirm_rate=confirm_rate,
        )
        self.sample_taken.emit(sample)

    def _set_state(self, state: str, message: str) -> None:
        if state == self._state and message == self._message:
            return
        self._state = state
        self._message = message
        self.connection_changed.emit(state, message)
