"""A network that silently stops carrying packets, on a private node (issue 13, item 4).

A TCP proxy between the workers and the node stops forwarding while every
socket stays open. The workers' acks of two finished tasks are stuck in it.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Iterator

import pytest

from core.events import (
    TaskFinished,
    TaskRedelivered,
    TaskStarted,
    WorkerConnected,
    WorkerReconnecting,
)
from core.local_broker import LocalBroker
from core.memory import TaskMemory
from core.pool import WorkerPool
from core.settings import ConnectionSettings
from core.tasks import Task
from core.topology import QueueSpec
from core.worker import Worker
from tests.helpers.broker import unique_queue
from tests.helpers.private_broker import fill, ready_count
from tests.helpers.recorder import Recorder
from tests.helpers.tcp_proxy import TcpProxy

pytestmark = pytest.mark.private_broker


@pytest.fixture
def proxy(private_broker: LocalBroker) -> Iterator[TcpProxy]:
    tcp = TcpProxy(private_broker.amqp_port)
    yield tcp
    tcp.close()


@pytest.mark.timeout(90)
def test_a_frozen_network_is_lost_within_the_bound_and_duplicates_are_named(
    private_broker: LocalBroker, proxy: TcpProxy, caplog: pytest.LogCaptureFixture
):
    caplog.set_level(logging.WARNING, logger="core")
    direct = ConnectionSettings.from_urls([private_broker.amqp_url])
    through = ConnectionSettings.from_urls([f"amqp://guest:guest@127.0.0.1:{proxy.port}/%2F"])
    spec = QueueSpec(unique_queue())
    recorder = Recorder()
    pool = WorkerPool(
        through,
        spec,
        recorder,  # default options: Kanin's own heartbeat and silence bound
        worker_factory=functools.partial(Worker, memory=TaskMemory()),
    )
    try:
        pool.add(2)
        recorder.wait_count(WorkerConnected, 2, timeout=30)
        tasks = [Task.new("two seconds.."), Task.new("two more..")]
        fill(direct, spec, tasks)
        recorder.wait_count(TaskStarted, 2)
        frozen = time.monotonic()
        proxy.freeze()
        recorder.wait_count(TaskFinished, 2, timeout=10)  # acked into the frozen network

        lost = recorder.wait_count(WorkerReconnecting, 2, timeout=25)
        for event in lost:
            assert event.at - frozen <= 15 + 1.5  # silence bound, plus the slice and the GIL
            assert "no traffic from the broker for" in event.reason
            assert event.reason.startswith("Lost the connection to the broker at ")
            assert "Cannot connect" not in event.reason
        proxy.thaw()

        # The broker never got the acks: both tasks run again, named as duplicates.
        recorder.wait_for(
            lambda: sum(e.duplicate for e in recorder.of(TaskRedelivered)) == 2, timeout=40
        )
        assert {e.task_id for e in recorder.of(TaskRedelivered)} == {t.id for t in tasks}
        recorder.wait_count(TaskFinished, 4, timeout=15)
        assert "runs a second time (at-least-once delivery)" in caplog.text
        assert sum(w.counters.get("duplicates", 0) for w in pool.snapshot()) == 2
        assert ready_count(private_broker, spec.name) == 0
        assert pool.stop_all(timeout=15)
    finally:
        proxy.thaw()
        pool.stop_all(timeout=15)
