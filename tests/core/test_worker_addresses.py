"""Each worker tries a cluster's nodes in its own random order and names its connection."""

from __future__ import annotations

import random
import threading
from typing import Any

from core import identity
from core.settings import ConnectionSettings
from core.topology import QueueSpec
from core.worker import Worker, WorkerOptions
from tests.helpers.fake_pika import FakeBroker

URLS = (
    "amqp://guest:guest@n1:5672/%2F,amqp://guest:guest@n2:5672/%2F,amqp://guest:guest@n3:5672/%2F"
)


def test_workers_shuffle_the_url_list_and_name_their_connections():
    random.seed(12)
    broker = FakeBroker()
    seen: list[tuple[str, tuple[str, ...]]] = []
    lock = threading.Lock()

    def connect(params: list[Any]) -> Any:
        with lock:
            name = str(params[0].client_properties["connection_name"])
            seen.append((name, tuple(p.host for p in params)))
        return broker.connect(params)

    workers = [
        Worker(
            f"worker-{i}",
            ConnectionSettings.from_urls([URLS]),
            QueueSpec("q"),
            options=WorkerOptions(slice_seconds=0.02),
            connect=connect,
        )
        for i in range(1, 9)
    ]
    threads = [threading.Thread(target=w.run, daemon=True) for w in workers]
    try:
        for thread in threads:
            thread.start()
        for worker in workers:
            assert worker.settled.wait(10)
    finally:
        for worker in workers:
            worker.stop()
        for thread in threads:
            thread.join(10)
        broker.close()
    assert len(seen) == 8
    assert all(sorted(hosts) == ["n1", "n2", "n3"] for _, hosts in seen)
    assert len({hosts[0] for _, hosts in seen}) > 1  # not every worker on the first node
    names = sorted(name for name, _ in seen)
    assert names == sorted(identity.connection_name(f"worker-{i}") for i in range(1, 9))
