"""The window's command line, the About dialog and ``kanin --screenshot``."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

from PySide6.QtCore import QSettings
from PySide6.QtGui import QImage
from pytestqt.qtbot import QtBot

from desktop.app import build_parser
from desktop.bootstrap import initial_settings
from desktop.controller import ConnectionState
from desktop.preferences import MemorySecrets, SettingsStore
from tests.desktop.conftest import WindowFactory


def test_gui_options_are_parsed() -> None:
    args = build_parser().parse_args(
        [
            "--url",
            "amqp://a@h1",
            "--url",
            "amqp://a@h2",
            "--queue",
            "q",
            "-v",
            "--screenshot",
            "s.png",
        ]
    )
    assert args.url == ["amqp://a@h1", "amqp://a@h2"]
    assert args.queue == "q"
    assert args.verbose
    assert args.screenshot == "s.png"
    assert not args.self_test


def test_command_line_url_overrides_remembered_settings_without_storing_its_password(
    qsettings: QSettings,
) -> None:
    store = SettingsStore(qsettings, MemorySecrets())
    args = argparse.Namespace(url=["amqp://alice:pw@rabbit:5673/work"], queue="jobs")
    settings, problem = initial_settings(args, store, environ={})
    assert problem == ""
    assert settings.urls == ("amqp://rabbit:5673/work",)
    assert (settings.username, settings.password, settings.queue) == ("alice", "pw", "jobs")
    assert settings.redacted == "amqp://alice:***@rabbit:5673/work"
    env_settings, _ = initial_settings(
        argparse.Namespace(url=None, queue=None), store, environ={"KANIN_URL": "amqp://b:c@x"}
    )
    assert env_settings.username == "b"
    _bad, problem = initial_settings(argparse.Namespace(url=["http://x"], queue=None), store, {})
    assert "amqp://" in problem


def test_a_bad_command_line_url_is_shown_in_the_window(
    qtbot: QtBot, make_window: WindowFactory
) -> None:
    window = make_window(url="amqp://guest:guest@localhost:0/%2F")
    assert window.controller.connection_state == ConnectionState.FAILED
    assert "port 0" in window.banner.label.text()


def test_about_names_kanin_qt_pika_and_the_broker(qtbot: QtBot, make_window: WindowFactory) -> None:
    window = make_window()
    with qtbot.waitSignal(window.controller.broker_identified, timeout=15_000):
        pass
    text = window.about_text()
    assert "Kanin" in text
    assert "Qt" in text
    assert "pika" in text
    assert "RabbitMQ 3." in text
    box = window.about_box()
    box.open()
    qtbot.waitUntil(box.isVisible)
    box.close()


def test_screenshot_writes_a_png_of_the_whole_window(tmp_path: Path, broker_url: str) -> None:
    path = tmp_path / "shot.png"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", TMPDIR=str(tmp_path))
    env.pop("KANIN_URL", None)
    result = subprocess.run(
        [sys.executable, "-m", "desktop.launcher", "--screenshot", str(path), "--url", broker_url],
        env=env,
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    image = QImage(str(path))
    assert not image.isNull()
    assert image.width() >= 1200
    assert image.height() >= 750
