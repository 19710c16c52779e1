"""The window's menu bar: its menus, actions and shortcuts (the window connects each action)."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMainWindow, QMenu

from desktop.task_model import TaskState


@dataclass(frozen=True)
class WindowActions:
    """The menu bar's actions, one per command.

    Attributes:
        show: the task table's filters, "All tasks" first; each one's ``data()``
            is a ``TaskState`` (``None`` for all).
    """

    settings: QAction
    quit: QAction
    start_local: QAction
    restart_broker: QAction
    enqueue: QAction
    mixed: QAction
    clear_tasks: QAction
    purge_queue: QAction
    show: tuple[QAction, ...]
    add_worker: QAction
    kill_worker: QAction
    stop_worker: QAction
    clear_workers: QAction
    zoom_in: QAction
    zoom_out: QAction
    zoom_reset: QAction
    about: QAction


def make_menus(window: QMainWindow) -> WindowActions:
    """Fill the window's menu bar; the shortcuts work anywhere in the window.

    Args:
        window: the main window.

    Returns:
        The actions, not connected yet.
    """
    bar = window.menuBar()

    def add(
        menu: QMenu, text: str, shortcut: str | QKeySequence.StandardKey, *more: str
    ) -> QAction:
        action = QAction(text, window)
        action.setShortcuts([QKeySequence(shortcut), *(QKeySequence(key) for key in more)])
        action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        window.addAction(action)
        menu.addAction(action)
        return action

    file_menu = bar.addMenu("&File")
    settings = add(file_menu, "&Settings…", "Ctrl+,")
    file_menu.addSeparator()
    quit_action = add(file_menu, "&Quit", QKeySequence.StandardKey.Quit)

    broker_menu = bar.addMenu("&Broker")
    start_local = add(broker_menu, "Start &local broker", "Ctrl+Shift+B")
    restart_broker = add(broker_menu, "&Restart broker", "Ctrl+Shift+R")

    tasks_menu = bar.addMenu("&Tasks")
    enqueue = add(tasks_menu, "&Enqueue", "Ctrl+Return")
    mixed = add(tasks_menu, "Enqueue &mixed batch", "Ctrl+Shift+Return")
    tasks_menu.addSeparator()
    clear_tasks = add(tasks_menu, "&Clear finished tasks", "Ctrl+L")
    purge_queue = add(tasks_menu, "&Purge the queue…", "Ctrl+Shift+Del")
    show_menu = tasks_menu.addMenu("&Show")
    show: list[QAction] = []
    for number, state in enumerate([None, *TaskState], start=0):
        action = QAction("&All tasks" if state is None else state.value.capitalize(), window)
        if number <= 9:
            action.setShortcut(QKeySequence(f"Alt+{number}"))
        action.setData(state)
        show_menu.addAction(action)
        show.append(action)

    workers_menu = bar.addMenu("&Workers")
    add_worker = add(workers_menu, "&Add worker", "Ctrl+N")
    kill_worker = add(workers_menu, "&Kill selected worker", "Ctrl+K")
    stop_worker = add(workers_menu, "&Stop selected worker", "Ctrl+T")
    clear_workers = add(workers_menu, "&Clear stopped workers", "Ctrl+Shift+L")

    view_menu = bar.addMenu("&View")
    # Ctrl+= too: on most keyboards "+" needs Shift, and Ctrl+Shift+= is what arrives.
    zoom_in = add(view_menu, "Zoom &in", "Ctrl++", "Ctrl+=", "Ctrl+Shift+=")
    zoom_out = add(view_menu, "Zoom &out", "Ctrl+-")
    zoom_reset = add(view_menu, "&Actual size", "Ctrl+0")

    help_menu = bar.addMenu("&Help")
    about = add(help_menu, "&About Kanin", "F1")
    return WindowActions(
        settings=settings,
        quit=quit_action,
        start_local=start_local,
        restart_broker=restart_broker,
        enqueue=enqueue,
        mixed=mixed,
        clear_tasks=clear_tasks,
        purge_queue=purge_queue,
        show=tuple(show),
        add_worker=add_worker,
        kill_worker=kill_worker,
        stop_worker=stop_worker,
        clear_workers=clear_workers,
        zoom_in=zoom_in,
        zoom_out=zoom_out,
        zoom_reset=zoom_reset,
        about=about,
    )
