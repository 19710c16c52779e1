"""The main window: composer, queue panel, worker cards, task table, log and status bar.

The window observes the ``Controller`` (``window.controller``) and forwards
the user's requests to it; it never reaches into a worker or a connection.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QCoreApplication, QEvent, Slot
from PySide6.QtGui import QAction, QCloseEvent, QIcon
from PySide6.QtWidgets import (
    QMainWindow,
    QMessageBox,
    QSizePolicy,
    QWidget,
)

from core.worker import AckMode
from desktop.about import about_box, about_text
from desktop.banners import NoticeBanner
from desktop.broker_flow import BrokerFlow
from desktop.closing import CloseGuard
from desktop.composer import TaskComposer
from desktop.controller import ConnectionState, Controller
from desktop.hints import explain
from desktop.local_node import LocalNode
from desktop.log_view import LogView
from desktop.menus import make_menus
from desktop.preferences import SettingsStore
from desktop.purge import Purger
from desktop.purge import ask_with_dialog as ask_purge
from desktop.queue_panel import QueuePanel
from desktop.quit_question import AskPending, ask_with_dialog
from desktop.settings_dialog import SettingsDialog, SettingsEditor
from desktop.status_line import StatusLine
from desktop.task_table import TaskTablePanel
from desktop.window_layout import arrange
from desktop.worker_cards import WorkersPanel
from desktop.zoom import Zoom

log = logging.getLogger(__name__)


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
        self.settings_editor = SettingsEditor(controller, store, self, self._on_local_node)
        self.close_guard = CloseGuard(controller, ask_pending or ask_with_dialog(self), self)
        self._closed = False
        if icon is not None:
            self.setWindowIcon(icon)
        self.zoom = Zoom(store, self)  # before any widget measures its text

        self.banner = NoticeBanner(dismissable=False)  # why the broker cannot be reached
        self.retry_button = self.banner.add_button("Retry now")
        self.settings_button = self.banner.add_button("Settings…")
        self.broker_offer = NoticeBanner("Start a local broker")
        self.restart_banner = NoticeBanner()
        self.broker_flow = BrokerFlow(
            controller,
            local_node if local_node is not None else LocalNode(),
            self.broker_offer,
            self.restart_banner,
            parent=self,
        )
        self.purger = Purger(controller, ask_purge(self), self)
        self.composer = TaskComposer()
        self.queue_panel = QueuePanel()
        self.workers_panel = WorkersPanel()
        self.task_panel = TaskTablePanel(controller.model)
        # The task counts grow with every state (100,000 tasks: ...): they get the room
        # left beside the table's buttons and never widen the window.
        counts = self.task_panel.counts_label
        counts.setSizePolicy(QSizePolicy.Policy.Ignored, counts.sizePolicy().verticalPolicy())
        explain(self.task_panel.empty_label, "padding: 4px;")
        self.log_view = LogView()
        self.log_view.attach(logging.getLogger())

        central, self.splitter, self.banner_area = arrange(
            [
                ("Enqueue tasks", self.composer, 0),
                ("Queue", self.queue_panel, 5),
                ("Log", self.log_view, 2),
            ],
            [("Workers", self.workers_panel, 2), ("Tasks", self.task_panel, 3)],
            [self.banner, self.broker_offer, self.restart_banner],
        )
        self.setCentralWidget(central)

        self.status_line = StatusLine(self.statusBar())
        self.state_label = self.status_line.state_label
        self.url_label = self.status_line.url_label
        self.pending_label = self.status_line.pending_label
        self.restart_button = self.status_line.restart_button

        self.menu_actions = make_menus(self)
        self.restart_broker_action = self.menu_actions.restart_broker
        self._connect()
        self._on_settings_applied()
        self._on_connection_changed(controller.connection_state, controller.connection_message)
        screen = self.screen().availableGeometry()
        # 1280x800 where it fits: on a 1366x768 screen the status bar stayed below the edge.
        self.resize(min(1280, screen.width()), min(800, screen.height()))
        geometry, state = store.load_geometry()
        if geometry is not None:
            self.restoreGeometry(geometry)
        if state is not None:
            self.restoreState(state)

    # ----------------------------------------------------------------- construction

    def _connect(self) -> None:
        a, c = self.menu_actions, self.controller
        a.settings.triggered.connect(self._on_settings_requested)
        a.quit.triggered.connect(self.close)
        a.start_local.triggered.connect(self._on_start_local_requested)
        a.restart_broker.triggered.connect(self.broker_flow.restart_node)
        a.enqueue.triggered.connect(self.composer.request_enqueue)
        a.mixed.triggered.connect(self.composer.request_mixed)
        a.clear_tasks.triggered.connect(self._on_clear_tasks_requested)
        a.purge_queue.triggered.connect(self.purger.request)
        self.purger.purged.connect(self._on_purged)
        self.purger.failed.connect(self._on_settings_warned)
        for action in a.show:
            action.triggered.connect(self._on_show_action_triggered)
        a.add_worker.triggered.connect(self._on_add_one_requested)
        a.kill_worker.triggered.connect(self._on_kill_selected_requested)
        a.stop_worker.triggered.connect(self._on_stop_selected_requested)
        a.clear_workers.triggered.connect(c.remove_finished_workers)
        a.about.triggered.connect(self._on_about_requested)
        a.zoom_in.triggered.connect(self.zoom.zoom_in)
        a.zoom_out.triggered.connect(self.zoom.zoom_out)
        a.zoom_reset.triggered.connect(self.zoom.reset)
        c.workers_updated.connect(self.workers_panel._on_workers_updated)
        c.sample_taken.connect(self.queue_panel._on_sample_taken)
        c.connection_changed.connect(self._on_connection_changed)
        c.settings_applied.connect(self._on_settings_applied)
        c.ticked.connect(self._paint_now)
        self.composer.enqueue_requested.connect(self._on_enqueue_requested)
        self.composer.mixed_requested.connect(c.enqueue_mixed)
        self.workers_panel.add_requested.connect(c.add_workers)
        self.workers_panel.remove_requested.connect(c.remove_workers)
        self.workers_panel.kill_requested.connect(c.kill_worker)
        self.workers_panel.stop_requested.connect(c.stop_worker)
        self.workers_panel.clear_requested.connect(c.remove_finished_workers)
        self.task_panel.clear_requested.connect(self._on_clear_tasks_requested)
        self.settings_button.clicked.connect(self._on_settings_requested)
        self.retry_button.clicked.connect(self._on_retry_requested)
        c.pending_changed.connect(self._on_pending_changed)
        c.tasks_handed_over.connect(self._on_tasks_handed_over)
        c.dead_letter_sampled.connect(self.queue_panel._on_dead_letter_sampled)
        self.broker_offer.action_requested.connect(self._on_start_local_requested)
        self.restart_button.clicked.connect(self.broker_flow.restart_node)
        self.broker_flow.changed.connect(self._on_broker_flow_changed)
        self.broker_flow.node.started.connect(self._on_local_started)
        self.settings_editor.warned.connect(self._on_settings_warned)
        self.close_guard.waiting.connect(self._on_waiting_to_close)
        self.close_guard.close_requested.connect(self._on_close_requested)
        self._on_broker_flow_changed()

    @Slot()
    def _paint_now(self) -> None:
        """Lay out and paint what the controller's tick changed, now, while workers step aside.

        Left to the event loop, a paint makes hundreds of calls from C++ into
        Python (the task table's cells, the chart, size hints of Python widgets),
        each of which must win the GIL back from busy worker threads.
        """
        QCoreApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest)
        QCoreApplication.sendPostedEvents(self, QEvent.Type.UpdateRequest)

    def _on_local_node(self, url: str) -> bool:
        return self.broker_flow.node.serves(url)

    @Slot()
    def _on_settings_applied(self) -> None:
        settings = self.controller.settings
        self.status_line.show_where(settings, self.controller.node)
        self.status_line.show_mode(settings)
        self.workers_panel.set_mode(settings.prefetch, settings.ack_mode is AckMode.AUTO)
        self.queue_panel.set_queue(settings.queue)
        host = settings.redacted.split("@")[-1].split("/")[0]
        # Qt adds " — Kanin" (the application display name) on desktops that show titles.
        self.setWindowTitle(f"{settings.queue} on {host}")

    # ----------------------------------------------------------------- controller events

    @Slot(str, str)
    def _on_connection_changed(self, state: str, message: str) -> None:
        self.status_line.show_state(state, message)
        self.status_line.show_where(self.controller.settings, self.controller.node)
        # The offer of a local node and dead-lettering follow this signal in self.broker_flow.
        if state == ConnectionState.CONNECTED:
            self.banner.hide()
            self.queue_panel.set_queue(self.controller.settings.queue, self.controller.queue_kind)
        elif state == ConnectionState.FAILED:
            self.banner.show_titled("Kanin cannot work with the broker.", message, kind="error")
        elif state == ConnectionState.BLOCKED:
            self.banner.show_titled("The broker has raised a resource alarm.", message, "warn")
        elif state == ConnectionState.RECONNECTING and not self.broker_flow.restarting:
            self.banner.show_titled("The broker cannot be reached right now.", message, "error")

    # ----------------------------------------------------------------- the local broker

    def start_local_broker(self) -> bool:
        """Start Kanin's local RabbitMQ node in the background, then use it.

        Returns:
            False when RabbitMQ is not installed (the offer says how to get it)
            or an operation on the node is already running.
        """
        if not self.broker_flow.start_node():
            return False
        if not self.controller.started:
            self.state_label.setText("Starting Kanin's local broker…")
        return True

    @Slot()
    def _on_broker_flow_changed(self) -> None:
        flow = self.broker_flow
        self.restart_broker_action.setEnabled(flow.can_restart)
        self.restart_button.setEnabled(flow.can_restart)
        self.restart_button.setToolTip(flow.restart_tip)
        self.restart_broker_action.setToolTip(flow.restart_tip)
        self.restart_button.setVisible(flow.managed)
        self.menu_actions.start_local.setEnabled(flow.can_start)

    @Slot(str)
    def _on_local_started(self, _url: str) -> None:
        self.banner.hide()

    @Slot()
    def _on_start_local_requested(self) -> None:
        self.start_local_broker()

    @Slot(int)
    def _on_pending_changed(self, count: int) -> None:
        self.composer.set_pending(count)
        self.status_line.show_pending(count)

    @Slot(int, str)
    def _on_tasks_handed_over(self, count: int, where: str) -> None:
        noun = "task" if count == 1 else "tasks"
        self.statusBar().showMessage(
            f"{count} {noun} waiting from the previous settings are sent to {where}.", 15_000
        )

    # ----------------------------------------------------------------- user requests

    @Slot(str, int)
    def _on_enqueue_requested(self, text: str, count: int) -> None:
        self.controller.enqueue([text] * count)

    @Slot()
    def _on_add_one_requested(self) -> None:
        self.controller.add_workers(1)

    @Slot()
    def _on_kill_selected_requested(self) -> None:
        if self.workers_panel.selected:
            self.controller.kill_worker(self.workers_panel.selected)

    @Slot()
    def _on_stop_selected_requested(self) -> None:
        if self.workers_panel.selected:
            self.controller.stop_worker(self.workers_panel.selected)

    @Slot()
    def _on_clear_tasks_requested(self) -> None:
        removed = self.controller.model.clear_finished()
        self.statusBar().showMessage(f"Removed {removed} finished task(s) from the table.", 3000)

    @Slot(str, int, int)
    def _on_purged(self, queue: str, count: int, _marked: int) -> None:
        self.statusBar().showMessage(f"Purged {count:,} task(s) from {queue}.", 8000)

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
        """Open the settings dialog (modal to the window); OK applies and remembers settings."""
        return self.settings_editor.open()

    @property
    def settings_dialog(self) -> SettingsDialog | None:
        """The settings dialog, once opened."""
        return self.settings_editor.dialog

    @Slot(str)
    def _on_settings_warned(self, warning: str) -> None:
        self.statusBar().showMessage(warning, 8000)

    @Slot()
    def _on_about_requested(self) -> None:
        self.about_box().open()

    def about_text(self) -> str:
        """The About dialog's text: versions of Kanin, Qt, PySide6, pika and the broker."""
        return about_text(self.controller.broker_version)

    def about_box(self) -> QMessageBox:
        """A ready About dialog."""
        return about_box(self, self.controller.broker_version)

    # ----------------------------------------------------------------- closing

    @Slot()
    def on_about_to_quit(self) -> None:
        """The application is quitting without the window being closed: stop the same way."""
        if not self._closed:
            self.close_guard.forced = True  # quitting cannot be cancelled any more
            self.close()

    @Slot(int)
    def _on_waiting_to_close(self, pending: int) -> None:
        self.statusBar().showMessage(
            f"Kanin closes once the {pending} waiting task(s) are confirmed by the broker."
        )

    @Slot()
    def _on_close_requested(self) -> None:
        self.close()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802
        """Stop workers gracefully (tasks go back to the queue), drain the producer, close.

        With tasks waiting for a broker that is away, ask first (publish and wait,
        quit anyway, cancel). A local node that Kanin started is stopped; its data stays.
        """
        if not self._closed:
            if not self.close_guard.may_close():
                event.ignore()
                return
            self._closed = True
            self.close_guard.stop()
            self.store.save_geometry(self.saveGeometry(), self.saveState())
            # The window goes away at once; the threads get up to shutdown_timeout to stop.
            self.hide()
            log.info("Closing: workers stop and give their tasks back to the queue.")
            self.controller.shutdown(self.shutdown_timeout)
            self.broker_flow.node.close()
            self.log_view.detach()
        event.accept()
