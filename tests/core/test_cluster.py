"""The local cluster's layout without starting it: names, ports, shared cookie, peer discovery."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from core.broker_install import ServerInstall
from core.cluster import ClusterStatus, LocalCluster, NodeState
from core.local_broker import LocalBrokerError
from core.quorum import QueueStatus, Replica


@pytest.fixture
def server(tmp_path: Path) -> ServerInstall:
    return ServerInstall(tmp_path / "bin")  # never run: nothing here starts a node


def test_nodes_get_their_own_names_folders_and_distinct_ports(tmp_path, server):
    cluster = LocalCluster(tmp_path / "c", nodes=3, prefix="kt", server=server)
    assert [n.node_name for n in cluster.nodes] == [f"kt-{i}@localhost" for i in (1, 2, 3)]
    assert [n.base_dir.name for n in cluster.nodes] == ["kt-1", "kt-2", "kt-3"]
    used = [p for n in cluster.nodes for p in (n.amqp_port, n.config.dist_port)]
    assert len(set(used)) == 6
    assert cluster.url_list.split(",") == [n.amqp_url for n in cluster.nodes]


def test_a_node_is_found_by_full_name_short_name_or_number(tmp_path, server):
    cluster = LocalCluster(tmp_path / "c", nodes=3, prefix="kt", server=server)
    second = cluster.nodes[1]
    assert cluster.node("kt-2@localhost") is second
    assert cluster.node("kt-2") is second
    assert cluster.node("2") is second
    with pytest.raises(LocalBrokerError, match="No node called 'kt-9'"):
        cluster.node("kt-9")


def test_every_node_gets_the_same_private_cookie_and_lists_all_peers(tmp_path, server):
    cluster = LocalCluster(tmp_path / "c", nodes=3, prefix="kt", server=server)
    cluster._write_shared_files()  # noqa: SLF001 - what start() writes before launching
    cookies = {(n.base_dir / ".erlang.cookie").read_text() for n in cluster.nodes}
    assert len(cookies) == 1
    assert len(cookies.pop()) >= 20
    if os.name != "nt":
        mode = stat.S_IMODE((cluster.nodes[0].base_dir / ".erlang.cookie").stat().st_mode)
        assert mode == 0o400
    node = cluster.nodes[2]
    node._prepare_files()  # noqa: SLF001 - what LocalBroker.start() writes
    conf = (node.base_dir / "rabbitmq.conf").read_text()
    assert "cluster_formation.peer_discovery_backend = classic_config" in conf
    for i in (1, 2, 3):
        assert f"cluster_formation.classic_config.nodes.{i} = kt-{i}@localhost" in conf
    assert f"listeners.tcp.1 = 127.0.0.1:{node.amqp_port}" in conf


def test_a_second_cluster_object_reuses_the_kept_count_prefix_and_ports(tmp_path, server):
    first = LocalCluster(tmp_path / "c", nodes=2, prefix="kt", server=server)
    first._write_shared_files()  # noqa: SLF001
    for node in first.nodes:
        node._prepare_files()  # noqa: SLF001 - keeps node.json
    again = LocalCluster(tmp_path / "c", server=server)
    assert [n.node_name for n in again.nodes] == ["kt-1@localhost", "kt-2@localhost"]
    assert again.urls == first.urls
    with pytest.raises(LocalBrokerError, match="has 2 nodes"):
        LocalCluster(tmp_path / "c", nodes=3, server=server)


def test_status_json_has_nodes_and_the_leader():
    status = ClusterStatus(
        (
            NodeState("k-1@localhost", 21001, True, 42),
            NodeState("k-2@localhost", 21002, False, None),
        ),
        QueueStatus(
            "task_queue",
            (
                Replica("k-1@localhost", "leader", 9, True),
                Replica("k-2@localhost", "nodedown", None, False),
            ),
        ),
    )
    data = json.loads(json.dumps(status.as_dict()))
    assert data["leader"] == "k-1@localhost"
    assert [(n["name"], n["port"], n["running"]) for n in data["nodes"]] == [
        ("k-1@localhost", 21001, True),
        ("k-2@localhost", 21002, False),
    ]
    assert data["in_sync"] == ["k-1@localhost"]
    assert ClusterStatus((), None).as_dict()["leader"] is None
