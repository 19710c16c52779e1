"""The task ledger alone, without Qt: transitions, what reports mean, counts, views' batches."""

from __future__ import annotations

import pytest

from core.ledger import Ledger, TaskRecord, TaskState
from core.tasks import Delivery, Task


def delivery(
    task_id: str,
    body: bytes = b"x.",
    *,
    redelivered: bool = False,
    count: int | None = 1,
    foreign: bool = False,
) -> Delivery:
    return Delivery(
        task_id=task_id,
        body=body,
        redelivered=redelivered,
        delivery_count=count,
        foreign=foreign,
        created=None,
        work_seconds=float(body.count(b".")),
    )


def one_task(ledger: Ledger, text: str = "Hello.") -> TaskRecord:
    task = Task.new(text)
    ledger.add_tasks([task])
    record = ledger.get(task.id)
    assert record is not None
    return record


def running(ledger: Ledger, worker: str = "W-1") -> TaskRecord:
    record = one_task(ledger)
    ledger.mark_confirmed([record.task_id])
    ledger.mark_started(worker, delivery(record.task_id), 1.0)
    return record


def test_a_task_goes_through_its_states_and_counts_follow() -> None:
    ledger = Ledger()
    record = one_task(ledger)
    states = [record.state]
    ledger.mark_confirmed([record.task_id])
    states.append(record.state)
    ledger.mark_started("W-1", delivery(record.task_id), 100.0)
    states.append(record.state)
    assert record.state_text == "running on W-1"
    ledger.mark_returned(record.task_id, "W-1 was killed")
    states.append(record.state)
    ledger.mark_started("W-2", delivery(record.task_id, redelivered=True, count=2), 101.0)
    ledger.mark_finished("W-2", record.task_id, 1.5, 102.5)
    states.append(record.state)
    assert states == [
        TaskState.SENDING,
        TaskState.QUEUED,
        TaskState.RUNNING,
        TaskState.REDELIVERED,
        TaskState.DONE,
    ]
    assert record.attempts == ["W-1", "W-2"]
    assert (record.worker, record.started, record.finished, record.duration) == (
        "W-2",
        101.0,
        102.5,
        1.5,
    )
    assert record.delivery_count == 2
    assert record.state_text == "done (redelivered)"
    counts = ledger.counts()
    assert counts[TaskState.DONE] == 1
    assert sum(counts.values()) == 1


def test_a_late_confirm_does_not_move_a_running_task_back() -> None:
    ledger = Ledger()
    record = one_task(ledger)
    ledger.mark_started("W-1", delivery(record.task_id), 1.0)
    ledger.mark_confirmed([record.task_id])
    assert record.state is TaskState.RUNNING


def test_waiting_tasks_go_back_to_sending_when_published_and_to_queued_when_confirmed() -> None:
    ledger = Ledger()
    record = one_task(ledger)
    ledger.mark_waiting([record.task_id, "unknown"])
    states = [record.state]
    assert ledger.count(TaskState.WAITING) == 1
    ledger.mark_published([record.task_id])
    states.append(record.state)
    ledger.mark_waiting([record.task_id])
    ledger.mark_confirmed([record.task_id])
    states.append(record.state)
    ledger.mark_waiting([record.task_id])  # a confirmed task never waits again
    states.append(record.state)
    assert states == [TaskState.WAITING, TaskState.SENDING, TaskState.QUEUED, TaskState.QUEUED]


def test_only_unsent_or_queued_tasks_can_be_rejected() -> None:
    ledger = Ledger()
    queued = one_task(ledger)
    ledger.mark_confirmed([queued.task_id])
    busy = running(ledger)
    ledger.mark_rejected([queued.task_id, busy.task_id], "nack")
    assert (queued.state, queued.note) == (TaskState.FAILED, "nack")
    assert (busy.state, busy.note) == (TaskState.RUNNING, "")


def test_a_returned_task_is_redelivered_with_manual_acks_and_lost_with_auto_ack() -> None:
    ledger = Ledger()
    manual = running(ledger)
    assert ledger.returned(manual.task_id, "W-1", "stopped", auto_ack=False)
    assert manual.state is TaskState.REDELIVERED
    assert manual.redelivered
    assert manual.note == "W-1 gave it back (stopped); it is back in the queue."
    auto = running(ledger)
    assert not ledger.returned(auto.task_id, "W-1", "stopped", auto_ack=True)
    assert auto.state is TaskState.LOST
    assert auto.state.final
    assert not auto.redelivered
    assert auto.state_text == "lost: auto-ack, its worker stopped (stopped)"


def test_a_killed_workers_task_is_redelivered_with_manual_acks_and_lost_with_auto_ack() -> None:
    ledger = Ledger()
    manual = running(ledger)
    assert ledger.killed(manual.task_id, "W-1", auto_ack=False)
    assert manual.state is TaskState.REDELIVERED
    assert manual.note == ("W-1 was killed before acknowledging it; the broker requeued it.")
    auto = running(ledger)
    assert not ledger.killed(auto.task_id, "W-1", auto_ack=True)
    assert auto.state is TaskState.LOST
    assert auto.state_text == "lost: auto-ack, its worker was killed"


