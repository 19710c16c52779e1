"""The task runner: one worker's deliveries, one at a time, from claim to ack, return or failure.

It runs in the worker's thread, on the worker's connection and channel:
claims the task from the budget, reports it started, spends its work time
in short ``process_data_events`` slices (heartbeats keep flowing, stop and
kill are seen within a slice), then acks it, or gives it back, or hands a
failed task to the failure policy (``core.attempts``).

Each slice also checks that the channel is still open: a broker that closes
it under the task (its consumer timeout) has requeued the task, so the work
stops at once (``core.faults.TakenBack``) instead of running on beside the
redelivery. The process's ``core.memory`` remembers such tasks: a task the
broker took back for its timeout is not run again but rejected (to the
dead-letter queue where there is one), also when its redelivery already
reached another worker of this process.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import replace
from typing import Any

from pika.adapters.blocking_connection import BlockingChannel, BlockingConnection

from core import faults, pika_internals
from core.attempts import FailurePolicy, recorded_failures
from core.budget import TaskBudget
from core.events import (
    TaskFailed,
    TaskFinished,
    TaskRedelivered,
    TaskReturned,
    TaskStarted,
    TaskTakenBack,
    TaskTooLong,
    WorkerState,
)
from core.memory import TaskMemory
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
        memory: the process's memory of tasks (duplicates, timeouts, foreign identities).
        consumer_timeout: the broker's consumer timeout in seconds, when configured.

    Attributes:
        finish_current: on stop, finish the task in progress instead of giving it back.
        failures: settles failed tasks on the current connection (set per connection).
        watch: notices a silent connection while working (set per connection).
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
        memory: TaskMemory,
        consumer_timeout: float | None = None,
    ) -> None:
        self.name = board.name
        self.finish_current = False
        self.failures: FailurePolicy | None = None
        self.watch: faults.SilenceWatch | None = None
        self.consumer_timeout = consumer_timeout
        self._memory = memory
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
        self._derived = False  # the current task's id was derived (no message_id)

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
        memory = self._memory
        delivery = delivery_from(
            properties,
            body,
            redelivered=bool(method.redelivered),
            max_work_seconds=self._max_work_seconds,
            identify=memory.foreign_id,
        )
        failed_before = recorded_failures(properties)
        if failed_before is not None:
            delivery = replace(delivery, delivery_count=failed_before + 1)
        if delivery.redelivered and self._redelivered(channel, tag, delivery):
            return
        if self._budget is not None and not self._budget.try_claim():
            if manual:
                channel.basic_nack(delivery_tag=tag, requeue=True)
            self._stop.set()
            return
        self._claimed = self._budget is not None
        self._current = delivery
        self._derived = not getattr(properties, "message_id", None)
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
        if manual and seconds > 0:
            self._warn_if_too_long(delivery, seconds)
        if seconds > 0 and not self._wait_working(connection, channel, tag, delivery, seconds):
            return
        if manual:
            channel.basic_ack(delivery_tag=tag)
        memory.done(delivery.task_id, body if self._derived else None)
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
        if delivery is not None and self._manual:
            self._memory.given_back(delivery.task_id, delivery.body if self._derived else None)
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
            if not channel.is_open:
                self._taken_back(channel, delivery)
            if self.watch is not None:
                self.watch.check()
            if self._manual and self._memory.timeout_of(delivery.task_id)[0]:
                # The broker took an earlier delivery of this very task back from
                # another worker for its timeout: this redelivery cannot finish either.
                self._give_up(channel, tag, delivery)
                return False
            fraction = min(1.0, (time.monotonic() - start) / seconds)
            with self._lock:
                self._status.progress = fraction

    def _redelivered(self, channel: BlockingChannel, tag: int, delivery: Delivery) -> bool:
        """Report a redelivery (a duplicate when it was done here); True when it was given up."""
        duplicate = self._memory.was_done(delivery.task_id)
        if duplicate:
            with self._lock:
                counters = self._status.counters
                counters["duplicates"] = counters.get("duplicates", 0) + 1
            log.warning(
                "%s: task %s came back although it was done and acknowledged here: the ack "
                "never reached the broker, so it runs a second time (at-least-once delivery).",
                self.name,
                delivery.task_id,
            )
        self._emit(TaskRedelivered(self.name, time.monotonic(), delivery.task_id, duplicate))
        if self._manual and self._memory.timeout_of(delivery.task_id)[0]:
            self._give_up(channel, tag, delivery)
            return True
        return False

    def _warn_if_too_long(self, delivery: Delivery, seconds: float) -> None:
        known = self._memory.broker_timeout_ms
        timeout = known / 1000 if known is not None else self.consumer_timeout
        if timeout is None or seconds <= timeout:
            return
        message = faults.too_long_text(seconds, timeout)
        log.warning("%s: task %s: %s", self.name, delivery.task_id, message)
        self._emit(
            TaskTooLong(self.name, time.monotonic(), delivery.task_id, seconds, timeout, message)
        )

    def _taken_back(self, channel: BlockingChannel, delivery: Delivery) -> None:
        """The broker closed the channel under the task (and requeued it): stop and say why.

        Raises:
            core.faults.TakenBack: always; the worker opens a new connection.
        """
        error = faults.channel_closed(pika_internals.closing_reason(channel))
        if error.timeout_ms is not None:
            self._memory.timed_out(delivery.task_id, error.timeout_ms)
        self._memory.given_back(delivery.task_id, delivery.body if self._derived else None)
        self._current = None
        if self._claimed and self._budget is not None:
            self._budget.give_back()
        self._claimed = False
        message = str(error)
        log.warning("%s: task %s: %s", self.name, delivery.task_id, message)
        with self._lock:
            self._status.returned += 1
            self._status.task_id = None
            self._status.progress = 0.0
        now = time.monotonic()
        self._emit(TaskTakenBack(self.name, now, delivery.task_id, message, error.timeout_ms))
        self._emit(TaskReturned(self.name, now, delivery.task_id, message))
        raise error

    def _give_up(self, channel: BlockingChannel, tag: int, delivery: Delivery) -> None:
        """Reject a task the broker already took back for its timeout: it would loop for ever."""
        _taken, timeout_ms = self._memory.timeout_of(delivery.task_id)
        channel.basic_reject(delivery_tag=tag, requeue=False)
        message = faults.given_up_text(timeout_ms)
        log.warning("%s: task %s: %s", self.name, delivery.task_id, message)
        if self._current is delivery:
            self._current = None
            if self._claimed and self._budget is not None:
                self._budget.give_back()
            self._claimed = False
        with self._lock:
            self._status.failures += 1
            self._status.state = WorkerState.IDLE
            self._status.task_id = None
            self._status.progress = 0.0
        self._emit(
            TaskFailed(
                self.name,
                time.monotonic(),
                delivery.task_id,
                message,
                False,
                delivery.delivery_count,
            )
        )

    def _give_back(self, delivery: Delivery, reason: str) -> None:
        # No nack here: the worker's graceful close cancels the consumer first and
        # then nacks every unacked delivery. Nacked before the cancel, the task went
        # straight back to this same consumer (its prefetch slot was free) and was
        # returned a second time: quorum queues counted two deliveries for one.
        if self._manual:
            self._memory.given_back(delivery.task_id, delivery.body if self._derived else None)
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
            if requeued:
                self._memory.given_back(delivery.task_id, delivery.body if self._derived else None)
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
