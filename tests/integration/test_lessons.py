"""The lessons that need no broker restart, run on the shared broker on queues of their own."""

from __future__ import annotations

import pytest

from core.lessons.acks import MessageAcknowledgment
from core.lessons.base import Lesson, LessonEvent, Outcome, WorkerActivity, run_lesson
from core.lessons.fair import PAIRS, FairDispatch
from core.lessons.forgotten import TASKS as FORGOTTEN_TASKS
from core.lessons.forgotten import ForgottenAcknowledgment
from core.lessons.lab import QUEUE_PREFIX, Lab, LabConfig
from core.lessons.poison import MAX_ATTEMPTS, PoisonTask
from core.lessons.roundrobin import RoundRobin
from core.settings import ConnectionSettings
from tests.helpers.broker import TEST_URL

pytestmark = pytest.mark.broker


class Events:
    def __init__(self) -> None:
        self.events: list[LessonEvent] = []

    def on_lesson_event(self, event: LessonEvent) -> None:
        self.events.append(event)


def config(dot: float = 0.03) -> LabConfig:
    return LabConfig(ConnectionSettings.from_urls([TEST_URL]), dot_seconds=dot)


def run(lesson: Lesson) -> Outcome:
    """Run the lesson and check that its queues were its own and are gone afterwards."""
    outcome = run_lesson(lesson)
    names = lesson.lab.owned_queues
    assert names
    assert all(n.startswith(QUEUE_PREFIX + lesson.name + ".") for n in names)
    probe = Lab(lesson.config, "probe")
    assert [n for n in names if probe.count(n).exists] == []
    assert outcome.error is None, outcome.error
    return outcome


def test_round_robin_deals_twelve_tasks_four_to_each_worker_in_turn() -> None:
    events = Events()
    outcome = run(RoundRobin(config(), events))
    figures = outcome.figures
    assert figures["per_worker"] == {"W-1": 4, "W-2": 4, "W-3": 4}
    by_worker = figures["tasks_by_worker"]
    assert isinstance(by_worker, dict)
    assert sorted(n for ns in by_worker.values() for n in ns) == list(range(1, 13))
    for numbers in by_worker.values():
        assert len({(n - 1) % 3 for n in numbers}) == 1  # every third task
    assert len(figures["arrival_order"]) == 12  # type: ignore[arg-type]
    assert outcome.passed
    assert any(isinstance(e, WorkerActivity) for e in events.events)  # the view can follow


def test_fair_dispatch_prefetch_one_shares_the_heavy_tasks_and_finishes_sooner() -> None:
    outcome = run(FairDispatch(config(0.05)))
    unlimited = outcome.figures["unlimited"]
    fair = outcome.figures["prefetch_1"]
    assert isinstance(unlimited, dict)
    assert isinstance(fair, dict)
    assert sorted(unlimited["heavy_tasks"].values()) == [0, PAIRS]
    assert min(fair["heavy_tasks"].values()) >= 1
    busy = unlimited["busy_seconds"].values()
    assert max(busy) > 3 * min(busy)  # one worker drowned while the other idled
    assert fair["total_seconds"] < unlimited["total_seconds"]
    assert outcome.passed


def test_acknowledgment_auto_ack_loses_the_tasks_and_manual_acks_redeliver_them() -> None:
    outcome = run(MessageAcknowledgment(config(0.1)))
    auto = outcome.figures["auto_ack"]
    manual = outcome.figures["manual_ack"]
    assert isinstance(auto, dict)
    assert isinstance(manual, dict)
    assert auto["ready_after_kill"] == 0  # the broker had handed them all out, auto-acked
    assert auto["lost"] == auto["sent"] - auto["done_before_kill"]
    assert auto["lost"] >= 1
    assert manual["lost"] == 0
    assert manual["redelivered"] >= 1
    assert manual["done_before_kill"] + manual["done_by_rescuer"] == manual["sent"]
    assert outcome.passed


def test_forgotten_acknowledgment_holds_every_task_until_the_worker_dies() -> None:
    outcome = run(ForgottenAcknowledgment(config(0.02)))
    figures = outcome.figures
    assert figures["reported_done_by_worker"] == FORGOTTEN_TASKS
    assert figures["unacked_kanin"] == FORGOTTEN_TASKS
    assert figures["ready_while_worker_lives"] == 0
    assert figures["ready_after_worker_died"] == FORGOTTEN_TASKS
    assert figures["unacked_management_api"] is None  # no management API on this broker
    assert outcome.passed


def test_poison_task_climbs_to_the_limit_and_is_dead_lettered_without_a_policy() -> None:
    outcome = run(PoisonTask(config(0.02)))
    figures = outcome.figures
    assert figures["attempts"] == list(range(1, MAX_ATTEMPTS + 1))
    assert figures["given_back"] == MAX_ATTEMPTS - 1
    assert figures["dead_lettered"] == 1
    assert figures["left_in_queue"] == 0
    assert figures["good_tasks_done"] == 2
    assert "policy" not in str(figures["set_up_with"])  # none on a broker Kanin does not manage
    assert outcome.passed


def test_a_lesson_on_an_unreachable_broker_ends_failed_and_says_why() -> None:
    lab = LabConfig(ConnectionSettings.from_urls(["amqp://guest:guest@127.0.0.1:1/%2F"]))
    outcome = run_lesson(RoundRobin(lab))
    assert not outcome.passed
    assert outcome.error
