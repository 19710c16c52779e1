"""Processes that look like a private node's Erlang VM to ``core.node_process``, or do not.

A fake VM is this Python under the name ``beam.smp`` (a symbolic link), sleeping,
with whatever Erlang-style arguments the test gives it (``-home FOLDER``,
``-sname NAME``) and environment. It ends on SIGTERM like the real VM.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import psutil

SLEEP = "import time; time.sleep(120)"


def fake_beam(folder: Path) -> Path:
    """A program called ``beam.smp`` in ``folder`` that is really this Python."""
    link = folder / "erts" / "bin" / "beam.smp"
    link.parent.mkdir(parents=True, exist_ok=True)
    if not link.exists():
        link.symlink_to(Path(sys.executable).resolve())
    return link


@contextlib.contextmanager
def sleeper(
    program: Path | None = None,
    args: Sequence[str] = (),
    environ: Mapping[str, str] | None = None,
) -> Iterator[subprocess.Popen[bytes]]:
    """Run ``program`` (default: this Python) asleep with ``args``; killed at the end."""
    command = [str(program or sys.executable), "-c", SLEEP, *args]
    env = dict(os.environ) if environ is None else {**os.environ, **environ}
    process = subprocess.Popen(command, env=env)  # noqa: S603 - test helper
    try:
        _wait_exec(process.pid, command[1:])
        yield process
    finally:
        process.kill()
        process.wait(10)


def _wait_exec(pid: int, args: list[str]) -> None:
    """Wait until the child runs the command (before exec it still looks like pytest)."""
    deadline = time.monotonic() + 10
    pause = threading.Event()
    while time.monotonic() < deadline:
        with contextlib.suppress(psutil.Error):
            if psutil.Process(pid).cmdline()[1:] == args:
                return
        pause.wait(0.01)
    raise AssertionError(f"process {pid} did not start {args}")


def write_pid(folder: Path, pid: int) -> None:
    """Point the node folder's pid file at ``pid``, as a node (or a stale file) would."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "node.pid").write_text(f"{pid}\n", encoding="ascii")
