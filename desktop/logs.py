"""Logging for the window: a rotating file in the user's log folder, crashes shown with its path.

A windowed frozen build (PyInstaller, ``console=False``) starts with
``sys.stdout`` and ``sys.stderr`` set to ``None``: the first ``print`` or
logging call to the console would raise. ``guard_streams`` replaces them,
before anything prints, with the process's own descriptors when they are open
(a binary started from a terminal still reports there) and otherwise with
writers that feed the log file.

Every record is written through ``RedactingFormatter``, which hides the
password of any AMQP URL, ``password=...`` pairs, and any secret registered
with ``register_secret``: no password reaches the log file or the console.

This module imports no Qt at load time; the crash dialog imports QtWidgets only
when a ``QApplication`` already exists.
"""

from __future__ import annotations

import atexit
import io
import logging
import logging.handlers
import os
import re
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any, TextIO

import platformdirs

APP_NAME = "kanin"
LOG_FILE_NAME = "kanin.log"
LOG_DIR_ENV = "KANIN_LOG_DIR"
MAX_BYTES = 1_000_000
BACKUP_COUNT = 3
FILE_FORMAT = "%(asctime)s %(levelname)-7s %(threadName)s %(name)s: %(message)s"
CONSOLE_FORMAT = "%(levelname)s %(name)s: %(message)s"

log = logging.getLogger(__name__)

_URL_PASSWORD = re.compile(r"(?i)(amqps?://[^:/@\s]*:)[^@\s]*@")
_KEY_PASSWORD = re.compile(r"(?i)\b(pass(?:word|wd)?\s*[=:]\s*['\"]?)[^\s'\",&]+")
_secrets: set[str] = set()
_secrets_lock = threading.Lock()
_configured_path: Path | None = None
_configure_lock = threading.Lock()
_in_crash_dialog = False


def default_log_dir() -> Path:
    r"""The folder for Kanin's log: ``$KANIN_LOG_DIR`` if set, else the platform's user log folder.

    Returns:
        e.g. ``~/.local/state/kanin/log`` on Linux, ``~/Library/Logs/kanin`` on macOS,
        ``%LOCALAPPDATA%\kanin\Logs`` on Windows.
    """
    override = os.environ.get(LOG_DIR_ENV, "").strip()
    if override:
        return Path(override).expanduser()
    return Path(platformdirs.user_log_dir(APP_NAME, appauthor=False))


def log_path() -> Path:
    """The log file in use, or the one ``setup_logging`` would use.

    Returns:
        The path of ``kanin.log``.
    """
    return _configured_path or default_log_dir() / LOG_FILE_NAME


def register_secret(secret: str) -> None:
    """Hide this exact text in every log record from now on.

    Args:
        secret: e.g. a password typed in the window. Texts shorter than 3
            characters are ignored (hiding them would garble ordinary words).
    """
    if len(secret) >= 3:
        with _secrets_lock:
            _secrets.add(secret)


def redact(text: str) -> str:
    """Hide passwords in a text.

    Args:
        text: a log line, message or traceback.

    Returns:
        The text with URL passwords, ``password=`` values and registered secrets
        replaced by ``***``.
    """
    text = _URL_PASSWORD.sub(r"\1***@", text)
    text = _KEY_PASSWORD.sub(r"\1***", text)
    with _secrets_lock:
        secrets = sorted(_secrets, key=len, reverse=True)
    for secret in secrets:
        text = text.replace(secret, "***")
    return text


class RedactingFormatter(logging.Formatter):
    """A formatter whose output, traceback included, never holds a password."""

    def format(self, record: logging.LogRecord) -> str:
        """Format the record, then hide passwords in the whole text."""
        return redact(super().format(record))


