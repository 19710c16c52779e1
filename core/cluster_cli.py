"""``kanin cluster ...``: start, inspect, break and stop a private RabbitMQ cluster on this machine.

- ``kanin cluster start [--nodes N]`` starts the nodes (or reuses the running
  ones), declares the task queue as a quorum queue with a replica on every node,
  and prints as its last line ``KANIN_URL=<url>,<url>,...``.
- ``kanin cluster status [--json]``: each node (name, AMQP port, running, pid)
  and the task queue's leader and in-sync replicas.
- ``kanin cluster kill NODE`` (SIGKILL, like a crash), ``stop-node NODE``,
  ``start-node NODE``, ``stop [--wipe]``.

A NODE is written ``kanin-2@localhost``, ``kanin-2`` or ``2``. Exit codes as
``core.cli``: 0 done, 1 a node failed or RabbitMQ is missing, 2 bad usage.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, TextIO

from core.cluster import DEFAULT_NODES, ClusterStatus, LocalCluster
from core.local_broker import LocalBrokerError
from core.topology import DEFAULT_QUEUE

EXIT_OK = 0
EXIT_BROKER = 1
EXIT_USAGE = 2


def add_cluster_command(commands: Any) -> None:
    """Add ``cluster`` and its subcommands to the top-level subparsers."""
    cluster = commands.add_parser(
        "cluster",
        help="run a private RabbitMQ cluster on this machine (quorum failover demo)",
        description="A private cluster of RabbitMQ nodes from the installed rabbitmq-server, "
        "with data and logs in the user data folder.",
    )
    cluster.add_argument("--dir", default=None, help=argparse.SUPPRESS)
    cluster.add_argument("--prefix", default=None, help=argparse.SUPPRESS)
    cluster.add_argument(
        "--queue", default=DEFAULT_QUEUE, help=f"the task queue (default: {DEFAULT_QUEUE})"
    )
    actions = cluster.add_subparsers(dest="action", metavar="ACTION", required=True)
    start = actions.add_parser("start", help="start the cluster (or reuse it); prints KANIN_URL")
    start.add_argument(
        "--nodes", type=int, default=None, help=f"how many nodes (default {DEFAULT_NODES})"
    )
    start.add_argument(
        "--management", action="store_true", help="enable the management HTTP API on every node"
    )
    status = actions.add_parser("status", help="each node's state and the queue's replicas")
    status.add_argument("--json", action="store_true", help="print one JSON object")
    for name, text in (
        ("kill", "kill a node abruptly (SIGKILL of its Erlang VM, like a crash)"),
        ("stop-node", "stop a node cleanly"),
        ("start-node", "start a node again (it rejoins; its replicas catch up)"),
    ):
        action = actions.add_parser(name, help=text)
        action.add_argument("node", metavar="NODE", help="kanin-2@localhost, kanin-2 or 2")
    stop = actions.add_parser("stop", help="stop every node (data stays)")
    stop.add_argument("--wipe", action="store_true", help="also delete the cluster's data")


def run_cluster(args: argparse.Namespace, out: TextIO) -> int:
    """Run one ``kanin cluster`` action; returns the exit code."""
    nodes = getattr(args, "nodes", None)
    if nodes is not None and nodes < 1:
        print("kanin: --nodes must be 1 or more.", file=sys.stderr)
        return EXIT_USAGE
    try:
        cluster = LocalCluster(
            args.dir,
            nodes=nodes,
            prefix=args.prefix,
            management=True if getattr(args, "management", False) else None,
        )
        return _ACTIONS[args.action](cluster, args, out)
    except LocalBrokerError as exc:
        print(f"kanin: {exc}", file=sys.stderr)
        return EXIT_BROKER


def _start(cluster: LocalCluster, args: argparse.Namespace, out: TextIO) -> int:
    print(
        f"kanin: starting {len(cluster.nodes)} nodes in {cluster.base_dir} ...",
        file=sys.stderr,
        flush=True,
    )
    cluster.start(queue=args.queue)
    _print_status(cluster.status(args.queue), out)
    print(f"KANIN_URL={cluster.url_list}", file=out, flush=True)
    return EXIT_OK


def _status(cluster: LocalCluster, args: argparse.Namespace, out: TextIO) -> int:
    status = cluster.status(args.queue)
    if args.json:
        data = status.as_dict()
        data["urls"] = cluster.urls
        print(json.dumps(data, indent=2), file=out)
    else:
        _print_status(status, out)
    return EXIT_OK


def _kill(cluster: LocalCluster, args: argparse.Namespace, out: TextIO) -> int:
    pid = cluster.kill(args.node)
    name = cluster.node(args.node).node_name
    print(f"killed {name} (pid {pid})" if pid else f"{name} was not running", file=out)
    return EXIT_OK


def _stop_node(cluster: LocalCluster, args: argparse.Namespace, out: TextIO) -> int:
    stopped = cluster.stop_node(args.node)
    name = cluster.node(args.node).node_name
    print(f"stopped {name}" if stopped else f"{name} was not running", file=out)
    return EXIT_OK


def _start_node(cluster: LocalCluster, args: argparse.Namespace, out: TextIO) -> int:
    node = cluster.start_node(args.node)
    print(f"started {node.node_name} on 127.0.0.1:{node.amqp_port}", file=out)
    return EXIT_OK


def _stop(cluster: LocalCluster, args: argparse.Namespace, out: TextIO) -> int:
    stopped = cluster.stop(wipe=args.wipe)
    print(f"stopped {', '.join(stopped)}" if stopped else "no node was running", file=out)
    if args.wipe:
        print(f"deleted {cluster.base_dir}", file=out)
    return EXIT_OK


_ACTIONS = {
    "start": _start,
    "status": _status,
    "kill": _kill,
    "stop-node": _stop_node,
    "start-node": _start_node,
    "stop": _stop,
}


def _print_status(status: ClusterStatus, out: TextIO) -> None:
    queue = status.queue
    for node in status.nodes:
        state = f"running (pid {node.pid})" if node.running else "stopped"
        mark = "  leader" if node.name == status.leader else ""
        print(f"{node.name:<24} 127.0.0.1:{node.port:<6} {state}{mark}", file=out)
    if queue is None:
        print("queue: unknown (no node is running)", file=out)
    elif queue.error:
        print(f"queue {queue.name}: {queue.error}", file=out)
    else:
        print(f"queue {queue.name}: leader {queue.leader or 'none'}", file=out)
        for member in queue.members:
            sync = "in sync" if member.in_sync else "not in sync"
            index = (
                f", commit index {member.commit_index}" if member.commit_index is not None else ""
            )
            print(f"  replica on {member.node}: {member.state}{index}, {sync}", file=out)
    out.flush()
