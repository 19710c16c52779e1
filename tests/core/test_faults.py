"""The quieter faults put into words, and their bookkeeping (no broker needed)."""

from __future__ import annotations

import pika.exceptions as pe
import pytest

from core import faults
from core.errors import BrokerError, describe

TIMEOUT_CLOSE = pe.ChannelClosedByBroker(
    406,
    "PRECONDITION_FAILED - delivery acknowledgement on channel 1 timed out. Timeout value "
    "used: 10000 ms. This timeout value can be configured, see consumers doc guide to learn more",
)


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_consumer_timeout_close_is_recognised_with_its_value():
    assert faults.consumer_timeout_ms(TIMEOUT_CLOSE) == 10_000
    assert faults.consumer_timeout_ms(pe.ChannelClosedByBroker(406, "PRECONDITION_FAILED")) is None
    error = faults.channel_closed(TIMEOUT_CLOSE)
    assert error.timeout_ms == 10_000
    assert describe(error) == (
        "The broker took the task back: it was unacknowledged longer than the broker's "
        "consumer timeout (10 s)."
    )


def test_other_channel_closes_are_named():
    error = faults.channel_closed(pe.ChannelClosedByBroker(404, "NOT_FOUND - no queue 'q'"))
    assert error.timeout_ms is None
    assert str(error) == "The broker closed the channel: 404 NOT_FOUND - no queue 'q'."


def test_the_warning_before_a_task_too_long():
    assert faults.too_long_text(75, 10) == (
        "This task needs 75 s of work, longer than the broker's consumer timeout of 10 s: "
        "the broker will take it back before it is done."
    )
    assert faults.seconds_text(1800) == "30 min"


def test_silence_is_measured_from_the_last_byte():
    clock = Clock()
    received = [10]
    watch = faults.SilenceWatch(15, lambda: received[0], "127.0.0.1:5672", clock)
    clock.now += 10
    watch.check()  # silent 10 s: still allowed
    received[0] += 8  # a heartbeat arrives
    watch.check()
    clock.now += 14.9
    watch.check()
    clock.now += 1.1
    with pytest.raises(faults.BrokerSilent) as caught:
        watch.check()
    assert str(caught.value) == (
        "Lost the connection to the broker at 127.0.0.1:5672: no traffic from the broker for 16 s."
    )


def test_pikas_heartbeat_timeout_is_recognised_wrapped_or_not():
    inner = pe.AMQPHeartbeatTimeout("No activity or too many missed heartbeats in the last 5 s")
    assert faults.is_heartbeat_timeout(inner)
    assert faults.is_heartbeat_timeout(pe.AMQPConnectionError(inner))
    assert not faults.is_heartbeat_timeout(pe.StreamLostError("EOF"))


def test_internal_errors_are_reported_once_after_the_bound():
    clock = Clock()
    errors = faults.InternalErrors("task_queue", 30, clock)
    assert errors.failed("rabbit@n1 (127.0.0.1:5672)") is None
    clock.now += 29
    assert errors.failed("rabbit@n1 (127.0.0.1:5672)") is None
    clock.now += 2
    message = errors.failed("rabbit@n1 (127.0.0.1:5672)")
    assert message is not None
    assert message.startswith(
        "The queue task_queue does not answer on node rabbit@n1 (127.0.0.1:5672): "
        "the broker reports an internal error (541 INTERNAL_ERROR) for 31 s now."
    )
    assert message.endswith("Kanin keeps retrying.")
    clock.now += 5
    assert errors.failed("rabbit@n1") is None  # said once
    assert errors.answered()  # the outage is over: say so
    assert not errors.answered()


def test_a_541_is_recognised_through_kanins_wrapping():
    raw = pe.ChannelClosedByBroker(541, "INTERNAL_ERROR - timeout")
    wrapped = BrokerError("The broker refused queue 'q': 541 INTERNAL_ERROR - timeout.")
    wrapped.__cause__ = raw
    assert faults.is_internal_error(raw)
    assert faults.is_internal_error(wrapped)
    assert not faults.is_internal_error(pe.ChannelClosedByBroker(404, "NOT_FOUND"))


@pytest.mark.parametrize(
    ("version", "allowed"),
    [("3.10.8", False), ("3.11.28", False), ("3.12.0", True), ("4.1.2", True), (b"3.13.7", True)],
)
def test_per_consumer_timeouts_from_3_12(version, allowed):
    assert faults.allows_consumer_timeout({"version": version}) is allowed
    assert faults.allows_consumer_timeout({}) is False


def test_the_node_is_named_by_its_cluster_name_and_address():
    assert faults.node_name({"cluster_name": b"rabbit@n1"}, "h:1") == "rabbit@n1 (h:1)"
    assert faults.node_name({}, "h:1") == "h:1"
