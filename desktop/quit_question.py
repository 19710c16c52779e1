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


AskStuck = Callable[[int, float, str], PendingChoice]
"""Asks what to do when ``count`` tasks are still unconfirmed after ``seconds`` of waiting
to quit, with the reason (the connection's sentence); tests inject their own answer."""


def ask_stuck_with_dialog(parent: QWidget | None) -> AskStuck:
    """The default question when publishing before quitting makes no progress.

    Args:
        parent: the window.

    Returns:
        A function asking: keep waiting (``PUBLISH_AND_WAIT``), quit anyway,
        or cancel quitting; closing the box keeps waiting.
    """

    def ask(count: int, seconds: float, reason: str) -> PendingChoice:
        box = QMessageBox(parent)
        box.setIcon(QMessageBox.Icon.Warning)
        box.setWindowTitle("The tasks cannot be published")
        noun = "task is" if count == 1 else "tasks are"
        box.setText(f"{count} {noun} still not confirmed by the broker after {seconds:.0f} s.")
        box.setInformativeText(f"{reason}\nIf Kanin quits now they are lost.")
        wait = box.addButton("Keep waiting", QMessageBox.ButtonRole.AcceptRole)
        wait.setProperty("choice", PendingChoice.PUBLISH_AND_WAIT.value)
        quit_button = box.addButton("Quit anyway", QMessageBox.ButtonRole.DestructiveRole)
        quit_button.setProperty("choice", PendingChoice.QUIT_ANYWAY.value)
        stay = box.addButton("Don't quit", QMessageBox.ButtonRole.RejectRole)
        stay.setProperty("choice", PendingChoice.CANCEL.value)
        box.setDefaultButton(wait)
        box.exec()
        clicked = box.clickedButton()
        value = clicked.property("choice") if clicked is not None else None
        box.deleteLater()
        try:
            return PendingChoice(value)
        except ValueError:
            return PendingChoice.PUBLISH_AND_WAIT

    return ask
