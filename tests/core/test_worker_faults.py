"""The worker against a broker's quieter faults, on a fake connection (no broker needed)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

import pika.exceptions as pe
import pytest

from core.events import (
    QueueAvailable,
    QueueRecreated,
    QueueUnavailable,
    TaskFailed,
    TaskFinished,
    TaskRedelivered,
    TaskReturned,
    TaskStarted,
    TaskTakenBack,
    TaskTooLong,
    WorkerConnected,
    WorkerReconnecting,
    WorkerState,
)
from core.memory import TaskMemory
from core.settings import ConnectionSettings
from core.tasks import Delivery
from core.topology import QueueSpec
from core.work import Work, dot_work
from core.worker import Worker, WorkerOptions
from tests.helpers.fake_pika import FakeBroker
from tests.helpers.recorder import Recorder

SETTINGS = ConnectionSettings.from_urls(["amqp://guest:guest@127.0.0.1:5672/%2F"])
TIMEOUT_TEXT = (
    "PRECONDITION_FAILED - delivery acknowledgement on channel 1 timed out. Timeout value "
    "used: 10000 ms. This timeout value can be configured, see consumers doc guide to learn more"
)

Start = Callable[..., Worker]


@pytest.fixture
def broker() -> Iterator[FakeBroker]:
    fake = FakeBroker()
    yield fake
    fake.close()


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def memory() -> TaskMemory:
    return TaskMemory()


@pytest.fixture
def start(broker: FakeBroker, recorder: Recorder, memory: TaskMemory) -> Iterator[Start]:
    """Starts workers sharing one fresh memory on the fake broker; stops them afterwards."""
    running: list[tuple[Worker, threading.Thread]] = []

    def start_worker(options: WorkerOptions | None = None, *, work: Work = dot_work) -> Worker:
        worker = Worker(
            f"w{len(running) + 1}",
            SETTINGS,
            QueueSpec("fake-queue"),
            recorder,
            options or WorkerOptions(slice_seconds=0.02, max_backoff=0.05),
            work=work,
            connect=broker.connect,
            memory=memory,
        )
        thread = threading.Thread(target=worker.run, name="kanin-test-worker", daemon=True)
        thread.start()
        running.append((worker, thread))
        return worker

    yield start_worker
    for worker, thread in running:
        worker.stop()
        thread.join(10)


def seconds(table: dict[bytes, float]) -> Work:
    def work(delivery: Delivery) -> float:
        return table.get(delivery.body, 0.0)

    return work


def test_a_consumer_timeout_stops_the_work_at_once_and_says_why(broker, recorder, start):
    worker = start(work=seconds({b"long": 60}))
    recorder.wait_count(WorkerConnected, 1)
    broker.connections[0].deliver(b"long", message_id="t1")
    recorder.wait_count(TaskStarted, 1)
    closed = time.monotonic()
    broker.connections[0].close_channel(406, TIMEOUT_TEXT)
    (taken,) = recorder.wait_count(TaskTakenBack, 1, timeout=5)
    assert taken.at - closed < 1.0  # within a slice, not after the 60 s of work
    assert taken.task_id == "t1"
    assert taken.timeout_ms == 10_000
    assert taken.reason == (
        "The broker took the task back: it was unacknowledged longer than the broker's "
        "consumer timeout (10 s)."
    )
    assert [e.reason for e in recorder.of(TaskReturned)] == [taken.reason]
    reconnecting = recorder.wait_count(WorkerReconnecting, 1)[0]
    assert reconnecting.reason == taken.reason
    recorder.wait_count(WorkerConnected, 2)
    assert broker.of("basic_ack") == []  # no late ack on the closed channel
    assert worker.status().returned == 1


def test_a_task_taken_back_for_its_timeout_is_rejected_when_it_comes_back(
    broker, recorder, start, memory
):
    start(work=seconds({b"long": 60}))
    recorder.wait_count(WorkerConnected, 1)
    broker.connections[0].deliver(b"long", message_id="t1")
    recorder.wait_count(TaskStarted, 1)
    broker.connections[0].close_channel(406, TIMEOUT_TEXT)
    recorder.wait_count(WorkerConnected, 2)
    broker.connections[1].deliver(b"long", message_id="t1", redelivered=True)
    (failed,) = recorder.wait_count(TaskFailed, 1)
    assert failed.requeued is False
    assert "it cannot finish in time, so it is not run again" in failed.error
    assert [c.args["delivery_tag"] for c in broker.of("basic_reject", 2)] == [1]
    assert len(recorder.of(TaskStarted)) == 1  # not worked on again
    assert memory.broker_timeout_ms == 10_000


def test_a_redelivery_already_running_elsewhere_stops_when_the_first_copy_times_out(
    broker, recorder, start, memory
):
    start(work=seconds({b"long": 60}))
    recorder.wait_count(WorkerConnected, 1)
    broker.connections[0].deliver(b"long", message_id="t1", redelivered=True)
    recorder.wait_count(TaskStarted, 1)
    memory.timed_out("t1", 10_000)  # another worker of this process lost the first copy
    (failed,) = recorder.wait_count(TaskFailed, 1, timeout=5)
    assert failed.requeued is False
    assert [c.args["delivery_tag"] for c in broker.of("basic_reject")] == [1]


def test_a_task_longer_than_the_known_timeout_is_announced(broker, recorder, start):
    start(WorkerOptions(slice_seconds=0.02, consumer_timeout=10), work=seconds({b"long": 0.2}))
    recorder.wait_count(WorkerConnected, 1)
    broker.connections[0].deliver(b"long", message_id="t2")
    recorder.wait_count(TaskFinished, 1)
    assert recorder.of(TaskTooLong) == []  # 0.2 s fits in 10 s
    start(WorkerOptions(slice_seconds=0.02, consumer_timeout=0.1), work=seconds({b"long": 0.2}))
    recorder.wait_count(WorkerConnected, 2)
    broker.connections[1].deliver(b"long", message_id="t3")
    (warning,) = recorder.wait_count(TaskTooLong, 1)
    assert (warning.task_id, warning.work_seconds, warning.timeout_seconds) == ("t3", 0.2, 0.1)
    assert "longer than the broker's consumer timeout" in warning.message


def test_a_per_consumer_timeout_is_asked_only_from_3_12(broker, recorder, start):
    start(WorkerOptions(request_consumer_timeout=3600))
    recorder.wait_count(WorkerConnected, 1)
    assert "arguments" not in broker.of("basic_consume")[0].args  # 3.10.8 would refuse it
    broker.server_properties = {"product": "RabbitMQ", "version": b"3.12.14"}
    start(WorkerOptions(request_consumer_timeout=3600))
    recorder.wait_count(WorkerConnected, 2)
    assert broker.of("basic_consume", 2)[0].args["arguments"] == {"x-consumer-timeout": 3_600_000}


def test_a_task_done_whose_ack_was_lost_is_reported_as_a_duplicate(broker, recorder, start):
    worker = start()
    recorder.wait_count(WorkerConnected, 1)
    broker.connections[0].deliver(b"a", message_id="t4")
    recorder.wait_count(TaskFinished, 1)
    broker.connections[0].deliver(b"b", message_id="t5", redelivered=True)  # given back elsewhere
    broker.connections[0].deliver(b"a", message_id="t4", redelivered=True)  # the ack was lost
    recorder.wait_count(TaskFinished, 3)
    flags = {e.task_id: e.duplicate for e in recorder.of(TaskRedelivered)}
    assert flags == {"t5": False, "t4": True}
    assert worker.status().counters["duplicates"] == 1


def test_foreign_redeliveries_keep_their_identity_and_twins_stay_apart(broker, recorder, start):
    worker = start(work=seconds({b"same.": 60}))
    recorder.wait_count(WorkerConnected, 1)
    broker.connections[0].deliver(b"same.")
    first = recorder.wait_count(TaskStarted, 1)[0].delivery.task_id
    worker.stop()
    assert worker.finished.wait(10)
    start(work=seconds({b"same.": 0}))
    recorder.wait_count(WorkerConnected, 2)
    broker.connections[1].deliver(b"same.", redelivered=True)
    broker.connections[1].deliver(b"same.")
    started = [e.delivery.task_id for e in recorder.wait_count(TaskStarted, 3)]
    assert started[1] == first  # the given-back copy, recognised
    assert started[2] != first  # an identical body from another publish: another task


def test_a_silent_connection_is_lost_within_the_bound(broker, recorder, start):
    broker.heartbeat = 1  # the agreed heartbeat: the bound is 2 x 1 + 1 s
    begun = time.monotonic()
    start(WorkerOptions(slice_seconds=0.02, silence_timeout=0.5, max_backoff=0.05))
    recorder.wait_count(WorkerConnected, 1)
    connection = broker.connections[0]
    (lost,) = recorder.wait_count(WorkerReconnecting, 1, timeout=10)
    assert 2.5 < lost.at - begun < 5
    assert lost.reason.startswith(
        "Lost the connection to the broker at 127.0.0.1:5672: no traffic from the broker for 3 s"
    )
    assert connection.socket_shut()  # dropped, not waiting for a Close-Ok that cannot come


def test_a_connection_with_traffic_is_not_silent(broker, recorder, start):
    broker.heartbeat = 1
    start(WorkerOptions(slice_seconds=0.02, silence_timeout=0.5))
    recorder.wait_count(WorkerConnected, 1)
    connection = broker.connections[0]
    until = time.monotonic() + 4
    ticks = threading.Event()
    while time.monotonic() < until and not ticks.wait(0.2):
        connection._impl.bytes_received += 8  # heartbeats arrive
    assert recorder.of(WorkerReconnecting) == []


def test_internal_errors_become_a_clear_state_after_the_bound(broker, recorder, start):
    broker.server_properties = {"version": "3.10.8", "cluster_name": "rabbit@node-x"}
    broker.consume_errors = [
        pe.ChannelClosedByBroker(541, "INTERNAL_ERROR - timeout") for _ in range(1000)
    ]
    worker = start(WorkerOptions(slice_seconds=0.02, max_backoff=0.05, unavailable_after=0.5))
    (unavailable,) = recorder.wait_count(QueueUnavailable, 1, timeout=10)
    assert unavailable.queue == "fake-queue"
    assert unavailable.node == "rabbit@node-x (127.0.0.1:5672)"
    assert unavailable.since >= 0.5
    assert unavailable.message.startswith(
        "The queue fake-queue does not answer on node rabbit@node-x (127.0.0.1:5672): "
        "the broker reports an internal error"
    )
    assert worker.state in (WorkerState.CONNECTING, WorkerState.RECONNECTING)  # keeps trying
    assert worker.status().message == unavailable.message
    broker.consume_errors.clear()
    recorder.wait_count(QueueAvailable, 1)
    recorder.wait_count(WorkerConnected, 1)
    assert len(recorder.of(QueueUnavailable)) == 1  # said once, not at every retry


def test_a_queue_deleted_under_the_worker_is_declared_again_and_reported(broker, recorder, start):
    start()
    recorder.wait_count(WorkerConnected, 1)
    broker.queue_exists = False  # deleted: the broker cancels the consumer
    broker.connections[0].cancel()
    (recreated,) = recorder.wait_count(QueueRecreated, 1)
    assert recreated.queue == "fake-queue"
    assert "was deleted while the worker consumed it" in recreated.message
    recorder.wait_count(WorkerConnected, 2)
    assert broker.queue_exists


def test_a_cancel_without_a_deletion_reports_no_recreation(broker, recorder, start):
    start()
    recorder.wait_count(WorkerConnected, 1)
    broker.connections[0].cancel()
    recorder.wait_count(WorkerConnected, 2)
    assert recorder.of(QueueRecreated) == []
