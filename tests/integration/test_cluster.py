"""A private three-node cluster (never the system broker): failover, rejoin, URL lists, names.

The cluster is started once for the module and torn down afterwards, whatever
happens. The tests run in order and share it: the drill kills the queue
leader's node, the URL-list test runs with that node dead, and the last test
starts it again (with a second node stopped cleanly) and waits until both
replicas have caught up.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pika
import pytest

from core import identity
from core.cluster import LocalCluster
from core.events import WorkerConnected
from core.failover import run_drill
from core.local_broker import LocalBrokerError, find_server
from core.pool import WorkerPool
from core.producer import Producer
from core.settings import ConnectionSettings
from core.tasks import Task
from core.topology import QueueSpec, QueueType
from tests.helpers.recorder import Recorder

pytestmark = pytest.mark.timeout(300)

QUEUE = "task_queue"
ROOT = Path(__file__).resolve().parents[2]
KILLED: list[str] = []  # the node the drill killed, for the tests after it


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCluster]:
    if find_server() is None:
        pytest.skip("rabbitmq-server is not installed")
    base = tmp_path_factory.mktemp("cluster")
    made = LocalCluster(base, nodes=3, prefix=f"kt{uuid.uuid4().hex[:6]}", start_timeout=150)
    try:
        made.start(queue=QUEUE)
        yield made
    finally:
        with contextlib.suppress(LocalBrokerError):
            made.stop(timeout=30)
        for node in made.nodes:  # a node that would not stop
            with contextlib.suppress(LocalBrokerError):
                made.kill(node.node_name)
        shutil.rmtree(base, ignore_errors=True)


def kanin(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "core", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
        env=os.environ,
        check=False,
    )


def ready(url: str, queue: str) -> int:
    connection = pika.BlockingConnection(pika.URLParameters(url))
    try:
        return int(connection.channel().queue_declare(queue, passive=True).method.message_count)
    finally:
        connection.close()


def test_status_json_names_every_node_and_the_leader(cluster):
    result = kanin("cluster", "--dir", str(cluster.base_dir), "status", "--json")
    assert result.returncode == 0, result.stderr
    status = json.loads(result.stdout)
    assert [(n["name"], n["port"], n["running"]) for n in status["nodes"]] == [
        (n.node_name, n.amqp_port, True) for n in cluster.nodes
    ]
    assert all(isinstance(n["pid"], int) for n in status["nodes"])
    assert status["leader"] in {n.node_name for n in cluster.nodes}
    assert sorted(status["in_sync"]) == sorted(n.node_name for n in cluster.nodes)
    assert status["urls"] == cluster.urls


def test_leader_killed_mid_drain_loses_nothing(cluster):
    result = run_drill(cluster, tasks=300, workers=4, kill_after=50, work_seconds=0.05)
    KILLED.append(result.killed)
    print(f"\ndrill: {result}")
    assert not cluster.node(result.killed).is_running()
    assert (result.completed, result.lost) == (300, 0)
    assert result.duplicates_not_redelivered == ()  # a task ran twice only if redelivered
    assert result.failover_seconds is not None  # every worker consumed again
    assert result.reconnected == result.on_killed_node  # those, and only those, reconnected


def test_a_url_list_with_a_dead_node_still_connects_and_names_its_connections(cluster):
    dead = cluster.node(KILLED[0] if KILLED else cluster.nodes[0].node_name)
    if dead.is_running():
        cluster.kill(dead.node_name)
    live = [n for n in cluster.nodes if n is not dead]
    queue = f"urls-{uuid.uuid4().hex[:8]}"
    urls = ",".join([dead.amqp_url] + [n.amqp_url for n in live])  # the dead node first
    sent = kanin("new-task", "--url", urls, "--queue", queue, "--count", "20", "hello")
    assert sent.returncode == 0, sent.stderr
    assert sent.stdout.count(" [x] Sent hello") == 20
    worked = kanin(
        "worker", "--url", urls, "--queue", queue, "--max-tasks", "20", "--concurrency", "4"
    )
    assert worked.returncode == 0, worked.stderr
    assert worked.stdout.count(" [x] Done") >= 20
    # In this process: 12 workers spread over the live nodes, each connection named.
    recorder = Recorder()
    pool = WorkerPool(ConnectionSettings.from_urls([urls]), QueueSpec(queue), recorder)
    try:
        names = pool.add(12)
        recorder.wait_count(WorkerConnected, 12, timeout=60)
        seen = {n.node_name: cluster.connection_names(n.node_name) for n in live}
    finally:
        pool.stop_all(timeout=15)
        with contextlib.suppress(Exception):
            connection = pika.BlockingConnection(pika.URLParameters(live[0].amqp_url))
            connection.channel().queue_delete(queue)
            connection.close()
    expected = {identity.connection_name(name) for name in names}
    on_nodes = [set(found) & expected for found in seen.values()]
    assert set().union(*on_nodes) == expected  # every worker found by name
    assert all(on_nodes), f"workers did not spread over the live nodes: {seen}"


def test_stopped_and_killed_nodes_rejoin_and_their_replicas_catch_up(cluster):
    dead = cluster.node(KILLED[0] if KILLED else cluster.nodes[0].node_name)
    if dead.is_running():
        cluster.kill(dead.node_name)
    live = [n for n in cluster.nodes if n is not dead]
    settings = ConnectionSettings.from_urls([n.amqp_url for n in live])
    producer = Producer(settings, QueueSpec(QUEUE, QueueType.QUORUM))
    try:
        producer.start()
        for future in producer.submit(
            Task.new(f"while {dead.node_name} is down") for _ in range(50)
        ):
            future.result(timeout=60)
    finally:
        producer.close(timeout=10)
    before = cluster.status(QUEUE).queue
    assert before is not None
    assert before.leader is not None
    leader_commit = next(m.commit_index for m in before.members if m.node == before.leader)
    assert leader_commit is not None
    lagging = next(m for m in before.members if m.node == dead.node_name)
    assert not lagging.in_sync
    stopped = live[1]
    assert cluster.stop_node(stopped.node_name)  # cleanly: SIGTERM, the VM shuts down
    assert not stopped.is_running()
    with ThreadPoolExecutor(2) as pool:  # both at once: the queue needs 2 of 3 for a quorum
        starts = [pool.submit(cluster.start_node, n.node_name) for n in (dead, stopped)]
        for start in starts:
            start.result(timeout=240)
    deadline = time.monotonic() + 60
    while True:
        queue = cluster.status(QUEUE).queue
        assert queue is not None
        members = {m.node: m for m in queue.members}
        caught_up = all(
            members[n.node_name].in_sync
            and (members[n.node_name].commit_index or 0) >= leader_commit
            for n in cluster.nodes
        )
        if caught_up or time.monotonic() > deadline:
            break
    assert caught_up, f"replicas did not catch up: {queue}"
    assert ready(dead.amqp_url, QUEUE) == 50  # the restarted node serves every task
