"""A task longer than the heartbeat timeout keeps its connection and is acked once."""

from __future__ import annotations

import pytest

from core.events import TaskFinished, WorkerConnected, WorkerReconnecting, WorkerStopped
from core.pool import WorkerPool
from core.producer import Producer
from core.settings import ConnectionSettings
from core.tasks import Task
from core.topology import QueueSpec
from core.worker import WorkerOptions
from tests.helpers.broker import message_count
from tests.helpers.recorder import Recorder


@pytest.mark.timeout(60)
def test_six_second_task_on_a_two_second_heartbeat(broker_url, queue_name):
    settings = ConnectionSettings.from_urls([broker_url])
    spec = QueueSpec(queue_name)
    recorder = Recorder()
    pool = WorkerPool(settings, spec, recorder, WorkerOptions(heartbeat=2))
    producer = Producer(settings, spec)
    producer.start()
    try:
        pool.add(1)
        recorder.wait_count(WorkerConnected, 1)
        task = Task.new("six seconds......")
        producer.publish([task], timeout=10)
        (finished,) = recorder.wait_count(TaskFinished, 1, timeout=30)
        assert finished.task_id == task.id
        assert finished.duration >= 6.0
        assert pool.stop_all(timeout=10)
    finally:
        producer.close()
        pool.stop_all(timeout=10)
    assert not recorder.of(WorkerReconnecting)
    assert len(recorder.of(WorkerConnected)) == 1
    assert len(recorder.of(TaskFinished)) == 1
    assert recorder.of(WorkerStopped)
    assert message_count(queue_name) == 0
