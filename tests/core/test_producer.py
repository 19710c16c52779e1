"""The producer through a fake connection: confirms, the window, reconnects and close."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from concurrent.futures import Future

import pika.exceptions as pe
import pytest

from core.errors import BrokerError
from core.events import (
    ProducerBlocked,
    ProducerConnected,
    ProducerDisconnected,
    ProducerEvent,
    ProducerStalled,
    ProducerUnblocked,
    TasksConfirmed,
    TasksPublished,
    TasksRejected,
)
from core.producer import Producer
from core.settings import ConnectionSettings
from core.tasks import Task
from core.topology import QueueSpec
from tests.helpers.recorder import Recorder
from tests.helpers.select_connection import FakeBroker, FakeSelectConnection

SETTINGS = ConnectionSettings.from_urls(["amqp://guest:guest@127.0.0.1:5672/"])
SPEC = QueueSpec("fake-queue")


def make(broker: FakeBroker, observer: object = None, **options: object) -> Producer:
    return Producer(
        SETTINGS,
        SPEC,
        observer,  # type: ignore[arg-type]
        connect=broker.connect,
        declare=broker.declare,
        max_backoff=0.01,
        **options,  # type: ignore[arg-type]
    )


@pytest.fixture
def broker() -> FakeBroker:
    return FakeBroker()


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def producer(broker: FakeBroker, recorder: Recorder) -> Iterator[Producer]:
    producer = make(broker, recorder, window=4)
    producer.start(timeout=5)
    yield producer
    producer.close(timeout=5, drain=False)


def tasks(count: int) -> list[Task]:
    return [Task.new(f"task {i}") for i in range(count)]


def confirmed_ids(recorder: Recorder) -> list[str]:
    return [i for event in recorder.of(TasksConfirmed) for i in event.task_ids]


def test_confirms_settle_futures_one_by_one_in_their_order(producer, broker, recorder):
    batch = tasks(4)
    futures = producer.submit(batch)
    connection = broker.wait_connections(1)
    assert broker.wait_published(4) == [t.id for t in batch]
    connection.ack(2)
    connection.sync()
    assert [f.done() for f in futures] == [False, True, False, False]
    assert futures[1].result(timeout=0) == batch[1].id
    connection.ack(1)
    connection.ack(4)
    connection.ack(3)
    connection.sync()
    assert [f.result(timeout=0) for f in futures] == [t.id for t in batch]
    assert confirmed_ids(recorder) == [batch[1].id, batch[0].id, batch[3].id, batch[2].id]
    assert producer.waiting == 0


def test_a_multiple_ack_settles_every_earlier_publish_and_a_multiple_nack_the_rest(
    producer, broker, recorder
):
    batch = tasks(4)
    futures = producer.submit(batch)
    connection = broker.wait_connections(1)
    broker.wait_published(4)
    connection.ack(3, multiple=True)
    connection.sync()
    assert [f.done() for f in futures] == [True, True, True, False]
    assert recorder.of(TasksConfirmed)[-1].task_ids == tuple(t.id for t in batch[:3])
    assert producer.waiting == 1
    connection.nack(4, multiple=True)
    connection.sync()
    with pytest.raises(BrokerError, match="refused"):
        futures[3].result(timeout=0)
    (rejected,) = recorder.of(TasksRejected)
    assert rejected.task_ids == (batch[3].id,)
    assert "nack" in rejected.reason
    assert producer.waiting == 0


def test_no_more_publishes_in_flight_than_the_window(producer, broker):
    batch = tasks(6)
    producer.submit(batch)
    connection = broker.wait_connections(1)
    broker.wait_published(4)
    connection.sync()  # the pump that published them is over
    assert connection.published == [t.id for t in batch[:4]]
    connection.ack(2, multiple=True)
    connection.sync()
    assert connection.published == [t.id for t in batch]


def test_a_returned_task_fails_as_unroutable_and_the_others_are_confirmed(
    producer, broker, recorder
):
    batch = tasks(3)
    futures = producer.submit(batch)
    connection = broker.wait_connections(1)
    broker.wait_published(3)
    connection.give_back(2)
    connection.ack(3, multiple=True)
    connection.sync()
    assert futures[0].result(timeout=0) == batch[0].id
    assert futures[2].result(timeout=0) == batch[2].id
    with pytest.raises(BrokerError, match="No queue took task"):
        futures[1].result(timeout=0)
    (rejected,) = recorder.of(TasksRejected)
    assert rejected.task_ids == (batch[1].id,)
    assert "unroutable" in rejected.reason


def test_a_lost_connection_reports_the_waiting_ids_and_republishes_them_in_order(
    producer, broker, recorder
):
    batch = tasks(6)  # window 4: 4 published, 2 not yet
    futures = producer.submit(batch)
    first = broker.wait_connections(1)
    broker.wait_published(4)
    first.ack(1)
    broker.wait_published(5, connection=0)  # the ack made room for one more
    first.drop()
    (lost,) = recorder.wait_count(ProducerDisconnected, 1)
    assert lost.retrying
    assert lost.waiting_ids == tuple(t.id for t in batch[1:])  # unconfirmed, then unpublished
    assert lost.waiting == 5
    second = broker.wait_connections(2)
    assert broker.wait_published(4, connection=1) == [t.id for t in batch[1:5]]
    second.ack(4, multiple=True)
    assert broker.wait_published(5, connection=1) == [t.id for t in batch[1:]]
    second.ack(5)
    second.sync()
    assert [f.result(timeout=0) for f in futures] == [t.id for t in batch]
    connected = recorder.of(ProducerConnected)
    assert len(connected) == 2
    assert connected[-1].report == broker.report
    assert confirmed_ids(recorder) == [t.id for t in batch]


class BlockingObserver(Recorder):
    """Holds the producer thread inside its first ``TasksPublished`` until released."""

    def __init__(self) -> None:
        super().__init__()
        self.entered = threading.Event()
        self.release = threading.Event()

    def on_producer_event(self, event: ProducerEvent) -> None:
        super().on_producer_event(event)
        if isinstance(event, TasksPublished) and not self.entered.is_set():
            self.entered.set()
            assert self.release.wait(10)


def settled_count(future: Future[str]) -> list[int]:
    """A list that counts how often the future was settled."""
    calls: list[int] = []
    future.add_done_callback(lambda _f: calls.append(1))
    return calls


def test_a_close_that_times_out_leaves_the_futures_to_the_producer_thread(broker, caplog):
    observer = BlockingObserver()
    producer = make(broker, observer)
    producer.start(timeout=5)
    batch = tasks(2)
    futures = producer.submit(batch)
    counts = [settled_count(f) for f in futures]
    try:
        assert observer.entered.wait(5)  # the producer thread is stuck inside its pump
        connection = broker.wait_connections(1)
        connection.ack(1)  # runs once the thread is free again, before close's own callback
        with caplog.at_level(logging.WARNING, logger="core.producer"):
            assert producer.close(timeout=0.2, drain=False) is False
        assert "still running" in caplog.text
        assert not any(f.done() for f in futures)  # close() touched none of them
    finally:
        observer.release.set()
    assert producer.close(timeout=5)
    assert futures[0].result(timeout=0) == batch[0].id
    with pytest.raises(BrokerError, match="closed before the broker confirmed"):
        futures[1].result(timeout=0)
    assert counts == [[1], [1]]
    assert [e.task_ids for e in observer.of(TasksRejected)] == [(batch[1].id,)]
    assert producer.waiting == 0


def test_a_cancelled_task_is_not_published(broker, recorder):
    broker.refuse = 1  # the first attempt fails: the tasks wait meanwhile
    producer = make(broker, recorder, keep_trying=True)
    try:
        batch = tasks(3)
        futures = producer.submit(batch)
        assert futures[1].cancel()
        producer.start(timeout=5)
        connection = broker.wait_connections(1)
        assert broker.wait_published(2) == [batch[0].id, batch[2].id]
        connection.ack(2, multiple=True)
        assert producer.wait_idle(5)
    finally:
        producer.close(timeout=5)
    assert futures[0].result(timeout=0) == batch[0].id
    assert futures[2].result(timeout=0) == batch[2].id
    assert futures[1].cancelled()


def test_after_a_fatal_error_submit_fails_at_once_even_when_keeping_trying(recorder):
    broker = FakeBroker(declare_error=BrokerError("Wrong user name or password.", fatal=True))
    producer = make(broker, recorder, keep_trying=True)
    waiting = producer.submit(tasks(2))
    assert producer.start(timeout=5) is None
    for future in waiting:
        with pytest.raises(BrokerError, match="password"):
            future.result(timeout=5)
    (gave_up,) = recorder.of(ProducerDisconnected)
    assert not gave_up.retrying
    late = producer.submit(tasks(1))[0]
    assert late.done()
    with pytest.raises(BrokerError, match="closed"):
        late.result(timeout=0)
    assert producer.close(timeout=5)
    assert producer.waiting == 0


def test_close_before_start_fails_what_was_submitted():
    producer = make(FakeBroker())
    futures = producer.submit(tasks(2))
    assert producer.close(timeout=1)
    for future in futures:
        with pytest.raises(BrokerError, match="closed before the broker confirmed"):
            future.result(timeout=0)
    assert producer.waiting == 0


class FakeClock:
    """A monotonic clock the test moves by hand (read in the producer's thread)."""

    def __init__(self, now: float = 100.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def advance(clock: FakeClock, connection: FakeSelectConnection, to: float) -> None:
    """Let time pass: move the clock, run the loop's timers and wait until they ran."""
    clock.now = to
    connection.fire_timers()
    connection.sync()


def test_publishes_unconfirmed_past_the_bound_are_reported_with_their_age(broker, recorder):
    clock = FakeClock(100.0)
    producer = make(broker, recorder, window=10, stall_after=30, clock=clock)
    producer.start(timeout=5)
    try:
        connection = broker.wait_connections(1)
        batch = tasks(3)
        producer.submit(batch)
        broker.wait_published(3)
        advance(clock, connection, 129.0)
        assert recorder.of(ProducerStalled) == []  # younger than the bound
        advance(clock, connection, 130.5)
        (stalled,) = recorder.of(ProducerStalled)
        assert (stalled.oldest_age, stalled.count, stalled.waiting) == (30.5, 3, 3)
        assert stalled.queue == SPEC.name
        advance(clock, connection, 150.0)
        assert len(recorder.of(ProducerStalled)) == 1  # not again before another bound
        advance(clock, connection, 161.0)
        assert [e.oldest_age for e in recorder.of(ProducerStalled)] == [30.5, 61.0]
        connection.ack(3, multiple=True)
        advance(clock, connection, 300.0)
        assert len(recorder.of(ProducerStalled)) == 2  # nothing awaits its confirm any more
        assert confirmed_ids(recorder) == [t.id for t in batch]
    finally:
        producer.close(timeout=5, drain=False)


def test_a_block_is_reported_at_once_and_waited_out_on_the_same_connection(broker, recorder):
    clock = FakeClock(100.0)
    producer = make(broker, recorder, window=10, stall_after=30, clock=clock)
    producer.start(timeout=5)
    try:
        connection = broker.wait_connections(1)
        assert connection.parameters.blocked_connection_timeout is None  # pika never tears it down
        batch = tasks(3)
        futures = producer.submit(batch)
        broker.wait_published(3)
        connection.block("low on memory")
        connection.sync()
        (blocked,) = recorder.of(ProducerBlocked)
        assert blocked.reason == "low on memory"
        assert blocked.alarm == "memory alarm: the broker is low on memory"
        assert producer.blocked == "low on memory"
        advance(clock, connection, 500.0)
        assert recorder.of(ProducerStalled) == []  # the block explains the wait
        connection.unblock()
        connection.sync()
        assert len(recorder.of(ProducerUnblocked)) == 1
        assert producer.blocked is None
        connection.ack(3, multiple=True)
        assert [f.result(timeout=5) for f in futures] == [t.id for t in batch]
        assert len(broker.connections) == 1
        assert recorder.of(ProducerDisconnected) == []
        assert broker.connections[0].published == [t.id for t in batch]  # nothing sent twice
    finally:
        producer.close(timeout=5, drain=False)


def test_a_connection_that_was_up_is_reported_lost_not_unreachable(producer, broker, recorder):
    connection = broker.wait_connections(1)
    connection.drop(pe.AMQPHeartbeatTimeout("No activity or too many missed heartbeats"))
    (lost,) = recorder.wait_count(ProducerDisconnected, 1)
    assert lost.reason.startswith("Lost the connection to the broker at 127.0.0.1:5672: ")
    assert "Cannot connect" not in lost.reason


def test_the_stall_bound_must_be_positive(broker):
    with pytest.raises(ValueError, match="more than 0 seconds"):
        make(broker, stall_after=0)
