"""Consume through the window: the offscreen main window with every signal connected.

The window comes from ``desktop.app.create_window`` (as ``kanin`` makes it),
shown on the offscreen platform, its controller started. For each drain the
benchmark calls ``controller.add_workers(n)`` on a pre-filled queue and counts
the tasks of ``controller.tasks_finished`` (one signal per GUI tick) in the GUI
thread; the clock stops when the last one is shown. Meanwhile a 10 ms
``QTimer`` (precise) records how late each tick fires: the GUI event loop's
lateness.
"""

from __future__ import annotations

import argparse
import importlib
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import common
from core.topology import QueueType

TICK_MS = 10

NOTES = [
    "The window is `desktop.app.create_window(args)` with the bench queue, shown offscreen "
    "(QT_QPA_PLATFORM=offscreen), its controller running with every signal connected to "
    "the widgets (task table, worker cards, queue panel, log view). Workers are added with "
    "`controller.add_workers(n)`; the clock stops at the `tasks_finished` signal (one per "
    "GUI tick, with the ids of the tasks acknowledged since the last) that brings the count "
    "to the total, in the GUI thread (the controller delivers events in ~33 ms batches, so "
    "up to one tick is included).",
    f"Event-loop lateness: a precise {TICK_MS} ms QTimer in the GUI thread, lateness = "
    f"interval actually observed minus {TICK_MS} ms, over every GUI drain of the run.",
]


def available() -> str | None:
    """None when the window can be benchmarked, else why not."""
    return common.desktop_missing("create_window")


def _task_state(name: str) -> Any:
    model: Any = importlib.import_module("desktop.task_model")
    return getattr(model.TaskState, name)


def window_args(queue: str, url: str = common.URL) -> argparse.Namespace:
    """The window's command line for the bench queue, parsed by the app's own parser."""
    module: Any = importlib.import_module("desktop.app")
    parsed: argparse.Namespace = module.build_parser().parse_args(["--url", url, "--queue", queue])
    return parsed


def create_window(queue: str, queue_type: QueueType, folder: Path, url: str = common.URL) -> Any:
    """``desktop.app.create_window`` on scratch settings that say the queue's type.

    The user's remembered settings and keyring are not read nor changed.
    """
    from PySide6.QtCore import QSettings

    module: Any = importlib.import_module("desktop.app")
    preferences: Any = importlib.import_module("desktop.preferences")
    scratch = QSettings(str(folder / f"{queue}.ini"), QSettings.Format.IniFormat)
    scratch.setValue("queue/type", queue_type.value)
    scratch.sync()
    return module.create_window(
        window_args(queue, url), qsettings=scratch, secrets=preferences.MemorySecrets()
    )


