"""Kanin's window application: its command line and ``main(argv)``.

``kanin`` (see ``desktop.launcher``) calls ``main(argv)`` for everything that is
not a headless subcommand. Options:

- ``--url URL`` (repeatable), ``--queue NAME``: override the remembered settings
  for this run (``KANIN_URL`` too, as everywhere in Kanin);
- ``--screenshot PATH``: ``desktop.screenshot.take_screenshot(args)`` opens the
  window offscreen, puts it in a lively state against the broker (three
  workers, tasks in every state), saves a PNG of the whole window and exits 0;
- ``--self-test``: run ``desktop.self_test.run_self_test(args)``;
- ``--local-broker``: start Kanin's own RabbitMQ node (data in the user's data
  folder) without asking, and use it; it is stopped on quit, its tasks stay;
- ``-v``: log details.

The window itself is made by ``desktop.bootstrap.create_window(args)``
(re-exported here), which the self-test and the screenshot use too; this
module imports them, they never import it.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
from collections.abc import Sequence
from types import FrameType

from PySide6.QtCore import QTimer

from core.settings import ENV_VAR
from desktop.bootstrap import application, create_window
from desktop.main_window import MainWindow
from desktop.offline_check import run_offline_check
from desktop.screenshot import take_screenshot
from desktop.self_test import run_self_test

__all__ = ["build_parser", "create_window", "main"]

log = logging.getLogger(__name__)


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


def main(argv: Sequence[str] | None = None) -> int:
    """Open the window (or take a screenshot, or run the self-test); returns the exit code."""
    args = build_parser().parse_args(list(sys.argv[1:] if argv is None else argv))
    if args.self_test and args.offline:
        return run_offline_check(args)
    if args.self_test:
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
