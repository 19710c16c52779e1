"""The queue monitor: figures from AMQP, each labelled with its source."""

from __future__ import annotations

from core.events import TaskStarted, WorkerConnected
from core.monitor import QueueMonitor, Source
from core.pool import WorkerPool
from core.producer import Producer
from core.settings import ConnectionSettings
from core.tasks import Task
from core.topology import QueueSpec
from tests.helpers.broker import connect
from tests.helpers.recorder import Recorder


def test_ready_and_consumers_come_from_a_passive_declare(broker_url, queue_name):
    settings = ConnectionSettings.from_urls([broker_url])
    spec = QueueSpec(queue_name)
    producer = Producer(settings, spec)
    producer.start()
    monitor = QueueMonitor(settings, queue_name, management_port=None)
    recorder = Recorder()
    pool = WorkerPool(settings, spec, recorder)
    outsider = connect()  # a consumer that is not Kanin's, like the tutorial's worker.py
    try:
        producer.publish([Task.new(f"t{i}") for i in range(3)], timeout=10)
        stats = monitor.poll()
        assert (stats.ready, stats.consumers) == (3, 0)
        assert stats.source_of("ready") is Source.AMQP
        assert stats.unacked is None
        assert stats.source_of("unacked") is Source.NONE
        pool.work = lambda d: 30.0
        pool.add(1)
        recorder.wait_count(WorkerConnected, 1)
        recorder.wait_count(TaskStarted, 1)
        channel = outsider.channel()
        channel.basic_qos(prefetch_count=1)
        channel.basic_consume(queue_name, lambda *a: None)
        stats = monitor.poll()
        assert stats.consumers == 2
        assert stats.source_of("consumers") is Source.AMQP
    finally:
        outsider.close()
        assert pool.stop_all(timeout=10)
        producer.close()
        monitor.close()


def test_missing_queue_is_a_reading_with_an_error_not_an_exception(broker_url):
    monitor = QueueMonitor(
        ConnectionSettings.from_urls([broker_url]), "kanin-test-absent-queue", management_port=None
    )
    try:
        stats = monitor.poll()
    finally:
        monitor.close()
    assert stats.ready is None
    assert "does not exist" in stats.error


def test_unreachable_broker_is_reported_in_the_reading():
    monitor = QueueMonitor(
        ConnectionSettings.from_urls(["amqp://guest:guest@127.0.0.1:1/"]), "q", management_port=None
    )
    stats = monitor.poll()
    assert "connection refused" in stats.error
