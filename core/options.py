"""How a worker consumes: acknowledgements, prefetch, limits, heartbeats and fault bounds."""

from __future__ import annotations

import enum
import random
from dataclasses import dataclass

import pika

from core.settings import ConnectionSettings
from core.tasks import DEFAULT_MAX_WORK_SECONDS

DEFAULT_HEARTBEAT = 5
"""Seconds of heartbeat a worker asks for unless the URL names one (the broker's default is 60)."""


class AckMode(enum.Enum):
    """How deliveries are acknowledged."""

    MANUAL = "manual"
    AUTO = "auto"


@dataclass(frozen=True)
class WorkerOptions:
    """How a worker consumes.

    Attributes:
        prefetch: ``basic_qos(prefetch_count=...)``; 1 gives fair dispatch.
        ack_mode: manual acks after the work (safe) or auto-ack (loses tasks on a crash).
        max_work_seconds: cap on the work time of one task.
        heartbeat: heartbeat in seconds to ask for (0: none); ``None`` takes the URL's
            ``heartbeat`` option, else ``DEFAULT_HEARTBEAT`` (5 s): a peer gone
            without closing the socket is then noticed within ``silence_timeout``.
        reconnect: retry after losing an established connection.
        slice_seconds: longest uninterrupted wait while working or idle.
        max_backoff: cap on the delay between reconnect attempts. Retries start
            at 0.1 s and double up to this cap, each scaled by a random factor
            from 0.5 to 1 so that many workers do not knock at the same instant.
            The default 1 s keeps the time from the broker being back to every
            worker consuming under about 1.5 s; a larger cap saves little (a
            refused connection on the same machine costs well under 1 ms).
        keep_trying: retry even the first connection (the window's workers wait
            for a broker being started); off, a first failure is reported at once.
        nice: on Linux, lower the worker thread's CPU priority by this much
            (0 to 19; elsewhere ignored). The window uses 10: when its GUI
            thread and a worker both want a CPU (the GIL's hand-over needs one),
            the GUI thread gets it first.
        max_attempts: tasks whose work raises this many times go to the
            dead-letter queue (see ``core.policies``); ``None`` gives them back
            forever. Quorum queues count deliveries themselves (the policy's
            ``delivery-limit``); on other queues Kanin counts, see ``core.attempts``.
            Set the queue's policy first (``core.policies.setup_dead_lettering``):
            without a dead-letter exchange the broker drops a rejected task.
        silence_timeout: seconds without a byte from the broker after which a
            connection counts as lost (at least twice the agreed heartbeat plus
            1 s; 0 leaves it to pika's own heartbeat check, which takes two to
            four heartbeats). Reported as "no traffic from the broker for N s".
        consumer_timeout: the broker's delivery acknowledgement timeout in
            seconds, when known (``consumer_timeout`` in its configuration). A
            task needing longer is announced with a warning before it starts.
            Kanin also learns the value from the broker's first timeout.
        request_consumer_timeout: ask the broker for this per-consumer timeout
            (``x-consumer-timeout``, RabbitMQ 3.12 on; older brokers refuse the
            argument, so it is not sent to them and a warning says so).
        unavailable_after: seconds of ``541 INTERNAL_ERROR`` answers (a queue
            without a leader) before the worker says the queue does not answer;
            it keeps retrying.
    """

    prefetch: int = 1
    ack_mode: AckMode = AckMode.MANUAL
    max_work_seconds: float = DEFAULT_MAX_WORK_SECONDS
    heartbeat: int | None = None
    reconnect: bool = True
    slice_seconds: float = 0.1
    max_backoff: float = 1.0
    keep_trying: bool = False
    max_attempts: int | None = None
    nice: int = 0
    silence_timeout: float = 15.0
    consumer_timeout: float | None = None
    request_consumer_timeout: float | None = None
    unavailable_after: float = 30.0

    def __post_init__(self) -> None:
        if not 0 <= self.prefetch <= 65535:
            raise ValueError("The prefetch count must be from 0 to 65535.")
        if self.max_work_seconds < 0:
            raise ValueError("The maximum work time cannot be negative.")
        if self.max_attempts is not None and self.max_attempts < 1:
            raise ValueError("The number of attempts must be 1 or more.")
        if not 0 <= self.nice <= 19:
            raise ValueError("The nice value must be from 0 to 19.")
        if self.silence_timeout < 0 or self.unavailable_after < 0:
            raise ValueError("Fault time limits cannot be negative.")
        for timeout in (self.consumer_timeout, self.request_consumer_timeout):
            if timeout is not None and timeout <= 0:
                raise ValueError("A consumer timeout must be more than 0 seconds.")

    def parameters(
        self, settings: ConnectionSettings, *, client: str | None = None, shuffle: bool = False
    ) -> list[pika.URLParameters]:
        """Pika's parameters for every address, with the heartbeat this worker asks for.

        Args:
            settings: the broker addresses.
            client: the worker owning the connection, for its name (``core.identity``).
            shuffle: a random order of the addresses for this connection, as pika's
                documentation recommends, so that workers spread over a cluster's nodes.

        Returns:
            One entry per address: ``heartbeat`` when set, else the address's
            own ``heartbeat`` option, else ``DEFAULT_HEARTBEAT``.
        """
        chosen = self.heartbeat
        addresses = list(settings.addresses)
        if shuffle:
            random.shuffle(addresses)
        return [
            address.pika_parameters(
                heartbeat=chosen
                if chosen is not None
                else (None if address.heartbeat is not None else DEFAULT_HEARTBEAT),
                client=client,
            )
            for address in addresses
        ]
