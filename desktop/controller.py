"""The window's controller: the session's life cycle, and the wiring of ledger, router and pacer.

Everything here runs in the GUI thread except the core objects' own threads,
which report into the session's ``EventBridge``. The ``Pacer``'s tick drains
it through the ``Router`` into the task ledger; the router's notices become
the Qt signals below. No pika call is made in the GUI thread. The self-test
and the screenshot drive the window through this object (``window.controller``).
"""

from __future__ import annotations

import logging
import threading
import time

from PySide6.QtCore import QMetaMethod, QObject, Signal

from core.attempts import DEFAULT_MAX_ATTEMPTS
from core.journal import Journal
from core.ledger import TaskState
from core.ledger_store import LedgerStore
from core.monitor import QueueStats
from core.rates import QueueSample, QueueSampler
from core.router import ConnectionState, Notices, Router
from core.work import Work, dot_work
from core.worker import AckMode
from desktop.bridge import Item
from desktop.crew import Crew
from desktop.keeping import keep_ledger, scope_for
from desktop.outbox import Outbox
from desktop.pacer import RATE_WINDOW, TICK_MS, Pacer, freeze_long_lived, make_gate
from desktop.preferences import AppSettings, from_urls
from desktop.session import Session
from desktop.session_facts import SessionFacts
from desktop.task_model import TaskTableModel

__all__ = ["ConnectionState", "Controller", "QueueSample", "freeze_long_lived"]

log = logging.getLogger(__name__)


