"""The managed local broker: start/stop/adopt, data kept, ``--local-broker``."""

from __future__ import annotations

import io
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from core import cli, local_broker
from core.local_broker import LocalBroker, LocalBrokerError, find_server
from core.settings import ConnectionSettings
from core.tasks import Task
from core.topology import QueueSpec
from tests.helpers.broker import unique_queue
from tests.helpers.private_broker import _tear_down, fill, ready_count


def test_start_without_rabbitmq_says_how_to_install(tmp_path, monkeypatch):
    monkeypatch.setattr(local_broker, "find_server", lambda: None)
    broker = LocalBroker(tmp_path)
    assert not broker.installed
    with pytest.raises(LocalBrokerError, match="not installed"):
        broker.start()


def test_cli_local_broker_without_rabbitmq_exits_1_with_the_hint(monkeypatch, capsys):
    monkeypatch.setattr(cli, "find_server", lambda: None)
    code = cli.main(["worker", "--local-broker"], out=io.StringIO())
    assert code == cli.EXIT_BROKER
    assert "RabbitMQ is not installed" in capsys.readouterr().err


def test_ports_and_name_are_kept_for_the_next_run(tmp_path):
    if find_server() is None:
        pytest.skip("rabbitmq-server is not installed")
    first = LocalBroker(tmp_path)
    first._prepare_files()  # noqa: SLF001 - what start() writes before launching the node
    again = LocalBroker(tmp_path)
    assert again.config == first.config
    assert first.node_name.startswith("kanin-")
    assert first.amqp_url == f"amqp://guest:guest@127.0.0.1:{first.amqp_port}/%2F"


def test_cli_max_attempts_is_one_or_more_and_five_by_default(capsys):
    """Accepted on any broker now (tests/integration/test_poison_anywhere.py runs it)."""
    with pytest.raises(SystemExit) as info:
        cli.main(["worker", "--max-attempts", "0"], out=io.StringIO())
    assert info.value.code == cli.EXIT_USAGE
    assert "must be 1 or more" in capsys.readouterr().err
    assert cli.build_parser().parse_args(["worker"]).max_attempts == 5


@pytest.mark.private_broker
def test_cli_local_broker_starts_the_node_works_the_kept_tasks_and_stops_it(tmp_path):
    if find_server() is None:
        pytest.skip("rabbitmq-server is not installed")
    base = tmp_path / "managed"
    broker = LocalBroker(base, node_name=f"kanin-test-{uuid.uuid4().hex[:8]}")
    spec = QueueSpec(unique_queue("managed"))
    try:
        broker.start()
        settings = ConnectionSettings.from_urls([broker.amqp_url])
        poison = Task.new("poison pill")
        fill(settings, spec, [poison, *[Task.new(f"kept {i}") for i in range(3)]])
        broker.stop()  # the data stays: the three tasks wait for the next start
        assert not broker.is_running()
        kanin = Path(sys.executable).parent / "kanin"
        result = subprocess.run(
            [str(kanin), "worker", "--local-broker", "--local-broker-dir", str(base)]
            + ["--queue", spec.name, "--max-tasks", "3", "--poison", "--max-attempts", "2"],
            capture_output=True,
            text=True,
            timeout=90,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        assert result.stdout.count(" [x] Done") == 3
        assert not broker.is_running()  # started by the command, so stopped by it
        broker.start()
        assert ready_count(broker, spec.name) == 0
        assert ready_count(broker, f"{spec.name}.dead") == 1  # the poison task, after 2 attempts
        adopter = LocalBroker(base)
        adopter.start()  # already running: adopted, not started, so close() leaves it alone
        assert not adopter.started_here
        adopter.close()
        assert broker.is_running()
    finally:
        _tear_down(broker)
        shutil.rmtree(base, ignore_errors=True)
