"""The task ledger: every task Kanin has seen, its state, and what each report means for it.

Records keep the order Kanin first saw the tasks and are found by id through a
dict (fast with 100,000 tasks). The transition policy lives here: a task a
worker gave back *returned* to the queue and will be *redelivered*; with
auto-ack the broker had already forgotten it, so it is *lost*; a failing task
not requeued was *dead-lettered* (manual acks) or *failed*. A task a worker
received behind its current one is *delivered, waiting on W-n* until it starts.
Views learn of changes in batches: new records wait until ``show_new()`` and
changed positions until ``take_changed()``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from core.records import (
    FINAL_STATES,
    REJECTABLE_STATES,
    UNSENT_STATES,
    TaskRecord,
    TaskState,
)
from core.tasks import Delivery, Task

__all__ = ["Ledger", "TaskRecord", "TaskState", "Transition"]


Transition = Callable[[TaskRecord, "TaskState | None"], None]
"""Told of every change of state: the record (already changed) and its former state
(``None`` for a new record)."""


class Ledger:
    """Every task Kanin has seen, in the order it first saw them.

    The ``mark_*`` methods record plain transitions; ``returned``, ``killed``
    and ``failed`` say what a worker's report means for the task. Nothing here
    is thread-safe: one thread owns the ledger.
    """

    def __init__(self) -> None:
        self._records: list[TaskRecord] = []
        self._by_id: dict[str, TaskRecord] = {}
        self._new: list[TaskRecord] = []
        self._changed: set[int] = set()
        self._counts: dict[TaskState, int] = dict.fromkeys(TaskState, 0)
        self._frontier = 0
        self._listener: Transition | None = None
        self._held: dict[str, set[str]] = {}  # worker -> tasks delivered to it, not started

    # ----------------------------------------------------------------- queries

    @property
    def records(self) -> list[TaskRecord]:
        """The shown records, in order (the same list object for the ledger's whole life)."""
        return self._records

    def in_state(self, state: TaskState) -> list[TaskRecord]:
        """Every record in ``state``, shown or not yet (a walk over all: for rare events)."""
        return [record for record in self._by_id.values() if record.state is state]

    def get(self, task_id: str) -> TaskRecord | None:
        """The record of a task, if it is known (records not shown yet included)."""
        return self._by_id.get(task_id)

    def counts(self) -> dict[TaskState, int]:
        """How many tasks are in each state (a copy)."""
        return dict(self._counts)

    def count(self, state: TaskState) -> int:
        """How many tasks are in ``state``."""
        return self._counts[state]

    def first_unfinished(self) -> int:
        """The position of the oldest shown task that is not in a final state (or the count).

        Amortised O(1): the search resumes where the last one stopped, since
        finished records rarely change again.
        """
        records = self._records
        position = min(self._frontier, len(records))
        while position < len(records) and records[position].state in FINAL_STATES:
            position += 1
        self._frontier = position
        return position

    def __len__(self) -> int:
        return len(self._records) + len(self._new)

    # ----------------------------------------------------------------- what views see

    @property
    def unshown(self) -> int:
        """Records added since the last ``show_new()``."""
        return len(self._new)

    def show_new(self) -> None:
        """Give the records added since the last call their positions, after the shown ones."""
        first = len(self._records)
        for offset, record in enumerate(self._new):
            record.row = first + offset
        self._records.extend(self._new)
        self._new = []

    @property
    def changed(self) -> int:
        """Shown records changed since the last ``take_changed()``."""
        return len(self._changed)

    def take_changed(self) -> list[int]:
        """The positions of the shown records changed since the last call, sorted."""
        changed = sorted(self._changed)
        self._changed.clear()
        return changed

    def clear_finished(self) -> int:
        """Forget the records in a final state; returns how many went away (positions anew)."""
        gone = [r for r in self._records if r.state in FINAL_STATES]
        for record in gone:
            del self._by_id[record.task_id]
            self._counts[record.state] -= 1
        if gone:
            self._records[:] = [r for r in self._records if r.state not in FINAL_STATES]
            for position, record in enumerate(self._records):
                record.row = position
            self._changed.clear()
            self._frontier = 0
        return len(gone)

    def watch(self, listener: Transition | None) -> None:
        """Tell ``listener`` of every new record and change of state (``None``: stop).

        For a journal of task lifecycles; unwatched, a change costs nothing more.
        """
        self._listener = listener
        if listener is None:
            self.__dict__.pop("_move", None)
        else:
            self._move = self._move_and_tell  # type: ignore[method-assign]

    # ----------------------------------------------------------------- plain transitions

    def add_tasks(self, tasks: Sequence[Task], *, enqueued: float | None = None) -> None:
        """Add Kanin's own tasks as *sending* (shown at the next ``show_new()``).

        Args:
            tasks: the new tasks.
            enqueued: the time to show; defaults to each task's creation time.
        """
        previews: dict[bytes, str] = {}  # a batch is often N copies of one text
        for task in tasks:
            text = previews.get(task.body)
            if text is None:
                text = previews[task.body] = task.preview
            record = TaskRecord(
                task.id, text, TaskState.SENDING, task.created if enqueued is None else enqueued
            )
            self._add(record)

    def mark_confirmed(self, task_ids: Iterable[str]) -> None:
        """The broker confirmed these tasks: *sending* (or *waiting*) becomes *queued*."""
        for task_id in task_ids:
            record = self._by_id.get(task_id)
            if record is not None and record.state in UNSENT_STATES:
                self._move(record, TaskState.QUEUED)

    def mark_waiting(self, task_ids: Iterable[str]) -> None:
        """The broker is away: these unconfirmed tasks wait to be published once it is back."""
        for task_id in task_ids:
            record = self._by_id.get(task_id)
            if record is not None and record.state is TaskState.SENDING:
                self._move(record, TaskState.WAITING)

    def mark_published(self, task_ids: Iterable[str]) -> None:
        """The producer handed these tasks to the broker: *waiting* becomes *sending*."""
        for task_id in task_ids:
            record = self._by_id.get(task_id)
            if record is not None and record.state is TaskState.WAITING:
                self._move(record, TaskState.SENDING)

    def mark_rejected(self, task_ids: Iterable[str], reason: str) -> None:
        """The broker refused these tasks, or they could not be sent: they failed."""
        for task_id in task_ids:
            record = self._by_id.get(task_id)
            if record is not None and record.state in REJECTABLE_STATES:
                record.note = reason
                self._move(record, TaskState.FAILED)

    def mark_started(self, worker: str, delivery: Delivery, at: float) -> None:
        """A worker took a task; unknown tasks (other producers') are added here."""
        record = self._record_of(delivery)
        held = self._held.get(worker)
        if held:
            held.discard(delivery.task_id)
        if delivery.redelivered:
            record.redelivered = True
        record.worker = worker
        record.attempts.append(worker)
        record.delivery_count = delivery.delivery_count or max(record.delivery_count + 1, 2)
        record.started = at
        record.finished = None
        record.duration = None
        self._move(record, TaskState.RUNNING)

    def mark_delivered(self, worker: str, delivery: Delivery) -> None:
        """A worker received a task behind its current one: *delivered, waiting on* it."""
        record = self._record_of(delivery)
        if record.state.final or record.state is TaskState.RUNNING:
            return
        record.worker = worker
        self._held.setdefault(worker, set()).add(record.task_id)
        self._move(record, TaskState.DELIVERED)

    def release(self, worker: str, why: str, *, lost: bool) -> int:
        """A worker ended or lost its connection: the tasks waiting on it went back, or are lost.

        Args:
            worker: the worker.
            why: what happened to it, e.g. ``its worker was killed``.
            lost: auto-ack: the broker had forgotten them on delivery.

        Returns:
            How many tasks were waiting on it.
        """
        count = 0
        for task_id in self._held.pop(worker, ()):
            record = self._by_id.get(task_id)
            if record is None or record.state is not TaskState.DELIVERED or record.worker != worker:
                continue
            count += 1
            if lost:
                record.note = f"auto-ack, {why} before starting it"
                self._move(record, TaskState.LOST)
            else:
                record.note = f"{worker} had not started it ({why}); it is back in the queue."
                record.redelivered = True
                self._move(record, TaskState.REDELIVERED)
        return count

    def mark_finished(self, worker: str, task_id: str, duration: float, at: float) -> None:
        """A worker acknowledged a task: it is done."""
        record = self._by_id.get(task_id)
        if record is None:
            return
        record.worker = worker
        record.finished = at
        record.duration = duration
        self._move(record, TaskState.DONE)

    def mark_returned(self, task_id: str, reason: str) -> None:
        """A running task went back to the queue unfinished: it will be redelivered."""
        record = self._by_id.get(task_id)
        if record is None or record.state is not TaskState.RUNNING:
            return
        record.redelivered = True
        record.note = reason
        self._move(record, TaskState.REDELIVERED)

    def mark_failed(
        self,
        task_id: str,
        error: str,
        requeued: bool,
        *,
        attempt: int | None = None,
        dead_lettered: bool = False,
    ) -> None:
        """The work raised: a requeued task is *failed, retrying*, else failed or dead-lettered.

        Args:
            task_id: the task.
            error: what the work raised.
            requeued: the task went back to the queue and will come back.
            attempt: which delivery failed, when the broker (or Kanin) counted it.
            dead_lettered: not requeued, but routed to the dead-letter queue.
        """
        record = self._by_id.get(task_id)
        if record is None:
            return
        if attempt:
            record.delivery_count = attempt
        if requeued:
            record.note = f"{error} (back in the queue)"
            record.redelivered = True
            self._move(record, TaskState.RETRYING)
        elif dead_lettered:
            record.note = f"{error} (moved to the dead-letter queue)"
            self._move(record, TaskState.DEAD_LETTERED)
        else:
            record.note = f"{error} (not requeued)"
            self._move(record, TaskState.FAILED)

    # ----------------------------------------------------------------- what reports mean

    def returned(self, task_id: str, worker: str, reason: str, *, auto_ack: bool) -> bool:
        """A worker stopped with a task unfinished; returns True when it went back to the queue.

        With manual acks the broker requeues it (it is redelivered later); with
        auto-ack the broker had counted it as acknowledged on delivery: it is lost.
        """
        note = (
            f"auto-ack, its worker stopped ({reason})"
            if auto_ack
            else f"{worker} gave it back ({reason}); it is back in the queue."
        )
        self._give_back(task_id, worker, note, lost=auto_ack)
        return not auto_ack

    def killed(self, task_id: str, worker: str, *, auto_ack: bool) -> bool:
        """A worker was killed while running a task; returns True when it went back to the queue.

        The broker requeues a killed worker's unacknowledged task; with auto-ack
        there was nothing unacknowledged, so the task is lost.
        """
        note = (
            "auto-ack, its worker was killed"
            if auto_ack
            else f"{worker} was killed before acknowledging it; the broker requeued it."
        )
        self._give_back(task_id, worker, note, lost=auto_ack)
        return not auto_ack

    def _give_back(self, task_id: str, worker: str, note: str, *, lost: bool) -> None:
        record = self._by_id.get(task_id)
        if record is None:
            return
        if record.state is TaskState.RUNNING and record.worker == worker:
            record.note = note
            if not lost:
                record.redelivered = True
            self._move(record, TaskState.LOST if lost else TaskState.REDELIVERED)
        elif not lost and record.worker != worker and worker in record.attempts:
            # The broker requeued it at once and another worker took it before this
            # report arrived: say why it came back, and leave its state alone.
            record.note = note
            record.redelivered = True
            if record.row >= 0:
                self._changed.add(record.row)

    def failed(
        self, task_id: str, error: str, requeued: bool, attempt: int | None, *, auto_ack: bool
    ) -> None:
        """The work raised: requeued, it retries; not requeued, it was dead-lettered.

        A task a worker rejects without requeueing goes to the dead-letter queue
        (when the queue has one); with auto-ack nothing is rejected, so it failed.
        """
        self.mark_failed(
            task_id, error, requeued, attempt=attempt, dead_lettered=not requeued and not auto_ack
        )

    # ----------------------------------------------------------------- bookkeeping

    def _record_of(self, delivery: Delivery) -> TaskRecord:
        """The record of a delivered task; another producer's task is added (as queued)."""
        record = self._by_id.get(delivery.task_id)
        if record is None:
            record = TaskRecord(delivery.task_id, delivery.body, TaskState.QUEUED, delivery.created)
            if delivery.foreign:
                record.note = "Published by another producer."
            self._add(record)
        return record

    def _add(self, record: TaskRecord) -> None:
        if record.task_id in self._by_id:
            return
        self._by_id[record.task_id] = record
        self._new.append(record)
        self._counts[record.state] += 1
        if self._listener is not None:
            self._listener(record, None)

    def _move(self, record: TaskRecord, state: TaskState) -> None:
        self._counts[record.state] -= 1
        self._counts[state] += 1
        record.state = state
        row = record.row
        if row >= 0:
            self._changed.add(row)
            if row < self._frontier and state not in FINAL_STATES:
                self._frontier = row

    def _move_and_tell(self, record: TaskRecord, state: TaskState) -> None:
        former = record.state
        Ledger._move(self, record, state)
        if self._listener is not None:
            self._listener(record, former)
