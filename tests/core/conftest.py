"""Fixtures shared by the core unit tests: a fake pika broker and an event recorder."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.helpers.fake_pika import FakeBroker
from tests.helpers.recorder import Recorder


@pytest.fixture
def broker() -> Iterator[FakeBroker]:
    """A fake broker for workers' BlockingConnections (a module may define its own)."""
    fake = FakeBroker()
    yield fake
    fake.close()


@pytest.fixture
def recorder() -> Recorder:
    """Collects the events a worker or producer reports, with waits on them."""
    return Recorder()
