"""``kanin --self-test``: prove that this build of Kanin works, end to end, without a person.

It opens the real window (offscreen unless a Qt platform is chosen), checks
that the broker answers, enqueues one short task through the window's
controller, runs it on a worker thread to completion, saves a screenshot of
the window next to the log file and exits 0. Any failure (the broker is
unreachable or refuses the login, the task does not finish within the time
limit, the window cannot be made) exits non-zero with the reason on stderr
and in the log.

Unless ``--queue`` is given it works on a fresh queue named
``kanin-self-test-<random>``, and deletes that queue afterwards; a queue
named by the user is never deleted.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEventLoop, QObject, QSettings, QTimer, Slot
from PySide6.QtWidgets import QApplication, QWidget

from core.errors import describe
from core.settings import ConnectionSettings, SettingsError
from desktop.bootstrap import application, create_window
from desktop.event_loop import spin_until_exposed
from desktop.logs import install_qt_message_handler, log_path, register_secret, setup_logging
from desktop.main_window import MainWindow
from desktop.preferences import MemorySecrets

log = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
TASK_TEXT = "kanin self-test."  # one '.' = one second of work
DEFAULT_TIMEOUT = 30.0
SCREENSHOT_NAME = "kanin-self-test.png"
QUEUE_PREFIX = "kanin-self-test"


class SelfTestError(Exception):
    """The self-test failed; the message says why, in one sentence without passwords.

    Args:
        message: the reason.
        exit_code: the process exit code to use.
    """

    def __init__(self, message: str, exit_code: int = EXIT_FAILED) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def resolve_settings(args: argparse.Namespace) -> ConnectionSettings:
    """The broker to test: ``--url``, else ``KANIN_URL``, else the default (nothing saved is read).

    Args:
        args: the parsed command line (``url`` may be missing, a string or a list).

    Returns:
        The settings; their passwords are registered for redaction in the log.

    Raises:
        SelfTestError: for a malformed URL (exit code 2).
    """
    try:
        settings = ConnectionSettings.resolve(getattr(args, "url", None))
    except SettingsError as exc:
        raise SelfTestError(str(exc), EXIT_USAGE) from None
    for address in settings.addresses:
        if address.password != address.username:
            register_secret(address.password)
    return settings


def check_broker(settings: ConnectionSettings) -> str:
    """Open and close one connection, to fail fast with a clear reason.

    Args:
        settings: the broker addresses, tried in order.

    Returns:
        The broker's product and version, e.g. ``RabbitMQ 3.10.8``.

    Raises:
        SelfTestError: naming what is wrong (refused, login refused, no answer).
    """
    import pika

    from core.pika_internals import server_properties

    try:
        connection = pika.BlockingConnection(settings.pika_parameters())
    except Exception as exc:
        raise SelfTestError(describe(exc, settings.primary)) from None
    try:
        props = server_properties(connection)
        product = props.get("product", b"broker")
        version = props.get("version", b"")

        def text(value: Any) -> str:
            return value.decode() if isinstance(value, bytes) else str(value)

        return f"{text(product)} {text(version)}".strip()
    finally:
        connection.close()


def delete_queue(settings: ConnectionSettings, name: str) -> None:
    """Delete a queue the self-test created; problems are logged, not raised.

    Args:
        settings: where the broker is.
        name: the queue.
    """
    import pika

    try:
        connection = pika.BlockingConnection(settings.pika_parameters())
        try:
            connection.channel().queue_delete(queue=name)
        finally:
            if connection.is_open:
                connection.close()
        log.info("Self-test: deleted queue %s", name)
    except Exception as exc:
        log.warning("Self-test: could not delete queue %s: %s", name, describe(exc))


def run_self_test(args: argparse.Namespace) -> int:
    """Run the self-test; returns the exit code.

    Args:
        args: the window's parsed command line. Used: ``url`` (string or list),
            ``queue`` (use this queue and keep it), ``screenshot`` (where to
            save it), ``self_test_timeout`` (seconds, default 30).

    Returns:
        0 when the task finished and the screenshot was written, 1 for a broker
        failure or time-out, 2 for bad settings.
    """
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    verbose = bool(getattr(args, "verbose", False))
    log_file = setup_logging(verbose=verbose)
    install_qt_message_handler()
    if not verbose:
        # pika logs every failed attempt with a traceback; the self-test says it in one sentence.
        logging.getLogger("pika").setLevel(logging.CRITICAL)
    started = time.monotonic()
    try:
        summary = _run(args, log_file)
    except SelfTestError as exc:
        log.error("Self-test FAILED: %s", exc, extra={"console": False})
        print(f"kanin self-test failed: {exc}", file=sys.stderr, flush=True)
        print(f"kanin self-test: log file {log_file}", file=sys.stderr, flush=True)
        return exc.exit_code
    except Exception as exc:
        log.exception("Self-test FAILED with an unexpected error")
        reason = f"unexpected {type(exc).__name__}: {exc}"
        print(
            f"kanin self-test failed: {reason} (details in {log_file})", file=sys.stderr, flush=True
        )
        return EXIT_FAILED
    elapsed = time.monotonic() - started
    log.info("Self-test passed in %.1f s: %s", elapsed, summary)
    print(f"kanin self-test passed in {elapsed:.1f} s: {summary}", flush=True)
    return EXIT_OK


def _run(args: argparse.Namespace, log_file: Path) -> str:
    settings = resolve_settings(args)
    timeout = float(getattr(args, "self_test_timeout", None) or DEFAULT_TIMEOUT)
    given_queue: str | None = getattr(args, "queue", None)
    created_queue = not given_queue
    queue = given_queue or f"{QUEUE_PREFIX}-{uuid.uuid4().hex[:10]}"
    log.info(
        "Self-test: broker %s, queue %s (%s), platform %s",
        settings.redacted,
        queue,
        "created for the test" if created_queue else "given",
        os.environ.get("QT_QPA_PLATFORM", "default"),
    )
    broker = check_broker(settings)
    log.info("Self-test: %s answers", broker)
    window_args = argparse.Namespace(**vars(args))
    window_args.queue = queue
    window_args.self_test = False
    try:
        task_id = _run_window(window_args, timeout)
    finally:
        if created_queue:
            delete_queue(settings, queue)
    screenshot = Path(getattr(args, "screenshot", None) or log_file.parent / SCREENSHOT_NAME)
    return f"{broker} at {settings.primary.endpoint}, task {task_id} done; screenshot {screenshot}"


def _run_window(args: argparse.Namespace, timeout: float) -> str:
    app = application()
    with tempfile.TemporaryDirectory(prefix="kanin-self-test-") as scratch:
        # Throw-away settings and no keyring: the self-test neither reads nor
        # changes what the user's Kanin remembers.
        qsettings = QSettings(str(Path(scratch) / "settings.ini"), QSettings.Format.IniFormat)
        window = create_window(args, qsettings=qsettings, secrets=MemorySecrets(available=False))
        try:
            return _drive(window, app, args, timeout)
        finally:
            stopped = window.controller.shutdown(10.0)
            if not stopped:
                log.warning("Self-test: the controller did not stop every thread within 10 s")
            window.close()
            window.deleteLater()
            app.processEvents()
            qsettings.sync()


def _drive(window: MainWindow, app: QApplication, args: argparse.Namespace, timeout: float) -> str:
    """Show the window, run one task through its controller, save the screenshot."""
    controller = window.controller
    waiter = Waiter()
    controller.task_finished.connect(waiter.on_task_finished)
    controller.connection_failed.connect(waiter.on_connection_failed)
    timer = QTimer()
    timer.setSingleShot(True)
    timer.timeout.connect(waiter.on_timeout)
    window.show()
    spin_until_exposed(window)
    log.info("Self-test: window shown (%dx%d)", window.width(), window.height())
    waiter.task_ids = set(controller.enqueue([TASK_TEXT]))
    if not waiter.task_ids:
        raise SelfTestError("The window's controller enqueued no task.")
    workers = controller.add_workers(1)
    log.info("Self-test: enqueued %s, started worker(s) %s", waiter.task_ids, workers)
    timer.start(int(timeout * 1000))
    if waiter.outcome is None:
        waiter.loop.exec()
    timer.stop()
    if waiter.outcome == "timeout":
        raise SelfTestError(
            f"The task did not finish within {timeout:.0f} s "
            f"(enqueued {', '.join(sorted(waiter.task_ids))})."
        )
    if waiter.outcome != "finished":
        raise SelfTestError(waiter.outcome or "The self-test stopped for no known reason.")
    app.processEvents()
    _screenshot(window, args)
    return waiter.finished_id


def _screenshot(window: QWidget, args: argparse.Namespace) -> Path:
    path = Path(getattr(args, "screenshot", None) or log_path().parent / SCREENSHOT_NAME)
    path.parent.mkdir(parents=True, exist_ok=True)
    if not window.grab().save(str(path), "PNG"):
        raise SelfTestError(f"Could not write the screenshot {path}.")
    log.info("Self-test: screenshot %s", path)
    return path


class Waiter(QObject):
    """Waits in a local event loop for the task to finish, a failure, or the time limit.

    Lives in the GUI thread, so the controller's signals reach its slots there.
    """

    def __init__(self) -> None:
        super().__init__()
        self.loop = QEventLoop()
        self.task_ids: set[str] = set()
        self.finished_id = ""
        self.outcome: str | None = None

    def _end(self, outcome: str) -> None:
        if self.outcome is None:
            self.outcome = outcome
            self.loop.quit()

    @Slot(str)
    def on_task_finished(self, task_id: str) -> None:
        """A task finished; ends the wait when it is ours."""
        log.info("Self-test: task %s finished", task_id)
        if task_id in self.task_ids:
            self.finished_id = task_id
            self._end("finished")

    @Slot(str)
    def on_connection_failed(self, reason: str) -> None:
        """The controller could not reach the broker: ends the wait with its reason."""
        log.error("Self-test: connection failed: %s", reason)
        self._end(reason or "The connection to the broker failed.")

    @Slot()
    def on_timeout(self) -> None:
        """The time limit passed."""
        self._end("timeout")