class _LogWriter(io.TextIOBase):
    """A text stream that turns each written line into a log record.

    Stands in for a missing ``sys.stdout``/``sys.stderr`` so that prints and
    tracebacks written there end up in the log file. Lines written before
    ``setup_logging`` ran are kept (at most ``_EARLY_LIMIT``) and logged once it
    has; if it never runs, an exit hook sets it up to write them. A line that
    logging itself writes back here (its last-resort handler) is dropped
    instead of looping.
    """

    def __init__(self, logger: logging.Logger, level: int) -> None:
        super().__init__()
        self._logger = logger
        self._level = level
        self._buffer = ""
        self._lock = threading.Lock()
        self._local = threading.local()

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        with self._lock:
            self._buffer += text
            *lines, self._buffer = self._buffer.split("\n")
        for line in lines:
            self._emit(line)
        return len(text)

    def flush(self) -> None:
        with self._lock:
            rest, self._buffer = self._buffer, ""
        self._emit(rest)

    def _emit(self, line: str) -> None:
        if not line.strip() or getattr(self._local, "busy", False):
            return
        if _configured_path is None:
            with _early_lock:
                if len(_early_lines) < _EARLY_LIMIT:
                    _early_lines.append((self._logger, self._level, line.rstrip()))
            return
        self._local.busy = True
        try:
            self._logger.log(self._level, "%s", line.rstrip())
        finally:
            self._local.busy = False


_EARLY_LIMIT = 1000
_early_lines: list[tuple[logging.Logger, int, str]] = []
_early_lock = threading.Lock()


def _replay_early_lines() -> None:
    with _early_lock:
        lines = list(_early_lines)
        _early_lines.clear()
    for logger, level, line in lines:
        logger.log(level, "%s", line)


def _setup_at_exit() -> None:
    """Exit hook: write lines printed before logging was set up (e.g. a usage error)."""
    if _early_lines and _configured_path is None:
        setup_logging()


def _reopen_descriptor(fd: int) -> TextIO | None:
    """A text stream on an open descriptor, or None when the descriptor is not usable."""
    try:
        os.fstat(fd)
        return open(fd, "w", encoding="utf-8", errors="backslashreplace", closefd=False)  # noqa: SIM115
    except OSError:
        return None


def guard_streams() -> None:
    """Replace a missing ``sys.stdout``/``sys.stderr`` before anything prints.

    Uses descriptors 1 and 2 when the process has them (a windowed binary
    started from a terminal on Linux), else writers that log each line:
    stdout at INFO to ``kanin.stdout``, stderr at WARNING to ``kanin.stderr``.
    """
    if sys.stdout is None:
        sys.stdout = _reopen_descriptor(1) or _LogWriter(
            logging.getLogger("kanin.stdout"), logging.INFO
        )
    if sys.stderr is None:
        sys.stderr = _reopen_descriptor(2) or _LogWriter(
            logging.getLogger("kanin.stderr"), logging.WARNING
        )
    if isinstance(sys.stdout, _LogWriter) or isinstance(sys.stderr, _LogWriter):
        atexit.unregister(_setup_at_exit)
        atexit.register(_setup_at_exit)


def _console_is_real() -> bool:
    """True when ``sys.stderr`` is a real stream rather than one of our log writers."""
    return sys.stderr is not None and not isinstance(sys.stderr, _LogWriter)


def setup_logging(*, verbose: bool = False, log_file: Path | None = None) -> Path:
    """Send logging to a rotating file (and to the console when there is one).

    Safe to call more than once: later calls return the path already in use.

    Args:
        verbose: log DEBUG to the file and INFO to the console (else INFO to the
            file and only ERROR to the console: the window's log panel and the file
            hold the warnings, and a terminal that repeated them drowned in them).
        log_file: the file to write; defaults to ``log_path()``.

    Returns:
        The log file's path.
    """
    global _configured_path
    guard_streams()
    with _configure_lock:
        if _configured_path is not None:
            return _configured_path
        path = log_file or default_log_dir() / LOG_FILE_NAME
        root = logging.getLogger()
        root.setLevel(logging.DEBUG if verbose else logging.INFO)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            file_handler: logging.Handler = logging.handlers.RotatingFileHandler(
                path, maxBytes=MAX_BYTES, backupCount=BACKUP_COUNT, encoding="utf-8"
            )
            file_handler.setFormatter(RedactingFormatter(FILE_FORMAT))
            file_handler.setLevel(logging.DEBUG if verbose else logging.INFO)
            file_handler.set_name("kanin-file")
            root.addHandler(file_handler)
        except OSError as exc:
            print(f"kanin: cannot write the log file {path}: {exc}", file=sys.stderr)
        if _console_is_real():
            console = logging.StreamHandler(sys.stderr)
            console.addFilter(_for_console)
            console.setFormatter(RedactingFormatter(CONSOLE_FORMAT))
            console.setLevel(logging.INFO if verbose else logging.ERROR)
            console.set_name("kanin-console")
            root.addHandler(console)
        install_excepthook()
        _configured_path = path
    log.info("Kanin started (pid %d, frozen: %s); log file %s", os.getpid(), _frozen(), path)
    _replay_early_lines()
    return path


