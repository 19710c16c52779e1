"""kill() is abrupt: the broker loses the connection without a Connection.Close and requeues.

The killed worker talks to the broker through a ``TcpProxy`` that keeps
every byte it sends, so the test can read its AMQP frames: no
``Connection.Close`` (class 10, method 50), no ack. Another consumer then
gets the same task back with ``redelivered=True``.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pika
import pytest

from core.events import TaskFinished, TaskStarted, WorkerConnected, WorkerKilled, WorkerStopped
from core.settings import ConnectionSettings
from core.tasks import Delivery
from core.topology import QueueSpec
from core.worker import Worker, WorkerOptions
from tests.helpers.amqp_frames import (
    BASIC_ACK,
    BASIC_CONSUME,
    CONNECTION_CLOSE,
    CONNECTION_START_OK,
    method_frames,
)
from tests.helpers.broker import TEST_URL, connect
from tests.helpers.recorder import Recorder
from tests.helpers.tcp_proxy import TcpProxy


def long_then_quick(delivery: Delivery) -> float:
    """Work: a minute for a first delivery, nothing for a redelivered one."""
    return 0.0 if delivery.redelivered else 60.0


@pytest.fixture
def proxy() -> Iterator[TcpProxy]:
    tcp = TcpProxy(pika.URLParameters(TEST_URL).port)
    yield tcp
    tcp.close()


@pytest.fixture
def threads() -> Iterator[list[tuple[Worker, threading.Thread]]]:
    """Workers started by the test; stopped (if still running) and joined afterwards."""
    started: list[tuple[Worker, threading.Thread]] = []
    yield started
    for worker, thread in started:
        worker.stop()
        thread.join(15)


def run(worker: Worker, started: list[tuple[Worker, threading.Thread]]) -> None:
    thread = threading.Thread(target=worker.run, name=f"kanin-test-{worker.name}", daemon=True)
    thread.start()
    started.append((worker, thread))


def publish(queue: str, message_id: str) -> None:
    connection = connect()
    try:
        connection.channel().basic_publish(
            exchange="",
            routing_key=queue,
            body=b"a long task",
            properties=pika.BasicProperties(delivery_mode=2, message_id=message_id),
        )
    finally:
        connection.close()


def test_kill_drops_the_connection_without_a_close_and_the_task_comes_back(
    proxy, queue_name, threads
):
    via_proxy = ConnectionSettings.from_urls([f"amqp://guest:guest@127.0.0.1:{proxy.port}/%2F"])
    spec = QueueSpec(queue_name)
    options = WorkerOptions(max_work_seconds=60)
    first_events, second_events = Recorder(), Recorder()
    first = Worker("first", via_proxy, spec, first_events, options, work=long_then_quick)
    run(first, threads)
    first_events.wait_count(WorkerConnected, 1)
    publish(queue_name, "kill-me")
    assert first_events.wait_count(TaskStarted, 1)[0].delivery.task_id == "kill-me"

    direct = ConnectionSettings.from_urls([TEST_URL])
    second = Worker("second", direct, spec, second_events, options, work=long_then_quick)
    run(second, threads)
    second_events.wait_count(WorkerConnected, 1)
    first.kill()

    killed = first_events.wait_count(WorkerKilled, 1)[0]
    assert killed.task_id == "kill-me"
    again = second_events.wait_count(TaskStarted, 1)[0].delivery
    assert (again.task_id, again.redelivered) == ("kill-me", True)
    second_events.wait_count(TaskFinished, 1)
    # The broker requeued the task, so it had already lost the killed connection, and
    # the proxy had read everything the killed worker sent (it forwards in order).
    streams = proxy.sent_by_clients()
    assert len(streams) == 1
    methods = method_frames(streams[0])
    assert CONNECTION_START_OK in methods
    assert BASIC_CONSUME in methods
    assert CONNECTION_CLOSE not in methods
    assert BASIC_ACK not in methods
    assert first_events.of(WorkerStopped) == []


def test_a_graceful_stop_does_send_connection_close(proxy, queue_name, threads):
    """The control for the test above: the same reading sees a clean close."""
    via_proxy = ConnectionSettings.from_urls([f"amqp://guest:guest@127.0.0.1:{proxy.port}/%2F"])
    events = Recorder()
    worker = Worker("stopped", via_proxy, QueueSpec(queue_name), events, WorkerOptions())
    run(worker, threads)
    events.wait_count(WorkerConnected, 1)
    worker.stop()
    events.wait_count(WorkerStopped, 1)
    assert CONNECTION_CLOSE in method_frames(proxy.sent_by_clients()[0])
