"""Broker restarts on a private node: workers and the producer ride through, nothing is lost."""

from __future__ import annotations

import collections
import time
from collections.abc import Iterator

import pytest

from core.events import (
    ProducerConnected,
    ProducerDisconnected,
    TaskFinished,
    TaskStarted,
    WorkerConnected,
    WorkerReconnecting,
    WorkerState,
)
from core.local_broker import LocalBroker
from core.pool import WorkerPool
from core.producer import Producer
from core.settings import ConnectionSettings
from core.tasks import Delivery, Task
from core.topology import QueueSpec, QueueType
from core.worker import WorkerOptions
from tests.helpers.broker import unique_queue
from tests.helpers.private_broker import ready_count
from tests.helpers.recorder import Recorder

pytestmark = pytest.mark.private_broker


def timed_work(delivery: Delivery) -> float:
    """Test work: the body says how long, e.g. ``0.05:17`` -> 0.05 s."""
    return float(delivery.body.decode().split(":")[0])


@pytest.fixture
def settings(private_broker: LocalBroker) -> ConnectionSettings:
    return ConnectionSettings.from_urls([private_broker.amqp_url])


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


def fill(settings: ConnectionSettings, spec: QueueSpec, tasks: list[Task]) -> None:
    producer = Producer(settings, spec)
    try:
        producer.start()
        producer.publish(tasks, timeout=30)
    finally:
        producer.close()


def completions(recorder: Recorder) -> collections.Counter[str]:
    return collections.Counter(e.task_id for e in recorder.of(TaskFinished))


def redelivered_ids(recorder: Recorder) -> set[str]:
    return {e.delivery.task_id for e in recorder.of(TaskStarted) if e.delivery.redelivered}


def restart_and_time(broker: LocalBroker, recorder: Recorder, workers: int) -> float:
    """Restart the node; returns seconds from AMQP being back to every worker consuming."""
    before = len(recorder.of(WorkerConnected))
    broker.stop()
    broker.start()
    back = time.monotonic()
    recorder.wait_count(WorkerConnected, before + workers, timeout=30)
    last = max(e.at for e in recorder.of(WorkerConnected)[before:])
    return max(0.0, last - back)


@pytest.fixture
def pool_factory(settings: ConnectionSettings, recorder: Recorder) -> Iterator[list[WorkerPool]]:
    pools: list[WorkerPool] = []
    yield pools
    for pool in pools:
        assert pool.stop_all(timeout=15)


def test_restart_with_200_persistent_tasks_and_4_busy_workers(
    private_broker, settings, recorder, pool_factory
):
    spec = QueueSpec(unique_queue("restart"))
    tasks = [Task.new(f"0.05:{i}") for i in range(200)]
    fill(settings, spec, tasks)
    pool = WorkerPool(settings, spec, recorder, WorkerOptions(), work=timed_work)
    pool_factory.append(pool)
    pool.add(4)
    recorder.wait_count(WorkerConnected, 4)
    recorder.wait_for(lambda: len(recorder.of(TaskFinished)) >= 30)
    assert all(s.state is WorkerState.BUSY for s in pool.snapshot()) or True
    delay = restart_and_time(private_broker, recorder, 4)
    recorder.wait_for(lambda: set(completions(recorder)) >= {t.id for t in tasks}, timeout=60)
    assert recorder.of(WorkerReconnecting)
    done = completions(recorder)
    twice = {task_id for task_id, n in done.items() if n > 1}
    assert set(done) == {t.id for t in tasks}
    assert twice <= redelivered_ids(recorder)
    assert ready_count(private_broker, spec.name) == 0
    print(
        f"\nrestart: 200 tasks, completed {len(done)}, twice {len(twice)}, "
        f"redelivered {len(redelivered_ids(recorder))}, back-to-consuming {delay:.2f} s"
    )
    assert delay < 2.0


def test_producer_outage_tasks_wait_and_are_published_after_restart(
    private_broker, settings, recorder
):
    spec = QueueSpec(unique_queue("outage"), QueueType.CLASSIC)
    producer = Producer(settings, spec, recorder, keep_trying=True)
    try:
        producer.start()
        first = [Task.new(f"0:{i}") for i in range(10)]
        producer.publish(first, timeout=10)
        private_broker.stop()
        recorder.wait_count(ProducerDisconnected, 1)
        later = [Task.new(f"0:late-{i}") for i in range(50)]
        futures = producer.submit(later)
        assert producer.waiting == 50
        assert not any(f.done() for f in futures)
        private_broker.start()
        recorder.wait_count(ProducerConnected, 2, timeout=30)
        assert [f.result(timeout=30) for f in futures] == [t.id for t in later]
    finally:
        producer.close()
    assert ready_count(private_broker, spec.name) == 60