def _for_console(record: logging.LogRecord) -> bool:
    """Console filter: drops records logged with ``extra={"console": False}``.

    For messages that the caller also prints to stderr in its own words.
    """
    return bool(getattr(record, "console", True))


def teardown_logging() -> None:
    """Remove and close the handlers ``setup_logging`` added (for tests and re-configuration)."""
    global _configured_path
    with _configure_lock:
        root = logging.getLogger()
        for handler in list(root.handlers):
            if handler.get_name() in ("kanin-file", "kanin-console"):
                root.removeHandler(handler)
                handler.close()
        _configured_path = None


def _frozen() -> bool:
    return bool(getattr(sys, "frozen", False))


CrashDialog = Callable[[str, Path], None]


def install_excepthook(show_dialog: CrashDialog | None = None) -> None:
    """Log uncaught exceptions; in the GUI thread of a running app, also show a dialog.

    Args:
        show_dialog: called with the error summary and the log path; defaults to
            a Qt message box (skipped on the offscreen and minimal platforms,
            where no one could close it).
    """
    dialog = show_dialog or _show_crash_dialog

    def hook(
        exc_type: type[BaseException],
        exc: BaseException,
        tb: TracebackType | None,
    ) -> None:
        if issubclass(exc_type, KeyboardInterrupt):
            sys.__excepthook__(exc_type, exc, tb)
            return
        log.critical("Uncaught exception", exc_info=(exc_type, exc, tb))
        if threading.current_thread() is threading.main_thread():
            _offer_dialog(dialog, redact(f"{exc_type.__name__}: {exc}"))

    def thread_hook(args: threading.ExceptHookArgs) -> None:
        if args.exc_type is SystemExit:
            return
        exc_info: Any = (args.exc_type, args.exc_value, args.exc_traceback)
        name = args.thread.name if args.thread else "?"
        log.critical("Uncaught exception in thread %s", name, exc_info=exc_info)

    sys.excepthook = hook
    threading.excepthook = thread_hook


def install_qt_message_handler() -> None:
    """Send Qt's own warnings to the log instead of the (possibly missing) console.

    The offscreen platform's harmless ``propagateSizeHints`` notice is logged at DEBUG.
    """
    from PySide6.QtCore import QMessageLogContext, QtMsgType, qInstallMessageHandler

    levels = {
        QtMsgType.QtDebugMsg: logging.DEBUG,
        QtMsgType.QtInfoMsg: logging.INFO,
        QtMsgType.QtWarningMsg: logging.WARNING,
        QtMsgType.QtCriticalMsg: logging.ERROR,
        QtMsgType.QtFatalMsg: logging.CRITICAL,
    }
    qt_log = logging.getLogger("qt")

    def handler(kind: QtMsgType, _context: QMessageLogContext, message: str) -> None:
        level = levels.get(kind, logging.WARNING)
        if "propagateSizeHints" in message:
            level = logging.DEBUG
        qt_log.log(level, "%s", message)

    qInstallMessageHandler(handler)


def _offer_dialog(dialog: CrashDialog, summary: str) -> None:
    global _in_crash_dialog
    if _in_crash_dialog or "PySide6.QtWidgets" not in sys.modules:
        return
    from PySide6.QtWidgets import QApplication

    if QApplication.instance() is None:
        return
    _in_crash_dialog = True
    try:
        dialog(summary, log_path())
    except Exception:  # a broken dialog must not hide the original crash
        log.exception("Could not show the crash dialog")
    finally:
        _in_crash_dialog = False


def _show_crash_dialog(summary: str, path: Path) -> None:
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QGuiApplication
    from PySide6.QtWidgets import QMessageBox

    if QGuiApplication.platformName() in ("offscreen", "minimal"):
        return
    box = QMessageBox()
    box.setIcon(QMessageBox.Icon.Critical)
    box.setWindowTitle("Unexpected error")
    box.setText("Kanin hit an unexpected error. The details are in the log file.")
    box.setInformativeText(f"{summary}\n\nLog file:\n{path}")
    box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    box.exec()
