"""A managed private RabbitMQ node, run from the installed ``rabbitmq-server``.

Kanin can start its own broker when none answers: a node with its own name,
its own free ports and its own data and log folders (by default under the
user's data directory, ``platformdirs.user_data_dir("kanin")/broker``). It
listens on 127.0.0.1 only. Its data stays after ``stop()``, so durable queues
and persistent tasks survive closing the app.

The scripts in RabbitMQ's ``lib/rabbitmq/bin`` folder are called directly:
Debian's ``/usr/sbin/rabbitmq-server`` wrapper switches to the ``rabbitmq``
user when run as root, and that user cannot write the caller's folders. The
same direct call works for a normal user. Every command gets an environment
of its own (``RABBITMQ_NODENAME``, ports, folders, ``HOME`` for the Erlang
cookie), so the system's node (``rabbit@<host>``) is never touched: a
``LocalBroker`` only ever stops the node recorded in its own folder.

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
import json
import logging
import os
import platform
import random
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pika
import pika.exceptions as pe
import platformdirs

log = logging.getLogger(__name__)

APP_NAME = "kanin"
STATE_FILE = "node.json"
_PORT_RANGE = (20000, 32000)  # below Linux ephemeral ports; CLI tools use dist_port + 10000
_DEBIAN_BIN = Path("/usr/lib/rabbitmq/bin")


class LocalBrokerError(RuntimeError):
    """The private node could not be started or stopped; the message says why and what to do."""


@dataclass(frozen=True)
class ServerInstall:
    """Where the RabbitMQ server scripts are.

    Attributes:
        bin_dir: the folder holding ``rabbitmq-server`` and ``rabbitmqctl``.
        suffix: ``".bat"`` on Windows, else empty.
    """

    bin_dir: Path
    suffix: str = ""

    @property
    def server(self) -> Path:
        """The ``rabbitmq-server`` script."""
        return self.bin_dir / f"rabbitmq-server{self.suffix}"

    @property
    def ctl(self) -> Path:
        """The ``rabbitmqctl`` script."""
        return self.bin_dir / f"rabbitmqctl{self.suffix}"


def _candidate_dirs() -> list[Path]:
    dirs: list[Path] = []
    override = os.environ.get("KANIN_RABBITMQ_BIN")
    if override:
        dirs.append(Path(override))
    dirs.append(_DEBIAN_BIN)  # Debian, Ubuntu, Fedora/RHEL packages
    dirs += [Path("/opt/homebrew/opt/rabbitmq/sbin"), Path("/usr/local/opt/rabbitmq/sbin")]
    if os.name == "nt":
        for root in (os.environ.get("ProgramFiles"), os.environ.get("ProgramFiles(x86)")):
            if root:
                dirs += sorted((Path(root) / "RabbitMQ Server").glob("rabbitmq_server-*/sbin"))
    found = shutil.which("rabbitmq-server")
    if found:  # last: on Debian this is the user-switching wrapper
        dirs.append(Path(found).resolve().parent)
    return dirs


def find_server(candidates: Sequence[Path] | None = None) -> ServerInstall | None:
    """Find the installed RabbitMQ server scripts.

    Looks in ``$KANIN_RABBITMQ_BIN``, ``/usr/lib/rabbitmq/bin``, Homebrew's and
    the Windows installer's folders, then on ``PATH``.

    Args:
        candidates: folders to look in instead (for tests).

    Returns:
        The install, or ``None`` when ``rabbitmq-server`` is not installed
        (show ``install_hint()`` then).
    """
    suffix = ".bat" if os.name == "nt" else ""
    for folder in candidates if candidates is not None else _candidate_dirs():
        install = ServerInstall(folder, suffix)
        if install.server.is_file() and install.ctl.is_file():
            return install
    return None


def _os_release() -> dict[str, str]:
    values: dict[str, str] = {}
    with contextlib.suppress(OSError):
        for line in Path("/etc/os-release").read_text(encoding="utf-8").splitlines():
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip().strip('"')
    return values


def install_hint(system: str | None = None, os_release: Mapping[str, str] | None = None) -> str:
    """Say how to install RabbitMQ here, and how to use a remote broker instead.

    Args:
        system: ``platform.system()`` value to describe (default: this machine).
        os_release: ``/etc/os-release`` fields (default: read from this machine).

    Returns:
        A short paragraph for a dialog or the terminal.
    """
    system = system or platform.system()
    if system == "Darwin":
        command = "brew install rabbitmq"
    elif system == "Windows":
        command = "choco install rabbitmq   (or the installer from rabbitmq.com)"
    else:
        release = _os_release() if os_release is None else os_release
        family = f"{release.get('ID', '')} {release.get('ID_LIKE', '')}".lower()
        if any(name in family for name in ("debian", "ubuntu")):
            command = "sudo apt-get install rabbitmq-server"
        elif any(name in family for name in ("fedora", "rhel", "centos", "rocky", "alma")):
            command = "sudo dnf install rabbitmq-server"
        elif "suse" in family:
            command = "sudo zypper install rabbitmq-server"
        elif "arch" in family:
            command = "sudo pacman -S rabbitmq"
        else:
            command = "install the rabbitmq-server package of your distribution"
    return (
        "RabbitMQ is not installed on this computer, so Kanin cannot start a local broker.\n"
        f"To install it: {command}\n"
        "Or use a broker elsewhere: kanin --url amqp://USER:PASSWORD@HOST:5672/%2F "
        "(or set KANIN_URL)."
    )


def default_base_dir() -> Path:
    """The managed node's folder under the user's data directory."""
    return Path(platformdirs.user_data_dir(APP_NAME)) / "broker"


def free_port(exclude: Sequence[int] = ()) -> int:
    """A TCP port nobody listens on at 127.0.0.1, from a range safe for Erlang distribution."""
    for _ in range(200):
        port = random.randint(*_PORT_RANGE)  # noqa: S311 - not security related
        if port in exclude or not _port_free(port):
            continue
        return port
    raise LocalBrokerError("No free TCP port was found for the local broker.")


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # Like Erlang's listeners: connections in TIME_WAIT do not make a port busy.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _wait_port_free(port: int, timeout: float) -> bool:
    """Wait a little for a port to be released (a node that just stopped)."""
    deadline = time.monotonic() + timeout
    while not _port_free(port):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def _port_open(port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout):
            return True
    except OSError:
        return False


@dataclass(frozen=True)
class NodeConfig:
    """The node's identity and ports, kept in ``node.json`` so they stay the same across runs.

    Attributes:
        node_name: e.g. ``kanin-3f9a1c@localhost``; Mnesia data is tied to it.
        amqp_port: AMQP listener on 127.0.0.1.
        dist_port: Erlang distribution port.
        management_port: management HTTP port, or ``None`` when the plugin is off.
    """

    node_name: str
    amqp_port: int
    dist_port: int
    management_port: int | None = None


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
    ) -> None:
        self.base_dir = Path(base_dir) if base_dir is not None else default_base_dir()
        self.server = server if server is not None else find_server()
        self.start_timeout = start_timeout
        self.management = management
        self.started_here = False
        saved = self._load_config()
        name = node_name or (
            saved.node_name if saved else f"kanin-{uuid.uuid4().hex[:6]}@localhost"
        )
        if "@" not in name:
            name = f"{name}@localhost"
        running = saved is not None and saved.node_name == name and self._pid_alive()
        used: list[int] = []

        def pick(explicit: int | None, previous: int | None) -> int:
            if explicit is not None:
                port = explicit
            elif (
                previous is not None and (running or _port_free(previous)) and previous not in used
            ):
                port = previous
            else:
                port = free_port(used)
            used.append(port)
            return port

        amqp = pick(amqp_port, saved.amqp_port if saved else None)
        dist = pick(dist_port, saved.dist_port if saved else None)
        mgmt = (
            pick(management_port, saved.management_port if saved else None) if management else None
        )
        self.config = NodeConfig(name, amqp, dist, mgmt)

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
        return self.base_dir / "mnesia"

    @property
    def log_dir(self) -> Path:
        """Where the node writes its logs."""
        return self.base_dir / "log"

    @property
    def log_file(self) -> Path:
        """The node's main log file."""
        return self.log_dir / f"{self.node_name}.log"

    @property
    def installed(self) -> bool:
        """True when ``rabbitmq-server`` was found."""
        return self.server is not None

    def is_running(self) -> bool:
        """True when this folder's node process is alive and its AMQP port accepts connections."""
        return self._pid_alive() and _port_open(self.amqp_port)

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
            if port is not None and not _wait_port_free(port, 5.0):
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
        out = (self.log_dir / "startup.out").open("ab")
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
        pid = self._read_pid()
        if pid is None or not self._pid_alive():
            return False
        log.info("Stopping local broker %s.", self.node_name)
        if os.name == "nt":
            self.ctl("stop", str(self._pid_file), timeout=timeout)
        else:
            # SIGTERM makes the Erlang VM shut down gracefully (init:stop), like
            # ``rabbitmqctl stop`` but without booting the CLI tools (3 s saved).
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                return True
            except PermissionError as exc:
                raise LocalBrokerError(
                    f"The local broker {self.node_name} (pid {pid}) belongs to another user."
                ) from exc
        deadline = time.monotonic() + timeout
        while self._pid_alive():
            if time.monotonic() > deadline:
                raise LocalBrokerError(
                    f"The local broker {self.node_name} (pid {pid}) did not stop "
                    f"within {timeout:.0f} s."
                )
            time.sleep(0.05)
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
        parts = []
        for path in (self.log_file, self.log_dir / "startup.out"):
            with contextlib.suppress(OSError):
                text = path.read_text(encoding="utf-8", errors="replace").splitlines()
                if text:
                    parts.append(f"--- {path}\n" + "\n".join(text[-lines:]))
        return "\n".join(parts) or "(the node wrote no log)"

    def environment(self) -> dict[str, str]:
        """The environment for the server scripts: this node's name, ports and folders."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(("RABBITMQ_", "ERL_"))}
        base = self.base_dir
        env.update(
            HOME=str(base),  # the Erlang cookie lives here; the CLI tools need the same
            RABBITMQ_NODENAME=self.node_name,
            RABBITMQ_NODE_IP_ADDRESS="127.0.0.1",
            RABBITMQ_NODE_PORT=str(self.amqp_port),
            RABBITMQ_DIST_PORT=str(self.config.dist_port),
            RABBITMQ_MNESIA_BASE=str(self.data_dir),
            RABBITMQ_LOG_BASE=str(self.log_dir),
            RABBITMQ_ENABLED_PLUGINS_FILE=str(base / "enabled_plugins"),
            RABBITMQ_CONFIG_FILE=str(base / "rabbitmq"),  # without .conf
            RABBITMQ_ADVANCED_CONFIG_FILE=str(base / "advanced.config"),
            RABBITMQ_CONF_ENV_FILE=str(base / "rabbitmq-env.conf"),
            RABBITMQ_PID_FILE=str(self._pid_file),
        )
        if os.name == "nt":
            env["RABBITMQ_BASE"] = str(base)
        return env

    # ----------------------------------------------------------------- internals

    @property
    def _pid_file(self) -> Path:
        return self.base_dir / "node.pid"

    def _require_server(self) -> ServerInstall:
        if self.server is None:
            raise LocalBrokerError(install_hint())
        return self.server

    def _load_config(self) -> NodeConfig | None:
        path = self.base_dir / STATE_FILE
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return NodeConfig(
                node_name=str(data["node_name"]),
                amqp_port=int(data["amqp_port"]),
                dist_port=int(data["dist_port"]),
                management_port=(
                    int(data["management_port"]) if data.get("management_port") else None
                ),
            )
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def _prepare_files(self) -> None:
        base = self.base_dir
        for folder in (base, self.data_dir, self.log_dir):
            folder.mkdir(parents=True, exist_ok=True)
        config = self.config
        (base / STATE_FILE).write_text(
            json.dumps(
                {
                    "node_name": config.node_name,
                    "amqp_port": config.amqp_port,
                    "dist_port": config.dist_port,
                    "management_port": config.management_port,
                },
                indent=2,
            ),
            encoding="utf-8",
        )
        lines = [
            f"listeners.tcp.1 = 127.0.0.1:{config.amqp_port}",
            "loopback_users.guest = true",
            "log.file.level = info",
            "log.console = false",
        ]
        plugins = "[]."
        if config.management_port is not None:
            lines += [
                f"management.tcp.port = {config.management_port}",
                "management.tcp.ip = 127.0.0.1",
            ]
            plugins = "[rabbitmq_management]."
        (base / "rabbitmq.conf").write_text("\n".join(lines) + "\n", encoding="utf-8")
        (base / "enabled_plugins").write_text(plugins + "\n", encoding="utf-8")
        (base / "advanced.config").write_text("[].\n", encoding="utf-8")
        (base / "rabbitmq-env.conf").write_text(
            "# Kanin's private node: settings come from the environment.\n", encoding="utf-8"
        )

    def _read_pid(self) -> int | None:
        try:
            return int(self._pid_file.read_text(encoding="ascii").strip())
        except (OSError, ValueError):
            return None

    def _pid_alive(self) -> bool:
        """True when the pid file names this folder's live Erlang VM (its ``-home``)."""
        pid = self._read_pid()
        if pid is None:
            return False
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            pass  # alive, owned by someone else: check its command line below
        proc = Path(f"/proc/{pid}")
        if proc.exists():  # Linux: make sure a reused pid is not taken for the node
            try:
                stat = (proc / "stat").read_bytes()
                if stat[stat.rfind(b")") + 2 : stat.rfind(b")") + 3] in (b"Z", b"X"):
                    return False  # exited, not yet reaped
                args = (proc / "cmdline").read_bytes().split(b"\0")
            except OSError:
                return False
            if args == [b""]:
                return True  # exiting: its memory is gone, its sockets may not be yet
            home = str(self.base_dir.resolve()).encode()
            return any(a == b"-home" and b == home for a, b in zip(args, args[1:], strict=False))
        return True

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
            if _port_open(self.amqp_port, 0.2):
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
