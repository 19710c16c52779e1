"""Backoff and dead-letter policy definitions (no broker needed)."""

from __future__ import annotations

import pytest

from core.policies import dead_letter_queue_name, policy_definition, policy_name
from core.topology import QueueType
from core.worker import WorkerOptions, backoff_delay


def test_backoff_doubles_from_a_tenth_and_is_capped():
    top = [backoff_delay(n, 1.0, rng=lambda: 0.999999) for n in range(1, 8)]
    assert top == pytest.approx([0.1, 0.2, 0.4, 0.8, 1.0, 1.0, 1.0], rel=1e-5)


def test_backoff_jitter_stays_between_half_and_full():
    assert backoff_delay(3, 1.0, rng=lambda: 0.0) == pytest.approx(0.2)
    assert backoff_delay(1000, 1.0, rng=lambda: 0.5) == pytest.approx(0.75)


def test_default_cap_keeps_reconnects_quick():
    assert WorkerOptions().max_backoff <= 1.0


def test_max_attempts_must_be_positive():
    with pytest.raises(ValueError, match="attempts"):
        WorkerOptions(max_attempts=0)


def test_policy_definition_for_quorum_and_classic_queues():
    assert dead_letter_queue_name("task_queue") == "task_queue.dead"
    assert policy_name("task_queue") == "kanin-dead-letter-task_queue"
    assert policy_definition("task_queue", 5) == {
        "dead-letter-exchange": "",
        "dead-letter-routing-key": "task_queue.dead",
        "delivery-limit": 5,
    }
    # RabbitMQ 3.10 does not apply a policy holding delivery-limit to a classic queue.
    assert "delivery-limit" not in policy_definition("q", 5, QueueType.CLASSIC)
