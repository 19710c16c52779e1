"""The About box: the versions of Kanin, Qt, PySide6, pika and the broker."""

from __future__ import annotations

from importlib import metadata

import pika
from PySide6 import __version__ as pyside_version
from PySide6.QtCore import Qt, qVersion
from PySide6.QtWidgets import QMessageBox, QWidget


def kanin_version() -> str:
    """Kanin's installed version, or ``unknown``."""
    try:
        return metadata.version("kanin")
    except metadata.PackageNotFoundError:
        return "unknown"


def about_text(broker_version: str) -> str:
    """The About box's text.

    Args:
        broker_version: e.g. ``RabbitMQ 3.10.8`` ("" before the first connection).
    """
    broker = broker_version or "not connected yet"
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


def about_box(parent: QWidget, broker_version: str) -> QMessageBox:
    """A ready About dialog over ``parent``, with its window icon."""
    box = QMessageBox(parent)
    box.setWindowTitle("About Kanin")
    box.setTextFormat(Qt.TextFormat.RichText)
    box.setText(about_text(broker_version))
    if not parent.windowIcon().isNull():
        box.setIconPixmap(parent.windowIcon().pixmap(64, 64))
    return box
