"""The worker loop against a fake connection (``Worker(connect=...)``): no broker needed."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

import pytest

from core.attempts import ATTEMPTS_HEADER
from core.budget import TaskBudget
from core.events import (
    TaskDelivered,
    TaskFailed,
    TaskFinished,
    TaskReturned,
    TaskStarted,
    WorkerConnected,
    WorkerKilled,
    WorkerReconnecting,
    WorkerState,
    WorkerStopped,
)
from core.settings import ConnectionSettings
from core.tasks import Delivery
from core.topology import QueueSpec, QueueType
from core.work import Work, dot_work
from core.worker import AckMode, Worker, WorkerOptions
from tests.helpers.fake_pika import Call, FakeBroker
from tests.helpers.recorder import Recorder

SETTINGS = ConnectionSettings.from_urls(["amqp://guest:guest@127.0.0.1:5672/%2F"])
QUEUE = "fake-queue"

Start = Callable[..., tuple[Worker, threading.Thread]]


@pytest.fixture
def broker() -> Iterator[FakeBroker]:
    fake = FakeBroker()
    yield fake
    fake.close()


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def start(broker: FakeBroker, recorder: Recorder) -> Iterator[Start]:
    """Starts a worker on the fake broker in a thread; stops it after the test."""
    running: list[tuple[Worker, threading.Thread]] = []

    def start_worker(
        options: WorkerOptions | None = None,
        *,
        work: Work = dot_work,
        budget: TaskBudget | None = None,
        queue_type: QueueType = QueueType.QUORUM,
    ) -> tuple[Worker, threading.Thread]:
        worker = Worker(
            "w1",
            SETTINGS,
            QueueSpec(QUEUE, queue_type),
            recorder,
            options or WorkerOptions(slice_seconds=0.02),
            work=work,
            budget=budget,
            connect=broker.connect,
        )
        thread = threading.Thread(target=worker.run, name="kanin-test-worker", daemon=True)
        thread.start()
        running.append((worker, thread))
        return worker, thread

    yield start_worker
    for worker, thread in running:
        worker.stop()
        thread.join(10)


def seconds_for(table: dict[bytes, float]) -> Work:
    """A work function: the seconds listed for each body (0 for others)."""

    def work(delivery: Delivery) -> float:
        return table.get(delivery.body, 0.0)

    return work


def failing(delivery: Delivery) -> float:
    raise RuntimeError("the work broke")


def tags(calls: list[Call], **match: object) -> list[int]:
    return [c.args["delivery_tag"] for c in calls if all(c.args[k] == v for k, v in match.items())]


def test_a_task_is_acknowledged_after_its_work(broker, recorder, start):
    start(work=seconds_for({b"task": 0.1}))
    recorder.wait_count(WorkerConnected, 1)
    broker.connections[0].deliver(b"task")
    finished = recorder.wait_count(TaskFinished, 1)
    started = recorder.of(TaskStarted)[0]
    acks = broker.of("basic_ack")
    assert tags(acks) == [1]
    assert acks[0].at - started.at >= 0.1  # not before the work was done
    assert finished[0].task_id == started.delivery.task_id
    assert broker.of("basic_nack") == []


def test_prefetch_is_set_before_consuming(broker, recorder, start):
    start(WorkerOptions(prefetch=7))
    recorder.wait_count(WorkerConnected, 1)
    names = [c.name for c in broker.calls]
    assert broker.of("basic_qos")[0].args == {"prefetch_count": 7}
    assert names.index("basic_qos") < names.index("basic_consume")
    assert broker.of("basic_consume")[0].args == {"queue": QUEUE, "auto_ack": False}


def test_auto_ack_sets_no_prefetch_and_never_acks(broker, recorder, start):
    start(WorkerOptions(ack_mode=AckMode.AUTO, prefetch=7))
    recorder.wait_count(WorkerConnected, 1)
    broker.connections[0].deliver(b"task")
    recorder.wait_count(TaskFinished, 1)
    assert broker.of("basic_qos") == []
    assert broker.of("basic_consume")[0].args["auto_ack"] is True
    assert broker.of("basic_ack") == []


def test_stop_between_slices_gives_the_task_back(broker, recorder, start):
    worker, _thread = start(WorkerOptions(slice_seconds=0.02), work=seconds_for({b"long": 60}))
    recorder.wait_count(WorkerConnected, 1)
    broker.connections[0].deliver(b"long")
    recorder.wait_count(TaskStarted, 1)
    asked = time.monotonic()
    worker.stop()
    assert worker.finished.wait(10)
    assert time.monotonic() - asked < 10  # within a slice or so, not after the 60 s of work
    assert [e.reason for e in recorder.of(TaskReturned)] == ["stopped"]
    # Given back only after the consumer is cancelled (nack of every unacked delivery):
    # nacked before, it came straight back to this worker and counted twice.
    assert tags(broker.of("basic_nack"), requeue=True) == [0]
    assert broker.of("basic_ack") == []
    assert [c.name for c in broker.calls[-3:]] == ["basic_cancel", "basic_nack", "close"]
    assert len(recorder.of(WorkerStopped)) == 1
    assert worker.state is WorkerState.STOPPED


def test_stop_finishing_the_current_task_acks_it_first(broker, recorder, start):
    worker, _thread = start(WorkerOptions(slice_seconds=0.02), work=seconds_for({b"short": 0.2}))
    recorder.wait_count(WorkerConnected, 1)
    broker.connections[0].deliver(b"short")
    recorder.wait_count(TaskStarted, 1)
    worker.stop(finish_current=True)
    assert worker.finished.wait(10)
    assert tags(broker.of("basic_ack")) == [1]
    assert recorder.of(TaskReturned) == []
    assert len(recorder.of(TaskFinished)) == 1


def test_a_failing_task_goes_to_the_failure_policy(broker, recorder, start):
    broker.queue_type = QueueType.CLASSIC  # classic queues count nothing: Kanin republishes
    worker, _thread = start(
        WorkerOptions(max_attempts=3), work=failing, queue_type=QueueType.CLASSIC
    )
    recorder.wait_count(WorkerConnected, 1)
    broker.connections[0].deliver(b"task")
    failed = recorder.wait_count(TaskFailed, 1)[0]
    assert (failed.requeued, failed.attempt) == (True, 1)
    assert "RuntimeError: the work broke" in failed.error
    published = broker.of("basic_publish")
    assert len(published) == 1
    assert published[0].args["headers"] == {ATTEMPTS_HEADER: 1}
    assert published[0].args["confirmed"] is True
    assert tags(broker.of("basic_ack")) == [1]  # the original, after the copy was confirmed
    assert worker.status().failures == 1


def test_a_task_failing_its_last_attempt_is_moved_to_the_dead_letter_queue(broker, recorder, start):
    broker.queue_type = QueueType.CLASSIC
    worker, _thread = start(
        WorkerOptions(max_attempts=3), work=failing, queue_type=QueueType.CLASSIC
    )
    recorder.wait_count(WorkerConnected, 1)
    broker.connections[0].deliver(b"task", headers={ATTEMPTS_HEADER: 2})
    failed = recorder.wait_count(TaskFailed, 1)[0]
    assert (failed.requeued, failed.attempt) == (False, 3)
    (publish,) = broker.of("basic_publish")
    assert publish.args["routing_key"].endswith(".dead")  # Kanin's own, no policy needed
    assert tags(broker.of("basic_ack")) == [1]
    assert broker.of("basic_reject") == []
    assert worker.status().failures == 1


def test_a_failed_task_without_a_limit_is_nacked_back(broker, recorder, start):
    start(work=failing)
    recorder.wait_count(WorkerConnected, 1)
    broker.connections[0].deliver(b"task")
    failed = recorder.wait_count(TaskFailed, 1)[0]
    assert failed.requeued is True
    assert tags(broker.of("basic_nack"), requeue=True) == [1]
    assert broker.of("basic_publish") == []


def test_reconnects_after_a_connection_error(broker, recorder, start):
    start(WorkerOptions(slice_seconds=0.02, max_backoff=0.01))
    recorder.wait_count(WorkerConnected, 1)
    broker.connections[0].fail()
    reconnecting = recorder.wait_count(WorkerReconnecting, 1)[0]
    assert "lost" in reconnecting.reason
    recorder.wait_count(WorkerConnected, 2)
    broker.connections[1].deliver(b"task")
    recorder.wait_count(TaskFinished, 1)
    assert [c.connection for c in broker.of("basic_ack")] == [2]
    assert [c.connection for c in broker.of("basic_consume")] == [1, 2]
    assert [c.connection for c in broker.of("basic_qos")] == [1, 2]


def test_old_delivery_tags_are_dropped_after_a_reconnect(broker, recorder, start):
    start(
        WorkerOptions(prefetch=2, slice_seconds=0.02, max_backoff=0.01),
        work=seconds_for({b"slow": 60}),
    )
    recorder.wait_count(WorkerConnected, 1)
    first = broker.connections[0]
    first.deliver(b"slow")
    first.deliver(b"waiting")  # delivered, not started: its tag dies with the connection
    recorder.wait_count(TaskStarted, 1)
    first.fail()
    returned = recorder.wait_count(TaskReturned, 1)[0]
    assert returned.reason == "connection lost"
    recorder.wait_count(WorkerConnected, 2)
    broker.connections[1].deliver(b"next")
    recorder.wait_count(TaskFinished, 1)
    assert [e.delivery.body for e in recorder.of(TaskStarted)] == [b"slow", b"next"]
    settled = [c for c in broker.calls if c.name in ("basic_ack", "basic_nack", "basic_reject")]
    assert [(c.connection, c.args["delivery_tag"]) for c in settled] == [(2, 1)]


def test_kill_drops_the_socket_in_the_worker_thread(broker, recorder, start):
    # A slice longer than the test: only the thread-safe callback can wake the worker.
    worker, thread = start(WorkerOptions(slice_seconds=300), work=seconds_for({b"long": 600}))
    recorder.wait_count(WorkerConnected, 1)
    connection = broker.connections[0]
    connection.deliver(b"long")
    started = recorder.wait_count(TaskStarted, 1)[0]
    worker.kill()
    assert worker.finished.wait(10)
    assert connection.socket_shut()
    assert connection.socket.shut_by[0] == thread.ident  # by the worker's own thread
    killed = recorder.wait_count(WorkerKilled, 1)[0]
    assert killed.task_id == started.delivery.task_id
    names = [c.name for c in broker.calls]
    for clean in ("basic_ack", "basic_nack", "basic_cancel", "close"):
        assert clean not in names
    assert recorder.of(WorkerStopped) == []


def test_a_spent_budget_stops_the_worker(broker, recorder, start):
    budget = TaskBudget(1)
    worker, _thread = start(budget=budget)
    recorder.wait_count(WorkerConnected, 1)
    broker.connections[0].deliver(b"one")
    assert worker.finished.wait(10)
    assert budget.done == 1
    assert len(recorder.of(WorkerStopped)) == 1


def test_max_attempts_must_be_positive():
    with pytest.raises(ValueError, match="attempts"):
        WorkerOptions(max_attempts=0)


def test_a_delivery_that_waits_behind_the_current_task_is_reported_and_counted(
    broker, recorder, start
):
    """Prefetch 2: the second task waits in the worker's inbox, and says so (issue 15)."""
    worker, _thread = start(
        WorkerOptions(prefetch=2, slice_seconds=0.02), work=seconds_for({b"first": 0.5})
    )
    recorder.wait_count(WorkerConnected, 1)
    broker.connections[0].deliver(b"first")
    recorder.wait_count(TaskStarted, 1)
    broker.connections[0].deliver(b"second")
    [waiting] = recorder.wait_count(TaskDelivered, 1)
    assert waiting.delivery.body == b"second"
    assert worker.status().buffered == 1
    recorder.wait_count(TaskFinished, 2)
    assert [e.delivery.body for e in recorder.of(TaskDelivered)] == [b"second"]  # not "first"
    assert worker.status().buffered == 0


