"""Shared fixtures: offscreen Qt, a unique queue per test, no leaked threads."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from tests.helpers.broker import TEST_URL, delete_queue, unique_queue  # noqa: E402


@pytest.fixture
def broker_url() -> str:
    return TEST_URL


@pytest.fixture
def queue_name() -> Iterator[str]:
    """A fresh queue name; the queue is deleted after the test."""
    name = unique_queue()
    yield name
    delete_queue(name)


@pytest.fixture(autouse=True)
def no_leaked_threads() -> Iterator[None]:
    """Fail a test that leaves one of Kanin's threads running."""
    before = set(threading.enumerate())
    yield
    leaked = [
        t
        for t in threading.enumerate()
        if t not in before and t.is_alive() and t.name.startswith("kanin-")
    ]
    for thread in leaked:
        thread.join(timeout=10)
    still = [t.name for t in leaked if t.is_alive()]
    assert not still, f"threads left running: {still}"
