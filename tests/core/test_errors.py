"""Error messages: one sentence, the endpoint, never the password."""

from __future__ import annotations

import socket

import pika.exceptions as pe
import pytest

from core.errors import BrokerError, describe, describe_lost, is_fatal
from core.settings import parse_url

ADDRESS = parse_url("amqp://carol:pa55word@rabbit.example:5672/work")


@pytest.mark.parametrize(
    ("exc", "fragment", "fatal"),
    [
        (
            pe.ProbableAuthenticationError("ACCESS_REFUSED"),
            "refused the login for user 'carol'",
            True,
        ),
        (pe.ProbableAccessDeniedError("NOT_ALLOWED"), "Virtual host 'work' does not exist", True),
        (
            pe.AMQPConnectionError(ConnectionRefusedError(111, "refused")),
            "connection refused",
            False,
        ),
        (socket.gaierror(-2, "Name or service not known"), "cannot be found", True),
        (pe.IncompatibleProtocolError("EOF"), "not an AMQP 0-9-1 broker", False),
        (pe.ConnectionClosedByBroker(320, "CONNECTION_FORCED"), "320 CONNECTION_FORCED", False),
        (BrokerError("custom", fatal=True), "custom", True),
    ],
)
def test_messages_and_fatality(exc, fragment, fatal):
    message = describe(exc, ADDRESS)
    assert fragment in message
    assert "pa55word" not in message
    assert is_fatal(exc) is fatal


def test_a_connection_that_was_up_is_described_as_lost_not_unreachable():
    exc = pe.AMQPHeartbeatTimeout("No activity or too many missed heartbeats in the last 5 seconds")
    assert describe(exc, ADDRESS).startswith("Cannot connect to the broker at rabbit.example:5672")
    assert describe_lost(exc, ADDRESS) == (
        "Lost the connection to the broker at rabbit.example:5672: "
        "No activity or too many missed heartbeats in the last 5 seconds."
    )
    closed = pe.ConnectionClosedByBroker(320, "CONNECTION_FORCED")
    assert describe_lost(closed, ADDRESS) == describe(closed, ADDRESS)  # already says what happened
