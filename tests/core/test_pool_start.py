"""WorkerPool.add(): names at once, threads started in the background, a few connecting at once."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
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
        self.started_at = 0.0
        self.stopped_before_start = False
        self.connect_now = threading.Event()
        self.settled = threading.Event()
        self.finished = threading.Event()
        self._stop = threading.Event()

    def run(self) -> None:
        self.started_at = time.monotonic()
        self.stopped_before_start = self._stop.is_set()
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


def worker_threads() -> list[str]:
    """Names of the worker threads running now (started and not yet ended)."""
    return sorted(t.name for t in threading.enumerate() if t.name.startswith("kanin-worker-"))


@pytest.fixture
def held_starter(monkeypatch: pytest.MonkeyPatch) -> Iterator[threading.Event]:
    """Holds the pool's starter thread until the test sets the event (set at the end anyway)."""
    release = threading.Event()
    start_all = pool_module._start_all

    def held(*args: Any) -> None:
        release.wait(10)
        start_all(*args)

    monkeypatch.setattr(pool_module, "_start_all", held)
    yield release
    release.set()


def test_add_returns_the_names_before_any_thread_has_started(held_starter: threading.Event):
    pool, made = make_pool()
    names = pool.add(3)
    try:
        assert names == ["W-1", "W-2", "W-3"]
        assert worker_threads() == []  # add() started none: its starter thread does
        assert not any(made[name].started.is_set() for name in names)
        assert pool.names(alive_only=True) == names  # not started yet, but not finished either
        held_starter.set()
        for name in names:
            assert made[name].started.wait(5)
    finally:
        assert pool.stop_all(timeout=10)
    assert all(made[name].finished.is_set() for name in names)


def connecting(made: dict[str, FakeWorker]) -> list[str]:
    """Workers started and not yet settled (opening their first connection)."""
    return sorted(n for n, w in made.items() if w.started.is_set() and not w.settled.is_set())


def test_only_a_few_workers_open_their_first_connection_at_once(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(pool_module, "STAGGER", 30.0)  # only a settled worker lets the next go
    pool, made = make_pool()
    names = pool.add(AT_ONCE + 2)
    first, fifth, sixth = made[names[0]], made[names[AT_ONCE]], made[names[AT_ONCE + 1]]
    try:
        for name in names[:AT_ONCE]:
            assert made[name].started.wait(5)
        assert connecting(made) == names[:AT_ONCE]
        # The fifth waits for the first to settle, the sixth for the second.
        assert not fifth.started.wait(0.2)
        first.connect_now.set()
        assert fifth.started.wait(5)
        assert first.settled.wait(5)
        assert connecting(made) == names[1 : AT_ONCE + 1]
        assert not sixth.started.wait(0.2)
        made[names[1]].connect_now.set()
        assert sixth.started.wait(5)
        assert len(connecting(made)) == AT_ONCE
    finally:
        assert pool.stop_all(timeout=10)


def test_a_hanging_connection_delays_the_next_worker_by_at_most_the_stagger(
    monkeypatch: pytest.MonkeyPatch,
):
    stagger = 1.0
    monkeypatch.setattr(pool_module, "STAGGER", stagger)
    pool, made = make_pool()
    names = pool.add(AT_ONCE + 1)
    fourth, fifth = made[names[AT_ONCE - 1]], made[names[AT_ONCE]]
    try:
        # Nobody connects: the fifth worker still starts, one stagger after the fourth.
        assert fourth.started.wait(5)
        assert fifth.started.wait(stagger + 4)
        assert not any(made[name].settled.is_set() for name in names)
        delay = fifth.started_at - fourth.started_at
        assert stagger - 0.05 <= delay < stagger + 2.0
    finally:
        assert pool.stop_all(timeout=10)


def test_without_a_limit_add_starts_every_worker_itself():
    pool, made = make_pool(at_once=None)
    names = pool.add(6)
    try:
        # Thread.start() returned for each before add() did, although none has connected.
        assert worker_threads() == sorted(f"kanin-worker-{name}" for name in names)
        assert not any(t.name == "kanin-pool-starter" for t in threading.enumerate())
        for name in names:
            assert made[name].started.wait(5)
        assert not any(made[name].settled.is_set() for name in names)
    finally:
        assert pool.stop_all(timeout=10)


def test_workers_stopped_before_their_thread_starts_end_when_it_does(
    held_starter: threading.Event,
):
    pool, made = make_pool()
    names = pool.add(AT_ONCE + 3)
    for name in names:
        pool.stop(name)
    assert worker_threads() == []  # stopped before any thread started
    held_starter.set()
    assert pool.join(timeout=10)
    assert all(made[name].started.is_set() for name in names)
    assert all(made[name].stopped_before_start for name in names)
    assert pool.names(alive_only=True) == []
    assert pool.remove_finished() == names
