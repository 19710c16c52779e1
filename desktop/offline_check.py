"""``kanin --self-test --offline``: prove that a build starts and shows its window, with no broker.

For the machines that build Kanin but run no RabbitMQ broker (CI on macOS and
Windows): the real window is made by ``create_window`` (offscreen unless a Qt
platform is chosen), shown, rendered and closed, and every thread it started
must end. The window is pointed at a port on 127.0.0.1 where nothing listens,
so nothing leaves the machine and no broker is touched; the window reports
that it cannot connect, which is expected here. Settings and passwords are
throw-away: the user's own are neither read nor changed.

Exit 0 when all of that worked, 1 otherwise, with the reason on stderr and in
the log file.
"""

from __future__ import annotations

import argparse
import logging
import os
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path

from PySide6.QtCore import QEventLoop, QSettings, qVersion
from PySide6.QtWidgets import QApplication, QWidget

from desktop.logs import install_qt_message_handler, setup_logging

log = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_FAILED = 1
SHOW_TIMEOUT = 10.0
STOP_TIMEOUT = 10.0
QUEUE = "kanin-offline-check"


class OfflineCheckError(Exception):
    """The offline self-test failed; the message says why in one sentence."""


def unused_port() -> int:
    """A TCP port on 127.0.0.1 where nothing listens (the OS's pick of a free one)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run_offline_check(args: argparse.Namespace) -> int:
    """Run the broker-free self-test; returns the exit code.

    Args:
        args: the window's parsed command line. Used: ``verbose``, and
            ``screenshot`` (save a PNG of the window there; optional).

    Returns:
        0 when the window was shown, rendered and closed with every thread
        stopped, 1 otherwise.
    """
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    verbose = bool(getattr(args, "verbose", False))
    log_file = setup_logging(verbose=verbose)
    install_qt_message_handler()
    if not verbose:
        # The refused connection is expected; pika would log each attempt with a traceback.
        logging.getLogger("pika").setLevel(logging.CRITICAL)
    started = time.monotonic()
    try:
        summary = _run(args)
    except OfflineCheckError as exc:
        log.error("Offline self-test FAILED: %s", exc, extra={"console": False})
        print(f"kanin offline self-test failed: {exc} (log: {log_file})", file=sys.stderr)
        return EXIT_FAILED
    except Exception as exc:
        log.exception("Offline self-test FAILED with an unexpected error")
        print(
            f"kanin offline self-test failed: unexpected {type(exc).__name__}: {exc} "
            f"(log: {log_file})",
            file=sys.stderr,
        )
        return EXIT_FAILED
    elapsed = time.monotonic() - started
    log.info("Offline self-test passed in %.1f s: %s", elapsed, summary)
    print(f"kanin offline self-test passed in {elapsed:.1f} s: {summary}", flush=True)
    return EXIT_OK


def _run(args: argparse.Namespace) -> str:
    from desktop.bootstrap import application, create_window
    from desktop.local_node import LocalNode
    from desktop.preferences import MemorySecrets

    window_args = argparse.Namespace(**vars(args))
    window_args.url = [f"amqp://guest:guest@127.0.0.1:{unused_port()}/%2F"]
    window_args.queue = QUEUE
    window_args.self_test = False
    window_args.local_broker = False
    app = application()
    before = set(threading.enumerate())
    with tempfile.TemporaryDirectory(prefix="kanin-offline-") as scratch:
        qsettings = QSettings(str(Path(scratch) / "settings.ini"), QSettings.Format.IniFormat)
        window = create_window(
            window_args,
            qsettings=qsettings,
            secrets=MemorySecrets(available=False),
            environ={},
            management_port=None,
            local_node=LocalNode(Path(scratch) / "broker"),
        )
        try:
            size = _show(window, app, getattr(args, "screenshot", None))
        finally:
            stopped = window.controller.shutdown(STOP_TIMEOUT)
            window.close()
            window.deleteLater()
            app.processEvents()
            qsettings.sync()
    if not stopped:
        raise OfflineCheckError(f"The window's threads did not stop within {STOP_TIMEOUT:.0f} s.")
    left = _threads_left(before)
    if left:
        raise OfflineCheckError(f"Threads still running after the window closed: {left}.")
    platform = QApplication.platformName()
    return f"window {size} shown, rendered and closed (Qt {qVersion()}, platform {platform})"


def _show(window: QWidget, app: QApplication, screenshot: str | None) -> str:
    """Show the window, wait until it is exposed and render it; returns its size."""
    window.show()
    deadline = time.monotonic() + SHOW_TIMEOUT
    while not _exposed(window):
        if time.monotonic() > deadline:
            raise OfflineCheckError(f"The window was not shown within {SHOW_TIMEOUT:.0f} s.")
        app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
    app.processEvents()
    image = window.grab()
    if image.isNull() or image.width() == 0 or image.height() == 0:
        raise OfflineCheckError("The window rendered an empty image.")
    if screenshot:
        path = Path(screenshot)
        path.parent.mkdir(parents=True, exist_ok=True)
        if not image.save(str(path), "PNG"):
            raise OfflineCheckError(f"Could not write the screenshot {path}.")
        log.info("Offline self-test: screenshot %s", path)
    log.info("Offline self-test: window shown (%dx%d)", window.width(), window.height())
    return f"{window.width()}x{window.height()}"


def _exposed(window: QWidget) -> bool:
    handle = window.windowHandle()
    return window.isVisible() and handle is not None and handle.isExposed()


def _threads_left(before: set[threading.Thread]) -> list[str]:
    """Kanin's threads started since ``before`` that are still alive after a short join."""
    deadline = time.monotonic() + STOP_TIMEOUT
    left = [t for t in threading.enumerate() if t not in before and t.name.startswith("kanin-")]
    for thread in left:
        thread.join(max(0.0, deadline - time.monotonic()))
    return sorted(t.name for t in left if t.is_alive())
