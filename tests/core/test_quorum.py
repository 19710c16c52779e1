"""Reading ``rabbitmq-queues quorum_status --formatter json``: the leader, replicas in sync."""

from __future__ import annotations

import json

from core.quorum import parse_status


def _row(node: str, state: object, commit: object) -> dict[str, object]:
    return {"Node Name": node, "Raft State": state, "Log Index": commit, "Commit Index": commit}


def test_the_leader_and_followers_that_reached_its_commit_index_are_in_sync():
    output = json.dumps([_row("k-1@localhost", "follower", 7), _row("k-2@localhost", "leader", 7)])
    status = parse_status("task_queue", output)
    assert status.leader == "k-2@localhost"
    assert status.in_sync == ("k-1@localhost", "k-2@localhost")
    assert status.error is None


def test_a_follower_behind_the_leader_or_a_down_member_is_not_in_sync():
    output = json.dumps(
        [
            _row("k-1@localhost", "leader", 120),
            _row("k-2@localhost", "follower", 80),
            _row("k-3@localhost", ["nodedown", "k-3@localhost"], ""),
        ]
    )
    status = parse_status("task_queue", output)
    assert status.in_sync == ("k-1@localhost",)
    down = status.members[2]
    assert (down.state, down.commit_index, down.in_sync) == ("nodedown", None, False)
    assert status.members[1].commit_index == 80


def test_without_a_leader_no_replica_is_in_sync():
    output = json.dumps(
        [_row("k-1@localhost", "candidate", 3), _row("k-2@localhost", "follower", 3)]
    )
    status = parse_status("q", output)
    assert status.leader is None
    assert status.in_sync == ()


def test_output_that_is_not_json_becomes_the_error():
    status = parse_status("q", "Error:\nqueue 'q' in vhost '/' not found")
    assert status.leader is None
    assert status.members == ()
    assert status.error is not None
    assert "not found" in status.error
