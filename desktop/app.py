"""Kanin's window application: command line, ``create_window(args)``, ``main(argv)``.

``kanin`` (see ``desktop.launcher``) calls ``main(argv)`` for everything that is
not a headless subcommand. Options:

- ``--url URL`` (repeatable), ``--queue NAME``: override the remembered settings
  for this run (``KANIN_URL`` too, as everywhere in Kanin);
- ``--screenshot PATH``: open the window offscreen, put it in a lively state
  against the broker (three workers, tasks in every state), save a PNG of the
  whole window and exit 0;
- ``--self-test``: run ``desktop.self_test.run_self_test(args)``;
- ``--local-broker``: start Kanin's own RabbitMQ node (data in the user's data
  folder) without asking, and use it; it is stopped on quit, its tasks stay;
- ``-v``: log details.

``create_window(args)`` builds the controller and the window without showing
it; the self-test and the screenshot use it and drive the window through
``window.controller``.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from types import FrameType

from PySide6.QtCore import QCoreApplication, QEventLoop, QSettings, QTimer
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from core.events import WorkerState
from core.settings import ENV_VAR, SettingsError
from core.worker import Work, poison_work
from desktop.controller import Controller, freeze_long_lived
from desktop.local_node import LocalNode
from desktop.main_window import MainWindow
from desktop.preferences import (
    AppSettings,
    KeyringSecrets,
    SecretStore,
    SettingsStore,
    from_urls,
)
from desktop.quit_question import AskPending
from desktop.task_model import TaskState

log = logging.getLogger(__name__)

ORGANIZATION = "Kanin"
APPLICATION = "Kanin"
EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
SCREENSHOT_QUEUE_PREFIX = "kanin-screenshot"


def build_parser() -> argparse.ArgumentParser:
    """The window's command line."""
    parser = argparse.ArgumentParser(
        prog="kanin",
        description="Kanin: a desktop work-queue studio for RabbitMQ. "
        "Headless commands: 'kanin worker', 'kanin new-task' (see 'kanin worker --help').",
    )
    parser.add_argument(
        "--url",
        action="append",
        metavar="URL",
        help=f"broker URL for this run; repeat for a cluster (default: remembered, ${ENV_VAR})",
    )
    parser.add_argument("--queue", help="queue name for this run (default: remembered)")
    parser.add_argument(
        "--screenshot",
        metavar="PATH",
        help="save a PNG of the window in a lively state and exit (offscreen)",
    )
    parser.add_argument(
        "--self-test", action="store_true", help="check that this build works end to end, then exit"
    )
    parser.add_argument("--offline", action="store_true", help="with --self-test: no broker needed")
    parser.add_argument(
        "--local-broker",
        action="store_true",
        help="start Kanin's own RabbitMQ node (data in the user data folder) and use it "
        "instead of --url; it is stopped on quit, its queued tasks stay",
    )
    parser.add_argument("--local-broker-dir", metavar="DIR", default=None, help=argparse.SUPPRESS)
    parser.add_argument("-v", "--verbose", action="store_true", help="log details")
    return parser


def resource_dir() -> Path:
    """The folder holding ``kanin.svg`` and the PNG icons (source tree or frozen bundle)."""
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        return Path(bundle) / "resources"
    return Path(__file__).resolve().parent.parent / "resources"


def app_icon() -> QIcon:
    """The application icon from ``resources/`` (PNG sizes, else the SVG)."""
    icon = QIcon()
    folder = resource_dir()
    for size in (16, 32, 48, 64, 128, 256, 512):
        path = folder / f"kanin-{size}.png"
        if path.exists():
            icon.addFile(str(path))
    if icon.isNull() and (folder / "kanin.svg").exists():
        icon.addFile(str(folder / "kanin.svg"))
    return icon


def application(argv: Sequence[str] | None = None) -> QApplication:
    """The running ``QApplication``, created with Kanin's names and icon if needed."""
    existing = QApplication.instance()
    if isinstance(existing, QApplication):
        return existing
    app = QApplication([sys.argv[0] if sys.argv else "kanin", *(argv or [])])
    app.setOrganizationName(ORGANIZATION)
    app.setApplicationName(APPLICATION)
    app.setApplicationDisplayName("Kanin")
    app.setDesktopFileName("kanin")
    app.setWindowIcon(app_icon())
    return app


def _urls(args: argparse.Namespace) -> list[str]:
    value = getattr(args, "url", None)
    if not value:
        return []
    return [value] if isinstance(value, str) else list(value)