@pytest.mark.parametrize("report", ["returned", "killed"])
def test_a_report_that_comes_after_another_worker_took_the_task_only_explains(
    report: str,
) -> None:
    ledger = Ledger()
    record = running(ledger, "W-1")
    ledger.show_new()
    ledger.take_changed()
    # The broker requeued the task at once; W-2 started it before W-1's report arrived.
    ledger.mark_started("W-2", delivery(record.task_id, redelivered=True, count=2), 2.0)
    ledger.take_changed()
    if report == "returned":
        assert ledger.returned(record.task_id, "W-1", "stopped", auto_ack=False)
    else:
        assert ledger.killed(record.task_id, "W-1", auto_ack=False)
    assert (record.state, record.worker) == (TaskState.RUNNING, "W-2")
    assert record.note.startswith("W-1 ")
    assert record.redelivered
    assert ledger.take_changed() == [0]  # the note is shown
    ledger.killed(record.task_id, "W-9", auto_ack=True)  # a worker that never had it
    assert record.state is TaskState.RUNNING


def test_only_a_running_task_can_come_back_or_be_lost() -> None:
    ledger = Ledger()
    record = running(ledger)
    ledger.mark_finished("W-1", record.task_id, 0.1, 2.0)
    assert ledger.returned(record.task_id, "W-1", "late", auto_ack=False)  # still the policy
    assert ledger.killed(record.task_id, "W-1", auto_ack=True) is False
    assert record.state is TaskState.DONE
    assert record.note == ""


@pytest.mark.parametrize(
    ("requeued", "auto_ack", "state", "note"),
    [
        (True, False, TaskState.RETRYING, "boom (back in the queue)"),
        (False, False, TaskState.DEAD_LETTERED, "boom (moved to the dead-letter queue)"),
        (False, True, TaskState.FAILED, "boom (not requeued)"),
    ],
)
def test_a_failure_retries_or_is_dead_lettered_or_fails(
    requeued: bool, auto_ack: bool, state: TaskState, note: str
) -> None:
    ledger = Ledger()
    record = running(ledger)
    ledger.failed(record.task_id, "boom", requeued, 3, auto_ack=auto_ack)
    assert record.state is state
    assert record.note == note
    assert record.delivery_count == 3
    assert record.redelivered is requeued


def test_state_texts_say_the_delivery_and_the_worker() -> None:
    ledger = Ledger()
    record = running(ledger, "W-7")
    assert record.state_text == "running on W-7"
    ledger.mark_failed(record.task_id, "boom", requeued=True, attempt=2)
    assert record.state_text == "failed (delivery 2), retrying"
    ledger.mark_started("W-8", delivery(record.task_id, redelivered=True, count=3), 2.0)
    assert record.state_text == "running on W-8 (redelivered)"
    ledger.mark_failed(record.task_id, "boom", requeued=False, attempt=3, dead_lettered=True)
    assert record.state_text == "dead-lettered after 3 deliveries"


def test_a_redelivery_on_a_queue_that_does_not_count_still_counts_two() -> None:
    ledger = Ledger()
    record = running(ledger)
    ledger.mark_returned(record.task_id, "back")
    ledger.mark_started("W-2", delivery(record.task_id, redelivered=True, count=None), 2.0)
    assert record.delivery_count == 2
    ledger.mark_returned(record.task_id, "back")
    ledger.mark_started("W-3", delivery(record.task_id, redelivered=True, count=None), 3.0)
    assert record.delivery_count == 3


def test_a_foreign_task_is_added_when_a_worker_takes_it() -> None:
    ledger = Ledger()
    ledger.mark_started("W-1", delivery("ext-1", b"from worker.py...", foreign=True), 5.0)
    record = ledger.get("ext-1")
    assert record is not None
    assert record.body == "from worker.py..."
    assert record.note == "Published by another producer."
    assert record.state is TaskState.RUNNING
    assert ledger.unshown == 1


def test_the_redelivered_filter_keeps_tasks_that_came_back_once() -> None:
    ledger = Ledger()
    record = running(ledger)
    ledger.mark_returned(record.task_id, "back")
    ledger.mark_started("W-2", delivery(record.task_id, redelivered=True, count=2), 2.0)
    ledger.mark_finished("W-2", record.task_id, 0.1, 3.0)
    assert record.matches(TaskState.REDELIVERED)
    assert record.matches(TaskState.DONE)
    assert record.matches(None)
    assert not record.matches(TaskState.RUNNING)


