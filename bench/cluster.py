"""A private three-node cluster here: its memory and quorum failover (never the system broker).

``python -m bench.cluster [--runs N] [--management]`` starts a cluster in a
temporary folder (``core.cluster.LocalCluster``), reads every node's resident
memory (its Erlang VM and the VM's children, through ``psutil``) once the nodes
are idle, then runs ``core.failover.run_drill`` N times: 300 persistent tasks
on a fresh quorum queue with a replica on every node, 4 workers, the leader's
node killed (SIGKILL) after 50 tasks; failover is the time from the kill to
every worker having started a task again. Between runs the killed node is
started again (it rejoins). Not part of ``make bench`` yet.
"""

from __future__ import annotations

import argparse
import logging
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from pathlib import Path

import psutil

from core.cluster import LocalCluster
from core.failover import run_drill

MiB = 2**20


def node_rss(cluster: LocalCluster) -> dict[str, int]:
    """Each running node's resident memory: its VM and the VM's child processes, in bytes."""
    sizes: dict[str, int] = {}
    for node in cluster.nodes:
        pid = node.pid()
        if pid is None:
            continue
        process = psutil.Process(pid)
        total = process.memory_info().rss
        for child in process.children(recursive=True):
            try:
                total += child.memory_info().rss
            except psutil.Error:
                continue
        sizes[node.node_name] = total
    return sizes


def main(argv: Sequence[str] | None = None) -> int:
    """Run the measurement and print the figures."""
    parser = argparse.ArgumentParser(prog="python -m bench.cluster")
    parser.add_argument("--runs", type=int, default=3, help="failover drills (default 3)")
    parser.add_argument("--management", action="store_true", help="management plugin on")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)
    logging.getLogger("pika").setLevel(logging.CRITICAL)  # the killed node's connections
    base = Path(tempfile.mkdtemp(prefix="kanin-bench-cluster-"))
    cluster = LocalCluster(
        base, nodes=3, prefix=f"kb{uuid.uuid4().hex[:6]}", management=args.management
    )
    try:
        started = time.monotonic()
        cluster.start(queue="task_queue")
        print(f"cluster start (first time): {time.monotonic() - started:.1f} s", flush=True)
        sizes = node_rss(cluster)
        for name, size in sizes.items():
            print(f"  {name}: {size / MiB:.0f} MiB")
        print(f"memory of the 3-node cluster, idle: {sum(sizes.values()) / MiB:.0f} MiB")
        failovers: list[float] = []
        lost = 0
        for run in range(args.runs):
            result = run_drill(cluster, tasks=300, workers=4, kill_after=50)
            lost += result.lost
            seconds = result.failover_seconds
            shown = "never" if seconds is None else f"{seconds:.2f} s"
            print(
                f"run {run + 1}: killed {result.killed}, failover {shown}, "
                f"lost {result.lost}, run twice {len(result.duplicates)} "
                f"(not redelivered: {len(result.duplicates_not_redelivered)}), "
                f"reconnected {list(result.reconnected)}"
            )
            if result.failover_seconds is not None:
                failovers.append(result.failover_seconds)
            started = time.monotonic()
            cluster.start_node(result.killed)
            print(f"  {result.killed} back in {time.monotonic() - started:.1f} s")
        if failovers:
            print(
                f"failover median of {len(failovers)}: {statistics.median(failovers):.2f} s "
                f"(all: {', '.join(f'{f:.2f}' for f in failovers)}); tasks lost: {lost}"
            )
        sizes = node_rss(cluster)
        print(f"memory of the 3-node cluster after the drills: {sum(sizes.values()) / MiB:.0f} MiB")
    finally:
        cluster.stop(timeout=60)
        shutil.rmtree(base, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
