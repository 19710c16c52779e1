"""Broker restart to recovery, on a private node (never the system broker).

A private node (``core.local_broker.LocalBroker``, own name, ports and data in a
temporary folder) runs a quorum queue with a pool of workers. Each cycle stops
the node (clients see 320 CONNECTION_FORCED), starts it again and polls its
AMQP port every 5 ms: the first accepted TCP connection is "the broker accepts
connections again". Recovery is the time from then until every worker has
reported ``WorkerConnected`` after its ``WorkerReconnecting``.
"""

from __future__ import annotations

import shutil
import socket
import tempfile
import threading
import time
import uuid
from pathlib import Path

from bench import common
from core.events import WorkerConnected, WorkerEvent, WorkerReconnecting
from core.local_broker import LocalBroker, LocalBrokerError, find_server
from core.pool import WorkerPool
from core.topology import QueueSpec, QueueType
from core.worker import WorkerOptions


class _Watcher:
    def __init__(self) -> None:
        self._cond = threading.Condition()
        self.connected: dict[str, float] = {}
        self.reconnecting: set[str] = set()

    def on_worker_event(self, event: WorkerEvent) -> None:
        with self._cond:
            if isinstance(event, WorkerReconnecting):
                self.reconnecting.add(event.worker)
            elif isinstance(event, WorkerConnected):
                self.connected[event.worker] = event.at
            self._cond.notify_all()

    def reset(self) -> None:
        with self._cond:
            self.connected.clear()
            self.reconnecting.clear()

    def wait_connected(self, names: list[str], timeout: float) -> dict[str, float]:
        with self._cond:
            ok = self._cond.wait_for(lambda: all(n in self.connected for n in names), timeout)
            if not ok:
                raise TimeoutError(f"connected: {sorted(self.connected)} of {names}")
            return dict(self.connected)


def _accepting(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


def available() -> str | None:
    """None when the benchmark can run, else why not."""
    if find_server() is None:
        return "rabbitmq-server is not installed"
    return None


def cycles(count: int, workers: int, options: WorkerOptions | None = None) -> list[float]:
    """``count`` restart-to-recovery times in seconds, with ``workers`` workers."""
    base = Path(tempfile.mkdtemp(prefix="kanin-bench-node-"))
    broker = LocalBroker(
        base, node_name=f"kanin-bench-{uuid.uuid4().hex[:6]}@localhost", start_timeout=90
    )
    results: list[float] = []
    pool: WorkerPool | None = None
    try:
        broker.start()
        url = broker.amqp_url
        queue = common.unique_queue("restart")
        common.declare(queue, QueueType.QUORUM, url)
        watcher = _Watcher()
        pool = WorkerPool(
            common.settings(url),
            QueueSpec(queue, QueueType.QUORUM),
            watcher,
            options or WorkerOptions(prefetch=1),
        )
        names = pool.add(workers)
        watcher.wait_connected(names, 30)
        for _ in range(count):
            watcher.reset()
            broker.stop(timeout=60)
            starter = threading.Thread(target=broker.start, name="bench-node-start", daemon=True)
            starter.start()
            while not _accepting(broker.amqp_port):
                if not starter.is_alive() and not _accepting(broker.amqp_port):
                    raise LocalBrokerError("the private node did not come back")
                time.sleep(0.005)
            accepted = time.monotonic()
            connected = watcher.wait_connected(names, 60)
            starter.join(60)
            missing = set(names) - watcher.reconnecting
            if missing:
                raise RuntimeError(f"workers never reported reconnecting: {sorted(missing)}")
            results.append(max(connected.values()) - accepted)
        common.delete(queue, url)
    finally:
        if pool is not None:
            pool.kill_all(timeout=15)
        try:
            broker.stop(timeout=60)
        finally:
            shutil.rmtree(base, ignore_errors=True)
    return results
