"""The failure policy (``core.attempts``) on a fake channel: requeue, recount or dead-letter."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import replace

import pika
import pika.exceptions as pe
import pytest

from core.attempts import ATTEMPTS_HEADER, FailurePolicy, recorded_failures, retry_delay
from core.tasks import Delivery, delivery_from
from core.topology import QueueType
from tests.helpers.fake_pika import FakeBroker, FakeChannel, FakeConnection


@pytest.fixture
def broker() -> Iterator[FakeBroker]:
    fake = FakeBroker(QueueType.CLASSIC)
    yield fake
    fake.close()


@pytest.fixture
def connection(broker: FakeBroker) -> FakeConnection:
    return broker.connect(None)


@pytest.fixture
def channel(connection: FakeConnection) -> FakeChannel:
    return connection.channel()


def failed(
    attempts: int | None = None, *, quorum_count: int | None = None
) -> tuple[Delivery, pika.BasicProperties]:
    """A delivery as the runner sees it, with Kanin's or the broker's count."""
    headers: dict[str, int] = {}
    if attempts is not None:
        headers[ATTEMPTS_HEADER] = attempts
    if quorum_count is not None:
        headers["x-delivery-count"] = quorum_count
    properties = pika.BasicProperties(delivery_mode=2, headers=headers or None, app_id="other")
    delivery = delivery_from(properties, b"work", redelivered=bool(headers))
    known = recorded_failures(properties)
    if known is not None:
        delivery = replace(delivery, delivery_count=known + 1)
    return delivery, properties


def policy(connection: FakeConnection, limit: int | None, queue_type: QueueType) -> FailurePolicy:
    """A policy without the retry delay (its own tests below)."""
    return FailurePolicy(connection, "q", limit, queue_type, "w1", retry_base=0)


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({ATTEMPTS_HEADER: 2}, 2),
        ({ATTEMPTS_HEADER: 0}, 0),
        ({ATTEMPTS_HEADER: -1}, None),
        ({ATTEMPTS_HEADER: "2"}, None),
        ({"other": 1}, None),
        (None, None),
    ],
)
def test_recorded_failures_reads_only_a_count(headers, expected):
    assert recorded_failures(pika.BasicProperties(headers=headers)) == expected


def test_recorded_failures_of_no_properties():
    assert recorded_failures(None) is None


def test_without_a_limit_a_quorum_task_is_nacked_back(broker, connection, channel):
    delivery, properties = failed(quorum_count=7)
    assert policy(connection, None, QueueType.QUORUM).settle(channel, 5, delivery, properties)
    assert [(c.name, c.args) for c in broker.calls if c.name.startswith("basic")] == [
        ("basic_nack", {"delivery_tag": 5, "multiple": False, "requeue": True})
    ]


def test_without_a_limit_a_classic_task_still_carries_its_count_back(broker, connection, channel):
    delivery, properties = failed(attempts=6)  # the seventh attempt failed
    assert policy(connection, None, QueueType.CLASSIC).settle(channel, 5, delivery, properties)
    assert broker.of("basic_publish")[0].args["headers"] == {ATTEMPTS_HEADER: 7}
    assert broker.of("basic_ack")[0].args["delivery_tag"] == 5


def test_on_a_classic_queue_a_copy_carries_the_count_before_the_ack(broker, connection, channel):
    delivery, properties = failed(attempts=1)  # the second attempt failed
    assert policy(connection, 3, QueueType.CLASSIC).settle(channel, 5, delivery, properties)
    names = [c.name for c in broker.calls]
    assert names.index("confirm_delivery") < names.index("basic_publish") < names.index("basic_ack")
    publish = broker.of("basic_publish")[0]
    assert publish.args["routing_key"] == "q"
    assert publish.args["body"] == b"work"
    assert publish.args["headers"] == {ATTEMPTS_HEADER: 2}
    assert publish.channel != channel.number  # its own confirming channel
    assert broker.of("basic_ack")[0].args["delivery_tag"] == 5


def test_the_republish_channel_is_opened_once(broker, connection, channel):
    failures = policy(connection, 5, QueueType.CLASSIC)
    for tag in (1, 2):
        delivery, properties = failed(attempts=tag)
        failures.settle(channel, tag, delivery, properties)
    assert len(broker.of("confirm_delivery")) == 1
    assert len(broker.of("basic_publish")) == 2


@pytest.mark.parametrize(
    ("queue_type", "counts"),
    [(QueueType.CLASSIC, {"attempts": 2}), (QueueType.QUORUM, {"quorum_count": 2})],
    ids=["classic", "quorum"],
)
def test_at_the_last_attempt_kanin_moves_the_task_to_the_dead_letter_queue_itself(
    queue_type, counts
):
    broker = FakeBroker(queue_type)
    try:
        connection = broker.connect(None)
        channel = connection.channel()
        delivery, properties = failed(**counts)  # the third attempt failed
        assert not policy(connection, 3, queue_type).settle(channel, 5, delivery, properties)
        names = [c.name for c in broker.calls]
        assert names.index("basic_publish") < names.index("basic_ack")
        (publish,) = broker.of("basic_publish")
        assert publish.args["routing_key"] == "q.dead"
        assert publish.args["confirmed"]
        assert publish.args["headers"][ATTEMPTS_HEADER] == 3
        assert broker.of("basic_ack")[0].args["delivery_tag"] == 5
        assert broker.of("basic_reject") == []  # no broker policy needed: nothing is dropped
        assert broker.of("basic_nack") == []
    finally:
        broker.close()


def test_a_missing_dead_letter_queue_is_declared_like_the_work_queue_once(
    broker, connection, channel
):
    connection.missing.add("q.dead")
    failures = policy(connection, 1, QueueType.CLASSIC)
    for tag in (1, 2):
        delivery, properties = failed()
        assert not failures.settle(channel, tag, delivery, properties)
    declares = [(c.args["queue"], c.args["passive"]) for c in broker.of("queue_declare")]
    assert declares == [("q.dead", True), ("q.dead", False)]
    assert broker.of("queue_declare")[1].args["arguments"] == QueueType.CLASSIC.arguments()
    assert [c.args["routing_key"] for c in broker.of("basic_publish")] == ["q.dead", "q.dead"]


def test_a_task_the_dead_letter_queue_refuses_goes_back_to_the_queue(broker, connection, channel):
    connection.publish_error = pe.NackError([])
    delivery, properties = failed(attempts=2)
    assert policy(connection, 3, QueueType.CLASSIC).settle(channel, 5, delivery, properties)
    assert broker.of("basic_ack") == []
    assert broker.of("basic_nack")[0].args["requeue"] is True  # kept, never lost


def test_a_quorum_queue_counts_itself_so_the_task_is_nacked(broker, connection, channel):
    delivery, properties = failed(quorum_count=1)  # x-delivery-count 1: the second attempt
    assert delivery.delivery_count == 2
    assert policy(connection, 3, QueueType.QUORUM).settle(channel, 5, delivery, properties)
    assert broker.of("basic_publish") == []
    assert broker.of("basic_nack")[0].args["requeue"] is True


def test_a_copy_the_broker_refuses_leaves_the_task_nacked_back(broker, connection, channel):
    connection.publish_error = pe.NackError([])
    delivery, properties = failed(attempts=1)
    assert policy(connection, 3, QueueType.CLASSIC).settle(channel, 5, delivery, properties)
    assert broker.of("basic_ack") == []
    assert broker.of("basic_nack")[0].args == {
        "delivery_tag": 5,
        "multiple": False,
        "requeue": True,
    }


def test_the_retry_delay_doubles_from_one_second_up_to_a_minute():
    assert [retry_delay(n) for n in (1, 2, 3, 4, 5, 6, 7, 8, 100)] == [
        1.0,
        2.0,
        4.0,
        8.0,
        16.0,
        32.0,
        60.0,
        60.0,
        60.0,
    ]
    assert retry_delay(0) == 1.0
    assert retry_delay(3, base=0.5, cap=1.5) == 1.5


def test_a_failed_task_is_held_for_its_delay_before_it_goes_back(broker, connection, channel):
    failures = FailurePolicy(connection, "q", 5, QueueType.QUORUM, "w1", retry_base=0.2)
    delivery, properties = failed(quorum_count=1)  # the second attempt: 0.4 s
    started = time.monotonic()
    failures.settle(channel, 5, delivery, properties)
    assert time.monotonic() - started >= 0.4
    assert broker.of("basic_nack")[0].args["requeue"] is True


def test_a_stop_cuts_the_delay_short_and_the_task_still_goes_back(broker, connection, channel):
    stop = threading.Event()
    stop.set()
    failures = FailurePolicy(connection, "q", 5, QueueType.QUORUM, "w1", (stop,), retry_base=60)
    delivery, properties = failed(quorum_count=1)
    started = time.monotonic()
    failures.settle(channel, 5, delivery, properties)
    assert time.monotonic() - started < 5
    assert broker.of("basic_nack")[0].args["requeue"] is True
