"""Whether a pid is the private node's Erlang VM: a stale pid file never makes stop() signal."""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from pathlib import Path

import psutil
import pytest

from core.broker_install import ServerInstall
from core.local_broker import LocalBroker
from core.node_process import find_node, names_node
from tests.helpers.fake_beam import fake_beam, sleeper, write_pid

NODE = "kanin-fake@localhost"
posix_only = pytest.mark.skipif(os.name == "nt", reason="stop() signals only on POSIX")


def broker_in(folder: Path) -> LocalBroker:
    """A LocalBroker for ``folder`` that never looks for a real install."""
    return LocalBroker(folder, node_name=NODE, server=ServerInstall(folder / "no-install"))


@pytest.fixture
def signals(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Every signal the code under test tries to send, instead of sending it."""
    sent: list[object] = []

    def record(*args: object) -> None:
        sent.append(args)

    monkeypatch.setattr(os, "kill", record)
    monkeypatch.setattr(psutil.Process, "send_signal", record)
    monkeypatch.setattr(psutil.Process, "terminate", record)
    monkeypatch.setattr(psutil.Process, "kill", record)
    return sent


def test_a_stale_pid_file_naming_this_test_is_not_the_broker_and_stop_sends_nothing(
    tmp_path, signals
):
    write_pid(tmp_path, os.getpid())  # a live process, but not the node
    broker = broker_in(tmp_path)
    assert broker.pid() is None
    assert not broker.is_running()
    assert broker.stop(timeout=1) is False
    assert signals == []


def test_a_stale_pid_file_naming_another_program_leaves_it_running(tmp_path):
    # Even with the node's own folder on its command line, a program that is not
    # the Erlang VM is not the node.
    with sleeper(args=["-home", str(tmp_path), "-sname", NODE]) as other:
        write_pid(tmp_path, other.pid)
        broker = broker_in(tmp_path)
        assert broker.pid() is None
        assert broker.stop(timeout=1) is False
        assert other.poll() is None


def test_a_pid_file_naming_a_gone_process_is_not_the_broker(tmp_path):
    with sleeper() as gone:
        pid = gone.pid
    write_pid(tmp_path, pid)
    assert broker_in(tmp_path).pid() is None


@posix_only
def test_the_node_s_vm_is_recognised_by_its_home_folder_and_stopped_with_sigterm(tmp_path):
    beam = fake_beam(tmp_path / "otp")
    with sleeper(beam, ["-home", str(tmp_path)]) as node:
        write_pid(tmp_path, node.pid)
        broker = broker_in(tmp_path)
        assert broker.pid() == node.pid
        assert broker.stop(timeout=10) is True
        assert node.wait(10) == -signal.SIGTERM
        assert broker.pid() is None


@pytest.mark.parametrize(
    ("args", "environ", "ours"),
    [
        (["-home", "{home}"], None, True),
        (["-home", "{other}"], None, False),
        (["-sname", NODE], None, True),
        (["-sname", "kanin-other@localhost"], None, False),
        ([], {"RABBITMQ_NODENAME": NODE}, True),
        ([], {"RABBITMQ_NODENAME": "kanin-other@localhost"}, False),
        ([], None, False),
    ],
    ids=["home", "other-home", "sname", "other-sname", "env", "other-env", "nothing"],
)
def test_an_erlang_vm_is_the_node_only_when_it_names_it(tmp_path, args, environ, ours):
    home, other = tmp_path / "node", tmp_path / "other"
    home.mkdir()
    other.mkdir()
    args = [a.format(home=home, other=other) for a in args]
    clean = {"RABBITMQ_NODENAME": ""} if environ is None else environ
    with sleeper(fake_beam(tmp_path / "otp"), args, clean) as vm:
        found = find_node(vm.pid, NODE, home)
        assert (found is not None) == ours
        if ours:
            assert found is not None
            assert found.pid == vm.pid


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="zombies as Linux shows them")
def test_an_exited_unreaped_vm_is_not_the_node(tmp_path):
    with sleeper(fake_beam(tmp_path / "otp"), ["-home", str(tmp_path)]) as vm:
        assert find_node(vm.pid, NODE, tmp_path) is not None
        os.kill(vm.pid, signal.SIGTERM)  # not reaped: a zombie until the helper waits
        process = psutil.Process(vm.pid)
        deadline = time.monotonic() + 10
        pause = threading.Event()
        while process.status() != psutil.STATUS_ZOMBIE and time.monotonic() < deadline:
            pause.wait(0.02)
        assert process.status() == psutil.STATUS_ZOMBIE
        assert find_node(vm.pid, NODE, tmp_path) is None


@pytest.mark.parametrize(
    ("args", "ours"),
    [
        ([r"C:\Program Files\Erlang OTP\erts-13.1\bin\erl.exe", "-sname", NODE], True),
        ([r"C:\Program Files\Erlang OTP\bin\werl.exe", "-name", "kanin-fake"], True),
        (["/opt/homebrew/lib/erlang/erts-14.0/bin/beam.smp", "--", "-home", "{home}"], True),
        (["/usr/lib/erlang/erts-13.1.5/bin/beam.smp", "--", "-home", "/var/lib/rabbitmq"], False),
        (["/usr/bin/python3", "-home", "{home}", "-sname", NODE], False),
        ([], False),
    ],
)
def test_names_node_reads_erlang_command_lines_of_every_platform(tmp_path, args, ours):
    args = [a.format(home=tmp_path) for a in args]
    assert names_node(args, NODE, tmp_path) is ours
