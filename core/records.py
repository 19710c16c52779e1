"""A task's record as the ledger keeps it, and the states a task goes through.

``core.ledger`` holds the records and decides their transitions; a record
knows how to say its state in words (``running on W-2``, ``delivered,
waiting on W-1``, ``lost: auto-ack, its worker was killed``).
"""

from __future__ import annotations

import enum

from core.tasks import preview


class TaskState(enum.Enum):
    """Where a task is in its life, as the table shows it."""

    SENDING = "sending"
    WAITING = "waiting for broker"
    QUEUED = "queued"
    DELIVERED = "delivered, waiting"
    RUNNING = "running"
    REDELIVERED = "redelivered"
    RETRYING = "failed, retrying"
    DONE = "done"
    FAILED = "failed"
    DEAD_LETTERED = "dead-lettered"
    LOST = "lost"
    PURGED = "purged"

    @property
    def final(self) -> bool:
        """True for states a task does not leave (done, failed, dead-lettered, lost, purged)."""
        return self in FINAL_STATES


FINAL_STATES = (
    TaskState.DONE,
    TaskState.FAILED,
    TaskState.DEAD_LETTERED,
    TaskState.LOST,
    TaskState.PURGED,
)
UNSENT_STATES = (TaskState.SENDING, TaskState.WAITING)
REJECTABLE_STATES = (TaskState.SENDING, TaskState.WAITING, TaskState.QUEUED)


class TaskRecord:
    """One task as the ledger knows it (one thread only: the GUI thread in the window).

    Attributes:
        task_id: the task's id (``message_id``, or ``ext-...`` for other producers' tasks).
        body: a printable preview of the body (made when first read).
        state: where the task is.
        worker: the worker running it or that ran it last.
        attempts: every worker that took it, in order.
        delivery_count: deliveries so far (from the broker when it counts them).
        enqueued: wall-clock time it was created, if known.
        started: wall-clock time the last delivery started.
        finished: wall-clock time it was acknowledged.
        duration: seconds of work of the successful delivery.
        note: why it failed or came back.
        redelivered: True once it has been given back to the queue at least once.
        row: its place among the shown records, from 0 (-1 until ``Ledger.show_new()``).
    """

    __slots__ = (
        "task_id",
        "_body",
        "_raw",
        "state",
        "worker",
        "attempts",
        "delivery_count",
        "enqueued",
        "started",
        "finished",
        "duration",
        "note",
        "redelivered",
        "row",
    )

    def __init__(
        self, task_id: str, body: str | bytes, state: TaskState, enqueued: float | None
    ) -> None:
        self.task_id = task_id
        # Raw bytes (another producer's task) are previewed when first shown, not
        # for every delivery that flies past in a flood of zero-second tasks.
        self._body = body if isinstance(body, str) else ""
        self._raw = body if isinstance(body, bytes) else None
        self.state = state
        self.worker = ""
        self.attempts: list[str] = []
        self.delivery_count = 0
        self.enqueued = enqueued
        self.started: float | None = None
        self.finished: float | None = None
        self.duration: float | None = None
        self.note = ""
        self.redelivered = False
        self.row = -1

    @property
    def body(self) -> str:
        """A printable preview of the body."""
        if self._raw is not None:
            self._body = preview(self._raw)
            self._raw = None
        return self._body

    @property
    def state_text(self) -> str:
        """The state in words, e.g. ``running on W-2`` or ``done (redelivered)``."""
        if self.state is TaskState.RUNNING:
            text = f"running on {self.worker}"
        elif self.state is TaskState.DELIVERED:
            text = f"delivered, waiting on {self.worker}"
        elif self.state is TaskState.LOST:
            return f"lost: {self.note}"
        elif self.state is TaskState.RETRYING and self.delivery_count:
            text = f"failed (delivery {self.delivery_count}), retrying"
        elif self.state is TaskState.DEAD_LETTERED and self.delivery_count:
            text = f"dead-lettered after {self.delivery_count} deliveries"
        else:
            text = str(self.state.value)
        if self.redelivered and self.state in (TaskState.RUNNING, TaskState.DONE):
            text += " (redelivered)"
        return text

    def matches(self, state: TaskState | None) -> bool:
        """True when the record belongs under a state filter (``None``: every record)."""
        if state is None:
            return True
        if state is TaskState.REDELIVERED:
            return self.redelivered or self.state is TaskState.REDELIVERED
        return self.state is state
