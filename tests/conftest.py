"""Shared fixtures: offscreen Qt, a unique queue per test, no leaked threads."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from core.local_broker import LocalBroker  # noqa: E402
from tests.helpers.broker import TEST_URL, delete_queue, unique_queue  # noqa: E402
from tests.helpers.private_broker import running_node  # noqa: E402

# Marks the tests that need a broker and skips them where none runs (KANIN_NO_BROKER).
pytest_plugins = ["tests.helpers.markers"]


@pytest.fixture(autouse=True)
def data_folder(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> str:
    """Kanin's data folder (the kept task ledger) for this test: never the user's own."""
    folder = str(tmp_path_factory.mktemp("data"))
    monkeypatch.setenv("KANIN_DATA_DIR", folder)
    return folder


@pytest.fixture
def broker_url() -> str:
    return TEST_URL


@pytest.fixture
def queue_name() -> Iterator[str]:
    """A fresh queue name; the queue is deleted after the test."""
    name = unique_queue()
    yield name
    delete_queue(name)


@pytest.fixture(scope="module")
def private_node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalBroker]:
    """A private RabbitMQ node shared by one test module; stopped and deleted afterwards."""
    with running_node(tmp_path_factory.mktemp("node")) as broker:
        yield broker


@pytest.fixture
def private_broker(private_node: LocalBroker) -> LocalBroker:
    """The module's private node, started again if an earlier test left it stopped."""
    if not private_node.is_running():
        private_node.start()
    return private_node


@pytest.fixture
def fresh_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalBroker]:
    """A private RabbitMQ node for one test that breaks it; stopped and deleted afterwards."""
    with running_node(tmp_path_factory.mktemp("node")) as broker:
        yield broker


LEAK_GRACE = 2.0
"""Seconds, in all, that threads the test asked to end get to finish before they count as leaked."""


@pytest.fixture(autouse=True)
def no_leaked_threads() -> Iterator[None]:
    """Fail a test that leaves one of Kanin's threads running.

    A thread on its way out (stopped, its last connection closing) gets ``LEAK_GRACE`` seconds;
    one still alive after that was never told to end, or cannot: the failure names it.
    """
    before = set(threading.enumerate())
    yield
    leaked = [
        t
        for t in threading.enumerate()
        if t not in before and t.is_alive() and t.name.startswith("kanin-")
    ]
    deadline = time.monotonic() + LEAK_GRACE
    for thread in leaked:
        thread.join(timeout=max(0.0, deadline - time.monotonic()))
    still = sorted(t.name for t in leaked if t.is_alive())
    assert not still, f"threads left running {LEAK_GRACE} s after the test: {still}"
