"""The name Kanin gives each of its broker connections: which command, host, pid and worker.

RabbitMQ shows a client's ``connection_name`` property in ``rabbitmqctl
list_connections client_properties`` and in the management UI and API, so a
headless ``kanin worker`` on another host appears there by name, e.g.
``kanin worker worker-2 on build-7 (pid 4242)``. The same facts travel as a
``kanin`` table in the client properties, for programs that read them.

The command is set once per process by whoever starts it (``core.cli`` sets
``worker`` or ``new-task``); a process that never sets it is the window.
"""

from __future__ import annotations

import os
import socket

DEFAULT_COMMAND = "window"

_command = DEFAULT_COMMAND


def set_command(command: str) -> None:
    """Name the command this process runs (``worker``, ``new-task``, ``window``, ...)."""
    global _command  # noqa: PLW0603 - one value per process, set at start-up
    _command = command


def command() -> str:
    """The command this process runs."""
    return _command


def connection_name(worker: str | None = None) -> str:
    """The human-readable name of a connection, e.g. ``kanin worker worker-2 on host (pid 42)``.

    Args:
        worker: the worker that owns the connection, if any.
    """
    who = f"kanin {_command}" + (f" {worker}" if worker else "")
    return f"{who} on {socket.gethostname()} (pid {os.getpid()})"


def client_properties(worker: str | None = None) -> dict[str, object]:
    """The ``client_properties`` (for pika) for a connection of this process.

    Args:
        worker: the worker that owns the connection, if any.
    """
    facts: dict[str, object] = {
        "command": _command,
        "host": socket.gethostname(),
        "pid": os.getpid(),
    }
    if worker:
        facts["worker"] = worker
    return {"connection_name": connection_name(worker), "product": "Kanin", "kanin": facts}
