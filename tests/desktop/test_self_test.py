"""``kanin --self-test`` from source, as a separate process, against the real broker."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pika.exceptions as pe
import pytest
from PySide6.QtGui import QImage

from tests.helpers.broker import connect, message_count

ROOT = Path(__file__).resolve().parents[2]


def self_test(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run ``kanin --self-test`` (offscreen) with its log in ``tmp_path``."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("KANIN_URL", "QT_QPA_PLATFORM", "DISPLAY", "WAYLAND_DISPLAY")
    }
    env["KANIN_LOG_DIR"] = str(tmp_path)
    return subprocess.run(
        [sys.executable, "-m", "desktop.launcher", "--self-test", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=90,
        check=False,
    )


def queue_exists(name: str) -> bool:
    connection = connect()
    try:
        connection.channel().queue_declare(queue=name, passive=True)
        return True
    except pe.ChannelClosedByBroker as exc:
        if exc.reply_code != 404:
            raise
        return False
    finally:
        if connection.is_open:
            connection.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_self_test_passes_and_writes_a_screenshot(tmp_path: Path, broker_url: str) -> None:
    result = self_test(tmp_path, "--url", broker_url)
    assert result.returncode == 0, result.stderr
    assert "kanin self-test passed" in result.stdout
    screenshot = tmp_path / "kanin-self-test.png"
    image = QImage(str(screenshot))
    assert not image.isNull()
    assert image.width() >= 640
    assert image.height() >= 400
    log = (tmp_path / "kanin.log").read_text(encoding="utf-8")
    assert "Self-test passed" in log
    assert "platform offscreen" in log
    created = re.search(r"queue (kanin-self-test-[0-9a-f]+) \(created for the test\)", log)
    assert created is not None
    assert not queue_exists(created.group(1)), "the self-test left its queue behind"


def test_self_test_keeps_a_queue_it_was_given(tmp_path: Path, queue_name: str) -> None:
    result = self_test(tmp_path, "--queue", queue_name)  # default URL: the local broker
    assert result.returncode == 0, result.stderr
    assert queue_exists(queue_name)
    assert message_count(queue_name) == 0


def test_self_test_reports_a_wrong_port(tmp_path: Path) -> None:
    port = free_port()
    result = self_test(tmp_path, "--url", f"amqp://guest:guest@127.0.0.1:{port}/%2F")
    assert result.returncode == 1
    reason = f"Nothing answers at 127.0.0.1:{port} (connection refused)"
    assert f"kanin self-test failed: {reason}" in result.stderr
    assert "Traceback" not in result.stderr
    assert reason in (tmp_path / "kanin.log").read_text(encoding="utf-8")
    assert not (tmp_path / "kanin-self-test.png").exists()


@pytest.mark.broker  # the broker itself refuses the login
def test_self_test_reports_a_refused_login_without_the_password(tmp_path: Path) -> None:
    password = "Wrong-Pw-8086"
    result = self_test(tmp_path, "--url", f"amqp://guest:{password}@localhost:5672/%2F")
    assert result.returncode == 1
    assert "refused the login for user 'guest'" in result.stderr
    log = (tmp_path / "kanin.log").read_text(encoding="utf-8")
    assert "refused the login" in log
    for text in (result.stdout, result.stderr, log):
        assert password not in text


def test_self_test_rejects_a_malformed_url(tmp_path: Path) -> None:
    result = self_test(tmp_path, "--url", "localhost:5672")
    assert result.returncode == 2
    assert "must start with amqp://" in result.stderr


def test_self_test_reads_the_url_from_the_environment(tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "KANIN_URL": f"amqp://guest:guest@127.0.0.1:{port}/%2F"}
    env["KANIN_LOG_DIR"] = str(tmp_path)
    env.pop("QT_QPA_PLATFORM", None)
    result = subprocess.run(
        [sys.executable, "-m", "desktop.launcher", "--self-test"],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=90,
        check=False,
    )
    assert result.returncode == 1
    assert f"127.0.0.1:{port}" in result.stderr