def initial_settings(
    args: argparse.Namespace, store: SettingsStore, environ: dict[str, str] | None = None
) -> tuple[AppSettings, str]:
    """The settings to start with: remembered ones, overridden by the command line.

    ``--url`` (else ``KANIN_URL``) replaces the broker and credentials, ``--queue`` the queue.

    Args:
        args: the parsed command line.
        store: the remembered settings.
        environ: the environment (default ``os.environ``).

    Returns:
        The settings and a problem to show ("" when none).
    """
    env = os.environ if environ is None else environ
    settings = store.load()
    problem = ""
    urls = _urls(args) or ([env[ENV_VAR]] if env.get(ENV_VAR, "").strip() else [])
    if urls:
        try:
            settings = from_urls(urls, settings)
        except SettingsError as exc:
            problem = str(exc)
    queue = getattr(args, "queue", None)
    if queue:
        settings = replace(settings, queue=queue)
    return settings, problem


def create_window(
    args: argparse.Namespace,
    *,
    qsettings: QSettings | None = None,
    secrets: SecretStore | None = None,
    work: Work = poison_work,
    environ: dict[str, str] | None = None,
    management_port: int | None = 15672,
    local_node: LocalNode | None = None,
    ask_pending: AskPending | None = None,
) -> MainWindow:
    """Build the controller and the main window (not shown yet) and start connecting.

    Nothing here blocks: connections are opened in core threads, the local
    node starts in a thread of its own. With ``args.local_broker`` the window
    starts the local node first and connects to it, not to the configured URL.

    Args:
        args: the parsed command line (``url`` may be a string or a list, ``queue`` optional).
        qsettings: where to remember settings; tests pass one on a temporary file.
            Default: the user's ``QSettings("Kanin", "Kanin")``.
        secrets: where a remembered password lives (default: the system keyring).
        work: decides each task's work (default: one second per ``.``, and a task
            containing the word "poison" fails, to show retries and dead-lettering).
        environ: the environment, for ``KANIN_URL`` (default ``os.environ``).
        management_port: the management plugin's port for the queue panel.
        local_node: the managed local node (default: in ``args.local_broker_dir``,
            else the user's data folder).
        ask_pending: asks what to do when quitting with tasks waiting for the broker.

    Returns:
        The window; ``window.controller`` drives it.
    """
    application()
    store = SettingsStore(
        qsettings if qsettings is not None else QSettings(ORGANIZATION, APPLICATION),
        secrets if secrets is not None else KeyringSecrets(),
    )
    settings, problem = initial_settings(args, store, environ)
    _register_secret(settings.password)
    controller = Controller(
        settings, work=work, management_port=management_port, initial_error=problem
    )
    if local_node is None:
        folder = getattr(args, "local_broker_dir", None)
        local_node = LocalNode(Path(folder) if folder else None)
    window = MainWindow(
        controller, store, icon=app_icon(), local_node=local_node, ask_pending=ask_pending
    )
    controller.setParent(window)
    # Everything made so far (Qt's wrappers, modules, the window) lives as long as
    # the app: out of the collector's sight, a full collection in a flood of tasks
    # (which stops every thread, the GUI's too) has only the tasks' objects to scan.
    freeze_long_lived()
    if getattr(args, "local_broker", False) and window.start_local_broker():
        return window  # the controller starts once the node accepts connections
    controller.start()
    return window


def _register_secret(password: str) -> None:
    """Tell the log file's formatter to hide this password, when that module is there."""
    try:
        from desktop.logs import register_secret
    except ImportError:  # pragma: no cover - logs.py ships with the app
        return
    if password and password != "guest":
        register_secret(password)


def wait_until(condition: Callable[[], bool], timeout: float) -> bool:
    """Run the event loop until ``condition()`` holds; True when it did in time."""
    app = QCoreApplication.instance()
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline or app is None:
            return False
        QCoreApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
    return True


def pause(seconds: float) -> None:
    """Keep the event loop running for ``seconds`` (for the screenshot's choreography)."""
    wait_until(lambda: False, seconds)


