"""The log file: where it goes, missing console streams, redaction, the crash hook."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from desktop import logs

ROOT = Path(__file__).resolve().parents[2]
SECRETS = ("Pw-in-url-9431", "pw-key-value-77", "Registered-Secret-5150", "exc-pw-2468")


@pytest.fixture
def log_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Logging set up into a temporary folder, undone afterwards."""
    monkeypatch.setenv(logs.LOG_DIR_ENV, str(tmp_path))
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)
    monkeypatch.setattr(threading, "excepthook", threading.excepthook)
    root = logging.getLogger()
    level = root.level
    yield tmp_path
    logs.teardown_logging()
    root.setLevel(level)


def run_python(code: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, logs.LOG_DIR_ENV: str(tmp_path), "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=60,
        check=False,
    )


def log_where(home: Path, **env: str) -> tuple[Path, bool]:
    """In a fresh interpreter with only ``HOME`` and ``env`` set: set up logging, log a line.

    Returns:
        The path ``setup_logging`` reported, and whether the line reached that file.
    """
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("XDG_") and k not in (logs.LOG_DIR_ENV, "HOME")
    }
    code = """
        import logging, sys
        from desktop.logs import setup_logging
        path = setup_logging()
        logging.getLogger("kanin.test").warning("line-for-the-default-file")
        logging.shutdown()
        print(path)
        """
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        env={**clean, "HOME": str(home), "PYTHONPATH": str(ROOT), **env},
        cwd=ROOT,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    path = Path(result.stdout.strip())
    written = path.is_file() and "line-for-the-default-file" in path.read_text(encoding="utf-8")
    return path, written


@pytest.mark.skipif(sys.platform != "linux", reason="the XDG base directories are Linux's")
def test_log_file_is_in_the_xdg_state_folder_by_default(tmp_path: Path) -> None:
    home = tmp_path / "home"
    # No XDG_STATE_HOME: the spec's default, $HOME/.local/state.
    path, written = log_where(home)
    assert path == home / ".local" / "state" / "kanin" / "log" / "kanin.log"
    assert written
    state = tmp_path / "state"
    path, written = log_where(home, XDG_STATE_HOME=str(state))
    assert path == state / "kanin" / "log" / "kanin.log"
    assert written


@pytest.mark.skipif(sys.platform != "darwin", reason="macOS's log folder")
def test_log_file_is_in_the_library_logs_folder_by_default(tmp_path: Path) -> None:
    path, written = log_where(tmp_path)
    assert path == tmp_path / "Library" / "Logs" / "kanin" / "kanin.log"
    assert written


def test_kanin_log_dir_overrides_the_default_folder(tmp_path: Path) -> None:
    home = tmp_path / "home"
    path, written = log_where(home, KANIN_LOG_DIR=str(tmp_path / "chosen"))
    assert path == tmp_path / "chosen" / "kanin.log"
    assert written
    path, written = log_where(home, KANIN_LOG_DIR="~/logs here ")
    assert path == home / "logs here" / "kanin.log"  # ~ expanded, outer spaces dropped
    assert written
    if sys.platform == "linux":  # a blank value is no choice: the default folder
        path, _ = log_where(home, KANIN_LOG_DIR="  ")
        assert path == home / ".local" / "state" / "kanin" / "log" / "kanin.log"


def test_setup_logging_writes_the_log_file(log_dir: Path) -> None:
    path = logs.setup_logging()
    assert path == log_dir / "kanin.log" == logs.log_path()
    assert logs.setup_logging() == path  # a second call changes nothing
    logging.getLogger("kanin.test").info("a line for the file")
    for handler in logging.getLogger().handlers:
        handler.flush()
    text = path.read_text(encoding="utf-8")
    assert "a line for the file" in text
    assert "Kanin started" in text


def test_no_password_reaches_the_log(log_dir: Path) -> None:
    path = logs.setup_logging()
    log = logging.getLogger("kanin.test")
    log.info("connecting to amqp://alice:%s@rabbit.example:5672/%%2F", SECRETS[0])
    log.warning("settings: user=alice password=%s", SECRETS[1])
    logs.register_secret(SECRETS[2])
    log.info("the user typed %s in the dialog", SECRETS[2])
    try:
        raise ConnectionError(f"cannot reach amqps://bob:{SECRETS[3]}@node1:5671/work")
    except ConnectionError:
        log.exception("connection failed")
    for handler in logging.getLogger().handlers:
        handler.flush()
    text = path.read_text(encoding="utf-8")
    for secret in SECRETS:
        assert secret not in text
    assert "amqp://alice:***@rabbit.example:5672" in text
    assert "amqps://bob:***@node1:5671/work" in text
    assert "password=***" in text
    assert "Traceback" in text


