"""The process's memory of tasks: foreign identities, duplicates, consumer timeouts."""

from __future__ import annotations

from core.memory import TaskMemory


def test_a_redelivery_takes_the_identity_of_the_oldest_given_back_copy():
    memory = TaskMemory()
    a = memory.foreign_id(b"x.", redelivered=False)
    b = memory.foreign_id(b"x.", redelivered=False)
    memory.given_back(a, b"x.")
    memory.given_back(b, b"x.")
    assert memory.foreign_id(b"x.", redelivered=True) == a
    assert memory.foreign_id(b"x.", redelivered=True) == b
    fresh = memory.foreign_id(b"x.", redelivered=True)  # nothing left to match: a new one
    assert fresh not in (a, b)


def test_a_redelivery_of_a_done_foreign_task_is_a_duplicate():
    memory = TaskMemory()
    done = memory.foreign_id(b"y", redelivered=False)
    memory.done(done, b"y")
    again = memory.foreign_id(b"y", redelivered=True)
    assert again == done
    assert memory.was_done(again)


def test_a_first_delivery_never_reuses_an_identity():
    memory = TaskMemory()
    a = memory.foreign_id(b"z", redelivered=False)
    memory.given_back(a, b"z")
    assert memory.foreign_id(b"z", redelivered=False) != a  # a new message, same body


def test_kanin_ids_are_remembered_without_bodies():
    memory = TaskMemory()
    memory.done("abc")
    assert memory.was_done("abc")
    assert not memory.was_done("abd")


def test_a_timeout_is_remembered_per_task_and_learned_for_all():
    memory = TaskMemory()
    assert memory.timeout_of("t") == (False, None)
    assert memory.broker_timeout_ms is None
    memory.timed_out("t", 10_000)
    assert memory.timeout_of("t") == (True, 10_000)
    assert memory.broker_timeout_ms == 10_000


def test_the_memory_is_bounded():
    memory = TaskMemory(remembered=3)
    for n in range(5):
        memory.done(f"t{n}")
    assert not memory.was_done("t0")
    assert memory.was_done("t4")
