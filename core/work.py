"""The demo work functions: how long a delivery takes, or that it fails (a poison task)."""

from __future__ import annotations

from collections.abc import Callable

from core.tasks import Delivery

Work = Callable[[Delivery], float]
"""Decides the work for a delivery: returns seconds to spend, or raises to fail the task."""

POISON_WORD = b"poison"


class PoisonTaskError(RuntimeError):
    """Raised by ``poison_work`` for a task whose body contains the word "poison"."""


def dot_work(delivery: Delivery) -> float:
    """The tutorial's work: one second per ``.`` in the body (already capped)."""
    return delivery.work_seconds


def poison_work(delivery: Delivery) -> float:
    """Like ``dot_work``, but a body containing "poison" (any case) raises ``PoisonTaskError``.

    Off by default (``Worker`` uses ``dot_work``, as the tutorial does); the
    window and ``kanin worker --poison`` use it to show poison tasks being
    given back, counted and dead-lettered.
    """
    if POISON_WORD in delivery.body.lower():
        raise PoisonTaskError("the task is poison: its work always fails")
    return delivery.work_seconds
