"""The quieter faults a broker throws at a worker, recognised and put into words.

A consumer timeout (the broker closes the channel under a task it thinks
abandoned), a silent network (no byte from the broker for many seconds), a
queue that answers every consume with ``541 INTERNAL_ERROR``. Each gets an
exception the worker's retry loop understands (``BrokerError`` subclasses:
``describe`` prints their sentence) and a sentence a person can act on.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

import pika.exceptions as pe

from core.errors import BrokerError

_TIMEOUT_TEXT = re.compile(
    r"delivery acknowledgement on channel \d+ timed out\. Timeout value used: (\d+) ms"
)
_VERSION = re.compile(r"(\d+)\.(\d+)")
CONSUMER_TIMEOUT_FROM = (3, 12)
"""The first RabbitMQ release that accepts ``x-consumer-timeout`` in ``basic.consume``."""


def consumer_timeout_ms(reason: BaseException | str | None) -> int | None:
    """The timeout named in a consumer-timeout channel close, or ``None`` for other closes.

    RabbitMQ (3.8.15 on) closes the channel with ``406 PRECONDITION_FAILED -
    delivery acknowledgement on channel N timed out. Timeout value used: T ms``.

    Args:
        reason: the close reason (``ChannelClosedByBroker``) or its text.

    Returns:
        T in milliseconds, or ``None`` when this is not a consumer timeout.
    """
    if reason is None:
        return None
    text = reason if isinstance(reason, str) else str(getattr(reason, "reply_text", reason))
    match = _TIMEOUT_TEXT.search(text)
    return int(match.group(1)) if match else None


def seconds_text(seconds: float) -> str:
    """``10.0`` -> ``10 s``, ``2.5`` -> ``2.5 s``, ``1800`` -> ``30 min``."""
    if seconds >= 120 and seconds % 60 == 0:
        return f"{int(seconds // 60)} min"
    return f"{seconds:g} s" if seconds < 10 else f"{round(seconds)} s"


def taken_back_text(timeout_ms: int | None) -> str:
    """Why a task went back after a consumer timeout, for people."""
    limit = f" ({seconds_text(timeout_ms / 1000)})" if timeout_ms is not None else ""
    return (
        "The broker took the task back: it was unacknowledged longer than "
        f"the broker's consumer timeout{limit}."
    )


def too_long_text(work_seconds: float, timeout_seconds: float) -> str:
    """The warning before starting a task that cannot finish within the broker's timeout."""
    return (
        f"This task needs {seconds_text(work_seconds)} of work, longer than the broker's "
        f"consumer timeout of {seconds_text(timeout_seconds)}: the broker will take it back "
        "before it is done."
    )


def given_up_text(timeout_ms: int | None) -> str:
    """Why a task that timed out before is not started again."""
    return (
        taken_back_text(timeout_ms)[:-1]
        + "; it cannot finish in time, so it is not run again (dead-lettered when the "
        "queue has a dead-letter policy, otherwise dropped by the broker)."
    )


class TakenBack(BrokerError):
    """The broker closed the channel under a task (consumer timeout or another channel error).

    Args:
        message: the sentence to show.
        timeout_ms: the broker's consumer timeout, when that was the cause.
    """

    def __init__(self, message: str, timeout_ms: int | None = None) -> None:
        super().__init__(message)
        self.timeout_ms = timeout_ms


def channel_closed(reason: BaseException | None) -> TakenBack:
    """The exception for a channel found closed under a task or while idle.

    Args:
        reason: pika's close reason, if known.
    """
    timeout = consumer_timeout_ms(reason)
    if timeout is not None:
        return TakenBack(taken_back_text(timeout), timeout)
    if isinstance(reason, pe.ChannelClosedByBroker):
        return TakenBack(f"The broker closed the channel: {reason.reply_code} {reason.reply_text}.")
    return TakenBack(f"The channel closed ({reason or 'no reason given'}).")


def silence_text(seconds: float, endpoint: str) -> str:
    """A connection that had been up went quiet, for people."""
    return (
        f"Lost the connection to the broker at {endpoint}: no traffic from the broker "
        f"for {seconds_text(round(seconds))}."
    )


class BrokerSilent(BrokerError):
    """No byte came from the broker for longer than the heartbeats allow."""


def is_heartbeat_timeout(exc: BaseException) -> bool:
    """True when pika gave up on missed heartbeats (its ``AMQPHeartbeatTimeout``, maybe wrapped)."""
    current: BaseException | None = exc
    for _ in range(5):
        if current is None:
            return False
        if isinstance(current, pe.AMQPHeartbeatTimeout):
            return True
        nxt = current.args[0] if current.args else None
        current = nxt if isinstance(nxt, BaseException) else None
    return False


