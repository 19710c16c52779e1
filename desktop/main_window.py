"""The main window: composer, queue panel, worker cards, task table, log and status bar.

The window observes the ``Controller`` (``window.controller``) and forwards
the user's requests to it; it never reaches into a worker or a connection.
"""

from __future__ import annotations

import html
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata

import pika
from PySide6 import __version__ as pyside_version
from PySide6.QtCore import QCoreApplication, QEvent, Qt, QTimer, Slot, qVersion
from PySide6.QtGui import QAction, QCloseEvent, QIcon, QKeySequence
from PySide6.QtWidgets import (
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMessageBox,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from core.local_broker import install_hint
from core.policies import DeadLetterSetup
from core.settings import SettingsError
from desktop.banners import NoticeBanner
from desktop.composer import TaskComposer
from desktop.controller import ConnectionState, Controller, QueueSample
from desktop.local_node import LocalNode, NodePhase
from desktop.log_view import LogView
from desktop.preferences import SettingsStore
from desktop.queue_panel import QueuePanel
from desktop.quit_question import AskPending, PendingChoice, ask_with_dialog
from desktop.settings_dialog import SettingsDialog
from desktop.task_model import TaskState
from desktop.task_table import TaskTablePanel
from desktop.worker_cards import WorkersPanel

log = logging.getLogger(__name__)

DEAD_LETTER_ATTEMPTS = 3
"""On Kanin's own node, a task failing this many times goes to ``<queue>.dead``."""

_STATE_COLORS: dict[str, str] = {
    ConnectionState.CONNECTING: "#6b7280",
    ConnectionState.CONNECTED: "#2e7d32",
    ConnectionState.RECONNECTING: "#c77700",
    ConnectionState.FAILED: "#c62828",
}


def kanin_version() -> str:
    """Kanin's installed version, or ``unknown``."""
    try:
        return metadata.version("kanin")
    except metadata.PackageNotFoundError:
        return "unknown"


class ConnectionBanner(QFrame):
    """A strip above the panels that says, in plain words, why the broker is not reachable.

    Args:
        parent: the parent widget.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("banner")
        self.setStyleSheet(
            "QFrame#banner { background: #fdecea; border: 1px solid #f5c2c0; border-radius: 4px; }"
            " QFrame#banner QLabel { color: #7f1d1d; }"
        )
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.settings_button = QPushButton("Settings…")
        self.retry_button = QPushButton("Retry now")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 6, 10, 6)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.retry_button)
        layout.addWidget(self.settings_button)

    def show_message(self, title: str, message: str) -> None:
        """Show the banner with a title and a sentence."""
        self.label.setText(f"<b>{title}</b> {message}")
        self.show()


@dataclass
class RestartRecord:
    """A broker restart asked for in the window, with the queue's counts around it.

    Attributes:
        node: the node's name.
        ready_before: ready count from the watcher's last reading (``None``: no reading).
        source_before: where that count came from.
        kanin_before: Kanin's own count of its tasks in the queue.
        began: ``time.monotonic()`` when the restart was asked for.
        back_at: ``time.time()`` when the node accepted connections again (0: not yet).
        away: seconds from asking to the node accepting connections again.
    """

    node: str
    ready_before: int | None
    source_before: str
    kanin_before: int
    began: float
    back_at: float = 0.0
    away: float = 0.0


class MainWindow(QMainWindow):
    """Kanin's window.

    Args:
        controller: runs the work queue; the window shows it and forwards requests.
        store: where settings and geometry are remembered.
        icon: the application icon.
        shutdown_timeout: seconds to wait for threads when the window closes.
        local_node: the managed local RabbitMQ node (default: one in the user's data folder,
            started only when asked).
        ask_pending: asks what to do when quitting with tasks waiting for the broker
            (default: a ``QMessageBox``; tests inject an answer).
        parent: the parent widget.
    """

    def __init__(
        self,
        controller: Controller,
        store: SettingsStore,
        *,
        icon: QIcon | None = None,
        shutdown_timeout: float = 8.0,
        local_node: LocalNode | None = None,
        ask_pending: AskPending | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.controller = controller
        self.store = store
        self.shutdown_timeout = shutdown_timeout
        self.settings_dialog: SettingsDialog | None = None
        self.local_node = local_node if local_node is not None else LocalNode()
        self.local_node.setParent(self)
        self.ask_pending: AskPending = ask_pending or ask_with_dialog(self)
        self.restart: RestartRecord | None = None
        self._closed = False
        self._force_close = False
        self._ever_connected = False
        self._dead_lettering_for = ""  # the queue whose dead-letter policy was asked for
        self._close_when_sent = QTimer(self)
        self._close_when_sent.setInterval(100)
        self._close_when_sent.timeout.connect(self._on_close_when_sent_tick)
        if icon is not None:
            self.setWindowIcon(icon)

        self.banner = ConnectionBanner()
        self.banner.hide()
        self.broker_offer = NoticeBanner("Start a local broker")
        self.restart_banner = NoticeBanner()
        self.composer = TaskComposer()
        self.queue_panel = QueuePanel()
        self.workers_panel = WorkersPanel()
        self.task_panel = TaskTablePanel(controller.model)
        self.log_view = LogView()
        self.log_view.attach(logging.getLogger())

        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(_group("Enqueue tasks", self.composer))
        left_layout.addWidget(_group("Queue", self.queue_panel), 3)
        left_layout.addWidget(_group("Log", self.log_view), 2)

        right = QSplitter(Qt.Orientation.Vertical)
        right.addWidget(_group("Workers", self.workers_panel))
        right.addWidget(_group("Tasks", self.task_panel))
        right.setStretchFactor(0, 2)
        right.setStretchFactor(1, 3)
        right.setSizes([300, 480])
        right.setChildrenCollapsible(False)

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(left)
        self.splitter.addWidget(right)
        self.splitter.setStretchFactor(0, 0)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([440, 840])
        self.splitter.setChildrenCollapsible(False)

        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(8, 6, 8, 4)
        layout.addWidget(self.banner)
        layout.addWidget(self.broker_offer)
        layout.addWidget(self.restart_banner)
        layout.addWidget(self.splitter, 1)
        self.setCentralWidget(central)

        self.state_label = QLabel()
        self.url_label = QLabel()
        self.url_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.pending_label = QLabel()
        self.pending_label.setStyleSheet("color: #a15c00; font-weight: bold;")
        self.pending_label.setToolTip(
            "Tasks enqueued (or not yet confirmed) while the broker is away: "
            "they are published with confirms once it is back"
        )
        self.pending_label.hide()
        self.restart_button = QPushButton("Restart broker")
        self.restart_button.setToolTip(
            "Stop and start Kanin's local RabbitMQ node while the workers run "
            "(only for a node Kanin manages)"
        )
        self.statusBar().addWidget(self.state_label, 1)
        self.statusBar().addPermanentWidget(self.pending_label)
        self.statusBar().addPermanentWidget(self.url_label)
        self.statusBar().addPermanentWidget(self.restart_button)

        self._make_actions()
        self._connect()
        self._show_settings()
        self._on_connection_changed(controller.connection_state, controller.connection_message)
        self.resize(1280, 800)
        geometry, state = store.load_geometry()
        if geometry is not None:
            self.restoreGeometry(geometry)
        if state is not None:
            self.restoreState(state)

    # ----------------------------------------------------------------- construction

    def _make_actions(self) -> None:
        menu = self.menuBar()
        file_menu = menu.addMenu("&File")
        self.settings_action = _action(self, "&Settings…", "Ctrl+,", self._on_settings_requested)
        self.quit_action = _action(self, "&Quit", QKeySequence.StandardKey.Quit, self.close)
        file_menu.addAction(self.settings_action)
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)

        broker_menu = menu.addMenu("&Broker")
        self.start_local_action = _action(
            self, "Start &local broker", "Ctrl+Shift+B", self.start_local_broker
        )
        self.restart_broker_action = _action(
            self, "&Restart broker", "Ctrl+Shift+R", self.restart_broker
        )
        broker_menu.addAction(self.start_local_action)
        broker_menu.addAction(self.restart_broker_action)

        tasks_menu = menu.addMenu("&Tasks")
        self.enqueue_action = _action(
            self, "&Enqueue", "Ctrl+Return", self.composer.request_enqueue
        )
        self.mixed_action = _action(
            self, "Enqueue &mixed batch", "Ctrl+Shift+Return", self.composer.request_mixed
        )
        self.clear_tasks_action = _action(
            self, "&Clear finished tasks", "Ctrl+L", self._on_clear_tasks_requested
        )
        tasks_menu.addAction(self.enqueue_action)
        tasks_menu.addAction(self.mixed_action)
        tasks_menu.addSeparator()
        tasks_menu.addAction(self.clear_tasks_action)
        show_menu = tasks_menu.addMenu("&Show")
        for number, state in enumerate([None, *TaskState], start=0):
            title = "&All tasks" if state is None else state.value.capitalize()
            action = QAction(title, self)
            action.setShortcut(QKeySequence(f"Alt+{number}"))
            action.setData(state)
            action.triggered.connect(self._on_show_action_triggered)
            show_menu.addAction(action)

        workers_menu = menu.addMenu("&Workers")
        self.add_worker_action = _action(self, "&Add worker", "Ctrl+N", self._on_add_one_requested)
        self.kill_worker_action = _action(
            self, "&Kill selected worker", "Ctrl+K", self._on_kill_selected_requested
        )
        self.stop_worker_action = _action(
            self, "&Stop selected worker", "Ctrl+T", self._on_stop_selected_requested
        )
        self.clear_workers_action = _action(
            self, "&Clear stopped workers", "Ctrl+Shift+L", self._on_clear_workers_requested
        )
        for action in (
            self.add_worker_action,
            self.kill_worker_action,
            self.stop_worker_action,
            self.clear_workers_action,
        ):
            workers_menu.addAction(action)

        help_menu = menu.addMenu("&Help")
        self.about_action = _action(self, "&About Kanin", "F1", self._on_about_requested)
        help_menu.addAction(self.about_action)

    def _connect(self) -> None:
        c = self.controller
        c.workers_updated.connect(self.workers_panel._on_workers_updated)
        c.sample_taken.connect(self.queue_panel._on_sample_taken)
        c.connection_changed.connect(self._on_connection_changed)
        c.settings_applied.connect(self._on_settings_applied)
        c.ticked.connect(self._paint_now)
        self.composer.enqueue_requested.connect(self._on_enqueue_requested)
        self.composer.mixed_requested.connect(self._on_mixed_requested)
        self.workers_panel.add_requested.connect(self._on_add_requested)
        self.workers_panel.remove_requested.connect(self._on_remove_requested)
        self.workers_panel.kill_requested.connect(self._on_kill_requested)
        self.workers_panel.stop_requested.connect(self._on_stop_requested)
        self.workers_panel.clear_requested.connect(self._on_clear_workers_requested)
        self.task_panel.clear_requested.connect(self._on_clear_tasks_requested)
        self.banner.settings_button.clicked.connect(self._on_settings_requested)
        self.banner.retry_button.clicked.connect(self._on_retry_requested)
        c.pending_changed.connect(self._on_pending_changed)
        c.dead_letter_sampled.connect(self.queue_panel._on_dead_letter_sampled)
        c.sample_taken.connect(self._on_sample_taken)
        self.broker_offer.action_requested.connect(self._on_start_local_requested)
        self.restart_button.clicked.connect(self._on_restart_requested)
        node = self.local_node
        node.started.connect(self._on_local_started)
        node.restarted.connect(self._on_local_restarted)
        node.failed.connect(self._on_local_failed)
        node.phase_changed.connect(self._on_local_phase_changed)
        node.dead_lettering_ready.connect(self._on_dead_lettering_ready)
        node.dead_lettering_failed.connect(self._on_dead_lettering_failed)
        self._update_broker_actions()

    @Slot()
    def _paint_now(self) -> None:
        """Lay out and paint what the controller's tick changed, now, while workers step aside.

        Left to the event loop, a paint makes hundreds of calls from C++ into
        Python (the task table's cells, the chart, size hints of Python widgets),
        each of which must win the GIL back from busy worker threads.
        """
        QCoreApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest)
        QCoreApplication.sendPostedEvents(self, QEvent.Type.UpdateRequest)

    def _show_settings(self) -> None:
        settings = self.controller.settings
        self._show_where()
        self.queue_panel.set_queue(settings.queue)
        host = settings.redacted.split("@")[-1].split("/")[0]
        # Qt adds " — Kanin" (the application display name) on desktops that show titles.
        self.setWindowTitle(f"{settings.queue} on {host}")

    def _show_where(self) -> None:
        """The status bar's broker: the node in use once connected (which one, in a cluster)."""
        settings = self.controller.settings
        node = self.controller.node
        count = len(settings.urls)
        if node and count > 1:
            nodes = [part.strip() for part in settings.redacted.split(",")]
            number = nodes.index(node) + 1 if node in nodes else 0
            where = f"node in use: {node} ({number} of {count})" if number else node
        elif node:
            where = node
        else:
            where = settings.redacted
        self.url_label.setText(f"{where}   ·   queue {settings.queue}")
        self.url_label.setToolTip(
            f"The broker (the password is never shown) and the queue. Configured: "
            f"{settings.redacted}"
        )

    # ----------------------------------------------------------------- controller events

    @Slot(str, str)
    def _on_connection_changed(self, state: str, message: str) -> None:
        color = _STATE_COLORS.get(state, "#6b7280")
        if state == ConnectionState.CONNECTED:
            text = message
        else:
            text = f"{state}: {message}"
        self.state_label.setText(f"<span style='color:{color}'>●</span> {text}")
        self.state_label.setToolTip(message)
        self._show_where()
        restarting = self.restart is not None and not self.restart.back_at
        if state == ConnectionState.CONNECTED:
            self._ever_connected = True
            self.banner.hide()
            if not self.local_node.busy and self.broker_offer.isVisible():
                if not self.local_node.managed:
                    self.broker_offer.dismiss()
            self.queue_panel.set_queue(self.controller.settings.queue, self.controller.queue_kind)
            self._set_up_dead_lettering()
        elif state == ConnectionState.FAILED:
            self.banner.show_message("Kanin cannot work with the broker.", message)
        elif state == ConnectionState.RECONNECTING and not restarting:
            self.banner.show_message("The broker cannot be reached right now.", message)
            if not self._ever_connected:
                self._offer_local_broker()

    # ----------------------------------------------------------------- the local broker

    def _offer_local_broker(self) -> None:
        """No broker answered at start: offer to start Kanin's own node (or say how to get one)."""
        node = self.local_node
        if node.busy or node.managed or self.broker_offer.isVisible():
            return
        where = html.escape(self.controller.settings.redacted)
        if node.installed:
            self.broker_offer.show_message(
                f"<b>No broker answers at {where}.</b> Kanin can start its own RabbitMQ "
                "node on this computer (127.0.0.1 only). It is stopped when you quit; "
                "its queued tasks stay for next time.",
                action=True,
            )
        else:
            self.broker_offer.show_message(
                f"<b>No broker answers at {where}, and RabbitMQ is not installed "
                "here.</b><br>" + _html_lines(install_hint()),
                kind="warn",
            )
        self._update_broker_actions()

    def start_local_broker(self) -> bool:
        """Start Kanin's local RabbitMQ node in the background, then use it.

        Returns:
            False when RabbitMQ is not installed (the banner says how to get it)
            or an operation on the node is already running.
        """
        node = self.local_node
        if not node.installed:
            self.broker_offer.show_message(
                "<b>Kanin cannot start a local broker.</b><br>" + _html_lines(install_hint()),
                kind="warn",
            )
            return False
        if not node.start():
            return False
        self.broker_offer.show_message(
            "<b>Starting Kanin's local RabbitMQ node…</b> This takes about 6 seconds; "
            "the window keeps working meanwhile.",
            busy=True,
        )
        if not self.controller.started:
            self.state_label.setText("Starting Kanin's local broker…")
        self._update_broker_actions()
        return True

    def restart_broker(self) -> bool:
        """Stop and start the managed node in the background while the workers run.

        Returns:
            False when Kanin manages no node or an operation on it is running.
        """
        node = self.local_node
        broker = node.broker
        if broker is None or node.busy:
            return False
        stats = self.controller.last_stats
        ready = stats.ready if stats is not None else None
        source = _source_name(stats.source_of("ready").value) if stats is not None else ""
        record = RestartRecord(
            node=broker.node_name,
            ready_before=ready,
            source_before=source,
            kanin_before=self.controller.queued_by_bookkeeping(),
            began=time.monotonic(),
        )
        if not node.restart():
            return False
        self.restart = record
        log.info("Restarting the local broker %s while the workers run.", record.node)
        self._show_restart("stopping it")
        self._update_broker_actions()
        return True

    def _show_restart(self, doing: str) -> None:
        record = self.restart
        if record is None:
            return
        self.restart_banner.show_message(
            f"<b>Restarting the broker {html.escape(record.node)}: {doing}…</b> "
            "Workers and the producer reconnect on their own.<br>"
            f"Before: {_before_text(record)}",
            kind="warn",
            busy=True,
        )

    @Slot(str)
    def _on_local_phase_changed(self, phase: str) -> None:
        if self.restart is not None and not self.restart.back_at:
            if phase == NodePhase.STOPPING:
                self._show_restart("stopping it")
            elif phase == NodePhase.STARTING:
                self._show_restart("it is down, starting it again")
        self._update_broker_actions()

    @Slot(str)
    def _on_local_started(self, url: str) -> None:
        broker = self.local_node.broker
        name = broker.node_name if broker is not None else "local node"
        where = url.split("@")[-1].split("/")[0]
        self.broker_offer.show_message(
            f"<b>Kanin's local broker {html.escape(name)} runs at {html.escape(where)}.</b> "
            + (
                "Kanin started it and stops it when you quit; its queued tasks stay."
                if self.local_node.owned
                else "It was already running; Kanin leaves it running when you quit."
            ),
            kind="ok",
        )
        self.banner.hide()
        log.info("Using the local broker %s at %s.", name, where)
        self.controller.use_local_broker(url)
        self._update_broker_actions()

    @Slot(float)
    def _on_local_restarted(self, away: float) -> None:
        record = self.restart
        if record is None:
            return
        record.back_at = time.time()
        record.away = away
        self.restart_banner.show_message(
            f"<b>The broker {html.escape(record.node)} is back after {away:.1f} s</b>; "
            "Kanin reconnects and reads the queue again…<br>"
            f"Before: {_before_text(record)}",
            kind="info",
            busy=True,
        )
        self._update_broker_actions()

    @Slot(str)
    def _on_local_failed(self, message: str) -> None:
        text = _html_lines(message)
        if self.restart is not None and not self.restart.back_at:
            self.restart = None
            self.restart_banner.show_message(
                f"<b>The broker restart failed.</b><br>{text}", kind="error"
            )
        else:
            self.broker_offer.show_message(
                f"<b>The local broker could not be started.</b><br>{text}", kind="error"
            )
            if not self.controller.started:
                self.controller.start()  # fall back to the configured broker
        self._update_broker_actions()

    @Slot(object)
    def _on_sample_taken(self, sample: QueueSample) -> None:
        record = self.restart
        stats = sample.stats
        if (
            record is None
            or not record.back_at
            or stats.at < record.back_at
            or stats.ready is None
            or self.controller.connection_state != ConnectionState.CONNECTED
        ):
            return
        self.restart = None
        source = _source_name(stats.source_of("ready").value)
        kanin_after = self.controller.queued_by_bookkeeping()
        self.restart_banner.show_message(
            f"<b>The broker {html.escape(record.node)} restarted and came back</b> "
            f"(away {record.away:.1f} s); Kanin reconnected.<br>"
            f"Tasks in the queue before: {_before_text(record)}<br>"
            f"after: {stats.ready} ready ({source}); "
            f"{kanin_after} of Kanin's tasks queued (Kanin's own bookkeeping).",
            kind="ok",
        )
        log.info(
            "Broker restarted in %.1f s: ready before %s, after %d; Kanin's queued %d -> %d.",
            record.away,
            "?" if record.ready_before is None else record.ready_before,
            stats.ready,
            record.kanin_before,
            kanin_after,
        )

    def _set_up_dead_lettering(self) -> None:
        """On Kanin's own node, set the queue's dead-letter policy once (in the background)."""
        node = self.local_node
        broker = node.broker
        controller = self.controller
        queue = controller.settings.queue
        queue_type = controller.queue_type
        if (
            broker is None
            or node.busy
            or queue_type is None
            or self._dead_lettering_for == queue
            or f"127.0.0.1:{broker.amqp_port}/" not in controller.node
        ):
            return
        try:
            connection = controller.settings.connection()
        except SettingsError:
            return
        if node.setup_dead_lettering(connection, queue, DEAD_LETTER_ATTEMPTS, queue_type):
            self._dead_lettering_for = queue
            self._update_broker_actions()

    @Slot(object)
    def _on_dead_lettering_ready(self, setup: DeadLetterSetup) -> None:
        # core.policies logs what was set; a status-bar message would hide the connection state.
        if setup.queue == self.controller.settings.queue:
            self.controller.set_max_attempts(setup.max_attempts)
        self._update_broker_actions()

    @Slot(str)
    def _on_dead_lettering_failed(self, message: str) -> None:
        log.warning("No dead-letter policy: failing tasks are given back forever. %s", message)
        self._update_broker_actions()

    def _update_broker_actions(self) -> None:
        node = self.local_node
        can_restart = node.managed and not node.busy
        self.restart_broker_action.setEnabled(can_restart)
        self.restart_button.setEnabled(can_restart)
        self.restart_button.setVisible(node.managed)
        self.start_local_action.setEnabled(not node.managed and not node.busy)

    @Slot()
    def _on_start_local_requested(self) -> None:
        self.start_local_broker()

    @Slot()
    def _on_restart_requested(self) -> None:
        self.restart_broker()

    @Slot(int)
    def _on_pending_changed(self, count: int) -> None:
        self.composer.set_pending(count)
        self.pending_label.setText(f"{count} waiting for the broker")
        self.pending_label.setVisible(count > 0)

    @Slot()
    def _on_settings_applied(self) -> None:
        self._show_settings()

    # ----------------------------------------------------------------- user requests

    @Slot(str, int)
    def _on_enqueue_requested(self, text: str, count: int) -> None:
        self.controller.enqueue([text] * count)

    @Slot(int, int, int)
    def _on_mixed_requested(self, count: int, low: int, high: int) -> None:
        self.controller.enqueue_mixed(count, low, high)

    @Slot(int)
    def _on_add_requested(self, count: int) -> None:
        self.controller.add_workers(count)

    @Slot()
    def _on_add_one_requested(self) -> None:
        self.controller.add_workers(1)

    @Slot(int)
    def _on_remove_requested(self, count: int) -> None:
        self.controller.remove_workers(count)

    @Slot(str)
    def _on_kill_requested(self, name: str) -> None:
        self.controller.kill_worker(name)

    @Slot(str)
    def _on_stop_requested(self, name: str) -> None:
        self.controller.stop_worker(name)

    @Slot()
    def _on_kill_selected_requested(self) -> None:
        if self.workers_panel.selected:
            self.controller.kill_worker(self.workers_panel.selected)

    @Slot()
    def _on_stop_selected_requested(self) -> None:
        if self.workers_panel.selected:
            self.controller.stop_worker(self.workers_panel.selected)

    @Slot()
    def _on_clear_workers_requested(self) -> None:
        self.controller.remove_finished_workers()

    @Slot()
    def _on_clear_tasks_requested(self) -> None:
        removed = self.controller.model.clear_finished()
        self.statusBar().showMessage(f"Removed {removed} finished task(s) from the table.", 3000)

    @Slot()
    def _on_show_action_triggered(self) -> None:
        action = self.sender()
        if isinstance(action, QAction):
            self.task_panel.set_filter(action.data())

    @Slot()
    def _on_retry_requested(self) -> None:
        log.info("Reconnecting with the same settings.")
        self.controller.retry()

    @Slot()
    def _on_settings_requested(self) -> None:
        self.open_settings()

    def open_settings(self) -> SettingsDialog:
        """Open the settings dialog (non-modal to the event loop, modal to the window).

        Returns:
            The dialog; OK applies and remembers valid settings.
        """
        if self.settings_dialog is not None and self.settings_dialog.isVisible():
            self.settings_dialog.raise_()
            return self.settings_dialog
        dialog = SettingsDialog(
            self.controller.settings,
            keyring_available=self.store.secrets.available(),
            parent=self,
        )
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.accepted.connect(self._on_settings_accepted)
        self.settings_dialog = dialog
        dialog.open()
        return dialog

    @Slot()
    def _on_settings_accepted(self) -> None:
        dialog = self.settings_dialog
        if dialog is None or dialog.result_settings is None:
            return
        settings = dialog.result_settings
        warning = self.store.save(settings)
        if warning:
            log.warning("%s", warning)
            self.statusBar().showMessage(warning, 8000)
        log.info("Settings changed: %s, queue %s.", settings.redacted, settings.queue)
        self.controller.apply_settings(settings)

    @Slot()
    def _on_about_requested(self) -> None:
        self.about_box().open()

    def about_text(self) -> str:
        """The About dialog's text: versions of Kanin, Qt, PySide6, pika and the broker."""
        broker = self.controller.broker_version or "not connected yet"
        return (
            f"<h3>Kanin {kanin_version()}</h3>"
            "<p>A desktop work-queue studio for RabbitMQ: enqueue tasks, run workers, "
            "and watch the work-queue pattern of the official tutorial happen.</p>"
            "<table cellpadding='2'>"
            f"<tr><td>Qt</td><td>{qVersion()}</td></tr>"
            f"<tr><td>PySide6</td><td>{pyside_version}</td></tr>"
            f"<tr><td>pika</td><td>{pika.__version__}</td></tr>"
            f"<tr><td>Broker</td><td>{broker}</td></tr>"
            "</table>"
        )

    def about_box(self) -> QMessageBox:
        """A ready About dialog."""
        box = QMessageBox(self)
        box.setWindowTitle("About Kanin")
        box.setTextFormat(Qt.TextFormat.RichText)
        box.setText(self.about_text())
        if not self.windowIcon().isNull():
            box.setIconPixmap(self.windowIcon().pixmap(64, 64))
        return box

    # ----------------------------------------------------------------- closing

    @Slot()
    def on_about_to_quit(self) -> None:
        """The application is quitting without the window being closed: stop the same way."""
        if not self._closed:
            self._force_close = True  # quitting cannot be cancelled any more
            self.close()

    def _may_close(self) -> bool:
        """Ask first when tasks wait for a broker that is away; False to keep the window."""
        pending = self.controller.pending_count
        if self._force_close or not pending:
            return True
        choice = self.ask_pending(pending)
        if choice is PendingChoice.QUIT_ANYWAY:
            log.warning("Quitting with %d task(s) the broker never confirmed.", pending)
            return True
        if choice is PendingChoice.PUBLISH_AND_WAIT:
            log.info("Kanin closes once the %d waiting task(s) are confirmed.", pending)
            self.statusBar().showMessage(
                f"Kanin closes once the {pending} waiting task(s) are confirmed by the broker."
            )
            self._close_when_sent.start()
        return False

    @Slot()
    def _on_close_when_sent_tick(self) -> None:
        if self.controller.pending_count == 0 and self.controller.unconfirmed_count == 0:
            self._close_when_sent.stop()
            self._force_close = True
            self.close()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802
        """Stop workers gracefully (tasks go back to the queue), drain the producer, close.

        With tasks waiting for a broker that is away, ask first (publish and wait,
        quit anyway, cancel). A local node that Kanin started is stopped; its data stays.
        """
        if not self._closed:
            if not self._may_close():
                event.ignore()
                return
            self._closed = True
            self._close_when_sent.stop()
            self.store.save_geometry(self.saveGeometry(), self.saveState())
            # The window goes away at once; the threads get up to shutdown_timeout to stop.
            self.hide()
            log.info("Closing: workers stop and give their tasks back to the queue.")
            self.controller.shutdown(self.shutdown_timeout)
            self.local_node.close()
            self.log_view.detach()
        event.accept()


def _html_lines(text: str) -> str:
    return "<br>".join(html.escape(line) for line in text.splitlines())


def _source_name(source: str) -> str:
    return {
        "AMQP passive declare": "the broker's count, from a passive queue.declare",
        "management API": "the broker's count, from the management API",
    }.get(source, source)


def _before_text(record: RestartRecord) -> str:
    if record.ready_before is None:
        broker = "no reading from the broker yet"
    else:
        broker = f"{record.ready_before} ready ({record.source_before})"
    return f"{broker}; {record.kanin_before} of Kanin's tasks queued (Kanin's own bookkeeping)."


def _group(title: str, widget: QWidget) -> QGroupBox:
    box = QGroupBox(title)
    layout = QVBoxLayout(box)
    layout.setContentsMargins(8, 6, 8, 8)
    layout.addWidget(widget)
    return box


def _action(
    window: QMainWindow,
    text: str,
    shortcut: str | QKeySequence.StandardKey,
    slot: Callable[[], object],
) -> QAction:
    action = QAction(text, window)
    action.setShortcut(QKeySequence(shortcut))
    action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
    action.triggered.connect(slot)
    window.addAction(action)
    return action
