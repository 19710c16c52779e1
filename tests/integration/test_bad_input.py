"""Bad input: clear errors, safe results, no thread left running."""

from __future__ import annotations

import threading

import pika
import pytest

from core.events import TaskFinished, TaskStarted, WorkerFailed
from core.pool import WorkerPool
from core.settings import ConnectionSettings, SettingsError
from core.topology import QueueSpec
from core.worker import Worker
from tests.helpers.broker import connect, message_count
from tests.helpers.recorder import Recorder


def run_worker_expecting_failure(url: str, queue_name: str) -> str:
    recorder = Recorder()
    worker = Worker("W-bad", ConnectionSettings.from_urls([url]), QueueSpec(queue_name), recorder)
    thread = threading.Thread(target=worker.run, name="kanin-worker-bad")
    thread.start()
    assert worker.finished.wait(20)
    thread.join(5)
    assert not thread.is_alive()
    (failed,) = recorder.of(WorkerFailed)
    assert "secret" not in failed.message
    return failed.message


@pytest.mark.parametrize(
    ("url", "fragment"),
    [
        ("amqp://guest:guest@127.0.0.1:1/%2F", "connection refused"),
        ("amqp://guest:secret@127.0.0.1:5672/%2F", "refused the login for user 'guest'"),
        (
            "amqp://guest:guest@127.0.0.1:5672/no-such-vhost",
            "Virtual host 'no-such-vhost' does not",
        ),
    ],
    ids=["wrong-port", "wrong-password", "missing-vhost"],
)
def test_connection_problems_end_the_worker_with_one_clear_sentence(url, fragment, queue_name):
    assert fragment in run_worker_expecting_failure(url, queue_name)


def test_malformed_url_is_refused_before_connecting():
    with pytest.raises(SettingsError, match="must start with amqp://"):
        ConnectionSettings.from_urls(["guest:guest@localhost"])


@pytest.mark.parametrize(
    "body",
    [b"", b"\xff\xfe\xfd not utf-8 ...", b"." * 3 + b"x" * (4 * 1024 * 1024)],
    ids=["empty", "non-utf8", "four-megabytes"],
)
def test_bodies_from_other_producers_are_processed_safely(broker_url, queue_name, body):
    connection = connect()
    channel = connection.channel()
    channel.queue_declare(queue_name, durable=True, arguments={"x-queue-type": "quorum"})
    channel.basic_publish("", queue_name, body, pika.BasicProperties(delivery_mode=2))
    connection.close()
    recorder = Recorder()
    pool = WorkerPool(ConnectionSettings.from_urls([broker_url]), QueueSpec(queue_name), recorder)
    pool.work = lambda delivery: 0.0  # the dots are counted; the test need not wait for them
    try:
        pool.add(1)
        recorder.wait_count(TaskFinished, 1, timeout=30)
    finally:
        assert pool.stop_all(timeout=10)
    (started,) = recorder.of(TaskStarted)
    assert started.delivery.body == body
    assert started.delivery.foreign
    assert len(started.delivery.preview) < 200
    assert started.delivery.preview.isprintable()
    assert started.delivery.work_seconds == float(body.count(b"."))
    assert message_count(queue_name) == 0
