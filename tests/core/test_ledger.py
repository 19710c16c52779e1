"""The process's memory of tasks: foreign identities, duplicates, consumer timeouts."""

from __future__ import annotations

from core.ledger import TaskLedger


def test_a_redelivery_takes_the_identity_of_the_oldest_given_back_copy():
    ledger = TaskLedger()
    a = ledger.foreign_id(b"x.", redelivered=False)
    b = ledger.foreign_id(b"x.", redelivered=False)
    ledger.given_back(a, b"x.")
    ledger.given_back(b, b"x.")
    assert ledger.foreign_id(b"x.", redelivered=True) == a
    assert ledger.foreign_id(b"x.", redelivered=True) == b
    fresh = ledger.foreign_id(b"x.", redelivered=True)  # nothing left to match: a new one
    assert fresh not in (a, b)


def test_a_redelivery_of_a_done_foreign_task_is_a_duplicate():
    ledger = TaskLedger()
    done = ledger.foreign_id(b"y", redelivered=False)
    ledger.done(done, b"y")
    again = ledger.foreign_id(b"y", redelivered=True)
    assert again == done
    assert ledger.was_done(again)


def test_a_first_delivery_never_reuses_an_identity():
    ledger = TaskLedger()
    a = ledger.foreign_id(b"z", redelivered=False)
    ledger.given_back(a, b"z")
    assert ledger.foreign_id(b"z", redelivered=False) != a  # a new message, same body


def test_kanin_ids_are_remembered_without_bodies():
    ledger = TaskLedger()
    ledger.done("abc")
    assert ledger.was_done("abc")
    assert not ledger.was_done("abd")


def test_a_timeout_is_remembered_per_task_and_learned_for_all():
    ledger = TaskLedger()
    assert ledger.timeout_of("t") == (False, None)
    assert ledger.broker_timeout_ms is None
    ledger.timed_out("t", 10_000)
    assert ledger.timeout_of("t") == (True, 10_000)
    assert ledger.broker_timeout_ms == 10_000


def test_the_ledger_is_bounded():
    ledger = TaskLedger(remembered=3)
    for n in range(5):
        ledger.done(f"t{n}")
    assert not ledger.was_done("t0")
    assert ledger.was_done("t4")
