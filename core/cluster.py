"""A private RabbitMQ cluster on this machine: N ``LocalBroker`` nodes sharing one Erlang cookie.

Each node is a ``core.local_broker.LocalBroker`` in its own folder under the
cluster's folder (by default ``platformdirs.user_data_dir("kanin")/cluster``):
``kanin-1@localhost``, ``kanin-2@localhost``, ... with their own AMQP,
distribution (and management) ports, data and logs. They join one cluster
through RabbitMQ's ``classic_config`` peer discovery (every node's
``rabbitmq.conf`` lists all of them), so no ``join_cluster`` call is needed:
the first node starts alone the first time, then the others join it while
they boot. Later starts launch every node at once (a node waits for its peers'
tables at boot). The same ``.erlang.cookie`` is copied into every node's
``HOME``, which is what lets them, and ``rabbitmqctl``, talk to each other.

The cluster can kill a node (SIGKILL of its Erlang VM, like a crashed machine),
stop one cleanly, start it again (it rejoins; its quorum replicas catch up),
and report each node's state; ``core.quorum`` reads the task queue's leader and
replicas. Everything here blocks for seconds: call it off the GUI thread.
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import os
import secrets
import shutil
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import pika
import platformdirs

from core import ports
from core.broker_install import ServerInstall, find_server, install_hint
from core.local_broker import APP_NAME, LocalBroker, LocalBrokerError
from core.node_process import find_node, wait_ended
from core.quorum import QueueStatus, quorum_status
from core.topology import QueueSpec, QueueType, declare_queue

log = logging.getLogger(__name__)

DEFAULT_NODES = 3
DEFAULT_PREFIX = "kanin"
CLUSTER_FILE = "cluster.json"
COOKIE_FILE = ".erlang.cookie"

T = TypeVar("T")


def default_cluster_dir() -> Path:
    """The cluster's folder under the user's data directory."""
    return Path(platformdirs.user_data_dir(APP_NAME)) / "cluster"


@dataclass(frozen=True)
class NodeState:
    """One node as ``status()`` saw it.

    Attributes:
        name: the Erlang node name, e.g. ``kanin-1@localhost``.
        port: its AMQP port on 127.0.0.1.
        running: its Erlang VM is alive and AMQP accepts connections.
        pid: the VM's OS pid while it runs.
        management_port: the management HTTP port, or ``None``.
    """

    name: str
    port: int
    running: bool
    pid: int | None
    management_port: int | None = None


@dataclass(frozen=True)
class ClusterStatus:
    """Every node's state and the task queue's replicas.

    Attributes:
        nodes: one entry per node, in order.
        queue: the task queue's replicas and leader, or ``None`` when no node runs.
    """

    nodes: tuple[NodeState, ...]
    queue: QueueStatus | None

    @property
    def leader(self) -> str | None:
        """The node leading the task queue, or ``None``."""
        return self.queue.leader if self.queue is not None else None

    def as_dict(self) -> dict[str, object]:
        """The JSON form printed by ``kanin cluster status --json``."""
        return {
            "nodes": [
                {
                    "name": n.name,
                    "port": n.port,
                    "running": n.running,
                    "pid": n.pid,
                    "management_port": n.management_port,
                }
                for n in self.nodes
            ],
            "queue": self.queue.name if self.queue is not None else None,
            "leader": self.leader,
            "members": [m.as_dict() for m in self.queue.members] if self.queue else [],
            "in_sync": list(self.queue.in_sync) if self.queue is not None else [],
            "error": self.queue.error if self.queue is not None else None,
        }


def _run_all(calls: Sequence[Callable[[], T]]) -> list[T]:
    """Run blocking calls at once in threads; raise the first failure after all have ended."""
    if len(calls) == 1:
        return [calls[0]()]
    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        futures = [pool.submit(call) for call in calls]
    return [future.result() for future in futures]


class LocalCluster:
    """N private nodes on this machine, joined into one cluster.

    The node count, name prefix and management choice are kept in
    ``base_dir/cluster.json``; a later ``LocalCluster`` on the same folder
    reuses them (and each node's kept ports).

    Args:
        base_dir: the cluster's folder (default: ``default_cluster_dir()``).
        nodes: how many nodes (default: the kept count, else 3).
        prefix: node names are ``<prefix>-1@localhost``, ...; tests use their own
            so they never meet the user's cluster (Erlang names are unique per host).
        management: enable the management plugin on every node (about 2 s more
            per start, more memory).
        server: the install to use (default: ``find_server()``).
        start_timeout: seconds each node may take to accept AMQP.

    Raises:
        LocalBrokerError: RabbitMQ is not installed, or ``nodes`` differs from the
            kept cluster's count.
    """

    def __init__(
        self,
        base_dir: Path | str | None = None,
        *,
        nodes: int | None = None,
        prefix: str | None = None,
        management: bool | None = None,
        server: ServerInstall | None = None,
        start_timeout: float = 120.0,
    ) -> None:
        self.base_dir = Path(base_dir) if base_dir is not None else default_cluster_dir()
        found = server if server is not None else find_server()
        if found is None:
            raise LocalBrokerError(install_hint())
        self.server = found
        kept = self._load()
        kept_count = int(str(kept["nodes"])) if "nodes" in kept else None
        if nodes is not None and kept_count is not None and nodes != kept_count:
            raise LocalBrokerError(
                f"The cluster in {self.base_dir} has {kept_count} nodes; "
                f"stop it with --wipe to make one of {nodes}."
            )
        count = nodes or kept_count or DEFAULT_NODES
        if count < 1:
            raise LocalBrokerError("A cluster needs at least one node.")
        self.prefix = prefix or str(kept.get("prefix") or DEFAULT_PREFIX)
        self.management = bool(kept.get("management")) if management is None else management
        names = [f"{self.prefix}-{i}@localhost" for i in range(1, count + 1)]
        peers = [
            f"cluster_formation.classic_config.nodes.{i} = {n}" for i, n in enumerate(names, 1)
        ]
        extra = [
            "cluster_formation.peer_discovery_backend = classic_config",
            *peers,
            "cluster_formation.randomized_startup_delay_range.min = 0",
            "cluster_formation.randomized_startup_delay_range.max = 1",
            "cluster_partition_handling = ignore",
        ]
        used: list[int] = []
        self.nodes: list[LocalBroker] = []
        for name in names:
            folder = self.base_dir / name.split("@", 1)[0]
            picked: list[int | None] = [None, None, None]
            if not (folder / "node.json").exists():  # new node: ports distinct from its peers'
                for index in range(3 if self.management else 2):
                    picked[index] = port = ports.free_port(used)
                    used.append(port)
            broker = LocalBroker(
                folder,
                node_name=name,
                management=self.management,
                server=self.server,
                start_timeout=start_timeout,
                extra_config=extra,
                amqp_port=picked[0],
                dist_port=picked[1],
                management_port=picked[2],
            )
            used += [p for p in (broker.amqp_port, broker.config.dist_port) if p]
            self.nodes.append(broker)

    # ----------------------------------------------------------------- facts

    @property
    def urls(self) -> list[str]:
        """One AMQP URL per node (user ``guest``, allowed from 127.0.0.1 only)."""
        return [node.amqp_url for node in self.nodes]

    @property
    def url_list(self) -> str:
        """The URLs comma separated: the form ``--url`` and ``KANIN_URL`` accept."""
        return ",".join(self.urls)

    def node(self, name: str) -> LocalBroker:
        """The node called ``name``: ``kanin-2@localhost``, ``kanin-2`` or just ``2``.

        Raises:
            LocalBrokerError: no such node.
        """
        wanted = name.strip()
        for index, node in enumerate(self.nodes, 1):
            short = node.node_name.split("@", 1)[0]
            if wanted in (node.node_name, short, str(index)):
                return node
        known = ", ".join(n.node_name for n in self.nodes)
        raise LocalBrokerError(f"No node called {name!r} in this cluster; its nodes are {known}.")

    def running_nodes(self) -> list[LocalBroker]:
        """The nodes whose VM is alive and whose AMQP port accepts connections."""
        return [node for node in self.nodes if node.is_running()]

    def status(self, queue: str | None = None) -> ClusterStatus:
        """Every node's state and, when ``queue`` is given, its replicas (asked of a live node)."""
        states = []
        for node in self.nodes:
            pid = node.pid()
            running = pid is not None and ports.port_open(node.amqp_port)
            states.append(
                NodeState(node.node_name, node.amqp_port, running, pid, node.management_port)
            )
        queue_status = None
        if queue is not None:
            live = [n for n, s in zip(self.nodes, states, strict=True) if s.running]
            if live:
                script = self.server.bin_dir / f"rabbitmq-queues{self.server.suffix}"
                queue_status = quorum_status(live[0], queue, script=str(script))
        return ClusterStatus(tuple(states), queue_status)

    # ----------------------------------------------------------------- control

    def start(self, queue: str | None = None) -> None:
        """Start every node not running (or adopt it) and wait until all accept AMQP.

        The first time, node 1 starts alone and the others join it as they
        boot; afterwards all start at once. Then the cluster's membership is
        checked and, when ``queue`` is given, the queue is declared as a quorum
        queue (tutorial arguments) so that it gets a replica on every node.

        Raises:
            LocalBrokerError: a node did not start, or the nodes did not form one cluster.
        """
        self._write_shared_files()
        first, rest = self.nodes[0], self.nodes[1:]
        if not _has_data(first):
            first.start()
            _run_all([node.start for node in rest])
        else:
            _run_all([node.start for node in self.nodes])
        self._check_membership()
        if queue is not None:
            self.declare_queue(queue)

    def start_node(self, name: str) -> LocalBroker:
        """Start one node again (it rejoins the cluster; its replicas catch up)."""
        node = self.node(name)
        self._write_shared_files()
        node.start()
        return node

    def stop_node(self, name: str, timeout: float = 60.0) -> bool:
        """Stop one node cleanly (SIGTERM: the VM shuts down gracefully).

        Returns:
            True when it was running and has stopped.
        """
        return self.node(name).stop(timeout)

    def kill(self, name: str, timeout: float = 10.0) -> int | None:
        """Kill one node abruptly: SIGKILL its Erlang VM, as when a machine crashes.

        Returns:
            The pid killed, or ``None`` when the node was not running.

        Raises:
            LocalBrokerError: the process did not end in time.
        """
        node = self.node(name)
        process = find_node(node.folder.read_pid(), node.node_name, node.base_dir)
        if process is None:
            return None
        pid = process.pid
        log.info("Killing node %s (pid %d).", node.node_name, pid)
        process.kill()
        if not wait_ended(process, timeout):
            raise LocalBrokerError(f"Node {node.node_name} (pid {pid}) did not die.")
        return pid

    def stop(self, *, wipe: bool = False, timeout: float = 60.0) -> list[str]:
        """Stop every running node cleanly, all at once; with ``wipe``, delete the cluster's folder.

        Returns:
            The names of the nodes that were running.
        """
        stopped = _run_all([functools.partial(n.stop, timeout) for n in self.nodes])
        if wipe:
            shutil.rmtree(self.base_dir, ignore_errors=True)
        return [n.node_name for n, was in zip(self.nodes, stopped, strict=True) if was]

    def connection_names(self, name: str) -> list[str]:
        """The ``connection_name`` of every client connected to node ``name`` ("" when unnamed).

        Kanin's connections are named by ``core.identity`` (command, worker, host, pid).

        Raises:
            LocalBrokerError: the node did not answer.
        """
        output = self.node(name).ctl(
            "list_connections", "client_properties", "--formatter", "json", timeout=60
        )
        try:
            rows = json.loads(output)
        except ValueError as exc:
            raise LocalBrokerError(f"Unexpected list_connections output: {output[:200]}") from exc
        names = []
        for row in rows if isinstance(rows, list) else []:
            properties = row.get("client_properties", []) if isinstance(row, dict) else []
            found = [p[2] for p in properties if len(p) == 3 and p[0] == "connection_name"]
            names.append(str(found[0]) if found else "")
        return names

    def declare_queue(self, queue: str) -> None:
        """Declare ``queue`` durable and quorum (the tutorial's arguments) on a live node.

        A quorum queue declared while every node runs gets a replica on each.
        """
        live = self.running_nodes()
        if not live:
            raise LocalBrokerError("No node of the cluster is running.")
        connection = pika.BlockingConnection(pika.URLParameters(live[0].amqp_url))
        try:
            declare_queue(connection, QueueSpec(queue, QueueType.QUORUM))
        finally:
            if connection.is_open:
                connection.close()

    # ----------------------------------------------------------------- internals

    def _load(self) -> dict[str, object]:
        try:
            data = json.loads((self.base_dir / CLUSTER_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def _write_shared_files(self) -> None:
        """``cluster.json`` and the one Erlang cookie, copied into every node's ``HOME``."""
        self.base_dir.mkdir(parents=True, exist_ok=True)
        (self.base_dir / CLUSTER_FILE).write_text(
            json.dumps(
                {"nodes": len(self.nodes), "prefix": self.prefix, "management": self.management},
                indent=2,
            ),
            encoding="utf-8",
        )
        cookie_file = self.base_dir / COOKIE_FILE
        if not cookie_file.exists():
            _write_private(cookie_file, secrets.token_hex(20).upper())
        cookie = cookie_file.read_text(encoding="ascii").strip()
        for node in self.nodes:
            target = node.base_dir / COOKIE_FILE
            with contextlib.suppress(OSError):
                if target.read_text(encoding="ascii").strip() == cookie:
                    continue
            node.base_dir.mkdir(parents=True, exist_ok=True)
            _write_private(target, cookie)

    def _check_membership(self) -> None:
        """Fail when the nodes did not form one cluster (node 1 must see every node running)."""
        output = self.nodes[0].ctl("cluster_status", "--formatter", "json", timeout=60)
        try:
            running = set(json.loads(output).get("running_nodes", []))
        except ValueError as exc:
            raise LocalBrokerError(f"Unexpected cluster_status output: {output[:200]}") from exc
        missing = [n.node_name for n in self.nodes if n.node_name not in running]
        if missing:
            raise LocalBrokerError(
                f"Nodes {', '.join(missing)} did not join {self.nodes[0].node_name}'s cluster; "
                f"stop the cluster with --wipe and start it again."
            )


def _has_data(node: LocalBroker) -> bool:
    """True when the node has booted before (its Mnesia folder holds anything)."""
    with contextlib.suppress(OSError):
        return any(node.data_dir.iterdir())
    return False


def _write_private(path: Path, text: str) -> None:
    """Write a file only its owner may read (Erlang refuses a cookie others can read)."""
    with contextlib.suppress(OSError):
        path.chmod(0o600)
    path.write_text(text, encoding="ascii")
    if os.name != "nt":
        path.chmod(0o400)
