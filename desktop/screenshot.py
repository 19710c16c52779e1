"""``kanin --screenshot PATH``: the window in a lively state against the broker, saved as a PNG.

It works on a fresh queue ``kanin-screenshot-<random>`` (unless ``--queue``
is given) and deletes it afterwards, on throw-away settings, so the user's
queues and remembered settings stay as they were.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import uuid
from pathlib import Path

from PySide6.QtCore import QSettings

from core.errors import describe
from core.events import WorkerState
from desktop.bootstrap import application, create_window
from desktop.event_loop import spin_for, spin_until
from desktop.preferences import AppSettings
from desktop.task_model import TaskState

log = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_FAILED = 1
QUEUE_PREFIX = "kanin-screenshot"


def take_screenshot(args: argparse.Namespace) -> int:
    """Open the window, run tasks in every state through it, save a PNG of the whole window.

    Args:
        args: the window's parsed command line (``screenshot`` is the PNG's path).

    Returns:
        0 when the PNG was written, 1 when the broker failed or the file could not be written.
    """
    path = Path(args.screenshot)
    own_queue = not args.queue
    if own_queue:
        args = argparse.Namespace(
            **{**vars(args), "queue": f"{QUEUE_PREFIX}-{uuid.uuid4().hex[:8]}"}
        )
    app = application()
    window = create_window(args, qsettings=_scratch_settings())
    controller = window.controller
    window.resize(1440, 900)
    window.show()
    try:
        if not spin_until(lambda: controller.connection_state == "connected", 15):
            print(f"kanin: {controller.connection_message}", file=sys.stderr)
            return EXIT_FAILED
        controller.enqueue(["Hello World."] + [f"Quick task {i}" for i in range(1, 6)])
        controller.add_workers(3)
        controller.enqueue_mixed(24, 0, 1)
        spin_until(lambda: controller.model.counts()[TaskState.DONE] >= 26, 20)
        controller.enqueue([f"Report {i} ...." for i in range(1, 4)])
        controller.enqueue([f"Resize image {i} ..." for i in range(1, 7)])
        spin_until(lambda: sum(s.state is WorkerState.BUSY for s in controller.statuses) >= 3, 10)
        spin_until(lambda: all(s.progress > 0.3 for s in controller.statuses if s.task_id), 5)
        victim = next(s.name for s in controller.statuses if s.state is WorkerState.BUSY)
        window.workers_panel.select(victim)
        controller.kill_worker(victim)
        spin_until(lambda: any(r for r in controller.statuses if r.state is WorkerState.KILLED), 5)
        controller.add_workers(1)
        spin_until(lambda: sum(s.state is WorkerState.BUSY for s in controller.statuses) >= 3, 10)
        spin_until(lambda: bool(window.queue_panel.chart.points()), 5)
        spin_for(1.5)  # a little more progress on the bars and the chart
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
            _delete_queue(controller.settings, args.queue)
        Path(window.store.qsettings.fileName()).unlink(missing_ok=True)


def _scratch_settings() -> QSettings:
    """Settings that the screenshot must not change: a throw-away INI file."""
    folder = Path(os.environ.get("TMPDIR", "/tmp"))
    return QSettings(
        str(folder / f"kanin-screenshot-{os.getpid()}.ini"), QSettings.Format.IniFormat
    )


def _delete_queue(settings: AppSettings, queue: str) -> None:
    import pika

    try:
        connection = pika.BlockingConnection(settings.connection().pika_parameters())
        try:
            connection.channel().queue_delete(queue=queue)
        finally:
            if connection.is_open:
                connection.close()
    except Exception as exc:  # noqa: BLE001 - a left-over scratch queue is only untidy
        log.warning("Could not delete the screenshot queue %s: %s", queue, describe(exc))
