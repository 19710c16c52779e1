"""The event router with made-up events of every kind: ledger changes, notices, connection state."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

import pytest

import core.events
from core.events import (
    ProducerBlocked,
    ProducerConnected,
    ProducerDisconnected,
    ProducerEvent,
    ProducerStalled,
    ProducerUnblocked,
    QueueAvailable,
    QueueUnavailable,
    TaskDelivered,
    TaskFailed,
    TaskFinished,
    TaskRedelivered,
    TaskReturned,
    TasksConfirmed,
    TasksPublished,
    TasksRejected,
    TaskStarted,
    WorkerConnected,
    WorkerEvent,
    WorkerFailed,
    WorkerKilled,
    WorkerReconnecting,
    WorkerStopped,
)
from core.ledger import Ledger, TaskRecord, TaskState
from core.monitor import BrokerInfo, QueueStats
from core.router import ConnectionState, Notices, Router
from core.tasks import Delivery, Task
from core.topology import QueueReport, QueueType

QUEUE = "work"


@dataclass
class Heard:
    """Every notice the router gave, in order, as (name, arguments)."""

    calls: list[tuple[str, tuple[Any, ...]]] = field(default_factory=list)

    def notices(self) -> Notices:
        names = [
            "task_started",
            "task_finished",
            "tasks_finished",
            "task_returned",
            "worker_killed",
            "queue_sampled",
            "dead_letter_sampled",
            "connection_changed",
            "connection_failed",
            "broker_identified",
        ]
        return Notices(**{name: self._recorder(name) for name in names})

    def _recorder(self, name: str) -> Any:
        def record(*args: Any) -> None:
            self.calls.append((name, args))

        return record

    def of(self, name: str) -> list[tuple[Any, ...]]:
        return [args for called, args in self.calls if called == name]


def delivery(task_id: str, *, redelivered: bool = False) -> Delivery:
    return Delivery(task_id, b"work.", redelivered, 2 if redelivered else 1, False, None, 1.0)


def stats(queue: str = QUEUE) -> QueueStats:
    return QueueStats(queue=queue, at=time.time(), ready=3, consumers=1)


def make(*, auto_ack: bool = False) -> tuple[Router, Ledger, Heard]:
    ledger = Ledger()
    heard = Heard()
    router = Router(ledger, heard.notices())
    router.begin(QUEUE, "guest", auto_ack=auto_ack)
    return router, ledger, heard


def enqueued(ledger: Ledger, count: int = 1) -> list[str]:
    tasks = [Task.new(f"task {i}.") for i in range(count)]
    ledger.add_tasks(tasks)
    return [t.id for t in tasks]


def record(ledger: Ledger, task_id: str) -> TaskRecord:
    found = ledger.get(task_id)
    assert found is not None
    return found


def connected(router: Router, *, report: QueueReport | None = None) -> None:
    router.route([ProducerConnected(1.0, "amqp://guest@rabbit:5672/%2F", "declared", report)])


def test_every_event_kind_has_a_handler_or_is_skipped_on_purpose() -> None:
    router, _ledger, _heard = make()
    kinds = {
        kind
        for base in (WorkerEvent, ProducerEvent)
        for kind in vars(core.events).values()
        if isinstance(kind, type) and issubclass(kind, base) and kind is not base
    }
    skipped = {k.__name__ for k in kinds - router.kinds}
    # Worker cards read reconnecting states from the pool; TaskProgress is being removed.
    assert skipped <= {"WorkerReconnecting", "TaskProgress"}
    assert {QueueStats, BrokerInfo} <= router.kinds


def test_a_task_published_confirmed_started_and_finished_changes_the_ledger_in_one_batch() -> None:
    router, ledger, heard = make()
    ids = enqueued(ledger, 3)
    first = ids[0]
    changed = router.route(
        [
            TasksPublished(1.0, tuple(ids)),
            TasksConfirmed(1.1, tuple(ids)),
            TaskStarted("W-1", 2.0, delivery(first)),
            TaskFinished("W-1", 3.0, first, 1.0),
        ],
        announce_started=True,
        announce_finished=True,
    )
    assert changed == 3 + 3 + 1 + 1  # a publish or confirm of three tasks counts three
    assert record(ledger, first).state is TaskState.DONE
    assert record(ledger, ids[1]).state is TaskState.QUEUED
    assert heard.calls == [
        ("task_started", (first, "W-1")),
        ("task_finished", (first,)),
        ("tasks_finished", ([first],)),  # one batch notice after the per-task ones
    ]
    assert (router.finished_total, router.confirmed_total) == (1, 3)


def test_event_times_become_wall_clock_times() -> None:
    router, ledger, _heard = make()
    [task_id] = enqueued(ledger)
    now = time.monotonic()
    router.route([TaskStarted("W-1", now, delivery(task_id))])
    started = record(ledger, task_id).started
    assert started is not None
    assert abs(started - time.time()) < 5.0


def test_per_task_notices_only_when_announced() -> None:
    router, ledger, heard = make()
    [task_id] = enqueued(ledger)
    router.route([TaskStarted("W-1", 2.0, delivery(task_id)), TaskFinished("W-1", 3.0, task_id, 1)])
    assert heard.calls == [("tasks_finished", ([task_id],))]
    assert router.route([]) == 0
    assert len(heard.calls) == 1


def test_a_returned_task_is_redelivered_and_announced_with_manual_acks() -> None:
    router, ledger, heard = make()
    [task_id] = enqueued(ledger)
    router.route(
        [TaskStarted("W-1", 2.0, delivery(task_id)), TaskReturned("W-1", 3.0, task_id, "stop")]
    )
    assert record(ledger, task_id).state is TaskState.REDELIVERED
    assert heard.of("task_returned") == [(task_id, "W-1")]


def test_a_returned_task_is_lost_silently_with_auto_ack() -> None:
    router, ledger, heard = make(auto_ack=True)
    [task_id] = enqueued(ledger)
    router.route(
        [TaskStarted("W-1", 2.0, delivery(task_id)), TaskReturned("W-1", 3.0, task_id, "stop")]
    )
    assert record(ledger, task_id).state is TaskState.LOST
    assert heard.of("task_returned") == []


def test_a_killed_workers_task_comes_back_with_manual_acks(
    caplog: pytest.LogCaptureFixture,
) -> None:
    router, ledger, heard = make()
    [task_id] = enqueued(ledger)
    with caplog.at_level(logging.INFO, logger="core.router"):
        router.route(
            [TaskStarted("W-1", 2.0, delivery(task_id)), WorkerKilled("W-1", 3.0, task_id)]
        )
    assert record(ledger, task_id).state is TaskState.REDELIVERED
    assert heard.calls == [("task_returned", (task_id, "W-1")), ("worker_killed", ("W-1",))]
    assert [r.getMessage() for r in caplog.records] == [
        f"W-1 was killed: its unacknowledged task {task_id} went back to the queue."
    ]


def test_a_killed_workers_task_is_lost_with_auto_ack(caplog: pytest.LogCaptureFixture) -> None:
    router, ledger, heard = make(auto_ack=True)
    [task_id] = enqueued(ledger)
    with caplog.at_level(logging.INFO, logger="core.router"):
        router.route(
            [TaskStarted("W-1", 2.0, delivery(task_id)), WorkerKilled("W-1", 3.0, task_id)]
        )
    assert record(ledger, task_id).state is TaskState.LOST
    assert record(ledger, task_id).state_text == "lost: auto-ack, its worker was killed"
    assert heard.calls == [("worker_killed", ("W-1",))]
    # One line, and it does not also say the task returns to the queue.
    assert [(r.levelno, r.getMessage()) for r in caplog.records] == [
        (logging.WARNING, f"W-1 was killed with auto-ack: its task {task_id} is lost.")
    ]


def test_an_idle_worker_killed_only_says_so() -> None:
    router, _ledger, heard = make()
    router.route([WorkerKilled("W-1", 3.0, None)])
    assert heard.calls == [("worker_killed", ("W-1",))]


@pytest.mark.parametrize(
    ("requeued", "auto_ack", "state"),
    [
        (True, False, TaskState.RETRYING),
        (False, False, TaskState.DEAD_LETTERED),
        (False, True, TaskState.FAILED),
    ],
)
def test_a_failed_task_retries_or_is_dead_lettered_or_fails(
    requeued: bool, auto_ack: bool, state: TaskState
) -> None:
    router, ledger, heard = make(auto_ack=auto_ack)
    [task_id] = enqueued(ledger)
    router.route(
        [
            TaskStarted("W-1", 2.0, delivery(task_id)),
            TaskFailed("W-1", 3.0, task_id, "ValueError: boom", requeued, attempt=2),
        ]
    )
    assert record(ledger, task_id).state is state
    assert record(ledger, task_id).delivery_count == 2
    assert heard.calls == []


def test_rejected_tasks_fail_with_the_reason() -> None:
    router, ledger, _heard = make()
    ids = enqueued(ledger, 2)
    router.route([TasksRejected(1.0, tuple(ids), "The broker refused the task (nack).")])
    assert all(record(ledger, i).state is TaskState.FAILED for i in ids)
    assert record(ledger, ids[0]).note == "The broker refused the task (nack)."


def test_queue_readings_go_to_the_queue_panel_and_other_queues_to_the_dead_letter_view() -> None:
    router, _ledger, heard = make()
    work, dead = stats(), stats(f"{QUEUE}.dead")
    router.route([work, dead])
    assert heard.calls == [("queue_sampled", (work,)), ("dead_letter_sampled", (dead,))]


def test_the_producer_connecting_says_where_and_which_queue() -> None:
    router, _ledger, heard = make()
    report = QueueReport(QUEUE, QueueType.CLASSIC, adopted=True, ready=0, consumers=0)
    connected(router, report=report)
    assert router.state is ConnectionState.CONNECTED
    assert router.node == "amqp://guest@rabbit:5672/%2F"
    assert router.queue_type is QueueType.CLASSIC
    assert router.queue_kind == "classic queue, adopted as it is"
    assert heard.calls == [
        (
            "connection_changed",
            (
                ConnectionState.CONNECTED,
                "connected to rabbit:5672/%2F as guest, "
                "queue 'work' (classic queue, adopted as it is)",
            ),
        )
    ]
    connected(router, report=report)  # the same state and sentence: not announced again
    assert len(heard.calls) == 1


def test_a_producer_that_lost_its_connection_marks_its_tasks_waiting_and_keeps_trying() -> None:
    router, ledger, heard = make()
    ids = enqueued(ledger, 3)
    connected(router)
    heard.calls.clear()
    router.route([ProducerDisconnected(2.0, "Connection refused.", 2, True, tuple(ids[:2]))])
    assert [record(ledger, i).state for i in ids] == [
        TaskState.WAITING,
        TaskState.WAITING,
        TaskState.SENDING,
    ]
    assert router.state is ConnectionState.RECONNECTING
    assert router.node == ""
    assert router.send_error == ""
    assert heard.calls == [
        (
            "connection_changed",
            (ConnectionState.RECONNECTING, "Connection refused. Kanin keeps trying."),
        ),
        ("connection_failed", ("Connection refused.",)),
    ]


def test_a_producer_that_gave_up_stops_sending() -> None:
    router, _ledger, heard = make()
    router.route([ProducerDisconnected(2.0, "Login refused.", 0, False)])
    assert router.state is ConnectionState.FAILED
    assert router.send_error == "Login refused."
    assert heard.of("connection_failed") == [("Login refused.",)]
    router.begin(QUEUE, "guest", auto_ack=False)  # a new session may send again
    assert router.send_error == ""


def test_a_worker_failing_before_any_connection_fails_the_connection() -> None:
    router, _ledger, heard = make()
    router.route([WorkerFailed("W-1", 1.0, "ACCESS_REFUSED")])
    assert router.state is ConnectionState.FAILED
    assert heard.calls == [
        ("connection_changed", (ConnectionState.FAILED, "ACCESS_REFUSED")),
        ("connection_failed", ("ACCESS_REFUSED",)),
    ]


def test_a_worker_failing_while_connected_leaves_the_connection_alone() -> None:
    router, _ledger, heard = make()
    connected(router)
    heard.calls.clear()
    router.route([WorkerFailed("W-1", 1.0, "ACCESS_REFUSED")])
    assert router.state is ConnectionState.CONNECTED
    assert heard.calls == []


def test_worker_comings_and_goings_are_only_logged(caplog: pytest.LogCaptureFixture) -> None:
    router, ledger, heard = make()
    with caplog.at_level(logging.DEBUG, logger="core.router"):
        changed = router.route(
            [
                WorkerConnected("W-1", 1.0, "amqp://rabbit", "declared"),
                WorkerReconnecting("W-1", 2.0, "gone", 1, 0.5),
                WorkerStopped("W-1", 3.0),
            ]
        )
    assert changed == 3
    assert heard.calls == []
    assert len(ledger) == 0
    assert [r.getMessage() for r in caplog.records] == [
        "W-1: WorkerConnected",
        "W-1: WorkerStopped",
    ]


def test_the_broker_identifies_itself() -> None:
    router, _ledger, heard = make()
    router.route([BrokerInfo("RabbitMQ", "3.10.8")])
    assert router.broker == "RabbitMQ 3.10.8"
    assert heard.calls == [("broker_identified", ("RabbitMQ 3.10.8",))]


def test_a_session_that_cannot_start_fails_at_once() -> None:
    router, _ledger, heard = make()
    router.fail("The broker URL is empty.")
    assert router.state is ConnectionState.FAILED
    assert router.send_error == "The broker URL is empty."
    assert heard.calls == [
        ("connection_changed", (ConnectionState.FAILED, "The broker URL is empty.")),
        ("connection_failed", ("The broker URL is empty.",)),
    ]


def test_unknown_items_are_skipped() -> None:
    router, ledger, heard = make()
    assert router.route([object(), "text"]) == 2
    assert heard.calls == []
    assert len(ledger) == 0


def test_a_killed_auto_ack_workers_buffered_tasks_are_lost_and_logged_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    router, ledger, _heard = make(auto_ack=True)
    current, waiting = enqueued(ledger, 2)
    with caplog.at_level(logging.INFO, logger="core.router"):
        router.route(
            [
                TaskStarted("W-1", 2.0, delivery(current)),
                TaskDelivered("W-1", 2.1, delivery(waiting)),
            ]
        )
        assert record(ledger, waiting).state_text == "delivered, waiting on W-1"
        router.route([WorkerKilled("W-1", 3.0, current)])
    assert record(ledger, current).state is TaskState.LOST
    assert record(ledger, waiting).state is TaskState.LOST
    assert [r.getMessage() for r in caplog.records] == [
        f"W-1 was killed with auto-ack: its task {current} is lost "
        "(1 more delivered to it, not started: lost)."
    ]


def test_a_stopped_or_disconnected_workers_buffered_tasks_go_back_to_the_queue() -> None:
    router, ledger, _heard = make()
    first, second = enqueued(ledger, 2)
    router.route(
        [
            TaskDelivered("W-1", 2.0, delivery(first)),
            TaskDelivered("W-2", 2.0, delivery(second)),
            WorkerStopped("W-1", 3.0),
            WorkerReconnecting("W-2", 3.0, "lost", 1, 0.1),
        ]
    )
    assert record(ledger, first).state is TaskState.REDELIVERED
    assert record(ledger, second).state is TaskState.REDELIVERED


def test_a_duplicate_redelivery_is_counted_and_noted_when_it_is_done_again() -> None:
    router, ledger, _heard = make()
    first, other = enqueued(ledger, 2)
    router.route(
        [
            TaskRedelivered("W-2", 1.0, first, True),
            TaskStarted("W-2", 1.1, delivery(first, redelivered=True)),
            TaskFinished("W-2", 2.0, first, 0.9),
            TaskRedelivered("W-1", 2.1, other, False),
            TaskStarted("W-1", 2.2, delivery(other, redelivered=True)),
            TaskFinished("W-1", 3.0, other, 0.8),
        ]
    )
    assert router.duplicates_total == 1
    assert "done twice" in record(ledger, first).note
    assert "done twice" not in record(ledger, other).note


def test_a_queue_that_does_not_answer_shows_in_the_state_until_it_answers_again() -> None:
    router, _ledger, heard = make()
    connected(router)
    was = router.message
    router.route([QueueUnavailable("W-1", 1.0, QUEUE, "node-1", 31.0, "the queue does not answer")])
    assert router.state is ConnectionState.RECONNECTING
    assert router.message == "the queue does not answer"
    router.route([QueueAvailable("W-1", 2.0, QUEUE)])
    assert router.state == ConnectionState.CONNECTED  # type: ignore[comparison-overlap]
    assert router.message == was
    assert [args[0] for args in heard.of("connection_changed")][-2:] == [
        ConnectionState.RECONNECTING,
        ConnectionState.CONNECTED,
    ]


def test_a_blocked_producer_shows_blocked_until_unblocked_and_a_stall_until_a_confirm() -> None:
    router, ledger, _heard = make()
    connected(router)
    was = router.message
    sent = enqueued(ledger, 2)
    router.route([ProducerBlocked(1.0, "low on memory")])
    assert router.state is ConnectionState.BLOCKED
    assert "low on memory" in router.message
    for task_id in sent:
        assert record(ledger, task_id).state is TaskState.WAITING
        assert record(ledger, task_id).note == "waiting: broker blocked (low on memory)"
    router.route([ProducerUnblocked(2.0)])
    assert router.message == was
    ids = enqueued(ledger, 1)
    router.route([ProducerStalled(3.0, 31.0, 1, 1, QUEUE)])
    assert "not confirmed 1 task(s) for 31 s" in router.message
    router.route([TasksConfirmed(4.0, tuple(ids))])
    assert router.message == was
