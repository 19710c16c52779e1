"""``kanin --self-test --offline`` from source, as a separate process, with no broker used."""

from __future__ import annotations

import subprocess
from pathlib import Path

from PySide6.QtGui import QImage

from tests.desktop.test_self_test import self_test

ROOT = Path(__file__).resolve().parents[2]


def offline_check(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run ``kanin --self-test --offline`` with its log in ``tmp_path`` and no display."""
    return self_test(tmp_path, "--offline", *args)


def test_offline_self_test_shows_the_window_and_exits_0(tmp_path: Path) -> None:
    shot = tmp_path / "window.png"
    result = offline_check(tmp_path, "--screenshot", str(shot))
    assert result.returncode == 0, result.stderr
    assert "kanin offline self-test passed" in result.stdout
    assert "platform offscreen" in result.stdout  # chose offscreen by itself: no display here
    image = QImage(str(shot))
    assert not image.isNull()
    assert image.width() >= 400
    assert image.height() >= 300
    log_text = (tmp_path / "kanin.log").read_text(encoding="utf-8")
    assert "Offline self-test passed" in log_text
    assert "Closing: workers stop" in log_text  # the window was really closed


def test_offline_self_test_fails_with_a_reason_when_it_cannot_finish(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the screenshot's folder should be", encoding="utf-8")
    result = offline_check(tmp_path, "--screenshot", str(blocker / "window.png"))
    assert result.returncode == 1
    assert "kanin offline self-test failed" in result.stderr
    assert "passed" not in result.stdout
    assert "Offline self-test FAILED" in (tmp_path / "kanin.log").read_text(encoding="utf-8")
