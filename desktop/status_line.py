"""The window's status bar: the connection's state, the broker and queue in use, tasks waiting."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QPushButton, QStatusBar

from core.worker import AckMode
from desktop.consumer_mode import AUTO_ACK_WARNING, prefetch_text
from desktop.controller import ConnectionState
from desktop.labels import ElidedLabel
from desktop.preferences import AppSettings

_STATE_COLORS: dict[str, str] = {
    ConnectionState.CONNECTING: "#6b7280",
    ConnectionState.CONNECTED: "#2e7d32",
    ConnectionState.RECONNECTING: "#9a5800",
    ConnectionState.BLOCKED: "#9a5800",
    ConnectionState.FAILED: "#c62828",
}


class StatusLine:
    """The status bar's labels and its Restart broker button, filled from the controller's facts.

    The state and the broker's URL are elided to the room left: a long message
    never widens the window (the whole text is in the tooltip).

    Args:
        bar: the window's status bar; the widgets are added to it.
    """

    def __init__(self, bar: QStatusBar) -> None:
        self.state_dot = QLabel("●")
        self.state_label = ElidedLabel(minimum_chars=12)
        self.url_label = ElidedLabel(elide=Qt.TextElideMode.ElideMiddle, minimum_chars=16)
        self.pending_label = QLabel()
        self.pending_label.setStyleSheet("color: #8a4f00; font-weight: bold;")
        self.pending_label.setToolTip(
            "Tasks enqueued (or not yet confirmed) while the broker is away: "
            "they are published with confirms once it is back"
        )
        self.pending_label.hide()
        self.mode_label = QLabel()
        self.restart_button = QPushButton("Restart broker")
        self.restart_button.setToolTip(
            "Stop and start Kanin's local RabbitMQ node while the workers run "
            "(only for a node Kanin manages)"
        )
        bar.addWidget(self.state_dot)
        bar.addWidget(self.state_label, 1)
        bar.addPermanentWidget(self.pending_label)
        bar.addPermanentWidget(self.mode_label)
        bar.addPermanentWidget(self.url_label)
        bar.addPermanentWidget(self.restart_button)

    def show_state(self, state: str, message: str) -> None:
        """The connection's state (a ``ConnectionState`` value) with a coloured dot."""
        color = _STATE_COLORS.get(state, "#6b7280")
        text = message if state == ConnectionState.CONNECTED else f"{state}: {message}"
        self.state_dot.setStyleSheet(f"color: {color};")
        self.state_label.setText(text)
        self.state_label.setToolTip(message)

    def show_where(self, settings: AppSettings, node: str) -> None:
        """The broker: the node in use once connected (which one, in a cluster), and the queue.

        Args:
            settings: the settings in effect.
            node: the redacted URL of the node in use ("" when not connected).
        """
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

    def show_mode(self, settings: AppSettings) -> None:
        """How the workers consume: their prefetch, or a warning chip while auto-ack is on."""
        if settings.ack_mode is AckMode.AUTO:
            self.mode_label.setText(f"⚠ {AUTO_ACK_WARNING}")
            self.mode_label.setStyleSheet(
                "color: white; background: #c62828; border-radius: 3px; padding: 1px 6px;"
                " font-weight: bold;"
            )
            self.mode_label.setToolTip(
                "Auto-ack is on (File → Settings): the broker forgets a task as soon as it "
                "delivers it, so a task whose worker is killed or disconnected is lost."
            )
        else:
            self.mode_label.setText(prefetch_text(settings.prefetch))
            self.mode_label.setStyleSheet("")
            self.mode_label.setToolTip(
                "Each worker's prefetch: how many unacknowledged tasks the broker may hand "
                "it at once (1 gives fair dispatch; unlimited pushes every ready task)"
            )

    def show_pending(self, count: int) -> None:
        """How many tasks wait for the broker (hidden at 0)."""
        self.pending_label.setText(f"{count} waiting for the broker")
        self.pending_label.setVisible(count > 0)