class Controller(QObject, SessionFacts):
    """Runs the work queue behind the window.

    Args:
        settings: the connection, queue and worker settings to start with.
        work: decides each task's work (default: one second per ``.``); tests pass faster ones.
        tick_ms: the GUI timer's period for draining events and polling workers.
        watch_interval: seconds between queue readings.
        management_port: the management plugin's port, ``None`` to skip it.
        initial_error: a settings problem found before starting (e.g. a bad ``--url``):
            shown as a failed connection until new settings are applied.
        ledger_store: where the task ledger is kept across runs (``None``: not kept);
            the starting queue's kept tasks are shown at once (``desktop.keeping``).
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
        connection_changed(str, str): a ``ConnectionState`` value and a sentence about it.
        connection_failed(str): the broker cannot be reached or refused the login (message).
        broker_identified(str): the broker's product and version, e.g. ``RabbitMQ 3.10.8``.
        settings_applied(): new settings are in effect.
        dead_letter_sampled(object): a ``QueueStats`` of the dead-letter queue
            ``<queue>.dead`` (``ready`` is ``None`` while it does not exist).
        pending_changed(int): tasks waiting for the broker (not yet confirmed
            while it is away); emitted when the number changes.
        tasks_handed_over(int, str): this many tasks still waiting for the broker
            when the settings changed are sent to the new broker (its redacted URL).
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
    tasks_handed_over = Signal(int, str)
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
        ledger_store: LedgerStore | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._work = work
        self._watch_interval = watch_interval
        self._management_port = management_port
        self.model = TaskTableModel(self)
        self._ledger = self.model.ledger
        self.gate = make_gate()  # worker threads step aside when this thread runs late
        self._router = Router(
            self._ledger,
            Notices(
                task_started=self.task_started.emit,
                task_finished=self.task_finished.emit,
                tasks_finished=self.tasks_finished.emit,
                task_returned=self.task_returned.emit,
                worker_killed=self.worker_killed.emit,
                queue_sampled=self._on_queue_sampled,
                dead_letter_sampled=self.dead_letter_sampled.emit,
                connection_changed=self.connection_changed.emit,
                connection_failed=self.connection_failed.emit,
                broker_identified=self.broker_identified.emit,
            ),
        )
        self._outbox = Outbox(self.model, self._router, self.gate, self._update_pending, self)
        self._sampler = QueueSampler(RATE_WINDOW)
        self._crew = Crew(self.gate, self.workers_updated.emit)
        self._pacer = Pacer(
            self.gate, self.model, self._crew, self._route, self._end_tick, tick_ms, self
        )
        self.journal: Journal | None = None
        if ledger_store is not None:
            self.journal = keep_ledger(self.model, ledger_store, scope_for(settings))
        # On any broker a failing task ends in <queue>.dead after this many attempts
        # (core.attempts); Kanin's own node sets its policy's limit instead.
        self._max_attempts: int | None = DEFAULT_MAX_ATTEMPTS
        self._session = self._use(settings, initial_error)
        self._retired: list[threading.Thread] = []
        self._pending = 0
        self._started = False
        self._shut_down = False
        # Looked up once: QMetaMethod.fromSignal() releases the GIL (about 1.5 ms to get
        # it back from busy workers).
        self._started_method = QMetaMethod.fromSignal(self.task_started)
        self._finished_method = QMetaMethod.fromSignal(self.task_finished)

    # ----------------------------------------------------------------- commands

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
            pool.set_max_attempts(attempts)  # the running workers too
        if self._session.watcher is not None and attempts is not None:
            self._session.watcher.look_for_dead_letters()  # the policy came with the queue

    def use_local_broker(self, url: str) -> None:
        """Switch to the local node at ``url`` (``LocalBroker.amqp_url``), not remembered."""
        self.apply_settings(from_urls([url], self.settings))
        self.start()

    # ----------------------------------------------------------------- life cycle

    def start(self) -> None:
        """Start connecting (in core threads) and the GUI timer. Returns at once."""
        if self._started:
            return
        self._started = True
        self._begin_session()
        self._pacer.start()

    def _begin_session(self) -> None:
        session = self._session
        settings = session.settings
        if session.error:
            self._router.fail(session.error)
            return
        self._router.set_state(ConnectionState.CONNECTING, f"Connecting to {settings.redacted}…")
        session.start()

    def apply_settings(self, settings: AppSettings) -> None:
        """Switch to new settings: the old workers stop in the background, as many start anew.

        The new workers take the names of the running old ones, in order, and
        their cards keep their counters. The old session's events still in its
        inbox are routed first; whatever its stopping workers report later stays
        in that inbox, never read. Tasks the old producer never published
        (*waiting for broker*, or any unconfirmed task of a session that never
        connected) follow the session: they are handed to the new producer, and
        the window is told so (``tasks_handed_over``).

        Args:
            settings: the new settings (already validated by the dialog).
        """
        old = self._session
        self._crew.refresh()  # the old workers' latest counters, carried over
        kept = [s for s in self._crew.statuses if not s.state.finished]
        self._route(old.bridge.drain())
        never_connected = old.producer is None or not old.producer.connected.is_set()
        stranded = self._outbox.take_stranded(sending_too=never_connected)
        self._retire(old)
        if settings.queue != old.settings.queue or settings.urls != old.settings.urls:
            self._max_attempts = DEFAULT_MAX_ATTEMPTS  # the policy was for the old queue
        self._session = self._use(settings)
        if self._started:
            self._begin_session()
            if kept and self._session.pool is not None:
                self._session.pool.add(len(kept), keep_names=[s.name for s in kept])
                self._crew.carry(kept)
                self._crew.refresh()
        if stranded and self._outbox.hand_over(stranded):
            where = settings.redacted
            log.info(
                "%d task(s) waiting from the previous settings are sent to %s.",
                len(stranded),
                where,
            )
            self.tasks_handed_over.emit(len(stranded), where)
        self.settings_applied.emit()

    def pause_updates(self, paused: bool) -> None:
        """Stop (True) or restart draining events into the window; the core keeps running.

        Used by ``--screenshot`` to photograph a moment (e.g. tasks still *sending*).
        """
        if paused or (self._started and not self._shut_down):
            self._pacer.pause(paused)

    def retry(self) -> None:
        """Reconnect with the same settings (after the broker came back or was fixed)."""
        self.apply_settings(self._session.settings)

    def _use(self, settings: AppSettings, error: str = "") -> Session:
        """A new session on ``settings``: router, sampler, outbox, crew and tick follow it."""
        session = Session(
            settings, self._work, self._watch_interval, self._management_port, error, self.gate
        )
        self._router.begin(
            settings.queue, settings.username, auto_ack=settings.ack_mode is AckMode.AUTO
        )
        self._sampler.clear()
        if self.journal is not None:
            self.journal.set_scope(scope_for(settings))
        self._outbox.producer = session.producer
        if session.pool is not None:
            session.pool.set_max_attempts(self._max_attempts)
        self._crew.follow(session.pool)
        self._pacer.bridge = session.bridge
        return session

    def _retire(self, session: Session) -> None:
        thread = threading.Thread(
            target=session.close, args=(10.0,), name="kanin-teardown", daemon=True
        )
        thread.start()
        self._retired.append(thread)

    def shutdown(self, timeout: float = 8.0) -> bool:
        """Stop everything: workers give their tasks back, the producer drains its confirms.

        Blocks for at most about ``timeout`` seconds (call it when the window closes);
        returns True when every thread ended in time.
        """
        if self._shut_down:
            return True
        self._outbox.close()  # a big enqueue still under way: hand it all over now
        self._shut_down = True
        self._pacer.stop()
        deadline = time.monotonic() + timeout
        ok = self._session.close(timeout)
        for thread in self._retired:
            thread.join(max(0.1, deadline - time.monotonic()))
            ok = ok and not thread.is_alive()
        self._route(self._session.bridge.drain())
        self.model.flush()
        if self.journal is not None:
            ok = self.journal.close() and ok
        if not ok:
            log.warning("Some threads were still running %.0f s after closing.", timeout)
        return ok

    # ----------------------------------------------------------------- tasks

    def enqueue(self, texts: list[str]) -> list[str]:
        """Enqueue one task per text (each ``.`` a second of work); returns their ids.

        They show at once as *sending*; a batch bigger than ``ENQUEUE_CHUNK`` goes
        out a chunk per event-loop turn, later ones after it (``desktop.outbox``).
        """
        return self._outbox.enqueue(texts)

    def enqueue_mixed(self, count: int, min_dots: int, max_dots: int) -> list[str]:
        """Enqueue ``count`` tasks of random lengths (``min_dots`` to ``max_dots`` seconds)."""
        return self._outbox.enqueue_mixed(count, min_dots, max_dots)

    # ----------------------------------------------------------------- workers

    def add_workers(self, count: int = 1) -> list[str]:
        """Start ``count`` workers, each in its own thread with its own connection; their names."""
        return [] if self._shut_down else self._crew.add(count)

    def kill_worker(self, name: str) -> None:
        """Crash a worker on purpose: its unacked task goes back to the queue."""
        self._crew.kill(name)

    def stop_worker(self, name: str) -> None:
        """Stop a worker gracefully: it finishes its current task, then leaves."""
        self._crew.stop(name)

    def remove_workers(self, count: int) -> list[str]:
        """Stop ``count`` running workers, idle ones first, then the newest; their names."""
        return self._crew.remove(count)

    def remove_finished_workers(self) -> list[str]:
        """Forget stopped, killed and failed workers (their cards go away)."""
        return self._crew.remove_finished()

    def worker_names(self, *, alive_only: bool = False) -> list[str]:
        """The workers' names, in the order they were added."""
        return self._crew.names(alive_only=alive_only)

    # ----------------------------------------------------------------- the GUI tick

    def _end_tick(self) -> None:
        self._update_pending()
        if self.journal is not None:
            self.journal.tick()
        self.ticked.emit()

    def _route(self, items: list[Item]) -> int:
        if not items:
            return 0
        # Each Qt call may hand the GIL to a busy worker thread for a whole switch
        # interval: per-task signals are emitted only when someone listens.
        return self._router.route(
            items,
            announce_started=self.isSignalConnected(self._started_method),
            announce_finished=self.isSignalConnected(self._finished_method),
        )

    def _update_pending(self) -> None:
        count = self._ledger.count(TaskState.WAITING)
        if count != self._pending:
            self._pending = count
            self.pending_changed.emit(count)

    def _on_queue_sampled(self, stats: QueueStats) -> None:
        totals = (self._router.finished_total, self._router.confirmed_total)
        now = time.monotonic()
        self.sample_taken.emit(self._sampler.take(stats, totals, self._crew.statuses, now))
