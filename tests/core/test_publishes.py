"""The producer's books: settling a future once, confirms by tag, the shared waiting list."""

from __future__ import annotations

from concurrent.futures import Future

import pytest

from core.errors import BrokerError
from core.publishes import Outstanding, Waiting, fail, resolve
from core.tasks import Task


def entries(count: int) -> list[tuple[Task, Future[str]]]:
    return [(Task.new(f"t{i}"), Future()) for i in range(count)]


def test_a_settled_future_is_never_set_again():
    future: Future[str] = Future()
    assert resolve(future, "a")
    assert not fail(future, BrokerError("late"))
    assert not resolve(future, "b")
    assert future.result(timeout=0) == "a"
    cancelled: Future[str] = Future()
    assert cancelled.cancel()
    assert not resolve(cancelled, "c")
    assert cancelled.cancelled()


def test_confirms_by_tag_single_multiple_and_unknown():
    book = Outstanding("q")
    items = entries(5)
    for item in items:
        book.add(item)
    assert book.confirm(9, multiple=False, acked=True).count == 0  # a tag it never gave
    assert book.confirm(2, multiple=False, acked=True).confirmed == [items[1][0].id]
    settled = book.confirm(4, multiple=True, acked=False)
    assert settled.rejected == [items[0][0].id, items[2][0].id, items[3][0].id]
    assert len(book) == 1
    with pytest.raises(BrokerError, match="refused"):
        items[0][1].result(timeout=0)
    assert [task.id for task, _f in book.take_all()] == [items[4][0].id]
    assert len(book) == 0
    again = entries(1)
    book.add(again[0])  # a new channel numbers from 1 again
    assert book.confirm(1, multiple=False, acked=True).confirmed == [again[0][0].id]


def test_the_waiting_list_keeps_order_counts_and_refuses_once_closed():
    waiting = Waiting()
    items = entries(4)
    assert waiting.add(items)
    taken = waiting.take(3)
    assert taken == items[:3]
    waiting.put_back(taken[1:])
    assert waiting.ids() == tuple(task.id for task, _f in items[1:])
    assert items[2][1].cancel()
    assert waiting.ids() == (items[1][0].id, items[3][0].id)  # the cancelled one left out
    assert waiting.unsettled == 4
    waiting.settle(3)
    assert not waiting.wait_idle(0)
    waiting.settle(1)
    assert waiting.wait_idle(0)
    waiting.refuse()
    assert not waiting.add(entries(1))
    assert waiting.unsettled == 0
    assert len(waiting.take_all()) == 3
