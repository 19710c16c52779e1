"""Running the Qt event loop from a script until something happens (the screenshot, the self-test).

The window's own code never waits like this; the scripted runs (``kanin
--screenshot``, ``kanin --self-test``) drive a live window from the GUI
thread and keep its event loop turning while they wait.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import QCoreApplication, QEventLoop
from PySide6.QtWidgets import QWidget


def spin_until(condition: Callable[[], bool], timeout: float) -> bool:
    """Run the event loop until ``condition()`` holds.

    Args:
        condition: checked between event batches (every 50 ms at most).
        timeout: seconds to wait at most.

    Returns:
        True when the condition held in time.
    """
    app = QCoreApplication.instance()
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline or app is None:
            return False
        QCoreApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
    return True


def spin_for(seconds: float) -> None:
    """Keep the event loop running for ``seconds`` (the screenshot's choreography)."""
    spin_until(lambda: False, seconds)


def spin_until_exposed(window: QWidget, timeout: float = 5.0) -> bool:
    """Run the event loop until the shown window is on screen (exposed), then once more.

    Returns:
        True when it was exposed in time.
    """

    def exposed() -> bool:
        handle = window.windowHandle()
        return window.isVisible() and handle is not None and handle.isExposed()

    shown = spin_until(exposed, timeout)
    QCoreApplication.processEvents()
    return shown
