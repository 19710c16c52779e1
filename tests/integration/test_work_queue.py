"""The work-queue pattern against the real broker: round robin, fair dispatch, kill, stop."""

from __future__ import annotations

import collections
from collections.abc import Iterator

import pytest

from core.events import (
    TaskFinished,
    TaskReturned,
    TaskStarted,
    WorkerConnected,
    WorkerKilled,
    WorkerState,
    WorkerStopped,
)
from core.pool import WorkerPool
from core.producer import Producer
from core.settings import ConnectionSettings
from core.tasks import Delivery, Task
from core.topology import QueueSpec
from core.worker import WorkerOptions
from tests.helpers.broker import message_count, wait_for_count
from tests.helpers.recorder import Recorder


def timed_work(delivery: Delivery) -> float:
    """Test work: the body says how long, e.g. ``0.2`` -> 0.2 s (dots would be whole seconds)."""
    text = delivery.body.decode().split(":")[0]
    return float(text)


@pytest.fixture
def settings(broker_url: str) -> ConnectionSettings:
    return ConnectionSettings.from_urls([broker_url])


@pytest.fixture
def spec(queue_name: str) -> QueueSpec:
    return QueueSpec(queue_name)


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def producer(settings: ConnectionSettings, spec: QueueSpec) -> Iterator[Producer]:
    producer = Producer(settings, spec)
    producer.start()
    yield producer
    producer.close()


def make_pool(
    settings: ConnectionSettings, spec: QueueSpec, recorder: Recorder, prefetch: int = 1
) -> WorkerPool:
    return WorkerPool(settings, spec, recorder, WorkerOptions(prefetch=prefetch), work=timed_work)


def start_workers(pool: WorkerPool, recorder: Recorder, count: int) -> list[str]:
    names = pool.add(count)
    recorder.wait_count(WorkerConnected, count)
    return names


def test_round_robin_two_workers_share_ten_tasks_evenly(settings, spec, recorder, producer):
    pool = make_pool(settings, spec, recorder)
    try:
        names = start_workers(pool, recorder, 2)
        tasks = [Task.new(f"0.2:{i}") for i in range(10)]
        producer.publish(tasks, timeout=10)
        finished = recorder.wait_count(TaskFinished, 10)
    finally:
        assert pool.stop_all(timeout=10)
    per_worker = collections.Counter(e.worker for e in finished)
    assert per_worker == {names[0]: 5, names[1]: 5}
    snapshot = {status.name: status for status in pool.snapshot()}
    assert {name: snapshot[name].done for name in names} == {names[0]: 5, names[1]: 5}
    assert all(status.state is WorkerState.STOPPED for status in snapshot.values())
    assert {e.task_id for e in finished} == {t.id for t in tasks}


def test_fair_dispatch_prefetch_one_busy_worker_gets_nothing_new(
    settings, spec, recorder, producer
):
    pool = make_pool(settings, spec, recorder, prefetch=1)
    try:
        start_workers(pool, recorder, 2)
        long_task = Task.new("2.0:long")
        shorts = [Task.new(f"0.05:{i}") for i in range(6)]
        producer.publish([long_task, *shorts], timeout=10)
        recorder.wait_count(TaskFinished, 7)
    finally:
        assert pool.stop_all(timeout=10)
    started = recorder.of(TaskStarted)
    long_worker = next(e.worker for e in started if e.delivery.task_id == long_task.id)
    assert [e.delivery.task_id for e in started if e.worker == long_worker] == [long_task.id]
    finished_order = [e.task_id for e in recorder.of(TaskFinished)]
    assert finished_order[-1] == long_task.id  # every short task ran meanwhile on the other


def test_large_prefetch_shows_the_imbalance(settings, spec, recorder, producer):
    pool = make_pool(settings, spec, recorder, prefetch=10)
    try:
        start_workers(pool, recorder, 2)
        long_task = Task.new("1.5:long")
        shorts = [Task.new(f"0.05:{i}") for i in range(6)]
        producer.publish([long_task, *shorts], timeout=10)
        recorder.wait_count(TaskFinished, 7)
    finally:
        assert pool.stop_all(timeout=10)
    started = recorder.of(TaskStarted)
    long_worker = next(e.worker for e in started if e.delivery.task_id == long_task.id)
    stuck = [e for e in started if e.worker == long_worker and e.delivery.task_id != long_task.id]
    # Round robin pushed short tasks to the busy worker: they waited behind the long one.
    assert len(stuck) == 3
    finished = recorder.of(TaskFinished)
    long_done = next(e.at for e in finished if e.task_id == long_task.id)
    assert all(
        e.at > long_done for e in finished if e.task_id in {s.delivery.task_id for s in stuck}
    )


def test_kill_mid_task_redelivers_to_another_worker(settings, spec, recorder, producer):
    pool = make_pool(settings, spec, recorder)
    try:
        first, second = start_workers(pool, recorder, 2)
        tasks = [Task.new(f"1.0:{i}") for i in range(4)]
        producer.publish(tasks, timeout=10)
        recorder.wait_for(lambda: any(e.worker == first for e in recorder.of(TaskStarted)))
        victim_task = next(
            e.delivery.task_id for e in recorder.of(TaskStarted) if e.worker == first
        )
        pool.kill(first)
        recorder.wait_count(WorkerKilled, 1)
        finished = recorder.wait_count(TaskFinished, 4, timeout=30)
    finally:
        assert pool.stop_all(timeout=10)
    assert recorder.of(WorkerKilled)[0].task_id == victim_task
    assert {e.task_id for e in finished} == {t.id for t in tasks}
    victim_finish = [e for e in finished if e.task_id == victim_task]
    assert [e.worker for e in victim_finish] == [second]
    redelivered = [
        e
        for e in recorder.of(TaskStarted)
        if e.delivery.task_id == victim_task and e.worker == second
    ]
    assert redelivered
    assert redelivered[0].delivery.redelivered
    assert redelivered[0].delivery.delivery_count == 2  # quorum queues count deliveries
    assert not [e for e in finished if e.worker == first]
    assert message_count(spec.name) == 0


def test_graceful_stop_gives_the_task_back(settings, spec, recorder, producer):
    pool = make_pool(settings, spec, recorder)
    try:
        (first,) = start_workers(pool, recorder, 1)
        task = Task.new("30:long")
        producer.publish([task], timeout=10)
        recorder.wait_count(TaskStarted, 1)
        pool.stop(first)
        recorder.wait_count(WorkerStopped, 1)
        assert [e.task_id for e in recorder.of(TaskReturned)] == [task.id]
        assert wait_for_count(spec.name, 1) == 1  # back in the queue, not lost
        pool.options = WorkerOptions(prefetch=1)
        pool.work = lambda d: 0.0
        start_workers(pool, recorder, 1)
        done = recorder.wait_count(TaskFinished, 1)
    finally:
        assert pool.stop_all(timeout=10)
    assert done[0].task_id == task.id


def test_graceful_stop_can_finish_the_current_task(settings, spec, recorder, producer):
    pool = make_pool(settings, spec, recorder)
    try:
        (first,) = start_workers(pool, recorder, 1)
        task = Task.new("0.8:medium")
        producer.publish([task], timeout=10)
        recorder.wait_count(TaskStarted, 1)
        pool.stop(first, finish_current=True)
        recorder.wait_count(WorkerStopped, 1)
    finally:
        assert pool.stop_all(timeout=10)
    assert [e.task_id for e in recorder.of(TaskFinished)] == [task.id]
    assert not recorder.of(TaskReturned)
    assert message_count(spec.name) == 0
