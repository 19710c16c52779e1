"""The task runner: one worker's deliveries, one at a time, from claim to ack, return or failure.

It runs in the worker's thread, on the worker's connection and channel:
claims the task from the budget, reports it started, spends its work time
in short ``process_data_events`` slices (heartbeats keep flowing, stop and
kill are seen within a slice), then acks it, or gives it back, or hands a
failed task to the failure policy (``core.attempts``).
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import replace
from typing import Any

from pika.adapters.blocking_connection import BlockingChannel, BlockingConnection

from core.attempts import FailurePolicy, recorded_failures
from core.budget import TaskBudget
from core.events import TaskFailed, TaskFinished, TaskReturned, TaskStarted, WorkerState
from core.status import StatusBoard
from core.tasks import Delivery, delivery_from
from core.work import Work

log = logging.getLogger(__name__)


class Killed(Exception):
    """Raised inside the worker thread to abandon everything at once."""


class TaskRunner:
    """Runs a worker's deliveries in the worker's thread.

    Args:
        board: the worker's status board and observer.
        stop: set to stop the worker (the runner sets it too, when the budget is spent).
        kill: set to kill the worker; the runner raises ``Killed`` at its next check.
        manual: acknowledge after the work (False: the broker auto-acked on delivery).
        max_work_seconds: cap on the work time of one task.
        slice_seconds: longest uninterrupted wait while working.
        work: decides each task's work.
        budget: optional shared limit on tasks.

    Attributes:
        finish_current: on stop, finish the task in progress instead of giving it back.
        failures: settles failed tasks on the current connection (set per connection).
    """

    def __init__(
        self,
        board: StatusBoard,
        stop: threading.Event,
        kill: threading.Event,
        *,
        manual: bool,
        max_work_seconds: float,
        slice_seconds: float,
        work: Work,
        budget: TaskBudget | None,
    ) -> None:
        self.name = board.name
        self.finish_current = False
        self.failures: FailurePolicy | None = None
        self._board = board
        self._lock = board.lock
        self._status = board.status
        self._emit = board.emit
        self._stop = stop
        self._kill = kill
        self._manual = manual
        self._max_work_seconds = max_work_seconds
        self._slice_seconds = slice_seconds
        self._work = work
        self._budget = budget
        self._claimed = False  # the current task holds a claim on the budget
        self._current: Delivery | None = None  # the task being worked on, if any

    def process(
        self,
        connection: BlockingConnection,
        channel: BlockingChannel,
        method: Any,
        properties: Any,
        body: bytes,
    ) -> None:
        """Run one delivery to its end: ack, give back or fail.

        Args:
            connection: the worker's connection (its events flow while working).
            channel: the channel that delivered.
            method: pika's ``Basic.Deliver``.
            properties: the message's properties.
            body: the message's body.

        Raises:
            Killed: the worker was killed while working.
        """
        manual = self._manual
        tag = method.delivery_tag
        delivery = delivery_from(
            properties,
            body,
            redelivered=bool(method.redelivered),
            max_work_seconds=self._max_work_seconds,
        )
        failed_before = recorded_failures(properties)
        if failed_before is not None:
            delivery = replace(delivery, delivery_count=failed_before + 1)
        if self._budget is not None and not self._budget.try_claim():
            if manual:
                channel.basic_nack(delivery_tag=tag, requeue=True)
            self._stop.set()
            return
        self._claimed = self._budget is not None
        self._current = delivery
        started = time.monotonic()
        with self._lock:
            status = self._status
            status.state = WorkerState.BUSY
            status.task_id = delivery.task_id
            self._board.previewed = delivery
            status.progress = 0.0
            if delivery.redelivered:
                status.redeliveries += 1
        self._emit(TaskStarted(self.name, started, delivery))
        try:
            seconds = max(0.0, min(float(self._work(delivery)), self._max_work_seconds))
        except Exception as exc:  # noqa: BLE001 - a poison task must not kill its worker
            self._fail(channel, tag, delivery, exc, properties)
            return
        if seconds > 0 and not self._wait_working(connection, channel, tag, delivery, seconds):
            return
        if manual:
            channel.basic_ack(delivery_tag=tag)
        self._current = None
        self._claimed = False
        now = time.monotonic()
        with self._lock:
            status.done += 1
            status.state = WorkerState.IDLE
            status.task_id = None
            status.progress = 1.0
        self._emit(TaskFinished(self.name, now, delivery.task_id, now - started))
        if self._budget is not None:
            self._budget.completed()
            if self._budget.exhausted.is_set():
                self._stop.set()

    def abandon(self, reason: str | None) -> None:
        """The connection died under the current task: the broker requeues it (manual acks).

        Its budget claim is returned, and with ``reason`` a ``TaskReturned`` is
        reported (a kill reports ``WorkerKilled`` instead). With auto-ack the
        task was already taken off the queue: it is lost, as the tutorial warns.

        Args:
            reason: why the task went back, or ``None`` to report nothing.
        """
        delivery, self._current = self._current, None
        if self._claimed and self._budget is not None:
            self._budget.give_back()
        self._claimed = False
        if delivery is None or reason is None or not self._manual:
            return
        with self._lock:
            self._status.returned += 1
        self._emit(TaskReturned(self.name, time.monotonic(), delivery.task_id, reason))

    def _wait_working(
        self,
        connection: BlockingConnection,
        channel: BlockingChannel,
        tag: int,
        delivery: Delivery,
        seconds: float,
    ) -> bool:
        """Spend ``seconds`` on the task in slices; False when it was given back instead."""
        start = time.monotonic()
        end = start + seconds
        slice_seconds = self._slice_seconds
        while True:
            now = time.monotonic()
            if now >= end:
                return True
            if self._kill.is_set():
                raise Killed
            if self._stop.is_set() and not self.finish_current:
                self._give_back(delivery, "stopped")
                return False
            connection.process_data_events(time_limit=min(slice_seconds, end - now))
            fraction = min(1.0, (time.monotonic() - start) / seconds)
            with self._lock:
                self._status.progress = fraction

    def _give_back(self, delivery: Delivery, reason: str) -> None:
        # No nack here: the worker's graceful close cancels the consumer first and
        # then nacks every unacked delivery. Nacked before the cancel, the task went
        # straight back to this same consumer (its prefetch slot was free) and was
        # returned a second time: quorum queues counted two deliveries for one.
        self._current = None
        self._claimed = False
        if self._budget is not None:
            self._budget.give_back()
        with self._lock:
            self._status.returned += 1
            self._status.task_id = None
            self._status.progress = 0.0
        self._emit(TaskReturned(self.name, time.monotonic(), delivery.task_id, reason))

    def _fail(
        self,
        channel: BlockingChannel,
        tag: int,
        delivery: Delivery,
        exc: Exception,
        properties: Any,
    ) -> None:
        """Report a task whose work raised, after the failure policy settled it (manual acks).

        ``core.attempts.FailurePolicy`` gives it back, republishes it with its
        failure count (classic queues) or rejects it to the dead-letter queue
        after ``max_attempts`` failures. With auto-ack the task is lost.
        """
        manual = self._manual
        message = f"{type(exc).__name__}: {exc}"
        attempt = delivery.delivery_count
        requeued = manual
        if manual:
            policy = self.failures
            if policy is not None:
                requeued = policy.settle(channel, tag, delivery, properties)
            else:  # not reached: the worker gives every connection its policy
                channel.basic_nack(delivery_tag=tag, requeue=True)
        log.warning(
            "%s: task %s failed (attempt %s): %s%s",
            self.name,
            delivery.task_id,
            attempt if attempt is not None else "?",
            message,
            "" if requeued else "; dead-lettered" if manual else "; lost (auto-ack)",
        )
        self._current = None
        self._claimed = False
        if self._budget is not None:
            self._budget.give_back()
        with self._lock:
            self._status.failures += 1
            self._status.state = WorkerState.IDLE
            self._status.task_id = None
            self._status.progress = 0.0
        self._emit(
            TaskFailed(self.name, time.monotonic(), delivery.task_id, message, requeued, attempt)
        )
