"""Workers with a PriorityGate against the real broker: they step aside, then go on."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from core.events import TaskFinished, TaskStarted, WorkerConnected, WorkerKilled
from core.pool import WorkerPool
from core.priority import PriorityGate
from core.producer import Producer
from core.settings import ConnectionSettings
from core.tasks import Delivery, Task
from core.topology import QueueSpec
from tests.helpers.broker import wait_for_count
from tests.helpers.gates import wait_for_waits
from tests.helpers.recorder import Recorder


def no_work(_delivery: Delivery) -> float:
    return 0.0


@pytest.fixture
def settings(broker_url: str) -> ConnectionSettings:
    return ConnectionSettings.from_urls([broker_url])


@pytest.fixture
def producer(settings: ConnectionSettings, queue_name: str) -> Iterator[Producer]:
    producer = Producer(settings, QueueSpec(queue_name))
    producer.start()
    yield producer
    producer.close()


@pytest.fixture
def gated(
    settings: ConnectionSettings, queue_name: str
) -> Iterator[tuple[PriorityGate, Recorder, WorkerPool]]:
    """A watched gate (held off by nothing yet), a recorder and a pool of zero-work workers."""
    gate = PriorityGate(late_after=60.0, max_wait=60.0)
    gate.watch()
    recorder = Recorder()
    pool = WorkerPool(settings, QueueSpec(queue_name), recorder, work=no_work, gate=gate)
    yield gate, recorder, pool
    gate.unwatch()
    assert pool.stop_all(timeout=10)


def test_held_gate_keeps_workers_from_starting_tasks_until_let_go(settings, queue_name, producer):
    gate = PriorityGate(late_after=60.0, max_wait=60.0)
    gate.watch()
    recorder = Recorder()
    pool = WorkerPool(settings, QueueSpec(queue_name), recorder, work=no_work, gate=gate)
    try:
        pool.add(2)
        recorder.wait_count(WorkerConnected, 2)
        gate.hold()
        producer.publish([Task.new(f"task {i}") for i in range(6)], timeout=10)
        wait_for_waits(gate, 2)  # each worker holds a delivery and waits
        assert recorder.of(TaskStarted) == []
        gate.let_go()
        finished = recorder.wait_count(TaskFinished, 6)
    finally:
        gate.unwatch()
        assert pool.stop_all(timeout=10)
    assert len({event.task_id for event in finished}) == 6


def test_a_worker_killed_while_it_waits_loses_nothing(gated, producer, queue_name):
    gate, recorder, pool = gated
    gate.max_wait = 0.2  # the killed worker notices within 0.2 s
    (first,) = pool.add(1)
    recorder.wait_count(WorkerConnected, 1)
    gate.hold()
    producer.publish([Task.new("kept")], timeout=10)
    wait_for_waits(gate, 1)
    pool.kill(first)
    recorder.wait_count(WorkerKilled, 1)
    assert recorder.of(TaskStarted) == []
    assert wait_for_count(queue_name, 1) == 1  # the broker has it back
    gate.let_go()
    pool.add(1)
    (done,) = recorder.wait_count(TaskFinished, 1)
    assert done.worker != first
