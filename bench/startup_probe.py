"""Runs ``kanin`` (``desktop.launcher.main``) and reports when the main window is shown.

Used by ``bench.startup``: prints ``{"shown": <time.time()>}`` once the
window is visible and exposed, then quits the application.
"""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Any


def main() -> int:
    """Start Kanin with a hook on the main window's ``show``."""
    import desktop.main_window as main_window

    original = main_window.MainWindow.show

    def show(self: Any) -> None:
        original(self)
        from PySide6.QtCore import QEventLoop
        from PySide6.QtWidgets import QApplication

        app = QApplication.instance()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and isinstance(app, QApplication):
            handle = self.windowHandle()
            if self.isVisible() and handle is not None and handle.isExposed():
                break
            app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 5)
        print(json.dumps({"shown": time.time()}), flush=True)
        os._exit(0)

    main_window.MainWindow.show = show  # type: ignore[method-assign]
    from desktop.launcher import main as kanin

    return kanin(sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
