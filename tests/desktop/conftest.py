"""Fixtures for the window's tests: a temporary QSettings, an in-memory keyring, fast work."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings
from pytestqt.qtbot import QtBot

from core.tasks import Delivery
from core.work import Work
from desktop.app import create_window
from desktop.local_node import LocalNode
from desktop.main_window import MainWindow
from desktop.preferences import MemorySecrets
from desktop.quit_question import AskPending, PendingChoice

SECONDS_PER_DOT = 0.2
WindowFactory = Callable[..., MainWindow]


def quit_anyway(count: int) -> PendingChoice:
    """The tests' default answer to the quit question: never a modal dialog."""
    return PendingChoice.QUIT_ANYWAY


def fast_work(delivery: Delivery) -> float:
    """The tutorial's work, five times faster: 0.2 s per dot."""
    return delivery.body.count(b".") * SECONDS_PER_DOT


@pytest.fixture
def settings_file(tmp_path: Path) -> Path:
    return tmp_path / "kanin.ini"


@pytest.fixture
def qsettings(settings_file: Path) -> QSettings:
    """Settings on a temporary INI file: the user's real settings are never touched."""
    return QSettings(str(settings_file), QSettings.Format.IniFormat)


@pytest.fixture
def secrets() -> MemorySecrets:
    return MemorySecrets()


@pytest.fixture
def make_window(
    qtbot: QtBot, qsettings: QSettings, secrets: MemorySecrets, broker_url: str, queue_name: str
) -> Iterator[WindowFactory]:
    """Builds shown windows on the test's queue; closes them (threads stopped) afterwards."""
    windows: list[MainWindow] = []

    def factory(
        *,
        url: str | None = broker_url,
        queue: str | None = queue_name,
        settings: QSettings | None = None,
        local_node: LocalNode | None = None,
        local_broker: bool = False,
        ask_pending: AskPending = quit_anyway,
        work: Work = fast_work,
    ) -> MainWindow:
        args = argparse.Namespace(
            url=[url] if url else None, queue=queue, local_broker=local_broker
        )
        window = create_window(
            args,
            qsettings=settings or qsettings,
            secrets=secrets,
            work=work,
            environ={},
            management_port=None,
            local_node=local_node,
            ask_pending=ask_pending,
        )
        windows.append(window)
        qtbot.addWidget(window)
        window.show()
        qtbot.waitExposed(window)
        return window

    yield factory
    for window in windows:
        window.close()
