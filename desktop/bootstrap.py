"""Making Kanin's application and window: the ``QApplication``, the icon, ``create_window(args)``.

``desktop.app`` (the command line), ``desktop.self_test`` and
``desktop.screenshot`` all build the window here, so none of them imports
another. ``create_window(args)`` builds the controller and the window
without showing it; callers drive it through ``window.controller``.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import QSettings
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from core.settings import SettingsError, UrlSource, choose_urls
from core.work import Work, poison_work
from desktop.controller import Controller, freeze_long_lived
from desktop.keeping import open_store
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

log = logging.getLogger(__name__)

ORGANIZATION = "Kanin"
APPLICATION = "Kanin"


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


def initial_settings(
    args: argparse.Namespace, store: SettingsStore, environ: Mapping[str, str] | None = None
) -> tuple[AppSettings, str]:
    """The settings to start with, by ``core.settings.choose_urls``' precedence.

    ``--url``, else ``KANIN_URL``, replaces the broker and credentials of the
    remembered settings (else the defaults); ``--queue`` replaces the queue.

    Args:
        args: the parsed command line.
        store: the remembered settings.
        environ: the environment (default ``os.environ``).

    Returns:
        The settings and a problem to show ("" when none).
    """
    settings = store.load()
    problem = ""
    chosen = choose_urls(getattr(args, "url", None), environ=environ, saved=store.saved_urls())
    log.debug("Broker URL(s) from %s.", chosen.source.value)
    if chosen.source in (UrlSource.COMMAND_LINE, UrlSource.ENVIRONMENT):
        try:
            settings = from_urls(list(chosen.urls), settings)
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
    environ: Mapping[str, str] | None = None,
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
        settings,
        work=work,
        management_port=management_port,
        initial_error=problem,
        ledger_store=open_store(),  # $KANIN_DATA_DIR, else the user's data folder
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
    # A local-broker session is remembered as that choice, never as the node's port.
    remembered = store.local_broker_chosen() and choose_urls(
        getattr(args, "url", None), environ=environ, saved=store.saved_urls()
    ).source in (UrlSource.SAVED, UrlSource.DEFAULT)
    if (getattr(args, "local_broker", False) or remembered) and window.start_local_broker():
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
