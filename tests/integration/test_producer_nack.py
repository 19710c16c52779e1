"""The producer's nack path against the real broker: a full queue that rejects publishes."""

from __future__ import annotations

import pytest

from core.errors import BrokerError
from core.events import TasksConfirmed, TasksRejected
from core.producer import Producer
from core.settings import ConnectionSettings
from core.tasks import Task
from core.topology import QueueSpec, QueueType
from tests.helpers.broker import connect
from tests.helpers.recorder import Recorder


def test_publishes_a_full_queue_refuses_fail_as_nacked_and_only_the_confirmed_stay(
    broker_url, queue_name
):
    connection = connect()
    try:  # room for one message; the broker nacks every publish beyond it
        connection.channel().queue_declare(
            queue_name,
            durable=True,
            arguments={"x-max-length": 1, "x-overflow": "reject-publish"},
        )
    finally:
        connection.close()
    recorder = Recorder()
    producer = Producer(
        ConnectionSettings.from_urls([broker_url]),
        QueueSpec(queue_name, QueueType.CLASSIC),
        recorder,
    )
    report = producer.start()
    batch = [Task.new(f"full {i}") for i in range(4)]
    try:
        assert report is not None
        assert report.adopted  # declared with other arguments: taken as it is
        futures = producer.submit(batch)
        assert futures[0].result(timeout=10) == batch[0].id
        for future in futures[1:]:
            with pytest.raises(BrokerError, match="refused"):
                future.result(timeout=10)
    finally:
        producer.close()
    rejected = [i for e in recorder.of(TasksRejected) for i in e.task_ids]
    assert rejected == [t.id for t in batch[1:]]
    assert all("nack" in e.reason for e in recorder.of(TasksRejected))
    assert [i for e in recorder.of(TasksConfirmed) for i in e.task_ids] == [batch[0].id]
    connection = connect()
    try:
        channel = connection.channel()
        kept = []
        while True:
            method, properties, _body = channel.basic_get(queue_name, auto_ack=True)
            if method is None:
                break
            kept.append(properties.message_id)
    finally:
        connection.close()
    assert kept == [batch[0].id]
