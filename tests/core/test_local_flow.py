"""``ManagedNode`` without RabbitMQ: install hint, adopt or start, stop what it started."""

from __future__ import annotations

from pathlib import Path
from typing import cast

import pytest

from core.local_broker import LocalBroker, LocalBrokerError
from core.local_flow import ManagedNode, same_node
from core.settings import parse_url
from tests.helpers.fake_node import FakeLocalBroker, no_server


def managed(broker: FakeLocalBroker) -> ManagedNode:
    return ManagedNode(find=no_server, broker=cast(LocalBroker, broker))


def test_without_rabbitmq_prepare_says_how_to_install_and_nothing_is_made(tmp_path: Path) -> None:
    node = ManagedNode(tmp_path, find=no_server)
    assert not node.installed
    with pytest.raises(LocalBrokerError, match="not installed"):
        node.start()
    assert node.broker is None
    assert not node.serves("amqp://guest:guest@127.0.0.1:5672/%2F")


def test_a_node_started_here_is_stopped_on_close_and_only_once() -> None:
    broker = FakeLocalBroker(running=False)
    node = managed(broker)
    assert node.start() == broker.amqp_url
    assert node.owned
    assert node.close()
    assert not node.close()
    assert broker.calls == ["start", "stop"]


def test_an_adopted_running_node_is_left_running() -> None:
    broker = FakeLocalBroker(running=True)
    node = managed(broker)
    node.start()
    assert not node.owned
    assert not node.close()
    assert broker.calls == ["start"]
    assert broker.running


@pytest.mark.parametrize(
    ("url", "serves"),
    [
        ("amqp://guest:guest@127.0.0.1:25672/%2F", True),
        ("amqp://guest:***@127.0.0.1:25672/%2F", True),  # a redacted live connection
        ("amqp://alice:pw@127.0.0.1:25672/%2F?heartbeat=5", True),
        ("amqp://guest:guest@127.0.0.1:25673/%2F", False),
        ("amqp://guest:guest@127.0.0.2:25672/%2F", False),
        ("amqp://guest:guest@127.0.0.1:25672/work", False),
        ("", False),
        ("not a url", False),
    ],
)
def test_serves_compares_host_port_and_vhost(url: str, serves: bool) -> None:
    assert managed(FakeLocalBroker(25672)).serves(url) is serves


def test_same_node_ignores_case_of_the_host_only() -> None:
    a = parse_url("amqp://u:p@Rabbit.Example:5672/v")
    assert same_node(a, parse_url("amqp://x:y@rabbit.example:5672/v"))
    assert not same_node(a, parse_url("amqp://u:p@rabbit.example:5672/V"))