def test_missing_streams_without_descriptors_go_to_the_log(tmp_path: Path) -> None:
    # A windowed build on Windows: sys.stdout/stderr are None and fds 1 and 2 are not open.
    result = run_python(
        """
        import os, sys
        os.close(1)
        os.close(2)
        sys.stdout = None
        sys.stderr = None
        from desktop.logs import setup_logging
        path = setup_logging()
        print("hello from print")
        sys.stderr.write("a warning written to stderr\\n")
        raise RuntimeError("boom at amqp://u:Crash-pw-1357@h:5672/")
        """,
        tmp_path,
    )
    assert result.returncode == 1
    text = (tmp_path / "kanin.log").read_text(encoding="utf-8")
    assert "INFO    MainThread kanin.stdout: hello from print" in text
    assert "WARNING MainThread kanin.stderr: a warning written to stderr" in text
    assert "Uncaught exception" in text
    assert "RuntimeError: boom at amqp://u:***@h:5672/" in text
    assert "Crash-pw-1357" not in text


def test_output_before_logging_is_set_up_reaches_the_log(tmp_path: Path) -> None:
    # A windowed build on Windows given a bad option: argparse prints its usage
    # error before logging is set up, then exits.
    result = run_python(
        """
        import os, sys
        os.close(1)
        os.close(2)
        sys.stdout = None
        sys.stderr = None
        from desktop.launcher import main
        sys.exit(main(["--no-such-option"]))
        """,
        tmp_path,
    )
    assert result.returncode == 2
    text = (tmp_path / "kanin.log").read_text(encoding="utf-8")
    assert "kanin.stderr: usage: kanin" in text
    assert "unrecognized arguments: --no-such-option" in text


def test_missing_streams_with_descriptors_use_them(tmp_path: Path) -> None:
    # A windowed build started from a terminal: the descriptors are there, reuse them.
    result = run_python(
        """
        import logging, sys
        sys.stdout = None
        sys.stderr = None
        from desktop.logs import setup_logging
        setup_logging()
        print("to the terminal")
        logging.getLogger("kanin.test").error("an error for both")
        """,
        tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "to the terminal\n"
    assert "ERROR kanin.test: an error for both" in result.stderr
    assert "an error for both" in (tmp_path / "kanin.log").read_text(encoding="utf-8")


def test_a_crash_is_logged_and_shown_with_the_log_path(log_dir: Path, qtbot: QtBot) -> None:
    shown: list[tuple[str, Path]] = []
    path = logs.setup_logging()
    logs.install_excepthook(show_dialog=lambda summary, where: shown.append((summary, where)))
    error = ValueError(f"bad value from amqp://u:{SECRETS[0]}@h/")
    sys.excepthook(ValueError, error, error.__traceback__)
    assert shown == [("ValueError: bad value from amqp://u:***@h/", path)]
    for handler in logging.getLogger().handlers:
        handler.flush()
    text = path.read_text(encoding="utf-8")
    assert "CRITICAL" in text
    assert "Uncaught exception" in text
    assert SECRETS[0] not in text


def test_a_crash_in_a_thread_is_logged_without_a_dialog(log_dir: Path, qtbot: QtBot) -> None:
    shown: list[tuple[str, Path]] = []
    path = logs.setup_logging()
    logs.install_excepthook(show_dialog=lambda summary, where: shown.append((summary, where)))

    def fail() -> None:
        raise OSError("disk gone")

    thread = threading.Thread(target=fail, name="kanin-test-crash")
    thread.start()
    thread.join(timeout=10)
    assert shown == []
    for handler in logging.getLogger().handlers:
        handler.flush()
    text = path.read_text(encoding="utf-8")
    assert "Uncaught exception in thread kanin-test-crash" in text
    assert "OSError: disk gone" in text


def test_redact_leaves_ordinary_text_alone() -> None:
    text = "Worker W-1 finished 'Hello...' in 3.0 s; check the user name and password."
    assert logs.redact(text) == text


def test_the_terminal_gets_errors_only_unless_verbose(tmp_path: Path, capsys) -> None:
    """The window's warnings go to its log panel and file; the terminal stays quiet."""
    logs.teardown_logging()
    try:
        logs.setup_logging(log_file=tmp_path / "quiet.log")
        logging.getLogger("desktop.terminal_test").warning("a warning for the file only")
        logging.getLogger("desktop.terminal_test").error("an error for both")
    finally:
        logs.teardown_logging()
    err = capsys.readouterr().err
    assert "an error for both" in err
    assert "a warning for the file only" not in err
    written = (tmp_path / "quiet.log").read_text(encoding="utf-8")
    assert "a warning for the file only" in written
    assert "an error for both" in written
