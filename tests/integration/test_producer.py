"""The producer: confirms, pipelining, persistence, unroutable and refused publishes."""

from __future__ import annotations

import pytest

from core.errors import BrokerError
from core.events import ProducerConnected, TasksConfirmed, TasksRejected
from core.producer import Producer
from core.settings import ConnectionSettings
from core.tasks import Task
from core.topology import QueueSpec, QueueType
from tests.helpers.broker import connect, drain, message_count
from tests.helpers.recorder import Recorder


def test_a_batch_is_confirmed_and_lands_in_order(broker_url, queue_name):
    recorder = Recorder()
    producer = Producer(ConnectionSettings.from_urls([broker_url]), QueueSpec(queue_name), recorder)
    report = producer.start()
    try:
        assert report is not None
        assert report.queue_type is QueueType.QUORUM
        assert not report.adopted
        tasks = [Task.new(f"task {i}.") for i in range(2000)]
        ids = producer.publish(tasks, timeout=30)
    finally:
        producer.close()
    assert ids == [t.id for t in tasks]
    confirmed = [i for e in recorder.of(TasksConfirmed) for i in e.task_ids]
    assert sorted(confirmed) == sorted(ids)
    # Pipelined: far fewer confirm frames than messages.
    assert len(recorder.of(TasksConfirmed)) < len(tasks)
    assert len(recorder.of(ProducerConnected)) == 1
    assert drain(queue_name) == [t.body for t in tasks]


def test_persistent_properties_on_the_wire(broker_url, queue_name):
    producer = Producer(ConnectionSettings.from_urls([broker_url]), QueueSpec(queue_name))
    producer.start()
    task = Task.new("wire.")
    try:
        producer.publish([task], timeout=10)
    finally:
        producer.close()
    connection = connect()
    try:
        method, props, body = connection.channel().basic_get(queue_name, auto_ack=True)
    finally:
        connection.close()
    assert method is not None
    assert body == b"wire."
    assert props.delivery_mode == 2
    assert props.message_id == task.id
    assert props.timestamp == int(task.created)


def test_unroutable_task_is_reported_not_lost_silently(broker_url, queue_name):
    recorder = Recorder()
    producer = Producer(ConnectionSettings.from_urls([broker_url]), QueueSpec(queue_name), recorder)
    producer.start()
    try:
        connection = connect()
        connection.channel().queue_delete(queue_name)  # the queue vanishes under the producer
        connection.close()
        (future,) = producer.submit([Task.new("nowhere")])
        with pytest.raises(BrokerError, match="No queue took task"):
            future.result(timeout=10)
    finally:
        producer.close()
    assert recorder.of(TasksRejected)


def test_start_fails_clearly_when_nothing_answers(queue_name):
    producer = Producer(
        ConnectionSettings.from_urls(["amqp://guest:guest@127.0.0.1:1/"]), QueueSpec(queue_name)
    )
    with pytest.raises(BrokerError, match="connection refused"):
        producer.start()
    future = producer.submit([Task.new("x")])[0]
    with pytest.raises(BrokerError):
        future.result(timeout=5)
    producer.close()


@pytest.mark.parametrize(("persistent", "delivery_mode"), [(True, 2), (False, 1)])
def test_persistent_option_sets_the_delivery_mode_on_a_classic_queue(
    broker_url, queue_name, persistent, delivery_mode
):
    spec = QueueSpec(queue_name, QueueType.CLASSIC)
    producer = Producer(ConnectionSettings.from_urls([broker_url]), spec, persistent=persistent)
    producer.start()
    tasks = [Task.new("fleeting"), Task.new("fleeting too.")]
    try:
        producer.publish(tasks, timeout=10)
    finally:
        producer.close()
    assert message_count(queue_name) == len(tasks)  # exactly the confirmed tasks
    connection = connect()
    try:
        channel = connection.channel()
        got = [channel.basic_get(queue_name, auto_ack=True) for _ in tasks]
    finally:
        connection.close()
    assert [(body, props.message_id) for _m, props, body in got] == [(t.body, t.id) for t in tasks]
    assert [props.delivery_mode for _m, props, _b in got] == [delivery_mode] * len(tasks)
    assert got[-1][0].message_count == 0  # nothing else was published


def test_close_drains_outstanding_confirms(broker_url, queue_name):
    producer = Producer(
        ConnectionSettings.from_urls([broker_url]), QueueSpec(queue_name), window=50
    )
    producer.start()
    futures = producer.submit([Task.new(str(i)) for i in range(500)])
    assert producer.close(timeout=20)
    assert all(f.result(timeout=0) for f in futures)
    assert message_count(queue_name) == 500
