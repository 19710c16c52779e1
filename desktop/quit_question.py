"""The question asked when quitting while tasks still wait for the broker."""

from __future__ import annotations

import enum
from collections.abc import Callable

from PySide6.QtWidgets import QMessageBox, QWidget


class PendingChoice(enum.Enum):
    """What to do with tasks the broker has not confirmed yet when the user quits."""

    PUBLISH_AND_WAIT = "publish and wait"
    QUIT_ANYWAY = "quit anyway"
    CANCEL = "cancel"


AskPending = Callable[[int], PendingChoice]
"""Asks what to do with ``count`` unconfirmed tasks; tests inject their own answer."""


def pending_box(parent: QWidget | None, count: int) -> QMessageBox:
    """The question, ready to show: publish and wait, quit anyway, or cancel.

    Args:
        parent: the window.
        count: tasks waiting for the broker.

    Returns:
        The message box; its buttons carry the ``PendingChoice`` in the
        ``choice`` property.
    """
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Warning)
    box.setWindowTitle("Tasks are waiting for the broker")
    noun = "task has" if count == 1 else "tasks have"
    box.setText(f"{count} {noun} not reached the broker yet.")
    box.setInformativeText(
        "They are published, with confirms, as soon as the broker is back. "
        "If Kanin quits now they are lost."
    )
    wait = box.addButton("Publish and wait", QMessageBox.ButtonRole.AcceptRole)
    wait.setProperty("choice", PendingChoice.PUBLISH_AND_WAIT.value)
    quit_button = box.addButton("Quit anyway", QMessageBox.ButtonRole.DestructiveRole)
    quit_button.setProperty("choice", PendingChoice.QUIT_ANYWAY.value)
    cancel = box.addButton(QMessageBox.StandardButton.Cancel)
    cancel.setProperty("choice", PendingChoice.CANCEL.value)
    box.setDefaultButton(wait)
    box.setEscapeButton(cancel)
    return box


def ask_with_dialog(parent: QWidget | None) -> AskPending:
    """The default question: a modal ``QMessageBox`` over ``parent``.

    Args:
        parent: the window.

    Returns:
        A function asking the user; closing the box counts as cancel.
    """

    def ask(count: int) -> PendingChoice:
        box = pending_box(parent, count)
        box.exec()
        clicked = box.clickedButton()
        value = clicked.property("choice") if clicked is not None else None
        box.deleteLater()
        try:
            return PendingChoice(value)
        except ValueError:
            return PendingChoice.CANCEL

    return ask
