"""A managed private RabbitMQ node, run from the installed ``rabbitmq-server``.

Kanin can start its own broker when none answers: a node with its own name,
its own free ports and its own data and log folders (by default under the
user's data directory, ``platformdirs.user_data_dir("kanin")/broker``). It
listens on 127.0.0.1 only. Its data stays after ``stop()``, so durable queues
and persistent tasks survive closing the app.

The scripts are called directly (see ``core.broker_install`` for why and
where they are). Every command gets an environment of its own
(``RABBITMQ_NODENAME``, ports, folders, ``HOME`` for the Erlang cookie), so
the system's node (``rabbit@<host>``) is never touched: a ``LocalBroker``
only ever stops the node recorded in its own folder, and only while that pid
is still this node's Erlang VM.

This module holds the node's lifecycle (start, stop, adopt, ``rabbitmqctl``);
the rest lives beside it: ``core.broker_install`` (where RabbitMQ is, how to
install it), ``core.ports`` (free ports), ``core.node_folder`` (kept name and
ports, config files, environment) and ``core.node_process`` (is this pid our node).

Typical use (the window does the same from a worker thread, as ``start()``
blocks for several seconds)::

    broker = LocalBroker()             # user data dir, ports chosen once and kept
    broker.start()                     # waits until AMQP accepts connections
    settings = ConnectionSettings.from_urls([broker.amqp_url])
    ...
    broker.restart()                   # stop + start: clients see 320 CONNECTION_FORCED
    broker.close()                     # on quit: stops it if this object started it
"""

from __future__ import annotations

import contextlib
import logging
import os
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import pika
import pika.exceptions as pe
import platformdirs
import psutil

from core import ports
from core.broker_install import ServerInstall, find_server, install_hint
from core.node_folder import STATE_FILE, NodeConfig, NodeFolder, choose_config, choose_name
from core.node_process import find_node, wait_ended
from core.ports import port_open, wait_port_free

__all__ = [
    "APP_NAME",
    "STATE_FILE",
    "LocalBroker",
    "LocalBrokerError",
    "NodeConfig",
    "ServerInstall",
    "default_base_dir",
    "find_server",
    "free_port",
    "install_hint",
]

log = logging.getLogger(__name__)

APP_NAME = "kanin"


class LocalBrokerError(RuntimeError):
    """The private node could not be started or stopped; the message says why and what to do."""


def default_base_dir() -> Path:
    """The managed node's folder under the user's data directory."""
    return Path(platformdirs.user_data_dir(APP_NAME)) / "broker"


def free_port(exclude: Sequence[int] = ()) -> int:
    """A TCP port nobody listens on at 127.0.0.1, from a range safe for Erlang distribution.

    Raises:
        LocalBrokerError: when none is found.
    """
    try:
        return ports.free_port(exclude)
    except ports.NoFreePortError as exc:
        raise LocalBrokerError(str(exc)) from exc


