"""The private node's folder: kept name and ports, config files, environment for its scripts.

Layout of a node folder (``LocalBroker.base_dir``)::

    node.json          the node's name and ports, kept for the next run
    node.pid           the Erlang VM's pid, written by the node
    rabbitmq.conf      listeners on 127.0.0.1, the management port when enabled
    enabled_plugins    ``[].`` or ``[rabbitmq_management].``
    advanced.config, rabbitmq-env.conf    empty: settings come from the environment
    mnesia/            queues and messages
    log/               the node's logs and the launcher's output (startup.out)
"""

from __future__ import annotations

import contextlib
import json
import os
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from core.ports import free_port, port_free

STATE_FILE = "node.json"


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


def choose_name(saved: NodeConfig | None, node_name: str | None = None) -> str:
    """The node's name: ``node_name``, else the saved one, else a new ``kanin-XXXXXX@localhost``.

    ``@localhost`` is added to a name without a host.
    """
    name = node_name or (saved.node_name if saved else f"kanin-{uuid.uuid4().hex[:6]}@localhost")
    return name if "@" in name else f"{name}@localhost"


def choose_config(
    saved: NodeConfig | None,
    *,
    node_name: str | None = None,
    amqp_port: int | None = None,
    dist_port: int | None = None,
    management: bool = False,
    management_port: int | None = None,
    running: bool = False,
) -> NodeConfig:
    """The name and ports to use: explicit values, else the saved ones, else new ones.

    A saved port is kept while it is free (or while the saved node runs and
    holds it); a port found taken by someone else is replaced by a free one.

    Args:
        saved: what ``node.json`` holds, if anything.
        node_name: the name to use; ``@localhost`` is added when it has no host.
        amqp_port: the AMQP port to use.
        dist_port: the distribution port to use.
        management: whether the management plugin gets a port.
        management_port: its port.
        running: True when the saved node is running (its ports are its own); it
            counts only when the chosen name is the saved one.

    Raises:
        core.ports.NoFreePortError: when no free port is found.
    """
    name = choose_name(saved, node_name)
    running = running and saved is not None and saved.node_name == name
    used: list[int] = []

    def pick(explicit: int | None, previous: int | None) -> int:
        if explicit is not None:
            port = explicit
        elif previous is not None and (running or port_free(previous)) and previous not in used:
            port = previous
        else:
            port = free_port(used)
        used.append(port)
        return port

    amqp = pick(amqp_port, saved.amqp_port if saved else None)
    dist = pick(dist_port, saved.dist_port if saved else None)
    mgmt = pick(management_port, saved.management_port if saved else None) if management else None
    return NodeConfig(name, amqp, dist, mgmt)


@dataclass(frozen=True)
class NodeFolder:
    """The files of one private node under ``base``.

    Attributes:
        base: the node's folder.
    """

    base: Path

    @property
    def data_dir(self) -> Path:
        """Where the node keeps its queues and messages."""
        return self.base / "mnesia"

    @property
    def log_dir(self) -> Path:
        """Where the node writes its logs."""
        return self.base / "log"

    @property
    def pid_file(self) -> Path:
        """The Erlang VM's pid, written by the node (``RABBITMQ_PID_FILE``)."""
        return self.base / "node.pid"

    @property
    def state_file(self) -> Path:
        """``node.json``: the kept name and ports."""
        return self.base / STATE_FILE

    @property
    def launcher_log(self) -> Path:
        """What ``rabbitmq-server`` itself prints while launching the node."""
        return self.log_dir / "startup.out"

    def log_file(self, node_name: str) -> Path:
        """The node's main log file."""
        return self.log_dir / f"{node_name}.log"

    def log_tail(self, node_name: str, lines: int = 20) -> str:
        """The last lines of the node's logs (main log, then the launcher's output)."""
        parts = []
        for path in (self.log_file(node_name), self.launcher_log):
            with contextlib.suppress(OSError):
                text = path.read_text(encoding="utf-8", errors="replace").splitlines()
                if text:
                    parts.append(f"--- {path}\n" + "\n".join(text[-lines:]))
        return "\n".join(parts) or "(the node wrote no log)"

    def read_pid(self) -> int | None:
        """The pid in the pid file, or ``None`` when there is none."""
        try:
            return int(self.pid_file.read_text(encoding="ascii").strip())
        except (OSError, ValueError):
            return None

    def load_config(self) -> NodeConfig | None:
        """The name and ports saved by an earlier run, or ``None``."""
        try:
            data = json.loads(self.state_file.read_text(encoding="utf-8"))
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

    def write(self, config: NodeConfig, extra_config: Sequence[str] = ()) -> None:
        """Create the folders and write ``node.json`` and the node's config files.

        Args:
            config: the node's name and ports.
            extra_config: more ``rabbitmq.conf`` lines (a cluster's peer discovery).
        """
        base = self.base
        for folder in (base, self.data_dir, self.log_dir):
            folder.mkdir(parents=True, exist_ok=True)
        self.state_file.write_text(
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
        lines += extra_config
        (base / "rabbitmq.conf").write_text("\n".join(lines) + "\n", encoding="utf-8")
        (base / "enabled_plugins").write_text(plugins + "\n", encoding="utf-8")
        (base / "advanced.config").write_text("[].\n", encoding="utf-8")
        (base / "rabbitmq-env.conf").write_text(
            "# Kanin's private node: settings come from the environment.\n", encoding="utf-8"
        )

    def environment(
        self, config: NodeConfig, inherited: Mapping[str, str] | None = None
    ) -> dict[str, str]:
        """The environment for the server scripts: this node's name, ports and folders.

        Args:
            config: the node's name and ports.
            inherited: the environment to start from (default: ``os.environ``);
                its ``RABBITMQ_*`` and ``ERL_*`` variables are dropped.
        """
        source = os.environ if inherited is None else inherited
        env = {k: v for k, v in source.items() if not k.startswith(("RABBITMQ_", "ERL_"))}
        base = self.base
        env.update(
            HOME=str(base),  # the Erlang cookie lives here; the CLI tools need the same
            RABBITMQ_NODENAME=config.node_name,
            RABBITMQ_NODE_IP_ADDRESS="127.0.0.1",
            RABBITMQ_NODE_PORT=str(config.amqp_port),
            RABBITMQ_DIST_PORT=str(config.dist_port),
            RABBITMQ_MNESIA_BASE=str(self.data_dir),
            RABBITMQ_LOG_BASE=str(self.log_dir),
            RABBITMQ_ENABLED_PLUGINS_FILE=str(base / "enabled_plugins"),
            RABBITMQ_CONFIG_FILE=str(base / "rabbitmq"),  # without .conf
            RABBITMQ_ADVANCED_CONFIG_FILE=str(base / "advanced.config"),
            RABBITMQ_CONF_ENV_FILE=str(base / "rabbitmq-env.conf"),
            RABBITMQ_PID_FILE=str(self.pid_file),
        )
        if os.name == "nt":
            env["RABBITMQ_BASE"] = str(base)
        return env
