"""TCP ports on 127.0.0.1 for a private node: a free one, waiting for one to open or close."""

from __future__ import annotations

import random
import socket
import time
from collections.abc import Sequence

PORT_RANGE = (20000, 32000)  # below Linux ephemeral ports; CLI tools use dist_port + 10000


class NoFreePortError(OSError):
    """No free port was found in ``PORT_RANGE``."""


def free_port(exclude: Sequence[int] = ()) -> int:
    """A TCP port nobody listens on at 127.0.0.1, from a range safe for Erlang distribution.

    Args:
        exclude: ports already chosen for something else.

    Raises:
        NoFreePortError: after 200 busy tries.
    """
    for _ in range(200):
        port = random.randint(*PORT_RANGE)  # noqa: S311 - not security related
        if port in exclude or not port_free(port):
            continue
        return port
    raise NoFreePortError("No free TCP port was found for the local broker.")


def port_free(port: int) -> bool:
    """True when ``port`` can be bound on 127.0.0.1 (connections in TIME_WAIT do not count)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # Like Erlang's listeners: connections in TIME_WAIT do not make a port busy.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def wait_port_free(port: int, timeout: float) -> bool:
    """Wait a little for a port to be released (a node that just stopped).

    Returns:
        True when the port is free, False when it was still taken after ``timeout`` seconds.
    """
    deadline = time.monotonic() + timeout
    while not port_free(port):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def port_open(port: int, timeout: float = 0.5) -> bool:
    """True when something accepts TCP connections on 127.0.0.1:``port``."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout):
            return True
    except OSError:
        return False
