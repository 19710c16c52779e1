"""A quorum queue's replicas as ``rabbitmq-queues quorum_status`` reports them: leader, in sync.

``rabbitmq-queues -n NODE quorum_status QUEUE --formatter json`` lists one row
per replica (member node): its Raft state (``leader``, ``follower``, or an
error such as ``noproc`` for a replica whose node is down), log and commit
indexes, and term. A replica is counted *in sync* when it is the leader or a
follower whose commit index has reached the leader's: right after a restart a
follower is behind until it has caught up.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from typing import Protocol


class Node(Protocol):
    """What ``quorum_status`` needs of a node (``core.local_broker.LocalBroker`` has it)."""

    @property
    def node_name(self) -> str:
        """The Erlang node name."""

    def environment(self) -> dict[str, str]:
        """The node's environment for RabbitMQ's scripts."""


@dataclass(frozen=True)
class Replica:
    """One member of a quorum queue.

    Attributes:
        node: the node holding the replica.
        state: its Raft state: ``leader``, ``follower``, ``candidate``, or an error.
        commit_index: how far it has committed, or ``None`` when unknown (node down).
        in_sync: the leader, or a follower that has reached the leader's commit index.
    """

    node: str
    state: str
    commit_index: int | None
    in_sync: bool

    def as_dict(self) -> dict[str, object]:
        """The JSON form."""
        return {
            "name": self.node,
            "state": self.state,
            "commit_index": self.commit_index,
            "in_sync": self.in_sync,
        }


@dataclass(frozen=True)
class QueueStatus:
    """A quorum queue's members as one live node saw them.

    Attributes:
        name: the queue.
        members: its replicas, in the order reported.
        error: why the status is unknown (no such queue, no leader yet), else ``None``.
    """

    name: str
    members: tuple[Replica, ...] = ()
    error: str | None = None

    @property
    def leader(self) -> str | None:
        """The node leading the queue, or ``None``."""
        return next((m.node for m in self.members if m.state == "leader"), None)

    @property
    def in_sync(self) -> tuple[str, ...]:
        """The nodes whose replica is in sync."""
        return tuple(m.node for m in self.members if m.in_sync)


def _int(value: object) -> int | None:
    try:
        return int(str(value))
    except ValueError:
        return None


def _state(value: object) -> str:
    """A Raft state; a down member's is a list such as ``["nodedown", "kanin-3@localhost"]``."""
    if isinstance(value, list):
        return str(value[0]) if value else "?"
    return str(value)


def parse_status(queue: str, output: str) -> QueueStatus:
    """Read ``quorum_status --formatter json`` output.

    Args:
        queue: the queue's name.
        output: the command's standard output.

    Returns:
        The replicas, each marked in sync or not.
    """
    try:
        rows = json.loads(output)
    except ValueError:
        return QueueStatus(queue, error=output.strip()[:300] or "no output")
    if not isinstance(rows, list):
        return QueueStatus(queue, error=str(rows)[:300])
    raw = [
        (
            str(row.get("Node Name", "?")),
            _state(row.get("Raft State", "?")),
            _int(row.get("Commit Index")),
        )
        for row in rows
        if isinstance(row, dict)
    ]
    leader_commit = next((c for _, s, c in raw if s == "leader"), None)
    members = tuple(
        Replica(
            node,
            state,
            commit,
            state == "leader"
            or (
                state == "follower"
                and commit is not None
                and leader_commit is not None
                and commit >= leader_commit
            ),
        )
        for node, state, commit in raw
    )
    return QueueStatus(queue, members)


def quorum_status(node: Node, queue: str, *, script: str, timeout: float = 60.0) -> QueueStatus:
    """Ask ``node`` for ``queue``'s replicas with ``rabbitmq-queues quorum_status``.

    Args:
        node: a running node of the cluster.
        queue: the quorum queue.
        script: the ``rabbitmq-queues`` script.
        timeout: seconds before giving up.

    Returns:
        The replicas, or a status whose ``error`` says why they are unknown
        (the queue does not exist, has no leader, or the command failed).
    """
    command = [script, "-n", node.node_name, "quorum_status", queue, "--formatter", "json"]
    try:
        result = subprocess.run(  # noqa: S603 - fixed script, no shell
            command,
            env=node.environment(),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return QueueStatus(queue, error=f"quorum_status failed: {exc}")
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).strip().splitlines()
        return QueueStatus(queue, error=" ".join(detail)[:300] or "quorum_status failed")
    return parse_status(queue, result.stdout)
