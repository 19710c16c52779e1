"""A queue deleted under running workers is declared again, and the worker says so."""

from __future__ import annotations

import functools
import logging

import pytest

from core.events import QueueRecreated, TaskFinished, WorkerConnected
from core.memory import TaskMemory
from core.pool import WorkerPool
from core.producer import Producer
from core.settings import ConnectionSettings
from core.tasks import Task
from core.topology import QueueSpec
from core.worker import Worker
from tests.helpers.broker import connect
from tests.helpers.recorder import Recorder


@pytest.mark.timeout(60)
def test_a_deleted_queue_is_recreated_out_loud(
    broker_url: str, queue_name: str, caplog: pytest.LogCaptureFixture
):
    caplog.set_level(logging.WARNING, logger="core")
    settings = ConnectionSettings.from_urls([broker_url])
    spec = QueueSpec(queue_name)
    recorder = Recorder()
    pool = WorkerPool(
        settings, spec, recorder, worker_factory=functools.partial(Worker, memory=TaskMemory())
    )
    try:
        pool.add(1)
        recorder.wait_count(WorkerConnected, 1)
        connection = connect(broker_url)
        try:
            connection.channel().queue_delete(queue_name)
        finally:
            connection.close()
        (recreated,) = recorder.wait_count(QueueRecreated, 1, timeout=15)
        assert recreated.queue == queue_name
        assert f"The queue {queue_name} was deleted while the worker consumed it" in caplog.text
        recorder.wait_count(WorkerConnected, 2)
        producer = Producer(settings, spec)  # the worker consumes the new queue
        producer.start()
        try:
            producer.publish([Task.new("after")], timeout=10)
        finally:
            producer.close()
        recorder.wait_count(TaskFinished, 1)
        assert pool.stop_all(timeout=10)
    finally:
        pool.stop_all(timeout=10)
