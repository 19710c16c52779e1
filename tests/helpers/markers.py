"""Marks the tests that need a RabbitMQ broker, and skips them where there is none.

A pytest plugin, loaded by ``pytest_plugins`` in ``tests/conftest.py``. A test
needs a broker when it uses a broker fixture (directly or through another
fixture), lives in ``tests/integration/``, or carries ``@pytest.mark.broker``;
each such test gets the ``broker`` mark (``-m "not broker"`` selects the rest).

``KANIN_NO_BROKER`` decides what happens to them:

- ``1``: they are skipped (CI on macOS and Windows, where no broker runs);
- ``0``: they run whatever happens (a missing broker fails them: CI with a broker);
- unset: they run when something answers at the test broker's address
  (``KANIN_TEST_URL``), and are skipped otherwise.
"""

from __future__ import annotations

import functools
import os
import socket
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.helpers.broker import TEST_URL

ENV_VAR = "KANIN_NO_BROKER"
BROKER_FIXTURES = frozenset(
    {"broker_url", "queue_name", "private_node", "private_broker", "fresh_broker"}
)
INTEGRATION = Path(__file__).resolve().parent.parent / "integration"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "broker: needs a RabbitMQ broker (see tests/helpers/markers.py)"
    )


def needs_broker(item: pytest.Item) -> bool:
    """True for a test that uses a broker fixture, is an integration test or is marked."""
    if item.get_closest_marker("broker") is not None:
        return True
    if BROKER_FIXTURES.intersection(getattr(item, "fixturenames", ())):
        return True
    return INTEGRATION in Path(str(item.path)).resolve().parents


@functools.cache
def broker_answers(url: str = TEST_URL, timeout: float = 2.0) -> bool:
    """True when a TCP connection to the broker's host and port succeeds (checked once)."""
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "localhost", parts.port or 5672), timeout):
            return True
    except OSError:
        return False


def skip_reason(environ: dict[str, str] | None = None) -> str | None:
    """Why broker tests are skipped in this run, or None when they run."""
    setting = (os.environ if environ is None else environ).get(ENV_VAR, "").strip()
    if setting == "1":
        return f"{ENV_VAR}=1: no broker in this run"
    if setting == "0" or broker_answers():
        return None
    return f"no broker answers at {urlsplit(TEST_URL).netloc.rpartition('@')[2]}"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    broker_items = [item for item in items if needs_broker(item)]
    for item in broker_items:
        item.add_marker(pytest.mark.broker)
    reason = skip_reason() if broker_items else None
    if reason:
        for item in broker_items:
            item.add_marker(pytest.mark.skip(reason=reason))
