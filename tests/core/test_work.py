"""The demo work functions (``core.work``)."""

from __future__ import annotations

import pytest

from core.tasks import delivery_from
from core.work import PoisonTaskError, dot_work, poison_work


def test_dot_work_is_a_second_per_dot():
    assert dot_work(delivery_from(None, b"Hello...", redelivered=False)) == 3.0


def test_dot_work_respects_the_cap():
    delivery = delivery_from(None, b"..........", redelivered=False, max_work_seconds=4)
    assert dot_work(delivery) == 4.0


@pytest.mark.parametrize("body", [b"poison", b"a POISON task.", b"Poisoned.."])
def test_poison_work_raises_on_the_word_in_any_case(body):
    with pytest.raises(PoisonTaskError):
        poison_work(delivery_from(None, body, redelivered=False))


def test_poison_work_is_dot_work_otherwise():
    assert poison_work(delivery_from(None, b"harmless..", redelivered=False)) == 2.0
