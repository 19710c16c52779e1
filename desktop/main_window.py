"""The main window: composer, queue panel, worker cards, task table, log and status bar.

The window observes the ``Controller`` (``window.controller``) and forwards
the user's requests to it; it never reaches into a worker or a connection.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from importlib import metadata

import pika
from PySide6 import __version__ as pyside_version
from PySide6.QtCore import Qt, Slot, qVersion
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

from desktop.composer import TaskComposer
from desktop.controller import ConnectionState, Controller
from desktop.log_view import LogView
from desktop.preferences import SettingsStore
from desktop.queue_panel import QueuePanel
from desktop.settings_dialog import SettingsDialog
from desktop.task_model import TaskState
from desktop.task_table import TaskTablePanel
from desktop.worker_cards import WorkersPanel

log = logging.getLogger(__name__)

_STATE_COLORS = {
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


class MainWindow(QMainWindow):
    """Kanin's window.

    Args:
        controller: runs the work queue; the window shows it and forwards requests.
        store: where settings and geometry are remembered.
        icon: the application icon.
        shutdown_timeout: seconds to wait for threads when the window closes.
        parent: the parent widget.
    """

    def __init__(
        self,
        controller: Controller,
        store: SettingsStore,
        *,
        icon: QIcon | None = None,
        shutdown_timeout: float = 8.0,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.controller = controller
        self.store = store
        self.shutdown_timeout = shutdown_timeout
        self.settings_dialog: SettingsDialog | None = None
        self._closed = False
        if icon is not None:
            self.setWindowIcon(icon)

        self.banner = ConnectionBanner()
        self.banner.hide()
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
        layout.addWidget(self.splitter, 1)
        self.setCentralWidget(central)

        self.state_label = QLabel()
        self.url_label = QLabel()
        self.url_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.statusBar().addWidget(self.state_label, 1)
        self.statusBar().addPermanentWidget(self.url_label)

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

    def _show_settings(self) -> None:
        settings = self.controller.settings
        self.url_label.setText(f"{settings.redacted}   ·   queue {settings.queue}")
        self.url_label.setToolTip("The broker (the password is never shown) and the queue")
        self.queue_panel.set_queue(settings.queue)
        host = settings.redacted.split("@")[-1].split("/")[0]
        self.setWindowTitle(f"Kanin: {settings.queue} on {host}")

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
        if state == ConnectionState.CONNECTED:
            self.banner.hide()
            self.queue_panel.set_queue(self.controller.settings.queue, self.controller.queue_kind)
        elif state == ConnectionState.FAILED:
            self.banner.show_message("Kanin cannot work with the broker.", message)
        elif state == ConnectionState.RECONNECTING:
            self.banner.show_message("The broker cannot be reached right now.", message)

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
            self.close()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802
        """Stop workers gracefully (tasks go back to the queue), drain the producer, close."""
        if not self._closed:
            self._closed = True
            self.store.save_geometry(self.saveGeometry(), self.saveState())
            # The window goes away at once; the threads get up to shutdown_timeout to stop.
            self.hide()
            log.info("Closing: workers stop and give their tasks back to the queue.")
            self.controller.shutdown(self.shutdown_timeout)
            self.log_view.detach()
        event.accept()


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