class SilenceWatch:
    """Notices a connection that stopped receiving anything (a frozen network, a hung broker).

    Heartbeats keep a healthy connection talking at least every half
    heartbeat; a peer that is gone without closing the socket is silent. The
    watch counts the connection's received bytes at each ``check`` and
    raises ``BrokerSilent`` once nothing arrived for ``limit`` seconds.

    Args:
        limit: seconds of silence allowed (0 disables the watch).
        read: returns the bytes received so far (``None``: unknown, never raises).
        endpoint: the broker's ``host:port``, for the message.
        clock: ``time.monotonic`` or a test's clock.
    """

    def __init__(
        self,
        limit: float,
        read: Callable[[], int | None],
        endpoint: str,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit = limit
        self._read = read
        self._endpoint = endpoint
        self._clock = clock
        self._count = read()
        self.last_traffic = clock()

    def silent_for(self) -> float:
        """Seconds since bytes last arrived (as of the last ``check``)."""
        return self._clock() - self.last_traffic

    def check(self) -> None:
        """Raise ``BrokerSilent`` when the broker has been silent too long.

        Raises:
            BrokerSilent: nothing arrived for ``limit`` seconds.
        """
        count = self._read()
        now = self._clock()
        if count is None or count != self._count:
            self._count = count
            self.last_traffic = now
            return
        if self.limit > 0 and now - self.last_traffic >= self.limit:
            raise BrokerSilent(silence_text(now - self.last_traffic, self._endpoint))

    def describe_loss(self) -> str:
        """The sentence for a connection pika itself closed on missed heartbeats."""
        return silence_text(self.silent_for(), self._endpoint)


def is_internal_error(exc: BaseException) -> bool:
    """True for a broker's ``541 INTERNAL_ERROR`` (e.g. a quorum queue without a leader)."""
    current: BaseException | None = exc
    for _ in range(5):
        if current is None:
            return False
        if getattr(current, "reply_code", None) == 541 or "INTERNAL_ERROR" in str(current):
            return True
        nxt = current.__cause__ or (current.args[0] if current.args else None)
        current = nxt if isinstance(nxt, BaseException) else None
    return False


def unavailable_text(queue: str, node: str, seconds: float) -> str:
    """A queue that has answered only with internal errors for a while, for people."""
    return (
        f"The queue {queue} does not answer on node {node}: the broker reports an internal "
        f"error (541 INTERNAL_ERROR) for {seconds_text(round(seconds))} now. This is the "
        "broker's fault (for a quorum queue, often a queue without a leader after a crash); "
        "Kanin keeps retrying."
    )


def server_version(properties: dict[str, Any]) -> tuple[int, int] | None:
    """``(major, minor)`` from the broker's ``Connection.Start`` properties, if it says."""
    raw = properties.get("version")
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    match = _VERSION.match(text) if isinstance(text, str) else None
    return (int(match.group(1)), int(match.group(2))) if match else None


def allows_consumer_timeout(properties: dict[str, Any]) -> bool:
    """True when the broker is RabbitMQ 3.12 or later (``x-consumer-timeout`` per consumer)."""
    version = server_version(properties)
    return version is not None and version >= CONSUMER_TIMEOUT_FROM


class InternalErrors:
    """How long a queue has answered only ``541 INTERNAL_ERROR``, and when to say so.

    Args:
        queue: the queue's name.
        after: seconds of failures before ``failed`` returns the sentence (once).
        clock: ``time.monotonic`` or a test's clock.
    """

    def __init__(
        self, queue: str, after: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.queue = queue
        self.after = after
        self._clock = clock
        self.since: float | None = None
        self.reported = False

    def failed(self, node: str) -> str | None:
        """Note one internal error; the sentence when the bound was just passed, else ``None``.

        Args:
            node: the broker that answered, for the sentence.
        """
        now = self._clock()
        if self.since is None:
            self.since = now
        if self.reported or now - self.since < self.after:
            return None
        self.reported = True
        return unavailable_text(self.queue, node, now - self.since)

    def answered(self) -> bool:
        """The queue answered; True when an outage had been reported (say it is over)."""
        was = self.reported
        self.since = None
        self.reported = False
        return was


def node_name(properties: dict[str, Any], endpoint: str) -> str:
    """The broker for messages: its cluster name (a lone node's name) and ``host:port``."""
    raw = properties.get("cluster_name")
    name = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    return f"{name} ({endpoint})" if isinstance(name, str) and name else endpoint