def test_stop_finishing_the_current_task_says_so_on_the_status(broker, recorder, start):
    worker, _thread = start(WorkerOptions(slice_seconds=0.02), work=seconds_for({b"job": 0.5}))
    recorder.wait_count(WorkerConnected, 1)
    broker.connections[0].deliver(b"job")
    recorder.wait_count(TaskStarted, 1)
    worker.stop(finish_current=True)
    status = worker.status()
    assert (status.state, status.finishing) == (WorkerState.BUSY, True)
    assert worker.finished.wait(10)
    assert len(recorder.of(TaskFinished)) == 1


def test_a_running_worker_takes_a_new_attempt_limit_at_its_next_failure(broker, recorder, start):
    """The dead-letter policy comes after the workers started: they must learn the limit."""
    worker, _thread = start(WorkerOptions(slice_seconds=0.02), work=failing)
    recorder.wait_count(WorkerConnected, 1)
    worker.set_max_attempts(2)
    broker.connections[0].deliver(b"poison", headers={"x-delivery-count": 1})
    [failed] = recorder.wait_count(TaskFailed, 1)
    assert (failed.attempt, failed.requeued) == (2, False)
    (publish,) = broker.of("basic_publish")
    assert publish.args["routing_key"].endswith(".dead")
    assert tags(broker.of("basic_ack")) == [1]


def test_a_killed_auto_ack_worker_says_its_task_is_lost(broker, recorder, start):
    worker, _thread = start(
        WorkerOptions(ack_mode=AckMode.AUTO, slice_seconds=0.02), work=seconds_for({b"job": 30})
    )
    recorder.wait_count(WorkerConnected, 1)
    broker.connections[0].deliver(b"job")
    recorder.wait_count(TaskStarted, 1)
    worker.kill()
    recorder.wait_count(WorkerKilled, 1)
    assert worker.status().message == "killed: its task is lost (auto-ack)"
