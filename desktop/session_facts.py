"""What the window reads about the running session: settings, connection, queue and counts.

``Controller`` inherits these read-only properties; they only read the
objects the controller owns (the session, the router, the ledger, the crew,
the outbox and the sampler), all in the GUI thread.
"""

from __future__ import annotations

from core.ledger import Ledger, TaskState
from core.monitor import QueueStats
from core.rates import QueueSampler
from core.router import ConnectionState, Router
from core.status import WorkerStatus
from core.topology import QueueType
from desktop.crew import Crew
from desktop.outbox import Outbox
from desktop.preferences import AppSettings
from desktop.session import Session


class SessionFacts:
    """Read-only facts about the session, for the window, the self-test and the tests."""

    _session: Session
    _router: Router
    _ledger: Ledger
    _crew: Crew
    _outbox: Outbox
    _sampler: QueueSampler
    _max_attempts: int | None
    _pending: int
    _started: bool

    @property
    def settings(self) -> AppSettings:
        """The settings in effect."""
        return self._session.settings

    @property
    def connection_state(self) -> ConnectionState:
        """The connection's state (a ``str`` too, e.g. ``"connected"``)."""
        return self._router.state

    @property
    def connection_message(self) -> str:
        """A sentence about the connection, for the status bar and the banner."""
        return self._router.message

    @property
    def broker_version(self) -> str:
        """``RabbitMQ 3.10.8``, or "" until the watcher has connected once."""
        return self._router.broker

    @property
    def queue_kind(self) -> str:
        """``quorum queue`` or ``classic queue`` once the queue was declared, else ""."""
        return self._router.queue_kind

    @property
    def queue_type(self) -> QueueType | None:
        """The queue's type as the producer's declare found it (``None`` before)."""
        return self._router.queue_type

    @property
    def max_attempts(self) -> int | None:
        """Attempts before a failing task is dead-lettered (``None``: given back forever)."""
        return self._max_attempts

    @property
    def started(self) -> bool:
        """True once ``start()`` was called."""
        return self._started

    @property
    def last_stats(self) -> QueueStats | None:
        """The work queue's latest reading by the watcher (``None`` before the first)."""
        return self._sampler.last

    @property
    def node(self) -> str:
        """The broker node the producer is connected to, redacted ("" when not connected)."""
        return self._router.node

    @property
    def pending_count(self) -> int:
        """Tasks waiting for the broker: enqueued or unconfirmed while it is away."""
        return self._pending

    @property
    def unconfirmed_count(self) -> int:
        """Tasks the broker has not confirmed yet (sent, waiting, or still being enqueued)."""
        producer = self._session.producer
        return (producer.waiting if producer is not None else 0) + self._outbox.size

    @property
    def finished_total(self) -> int:
        """Tasks Kanin's workers have acknowledged since the window opened."""
        return self._router.finished_total

    def queued_by_bookkeeping(self) -> int:
        """Kanin's own count of its tasks in the queue: confirmed, not yet taken or back."""
        states = (TaskState.QUEUED, TaskState.REDELIVERED, TaskState.RETRYING)
        return sum(self._ledger.count(state) for state in states)

    @property
    def statuses(self) -> list[WorkerStatus]:
        """The last copy of every worker's state."""
        return list(self._crew.statuses)
