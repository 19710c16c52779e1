"""The private node's Erlang VM as an OS process: recognised by its pid, waited on to end.

A pid file outlives its process, and the pid may since belong to anything else
(another program, or the test that reads it). A pid counts as the node only
when, through ``psutil`` (the same way on Linux, macOS and Windows):

- the process exists and has not exited (a zombie has);
- its program is the Erlang VM (``beam``/``beam.smp``, ``erl``, ``werl``);
- its command line names the node: ``-home <node folder>`` (the ``HOME`` Kanin
  gives the node; RabbitMQ 3.x passes no node name on the command line), or
  ``-sname``/``-name <node name>``; or, when the command line does not say,
  its environment has ``RABBITMQ_NODENAME=<node name>``.

A ``psutil.Process`` also remembers when the process started, so a pid reused
after it was recognised is never signalled.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from pathlib import Path, PureWindowsPath

import psutil

log = logging.getLogger(__name__)

ERLANG_PROGRAMS = ("beam", "beam.smp", "erl", "werl")


def _program(arg: str) -> str:
    # PureWindowsPath splits on both separators, so one rule serves every platform.
    name = PureWindowsPath(arg).name.lower()
    return name.removesuffix(".exe")


def _same_folder(value: str, folder: Path) -> bool:
    try:
        return Path(value) == folder or Path(value).resolve() == folder.resolve()
    except (OSError, RuntimeError):
        return False


def names_node(args: Sequence[str], node_name: str, home: Path) -> bool:
    """True when an Erlang VM's command line names this node.

    Args:
        args: the command line, program first.
        node_name: the node's name, e.g. ``kanin-3f9a1c@localhost``.
        home: the node's folder (its ``HOME``, which ``erl`` passes as ``-home``).
    """
    if not args or _program(args[0]) not in ERLANG_PROGRAMS:
        return False
    short = node_name.split("@", 1)[0]
    for flag, value in zip(args, args[1:], strict=False):
        if flag == "-home" and _same_folder(value, home):
            return True
        if flag in ("-sname", "-name") and value in (node_name, short):
            return True
    return False


def is_node(process: psutil.Process, node_name: str, home: Path) -> bool:
    """True when ``process`` is this node's live Erlang VM (see the module's rules).

    Args:
        process: the process to check.
        node_name: the node's name.
        home: the node's folder.
    """
    try:
        with process.oneshot():
            if process.status() == psutil.STATUS_ZOMBIE:
                return False  # exited, not yet reaped
            args = process.cmdline()
    except psutil.Error:  # gone, or another user's process we may not read
        return False
    if not args or _program(args[0]) not in ERLANG_PROGRAMS:
        return False  # an exiting process (empty command line) or another program
    if names_node(args, node_name, home):
        return True
    try:
        environment = process.environ()
    except psutil.Error:
        return False
    return environment.get("RABBITMQ_NODENAME") == node_name


def find_node(pid: int | None, node_name: str, home: Path) -> psutil.Process | None:
    """The process ``pid`` when it is this node's live Erlang VM, else ``None``.

    Args:
        pid: the pid from the node's pid file, or ``None`` when there is none.
        node_name: the node's name.
        home: the node's folder.
    """
    if pid is None or pid <= 0:
        return None
    try:
        process = psutil.Process(pid)
    except psutil.Error:
        return None
    return process if is_node(process, node_name, home) else None


def has_ended(process: psutil.Process) -> bool:
    """True when ``process`` has exited (also when it is a zombie or its pid was reused)."""
    try:
        return not process.is_running() or process.status() == psutil.STATUS_ZOMBIE
    except psutil.Error:
        return True


def wait_ended(process: psutil.Process, timeout: float) -> bool:
    """Wait until ``process`` has exited.

    Returns:
        True when it ended within ``timeout`` seconds.
    """
    deadline = time.monotonic() + timeout
    while not has_ended(process):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True
