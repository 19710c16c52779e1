"""The settings dialog: broker URL(s), credentials, queue and worker options.

The dialog only edits an ``AppSettings`` value and checks it with the core's
own parser, showing ``SettingsError`` sentences as they are. It never
connects: whether the broker accepts the settings shows in the window.
``SettingsEditor`` opens it for the window, remembers what was accepted and
hands it to the controller.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace

from PySide6.QtCore import QObject, Qt, Signal, Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from core.settings import SettingsError, split_urls
from core.topology import QueueType
from core.worker import AckMode
from desktop.controller import Controller
from desktop.preferences import AppSettings, SettingsStore, split_credentials

log = logging.getLogger(__name__)


class SettingsDialog(QDialog):
    """Edits the connection, queue and worker settings.

    Args:
        settings: the settings to start from.
        keyring_available: whether "remember the password" can work on this machine.
        parent: the parent widget.
    """

    def __init__(
        self,
        settings: AppSettings,
        *,
        keyring_available: bool,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self.setMinimumWidth(520)
        self._result: AppSettings | None = None
        self._base = settings

        self.urls_edit = QLineEdit(", ".join(settings.urls))
        self.urls_edit.setPlaceholderText("amqp://host:5672/%2F (several: separate with commas)")
        self.urls_edit.setToolTip(
            "One URL per broker node, tried in order; the default vhost '/' is written %2F"
        )
        self.user_edit = QLineEdit(settings.username)
        self.password_edit = QLineEdit(settings.password)
        self.password_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.remember_box = QCheckBox("Remember the password in the system keyring")
        self.remember_box.setChecked(settings.remember_password and keyring_available)
        self.remember_box.setEnabled(keyring_available)
        if not keyring_available:
            self.remember_box.setText("Remember the password (no system keyring found)")
            self.remember_box.setToolTip(
                "No system keyring was found: the password is kept only while Kanin runs."
            )
        self.queue_edit = QLineEdit(settings.queue)
        self.type_box = QComboBox()
        self.type_box.addItem("quorum (replicated, the tutorial's choice)", QueueType.QUORUM)
        self.type_box.addItem("classic", QueueType.CLASSIC)
        self.type_box.setCurrentIndex(0 if settings.queue_type is QueueType.QUORUM else 1)
        self.type_box.setToolTip("Only used when the queue does not exist yet")
        self.prefetch_box = QSpinBox()
        self.prefetch_box.setRange(0, 65535)
        self.prefetch_box.setValue(settings.prefetch)
        self.prefetch_box.setSpecialValueText("unlimited")  # 0: no limit, said in words
        self.prefetch_box.setToolTip("1 gives fair dispatch; 0 means no limit")
        self.ack_box = QComboBox()
        self.ack_box.addItem("manual: acknowledge when the work is done (safe)", AckMode.MANUAL)
        self.ack_box.addItem(
            "auto: acknowledged on delivery (a killed worker loses its task)", AckMode.AUTO
        )
        self.ack_box.setCurrentIndex(0 if settings.ack_mode is AckMode.MANUAL else 1)
        self.persistent_box = QCheckBox("Persistent messages (delivery mode 2)")
        self.persistent_box.setChecked(settings.persistent)
        self.error_label = QLabel()
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet("color: #c62828;")
        self.error_label.hide()

        form = QFormLayout()
        form.addRow("Broker URL(s)", self.urls_edit)
        form.addRow("User", self.user_edit)
        form.addRow("Password", self.password_edit)
        form.addRow("", self.remember_box)
        form.addRow("Queue", self.queue_edit)
        form.addRow("New queue type", self.type_box)
        form.addRow("Prefetch", self.prefetch_box)
        form.addRow("Acknowledgements", self.ack_box)
        form.addRow("", self.persistent_box)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error_label)
        layout.addWidget(self.buttons)

    def settings(self) -> AppSettings:
        """The settings as entered, checked.

        Returns:
            The new settings.

        Raises:
            SettingsError: with the sentence to show.
        """
        text = self.urls_edit.text()
        if not split_urls(text):
            raise SettingsError(
                "The broker URL is empty; expected amqp://host:port/vhost (e.g. amqp://localhost)."
            )
        typed = split_credentials([text])
        username = self.user_edit.text().strip()
        password = self.password_edit.text()
        if typed.has_credentials:
            # Credentials typed in the URL win, and move to their own fields.
            username, password = typed.username, typed.password
        settings = replace(
            self._base,
            urls=typed.urls,
            username=username,
            password=password,
            remember_password=self.remember_box.isChecked(),
            queue=self.queue_edit.text().strip(),
            queue_type=self.type_box.currentData(),
            prefetch=self.prefetch_box.value(),
            ack_mode=self.ack_box.currentData(),
            persistent=self.persistent_box.isChecked(),
        )
        settings.validate()
        return settings

    @property
    def result_settings(self) -> AppSettings | None:
        """The accepted settings, once OK was pressed with valid input."""
        return self._result

    def show_error(self, message: str) -> None:
        """Show a validation message under the form."""
        self.error_label.setText(message)
        self.error_label.setVisible(bool(message))

    @Slot()
    def accept(self) -> None:
        """Close only when the settings are valid; otherwise say what is wrong."""
        try:
            self._result = self.settings()
        except SettingsError as exc:
            self.show_error(str(exc))
            return
        self.show_error("")
        super().accept()


class SettingsEditor(QObject):
    """Opens the settings dialog over the window; OK remembers the settings and applies them.

    Args:
        controller: gets the accepted settings (``apply_settings``).
        store: remembers them (the password only in the keyring, only if asked).
        parent: the window; the dialog is modal to it.
        on_local_node: tells whether a URL is Kanin's own local node: such a URL
            is not remembered (its port may not answer next time), the choice of
            the local broker is.

    Signals:
        warned(str): the settings were applied but the password could not be remembered.
    """

    warned = Signal(str)

    def __init__(
        self,
        controller: Controller,
        store: SettingsStore,
        parent: QWidget,
        on_local_node: Callable[[str], bool] | None = None,
    ) -> None:
        super().__init__(parent)
        self.controller = controller
        self.store = store
        self._on_local_node = on_local_node
        self.window = parent
        self.dialog: SettingsDialog | None = None

    def open(self) -> SettingsDialog:
        """Open the dialog (non-modal to the event loop, modal to the window), or raise it.

        Returns:
            The dialog; OK applies and remembers valid settings.
        """
        if self.dialog is not None and self.dialog.isVisible():
            self.dialog.raise_()
            return self.dialog
        dialog = SettingsDialog(
            self.controller.settings,
            keyring_available=self.store.secrets.available(),
            parent=self.window,
        )
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.accepted.connect(self._on_accepted)
        self.dialog = dialog
        dialog.open()
        return dialog

    @Slot()
    def _on_accepted(self) -> None:
        dialog = self.dialog
        if dialog is None or dialog.result_settings is None:
            return
        settings = dialog.result_settings
        local = self._on_local_node is not None and any(
            self._on_local_node(url) for url in settings.urls
        )
        kept = settings
        if local:  # keep the URLs saved before: the node's port is this run's
            kept = replace(settings, urls=self.store.saved_urls() or AppSettings().urls)
        warning = self.store.save(kept)
        self.store.choose_local_broker(local)
        if warning:
            log.warning("%s", warning)
            self.warned.emit(warning)
        log.info("Settings changed: %s, queue %s.", settings.redacted, settings.queue)
        self.controller.apply_settings(settings)