def take_screenshot(args: argparse.Namespace) -> int:
    """``--screenshot PATH``: a lively window against the broker, saved as a PNG.

    Works on a fresh queue ``kanin-screenshot-<random>`` (unless ``--queue`` is
    given) and deletes it afterwards.

    Returns:
        0 when the PNG was written, 1 when the broker failed or the file could not be written.
    """
    path = Path(args.screenshot)
    own_queue = not args.queue
    if own_queue:
        args = argparse.Namespace(
            **{**vars(args), "queue": f"{SCREENSHOT_QUEUE_PREFIX}-{uuid.uuid4().hex[:8]}"}
        )
    app = application()
    window = create_window(args, qsettings=_scratch_settings())
    controller = window.controller
    window.resize(1440, 900)
    window.show()
    try:
        if not wait_until(lambda: controller.connection_state == "connected", 15):
            print(f"kanin: {controller.connection_message}", file=sys.stderr)
            return EXIT_FAILED
        controller.enqueue(["Hello World."] + [f"Quick task {i}" for i in range(1, 6)])
        controller.add_workers(3)
        controller.enqueue_mixed(24, 0, 1)
        wait_until(lambda: controller.model.counts()[TaskState.DONE] >= 26, 20)
        controller.enqueue([f"Report {i} ...." for i in range(1, 4)])
        controller.enqueue([f"Resize image {i} ..." for i in range(1, 7)])
        wait_until(lambda: sum(s.state is WorkerState.BUSY for s in controller.statuses) >= 3, 10)
        wait_until(lambda: all(s.progress > 0.3 for s in controller.statuses if s.task_id), 5)
        victim = next(s.name for s in controller.statuses if s.state is WorkerState.BUSY)
        window.workers_panel.select(victim)
        controller.kill_worker(victim)
        wait_until(lambda: any(r for r in controller.statuses if r.state is WorkerState.KILLED), 5)
        controller.add_workers(1)
        wait_until(lambda: sum(s.state is WorkerState.BUSY for s in controller.statuses) >= 3, 10)
        wait_until(lambda: bool(window.queue_panel.chart.points()), 5)
        pause(1.5)  # a little more progress on the bars and the chart
        # Photograph the moment before the broker's confirms are drained, so that the
        # new rows still say "sending": hold the controller's updates, not the broker.
        controller.pause_updates(True)
        controller.enqueue([f"Thumbnail {i} .." for i in range(1, 401)])
        app.processEvents()
        window.task_panel.refresh()
        app.processEvents()
        path.parent.mkdir(parents=True, exist_ok=True)
        if not window.grab().save(str(path), "PNG"):
            print(f"kanin: cannot write {path}", file=sys.stderr)
            return EXIT_FAILED
        print(f"kanin: screenshot saved to {path}")
        return EXIT_OK
    finally:
        window.close()
        if own_queue:
            _delete_queue(controller, args.queue)
        Path(window.store.qsettings.fileName()).unlink(missing_ok=True)


def _scratch_settings() -> QSettings:
    """Settings that the screenshot must not change: a throw-away INI file."""
    folder = Path(os.environ.get("TMPDIR", "/tmp"))
    return QSettings(
        str(folder / f"kanin-screenshot-{os.getpid()}.ini"), QSettings.Format.IniFormat
    )


def _delete_queue(controller: Controller, queue: str) -> None:
    import pika

    from core.errors import describe

    try:
        connection = pika.BlockingConnection(controller.settings.connection().pika_parameters())
        try:
            connection.channel().queue_delete(queue=queue)
        finally:
            if connection.is_open:
                connection.close()
    except Exception as exc:  # noqa: BLE001 - a left-over scratch queue is only untidy
        log.warning("Could not delete the screenshot queue %s: %s", queue, describe(exc))


def main(argv: Sequence[str] | None = None) -> int:
    """Open the window (or take a screenshot, or run the self-test); returns the exit code."""
    args = build_parser().parse_args(list(sys.argv[1:] if argv is None else argv))
    if args.self_test and args.offline:
        from desktop.offline_check import run_offline_check

        return run_offline_check(args)
    if args.self_test:
        try:
            from desktop.self_test import run_self_test
        except ImportError as exc:
            print(f"kanin: the self-test is not available in this build ({exc}).", file=sys.stderr)
            return EXIT_FAILED
        return run_self_test(args)
    if args.screenshot:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    _setup_logging(args.verbose)
    if args.screenshot:
        return take_screenshot(args)
    app = application()
    window = create_window(args)
    app.aboutToQuit.connect(window.on_about_to_quit)
    _close_on_signals(window)
    window.show()
    code = app.exec()
    return int(code)


def _close_on_signals(window: MainWindow) -> None:
    """Ctrl+C or SIGTERM close the window the normal way: workers give their tasks back.

    Python runs signal handlers only between bytecodes; the controller's timer
    runs Python code many times a second, so the handler is not delayed.
    """

    def handler(signum: int, _frame: FrameType | None) -> None:
        log.info("Signal %d: closing the window.", signum)
        QTimer.singleShot(0, window.close)

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, handler)


def _setup_logging(verbose: bool) -> None:
    try:
        from desktop.logs import setup_logging
    except ImportError:  # pragma: no cover - logs.py ships with the app
        logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO)
    else:
        setup_logging(verbose=verbose)
    if not verbose:
        # pika logs every failed attempt with a traceback; Kanin says it in one sentence.
        logging.getLogger("pika").setLevel(logging.CRITICAL)