def test_views_get_new_records_and_changed_positions_in_batches() -> None:
    ledger = Ledger()
    tasks = [Task.new(f"t{i}") for i in range(5)]
    ledger.add_tasks(tasks)
    assert (ledger.unshown, len(ledger.records), len(ledger)) == (5, 0, 5)
    ledger.mark_confirmed([tasks[0].id])  # not shown yet: no position to announce
    assert ledger.changed == 0
    ledger.show_new()
    assert [r.row for r in ledger.records] == [0, 1, 2, 3, 4]
    assert ledger.unshown == 0
    ledger.mark_confirmed([tasks[4].id, tasks[1].id])
    ledger.mark_started("W-1", delivery(tasks[1].id), 1.0)
    assert ledger.take_changed() == [1, 4]
    assert ledger.take_changed() == []


def test_first_unfinished_follows_the_work() -> None:
    ledger = Ledger()
    tasks = [Task.new(f"t{i}") for i in range(5)]
    ledger.add_tasks(tasks)
    ledger.show_new()
    assert ledger.first_unfinished() == 0
    for task in tasks[:3]:
        ledger.mark_started("W-1", delivery(task.id), 1.0)
        ledger.mark_finished("W-1", task.id, 0.1, 2.0)
    assert ledger.first_unfinished() == 3
    ledger.mark_failed(tasks[1].id, "boom", requeued=True)
    ledger.mark_started("W-2", delivery(tasks[1].id, redelivered=True), 3.0)
    assert ledger.first_unfinished() == 1
    ledger.mark_finished("W-2", tasks[1].id, 0.1, 4.0)
    assert ledger.first_unfinished() == 3


def test_clearing_finished_tasks_keeps_the_rest_in_order_with_their_counts() -> None:
    ledger = Ledger()
    tasks = [Task.new(f"t{i}") for i in range(6)]
    ledger.add_tasks(tasks)
    ledger.show_new()
    for task in tasks[::2]:  # 0, 2, 4 finish
        ledger.mark_started("W-1", delivery(task.id), 1.0)
        ledger.mark_finished("W-1", task.id, 0.1, 2.0)
    late = Task.new("not shown yet")
    ledger.add_tasks([late])
    assert ledger.clear_finished() == 3
    assert [r.task_id for r in ledger.records] == [t.id for t in tasks[1::2]]
    assert [r.row for r in ledger.records] == [0, 1, 2]
    assert ledger.get(tasks[0].id) is None
    assert ledger.get(late.id) is not None  # still on its way to the views
    assert ledger.count(TaskState.DONE) == 0
    assert ledger.count(TaskState.SENDING) == 4
    assert len(ledger) == 4
    assert ledger.clear_finished() == 0


def test_a_watcher_hears_every_new_record_and_change_of_state() -> None:
    ledger = Ledger()
    heard: list[tuple[str, TaskState | None, TaskState]] = []
    ledger.watch(lambda record, former: heard.append((record.task_id, former, record.state)))
    record = running(ledger)
    ledger.mark_finished("W-1", record.task_id, 0.1, 2.0)
    assert heard == [
        (record.task_id, None, TaskState.SENDING),
        (record.task_id, TaskState.SENDING, TaskState.QUEUED),
        (record.task_id, TaskState.QUEUED, TaskState.RUNNING),
        (record.task_id, TaskState.RUNNING, TaskState.DONE),
    ]
    ledger.watch(None)
    one_task(ledger)
    assert len(heard) == 4
    assert ledger.count(TaskState.SENDING) == 1  # unwatched, changes still count


def test_a_task_delivered_behind_the_current_one_waits_on_its_worker_until_it_starts() -> None:
    ledger = Ledger()
    record = one_task(ledger)
    ledger.mark_confirmed([record.task_id])
    ledger.mark_delivered("W-2", delivery(record.task_id))
    assert record.state is TaskState.DELIVERED
    assert record.state_text == "delivered, waiting on W-2"
    ledger.mark_started("W-2", delivery(record.task_id), 2.0)
    assert ledger.count(TaskState.RUNNING) == 1  # it started: no longer waiting
    assert ledger.release("W-2", "its worker stopped", lost=False) == 0  # it started


@pytest.mark.parametrize(
    ("lost", "state", "text"),
    [
        (False, TaskState.REDELIVERED, "redelivered"),
        (True, TaskState.LOST, "lost: auto-ack, its worker was killed before starting it"),
    ],
)
def test_tasks_waiting_on_a_worker_that_ends_go_back_or_are_lost(
    lost: bool, state: TaskState, text: str
) -> None:
    ledger = Ledger()
    first, second = one_task(ledger), one_task(ledger)
    ledger.mark_confirmed([first.task_id, second.task_id])
    ledger.mark_delivered("W-1", delivery(first.task_id))
    ledger.mark_delivered("W-2", delivery(second.task_id))
    assert ledger.release("W-1", "its worker was killed", lost=lost) == 1
    assert (first.state, first.state_text) == (state, text)
    assert second.state is TaskState.DELIVERED  # another worker's: untouched
