"""WorkerPool.add(): names at once, threads started in the background, a few connecting at once."""

from __future__ import annotations

import threading
from typing import Any, cast

import pytest

from core import pool as pool_module
from core.pool import WorkerPool
from core.settings import ConnectionSettings
from core.topology import QueueSpec
from core.worker import Worker


class FakeWorker:
    """Stands in for ``core.worker.Worker``: "connects" when the test says so."""

    def __init__(self, name: str, *_args: Any, **_kwargs: Any) -> None:
        self.name = name
        self.started = threading.Event()
        self.connect_now = threading.Event()
        self.settled = threading.Event()
        self.finished = threading.Event()
        self._stop = threading.Event()

    def run(self) -> None:
        self.started.set()
        try:
            while not self._stop.is_set() and not self.connect_now.wait(0.01):
                pass
            self.settled.set()
            self._stop.wait(10)
        finally:
            self.settled.set()
            self.finished.set()

    def stop(self, *, finish_current: bool = False) -> None:
        self._stop.set()

    kill = stop


AT_ONCE = 4


def make_pool(at_once: int | None = AT_ONCE) -> tuple[WorkerPool, dict[str, FakeWorker]]:
    made: dict[str, FakeWorker] = {}

    def factory(name: str, *args: Any, **kwargs: Any) -> Worker:
        made[name] = FakeWorker(name, *args, **kwargs)
        return cast("Worker", made[name])

    settings = ConnectionSettings.from_urls(["amqp://guest:guest@127.0.0.1:5672/%2F"])
    pool = WorkerPool(
        settings, QueueSpec("unused"), worker_factory=factory, connecting_at_once=at_once
    )
    return pool, made


def test_add_returns_the_names_before_any_thread_has_started():
    pool, made = make_pool()
    names = pool.add(3)
    try:
        assert names == ["W-1", "W-2", "W-3"]
        assert pool.names(alive_only=True) == names  # not started yet, but not finished either
    finally:
        assert pool.stop_all(timeout=10)
    assert all(made[name].finished.is_set() for name in names)


def test_only_a_few_workers_open_their_first_connection_at_once(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(pool_module, "STAGGER", 30.0)  # only a settled worker lets the next go
    pool, made = make_pool()
    at_once = AT_ONCE
    names = pool.add(at_once + 2)
    try:
        for name in names[:at_once]:
            assert made[name].started.wait(5)
        # The next one waits for the first to settle.
        late = made[names[at_once]]
        assert not late.started.wait(0.2)
        made[names[0]].connect_now.set()
        assert late.started.wait(5)
        for name in names:
            made[name].connect_now.set()
        assert made[names[-1]].started.wait(5)
    finally:
        assert pool.stop_all(timeout=10)


def test_a_hanging_connection_delays_the_next_worker_by_at_most_the_stagger():
    pool, made = make_pool()
    at_once = AT_ONCE
    names = pool.add(at_once + 1)
    try:
        # Nobody connects: the last worker still starts, STAGGER after the first.
        assert made[names[-1]].started.wait(pool_module.STAGGER + 5)
    finally:
        assert pool.stop_all(timeout=10)


def test_without_a_limit_add_starts_every_worker_itself():
    pool, made = make_pool(at_once=None)
    names = pool.add(6)
    try:
        for name in names:
            assert made[name].started.wait(5)  # although none has connected
        assert not any(t.name == "kanin-pool-starter" for t in threading.enumerate())
        assert not any(made[name].settled.is_set() for name in names)
    finally:
        assert pool.stop_all(timeout=10)


def test_workers_stopped_before_their_thread_starts_end_when_it_does():
    pool, made = make_pool()
    names = pool.add(AT_ONCE + 3)
    assert pool.stop_all(timeout=10)
    assert pool.names(alive_only=True) == []
    assert pool.remove_finished() == names
    assert all(made[name].finished.is_set() for name in names)