class GuiDrain:
    """One offscreen window per queue, reused for every drain of that queue."""

    def __init__(self) -> None:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        from PySide6.QtWidgets import QApplication

        app = QApplication.instance()
        self.app = app if isinstance(app, QApplication) else QApplication(["kanin-bench"])
        self._queue: str | None = None
        self._window: Any = None
        self._folder = Path(tempfile.mkdtemp(prefix="kanin-bench-gui-"))
        self.last_gui_cpu = 0.0
        self.last_enqueue_call = 0.0

    def _window_for(self, queue: str, queue_type: QueueType) -> Any:
        from PySide6.QtCore import QEventLoop

        if self._queue == queue:
            return self._window
        self.close()
        window = create_window(queue, queue_type, self._folder)
        window.show()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            handle = window.windowHandle()
            if window.isVisible() and handle is not None and handle.isExposed():
                break
            self.app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
        controller = window.controller
        connected = time.monotonic() + 15
        while controller.connection_state != "connected" and time.monotonic() < connected:
            self._pump(0.05)
        self._pump(0.3)
        self._window, self._queue = window, queue
        return window

    def _pump(self, seconds: float) -> None:
        from PySide6.QtCore import QEventLoop

        end = time.monotonic() + seconds
        while time.monotonic() < end:
            self.app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 20)

    def drain(
        self, queue: str, queue_type: QueueType, workers: int, total: int
    ) -> tuple[float, list[float]]:
        """Drain ``total`` pre-filled tasks with ``workers`` workers through the window.

        Returns:
            Messages per second, and the timer lateness samples in milliseconds.
        """
        from PySide6.QtCore import QEventLoop, QObject, Qt, QTimer, Slot

        window = self._window_for(queue, queue_type)
        controller = window.controller
        loop = QEventLoop()

        class Counter(QObject):
            def __init__(self) -> None:
                super().__init__()
                self.count = 0
                self.ended = 0.0
                self.last_tick = 0.0
                self.lateness: list[float] = []
                self.timed_out = False

            @Slot(object)
            def on_tasks_finished(self, task_ids: list[str]) -> None:
                self.count += len(task_ids)
                if self.count >= total and not self.ended:
                    self.ended = time.perf_counter()
                    loop.quit()

            @Slot()
            def on_tick(self) -> None:
                now = time.perf_counter()
                if self.last_tick:
                    self.lateness.append(max(0.0, (now - self.last_tick) * 1000 - TICK_MS))
                self.last_tick = now

            @Slot()
            def on_timeout(self) -> None:
                self.timed_out = True
                loop.quit()

        counter = Counter()
        controller.tasks_finished.connect(counter.on_tasks_finished)
        ticker = QTimer()
        ticker.setTimerType(Qt.TimerType.PreciseTimer)
        ticker.setInterval(TICK_MS)
        ticker.timeout.connect(counter.on_tick)
        guard = QTimer()
        guard.setSingleShot(True)
        guard.timeout.connect(counter.on_timeout)
        try:
            ticker.start()
            guard.start(300_000)
            counter.last_tick = time.perf_counter()
            gui_cpu = time.thread_time()
            started = time.perf_counter()
            controller.add_workers(workers)
            if counter.count < total:
                loop.exec()
            ticker.stop()
            guard.stop()
            if counter.timed_out:
                raise TimeoutError(f"the window finished {counter.count} of {total} tasks")
            rate = total / (counter.ended - started)
            self.last_gui_cpu = time.thread_time() - gui_cpu
        finally:
            ticker.stop()
            controller.tasks_finished.disconnect(counter.on_tasks_finished)
            self._stop_workers(controller)
        return rate, counter.lateness

    def enqueue(self, queue: str, queue_type: QueueType, total: int) -> tuple[float, list[float]]:
        """Enqueue ``total`` tasks through ``controller.enqueue`` and wait for every confirm.

        Returns:
            Confirmed tasks per second (from the call to the last confirm shown), and
            the timer lateness samples in milliseconds (the call itself included).
        """
        from PySide6.QtCore import Qt, QTimer

        window = self._window_for(queue, queue_type)
        controller = window.controller
        model = controller.model
        queued = _task_state("QUEUED")
        texts = [f"task-{i}" for i in range(total)]
        lateness: list[float] = []
        last = [time.perf_counter()]

        def on_tick() -> None:
            now = time.perf_counter()
            lateness.append(max(0.0, (now - last[0]) * 1000 - TICK_MS))
            last[0] = now

        ticker = QTimer()
        ticker.setTimerType(Qt.TimerType.PreciseTimer)
        ticker.setInterval(TICK_MS)
        ticker.timeout.connect(on_tick)
        ticker.start()
        last[0] = time.perf_counter()
        started = time.perf_counter()
        try:

            def call() -> None:
                began = time.perf_counter()
                controller.enqueue(texts)
                self.last_enqueue_call = time.perf_counter() - began

            QTimer.singleShot(0, call)
            deadline = time.monotonic() + 300
            while model.counts().get(queued, 0) < total:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{model.counts().get(queued, 0)} of {total} confirmed")
                self._pump(0.005)
            ended = time.perf_counter()
        finally:
            ticker.stop()
        return total / (ended - started), lateness

    def _stop_workers(self, controller: Any) -> None:
        for name in controller.worker_names(alive_only=True):
            controller.stop_worker(name)
        deadline = time.monotonic() + 30
        while controller.worker_names(alive_only=True) and time.monotonic() < deadline:
            self._pump(0.02)
        controller.remove_finished_workers()
        controller.model.clear_finished()  # like Ctrl+L between runs: each run starts alike
        self._pump(0.1)

    def close(self) -> None:
        """Shut the current window down (its workers stop, its producer closes)."""
        if self._window is None:
            return
        window, self._window, self._queue = self._window, None, None
        window.controller.shutdown(10.0)
        window.close()
        window.deleteLater()
        self._pump(0.2)
        shutil.rmtree(self._folder, ignore_errors=True)
        self._folder = Path(tempfile.mkdtemp(prefix="kanin-bench-gui-"))
