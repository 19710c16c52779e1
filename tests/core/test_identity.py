"""Connection names: which command, host, pid and worker a connection belongs to."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator

import pytest

from core import identity
from core.settings import ConnectionSettings


@pytest.fixture(autouse=True)
def _restore_command() -> Iterator[None]:
    before = identity.command()
    yield
    identity.set_command(before)


def test_a_worker_connection_names_command_worker_host_and_pid():
    identity.set_command("worker")
    name = identity.connection_name("worker-3")
    assert name == f"kanin worker worker-3 on {socket.gethostname()} (pid {os.getpid()})"


def test_a_connection_without_worker_names_the_command_only():
    identity.set_command("new-task")
    assert identity.connection_name().startswith("kanin new-task on ")


def test_a_process_that_sets_no_command_is_the_window():
    identity.set_command(identity.DEFAULT_COMMAND)
    assert identity.connection_name().startswith("kanin window on ")


def test_pika_parameters_carry_the_name_and_the_facts_as_a_table():
    identity.set_command("worker")
    settings = ConnectionSettings.from_urls(["amqp://u:p@n1:5672/%2F"])
    properties = settings.pika_parameters(client="worker-1")[0].client_properties
    assert properties is not None
    assert properties["connection_name"] == identity.connection_name("worker-1")
    assert properties["kanin"] == {
        "command": "worker",
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "worker": "worker-1",
    }
