"""Dead-letter policy definitions (no broker needed)."""

from __future__ import annotations

from core.policies import dead_letter_queue_name, policy_definition, policy_name
from core.topology import QueueType


def test_policy_definition_for_quorum_and_classic_queues():
    assert dead_letter_queue_name("task_queue") == "task_queue.dead"
    assert policy_name("task_queue") == "kanin-dead-letter-task_queue"
    assert policy_definition("task_queue", 5) == {
        "dead-letter-exchange": "",
        "dead-letter-routing-key": "task_queue.dead",
        # The broker counts returns: a 5th delivery's failure is its 4th return, > 4.
        "delivery-limit": 4,
    }
    # RabbitMQ 3.10 does not apply a policy holding delivery-limit to a classic queue.
    assert "delivery-limit" not in policy_definition("q", 5, QueueType.CLASSIC)
