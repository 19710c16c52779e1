"""``kanin new-task``'s sending (``core.sender``): chunks, the timeout, a block and silence."""

from __future__ import annotations

import io
import itertools

import pytest

from core.events import (
    ProducerBlocked,
    ProducerConnected,
    ProducerDisconnected,
    ProducerStalled,
    ProducerUnblocked,
)
from core.sender import NO_PROGRESS_LIMIT, Reporter, SendingStopped, send
from tests.helpers.producers import FakeProducer


def stepping(step: float) -> itertools.count[float]:
    """A clock that moves ``step`` seconds each time it is read."""
    return itertools.count(0.0, step)


def test_tasks_are_made_and_submitted_a_chunk_at_a_time():
    producer = FakeProducer()
    out = io.StringIO()
    send(producer, "job.", 1050, out, chunk=100)
    assert producer.sizes == [100] * 10 + [50]
    assert out.getvalue() == " [x] Sent job.\n" * 1050


def test_at_most_two_chunks_await_their_confirms():
    producer = FakeProducer(confirm=False)
    clock = stepping(1.0)
    with pytest.raises(SendingStopped):
        send(
            producer,
            "job",
            10_000,
            io.StringIO(),
            chunk=100,
            timeout=5,
            poll=0.001,
            clock=lambda: next(clock),
        )
    assert producer.sizes == [100, 100]  # nothing confirmed: no third chunk was made


def test_the_timeout_gives_up_naming_the_count_and_the_block():
    producer = FakeProducer(confirm=False, blocked="low on memory")
    clock = stepping(1.0)
    with pytest.raises(SendingStopped) as info:
        send(producer, "job", 5, io.StringIO(), timeout=3, poll=0.001, clock=lambda: next(clock))
    assert str(info.value) == (
        "Gave up after 3 s (--timeout): 0 of 5 tasks confirmed; the others were not "
        "(those already sent may still reach the queue); the broker still blocks publishing "
        "(memory alarm: the broker is low on memory)."
    )


def test_without_a_timeout_a_block_is_waited_out_but_silence_after_it_is_not():
    producer = FakeProducer(confirm=False, blocked="low on memory", blocked_reads=10)
    clock = stepping(20.0)
    with pytest.raises(SendingStopped) as info:
        send(producer, "job", 5, io.StringIO(), poll=0.001, clock=lambda: next(clock))
    assert producer.block_reads > 10  # it kept waiting while blocked (200 s of its clock)
    assert str(info.value).startswith(
        f"The broker confirmed no task for {NO_PROGRESS_LIMIT:.0f} s: 0 of 5 tasks confirmed"
    )


def test_a_producer_that_lost_its_connection_is_said_so():
    producer = FakeProducer(confirm=False)
    producer.connected.clear()
    clock = stepping(30.0)
    with pytest.raises(SendingStopped, match="the producer is not connected to the broker.$"):
        send(producer, "job", 1, io.StringIO(), poll=0.001, clock=lambda: next(clock))


@pytest.mark.parametrize(
    ("event", "line"),
    [
        (
            ProducerBlocked(0.0, "low on disk"),
            "kanin: the broker blocked publishing (disk alarm: the broker is low on disk space); "
            "waiting for it to clear (Ctrl+C to stop, or --timeout SECONDS to give up).\n",
        ),
        (ProducerUnblocked(0.0), "kanin: the broker lifted its block; publishing goes on.\n"),
        (
            ProducerStalled(0.0, 31.4, 1000, 3500, "task_queue"),
            "kanin: 1000 tasks await the broker's confirm, the oldest for 31 s: "
            "queue 'task_queue' does not answer.\n",
        ),
        (
            ProducerDisconnected(0.0, "The connection to h:1 was lost (x).", 7, True),
            "kanin: The connection to h:1 was lost (x); reconnecting, 7 tasks wait.\n",
        ),
        (ProducerDisconnected(0.0, "Refused.", 7, False), ""),  # the final error says it
        (ProducerConnected(0.0, "amqp://h", "queue"), ""),
    ],
)
def test_the_reporter_prints_one_line_per_broker_event(event, line):
    err = io.StringIO()
    Reporter(err).on_producer_event(event)
    assert err.getvalue() == line
