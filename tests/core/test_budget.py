"""TaskBudget: the shared --max-tasks limit across worker threads."""

from __future__ import annotations

import threading

from core.budget import TaskBudget


def test_claims_stop_at_the_limit_and_come_back_when_given_back():
    budget = TaskBudget(2)
    assert budget.try_claim()
    assert budget.try_claim()
    assert not budget.try_claim()
    budget.give_back()
    assert budget.try_claim()


def test_exhausted_once_the_limit_is_completed():
    budget = TaskBudget(3)
    for _ in range(3):
        assert not budget.exhausted.is_set()
        assert budget.try_claim()
        budget.completed()
    assert budget.exhausted.is_set()
    assert budget.done == 3


def test_concurrent_claims_never_exceed_the_limit():
    budget = TaskBudget(1000)
    won: list[int] = []
    lock = threading.Lock()

    def claim() -> None:
        count = sum(1 for _ in range(500) if budget.try_claim())
        with lock:
            won.append(count)

    threads = [threading.Thread(target=claim) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(won) == 1000