class LocalBroker:
    """A private RabbitMQ node Kanin starts, stops and restarts.

    The node's name and ports are chosen once and saved in ``base_dir/node.json``
    (a port found taken later is replaced). Data lives in ``base_dir/mnesia``,
    logs in ``base_dir/log``. ``start()``, ``stop()`` and ``restart()`` block
    (start: about 6 s, stop: about 1 s); call them off the GUI thread.

    Args:
        base_dir: the node's folder (default: ``default_base_dir()``).
        node_name: the node's name; default from ``node.json`` or a new ``kanin-XXXXXX@localhost``.
        amqp_port: AMQP port; default from ``node.json`` or a free one.
        dist_port: distribution port; default from ``node.json`` or a free one.
        management: enable the management plugin (HTTP API, needed by some
            monitoring; adds about 2 s to start).
        management_port: its port; default from ``node.json`` or a free one.
        server: the install to use (default: ``find_server()``).
        start_timeout: how long ``start()`` waits for AMQP.
        extra_config: more ``rabbitmq.conf`` lines (``core.cluster`` adds peer discovery).
    """

    def __init__(
        self,
        base_dir: Path | str | None = None,
        *,
        node_name: str | None = None,
        amqp_port: int | None = None,
        dist_port: int | None = None,
        management: bool = False,
        management_port: int | None = None,
        server: ServerInstall | None = None,
        start_timeout: float = 60.0,
        extra_config: Sequence[str] = (),
    ) -> None:
        self.base_dir = Path(base_dir) if base_dir is not None else default_base_dir()
        self.folder = NodeFolder(self.base_dir)
        self.server = server if server is not None else find_server()
        self.start_timeout = start_timeout
        self.management = management
        self.extra_config = tuple(extra_config)
        self.started_here = False
        saved = self.folder.load_config()
        name = choose_name(saved, node_name)
        running = find_node(self.folder.read_pid(), name, self.base_dir) is not None
        try:
            self.config = choose_config(
                saved,
                node_name=name,
                amqp_port=amqp_port,
                dist_port=dist_port,
                management=management,
                management_port=management_port,
                running=running,
            )
        except ports.NoFreePortError as exc:
            raise LocalBrokerError(str(exc)) from exc

    # ----------------------------------------------------------------- facts

    @property
    def node_name(self) -> str:
        """The Erlang node name, e.g. ``kanin-3f9a1c@localhost``."""
        return self.config.node_name

    @property
    def amqp_port(self) -> int:
        """The AMQP port on 127.0.0.1."""
        return self.config.amqp_port

    @property
    def management_port(self) -> int | None:
        """The management HTTP port, or ``None``."""
        return self.config.management_port

    @property
    def amqp_url(self) -> str:
        """The URL to connect to (user ``guest``, which RabbitMQ allows from localhost only)."""
        return f"amqp://guest:guest@127.0.0.1:{self.amqp_port}/%2F"

    @property
    def management_url(self) -> str | None:
        """The management API's base URL, or ``None`` when the plugin is off."""
        port = self.management_port
        return f"http://127.0.0.1:{port}" if port else None

    @property
    def data_dir(self) -> Path:
        """Where the node keeps its queues and messages."""
        return self.folder.data_dir

    @property
    def log_dir(self) -> Path:
        """Where the node writes its logs."""
        return self.folder.log_dir

    @property
    def log_file(self) -> Path:
        """The node's main log file."""
        return self.folder.log_file(self.node_name)

    @property
    def installed(self) -> bool:
        """True when ``rabbitmq-server`` was found."""
        return self.server is not None

    def is_running(self) -> bool:
        """True when this folder's node process is alive and its AMQP port accepts connections."""
        return self._pid_alive() and port_open(self.amqp_port)

    def pid(self) -> int | None:
        """The node's pid while its Erlang VM runs, else ``None``.

        A pid file left by a node that is gone, now naming another process,
        gives ``None``: the process must be this node's (see ``core.node_process``).
        """
        process = self._process()
        return process.pid if process is not None else None

    # ----------------------------------------------------------------- control

    def start(self, timeout: float | None = None) -> None:
        """Start the node (or adopt it when already running) and wait until AMQP answers.

        Args:
            timeout: seconds to wait (default: ``start_timeout``).

        Raises:
            LocalBrokerError: when RabbitMQ is not installed, the node exits, or
                AMQP does not answer in time; the message ends with the log's tail.
        """
        server = self._require_server()
        if self._pid_alive():
            log.info("Local broker %s is already running; using it.", self.node_name)
            self._wait_amqp(timeout if timeout is not None else self.start_timeout)
            return
        for port in (self.amqp_port, self.config.dist_port, self.management_port):
            if port is not None and not wait_port_free(port, 5.0):
                raise LocalBrokerError(
                    f"Port {port} is already in use, so the local broker cannot start; "
                    f"delete {self.base_dir / STATE_FILE} to choose new ports."
                )
        self._prepare_files()
        pid_file = self._pid_file
        with contextlib.suppress(FileNotFoundError):
            pid_file.unlink()
        log.info(
            "Starting local broker %s on 127.0.0.1:%d (data in %s).",
            self.node_name,
            self.amqp_port,
            self.base_dir,
        )
        out = self.folder.launcher_log.open("ab")
        try:
            args = [str(server.server)]
            if os.name != "nt":
                args.append("-detached")
            flags = getattr(subprocess, "CREATE_NEW_PROCESS_GROUP", 0) | getattr(
                subprocess, "DETACHED_PROCESS", 0
            )
            process = subprocess.Popen(  # noqa: S603 - fixed script, no shell
                args,
                env=self.environment(),
                cwd=self.base_dir,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=os.name != "nt",
                creationflags=flags,
            )
        finally:
            out.close()
        self.started_here = True
        launcher_exit: Callable[[], int | None] = process.poll
        self._wait_amqp(timeout if timeout is not None else self.start_timeout, launcher_exit)
        if os.name != "nt":
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(5)  # -detached returns at once; reap it

    def stop(self, timeout: float = 30.0) -> bool:
        """Stop this folder's node; its data stays. Does nothing when it is not running.

        Only the node recorded in this folder (its pid file and name) is
        stopped, never another broker.

        Args:
            timeout: seconds to wait for the process to end.

        Returns:
            True when the node was running and has stopped.

        Raises:
            LocalBrokerError: when the node does not stop in time.
        """
        process = self._process()
        if process is None:
            return False
        pid = process.pid
        log.info("Stopping local broker %s.", self.node_name)
        if os.name == "nt":
            self.ctl("stop", str(self._pid_file), timeout=timeout)
        else:
            # SIGTERM makes the Erlang VM shut down gracefully (init:stop), like
            # ``rabbitmqctl stop`` but without booting the CLI tools (3 s saved).
            # psutil sends it only if the pid still is the process checked above.
            try:
                process.terminate()
            except psutil.NoSuchProcess:
                return True
            except psutil.AccessDenied as exc:
                raise LocalBrokerError(
                    f"The local broker {self.node_name} (pid {pid}) belongs to another user."
                ) from exc
        if not wait_ended(process, timeout):
            raise LocalBrokerError(
                f"The local broker {self.node_name} (pid {pid}) did not stop "
                f"within {timeout:.0f} s."
            )
        return True

    def restart(self, timeout: float | None = None) -> None:
        """Stop the node and start it again (clients see 320 CONNECTION_FORCED).

        Args:
            timeout: seconds to wait for AMQP after starting.
        """
        self.stop()
        self.start(timeout)

    def close(self) -> None:
        """On quit: stop the node when this object started it; its data stays.

        A node that was already running when ``start()`` was called (another
        Kanin window, or one left by a crashed run) is adopted and left
        running: another window may still be using it. ``stop()`` stops it
        regardless.
        """
        if self.started_here:
            self.stop()
            self.started_here = False

    def ctl(self, *args: str, timeout: float = 30.0) -> str:
        """Run ``rabbitmqctl -n <this node> ARGS`` and return its output.

        Args:
            *args: the command and its arguments, e.g. ``("list_queues", "name")``.
            timeout: seconds before giving up.

        Raises:
            LocalBrokerError: when the command fails, with its output.
        """
        server = self._require_server()
        command = [str(server.ctl), "-n", self.node_name, *args]
        try:
            result = subprocess.run(  # noqa: S603 - fixed script, no shell
                command,
                env=self.environment(),
                cwd=self.base_dir,
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise LocalBrokerError(
                f"rabbitmqctl {args[0]} took more than {timeout:.0f} s."
            ) from exc
        if result.returncode != 0:
            detail = (result.stderr or result.stdout).strip()
            raise LocalBrokerError(f"rabbitmqctl {' '.join(args)} failed: {detail}")
        return result.stdout

    def log_tail(self, lines: int = 20) -> str:
        """The last lines of the node's logs (main log, then the launcher's output)."""
        return self.folder.log_tail(self.node_name, lines)

    def environment(self) -> dict[str, str]:
        """The environment for the server scripts: this node's name, ports and folders."""
        return self.folder.environment(self.config)

    # ----------------------------------------------------------------- internals

    @property
    def _pid_file(self) -> Path:
        return self.folder.pid_file

    def _require_server(self) -> ServerInstall:
        if self.server is None:
            raise LocalBrokerError(install_hint())
        return self.server

    def _prepare_files(self) -> None:
        self.folder.write(self.config, self.extra_config)

    def _read_pid(self) -> int | None:
        return self.folder.read_pid()

    def _process(self) -> psutil.Process | None:
        """This folder's node process, when the pid file names it (see ``core.node_process``)."""
        return find_node(self._read_pid(), self.node_name, self.base_dir)

    def _pid_alive(self) -> bool:
        """True when the pid file names this folder's live Erlang VM."""
        return self._process() is not None

    def _wait_amqp(
        self, timeout: float, launcher_exit: Callable[[], int | None] | None = None
    ) -> None:
        """Poll until an AMQP connection opens; fail early when the node has died."""
        deadline = time.monotonic() + timeout
        params = pika.URLParameters(self.amqp_url)
        params.connection_attempts = 1
        params.socket_timeout = 2
        params.blocked_connection_timeout = 5
        saw_pid = False
        while True:
            if port_open(self.amqp_port, 0.2):
                try:
                    pika.BlockingConnection(params).close()
                    log.info("Local broker %s accepts connections.", self.node_name)
                    return
                except pe.AMQPError as exc:
                    log.debug("Local broker not ready yet: %s", exc)
            alive = self._pid_alive()
            saw_pid = saw_pid or alive
            code = launcher_exit() if launcher_exit is not None else None
            died = (saw_pid and not alive) or (code not in (None, 0))
            if died or time.monotonic() > deadline:
                what = "exited" if died else f"did not accept connections within {timeout:.0f} s"
                raise LocalBrokerError(
                    f"The local broker {self.node_name} {what} (port {self.amqp_port}, "
                    f"folder {self.base_dir}).\n{self.log_tail()}"
                )
            time.sleep(0.1)


def main(argv: Sequence[str] | None = None) -> int:  # pragma: no cover - manual tool
    """``python -m core.local_broker start|stop|status [DIR]``: manage the node by hand."""
    args = list(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(level=logging.INFO)
    command = args[0] if args else "status"
    broker = LocalBroker(args[1] if len(args) > 1 else None)
    if broker.server is None:
        print(install_hint())
        return 1
    if command == "start":
        broker.start()
    elif command == "stop":
        broker.stop()
    state = "running" if broker.is_running() else "stopped"
    print(f"{broker.node_name}: {state} at 127.0.0.1:{broker.amqp_port}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
