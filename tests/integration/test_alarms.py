"""Resource alarms on a private node: a blocked producer waits, reports it and sends nothing twice.

``rabbitmqctl set_vm_memory_high_watermark 0.0000001`` raises the node's
memory alarm at once (``0.4`` clears it): the broker blocks every connection
that publishes. Before the fix, pika's blocked-connection timeout tore the
producer's connection down and the producer published its unconfirmed tasks
again, though the broker had taken some of them: duplicates. The URLs here
ask for a 5 s blocked-connection timeout, so that holding the alarm longer
than it takes seconds, not minutes.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.events import (
    ProducerBlocked,
    ProducerDisconnected,
    ProducerUnblocked,
    TasksConfirmed,
)
from core.local_broker import LocalBroker
from core.producer import Producer
from core.settings import ConnectionSettings
from core.tasks import Task
from core.topology import QueueSpec, QueueType
from tests.helpers.broker import unique_queue
from tests.helpers.private_broker import ready_count
from tests.helpers.recorder import Recorder

pytestmark = pytest.mark.private_broker

ROOT = Path(__file__).resolve().parents[2]
OLD_TIMEOUT = 5
"""The blocked-connection timeout the URLs ask for (Kanin's default was 60 s)."""
HOLD = OLD_TIMEOUT + 4
"""How long the alarm is held: longer than that timeout."""


def alarm(broker: LocalBroker, on: bool) -> None:
    broker.ctl("set_vm_memory_high_watermark", "0.0000001" if on else "0.4")


@pytest.fixture
def alarmed(private_broker: LocalBroker) -> Iterator[LocalBroker]:
    """The node; its memory alarm is cleared after the test, whatever happens."""
    try:
        yield private_broker
    finally:
        alarm(private_broker, False)


def url_of(broker: LocalBroker) -> str:
    return f"{broker.amqp_url}?blocked_connection_timeout={OLD_TIMEOUT}"


def test_a_memory_alarm_during_a_publish_is_reported_waited_out_and_duplicates_nothing(alarmed):
    count = 50_000
    spec = QueueSpec(unique_queue("alarm"), QueueType.QUORUM)
    recorder = Recorder()
    producer = Producer(ConnectionSettings.from_urls([url_of(alarmed)]), spec, recorder)
    try:
        producer.start()
        futures = producer.submit(Task.new(f"task {i}") for i in range(count))
        recorder.wait_count(TasksConfirmed, 1, timeout=30)
        alarm(alarmed, True)
        (blocked,) = recorder.wait_count(ProducerBlocked, 1, timeout=30)
        assert "memory" in blocked.alarm
        assert producer.waiting > 0, "the publish ended before the alarm: nothing was tested"
        assert producer.blocked is not None
        with pytest.raises(AssertionError):  # no teardown, no reconnect while blocked
            recorder.wait_for(lambda: bool(recorder.of(ProducerDisconnected)), timeout=HOLD)
        alarm(alarmed, False)
        recorder.wait_count(ProducerUnblocked, 1, timeout=30)
        assert producer.wait_idle(60)
        assert all(f.result(timeout=0) for f in futures)
    finally:
        producer.close(timeout=10)
    assert recorder.of(ProducerDisconnected) == []
    assert ready_count(alarmed, spec.name) == count  # exactly the tasks submitted


def kanin(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "core", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env=os.environ,
    )


def read_lines(stream: object, lines: list[str], seen: threading.Event, fragment: str) -> None:
    for line in stream:  # type: ignore[attr-defined]
        lines.append(line)
        if fragment in line:
            seen.set()


def test_new_task_says_the_broker_blocks_waits_and_gives_up_at_its_timeout(alarmed):
    queue = unique_queue("alarm-cli")
    alarm(alarmed, True)
    started = time.monotonic()
    process = kanin(
        "new-task", "--url", url_of(alarmed), "--queue", queue, "--count", "300", "--timeout", "8"
    )
    _out, err = process.communicate(timeout=60)
    elapsed = time.monotonic() - started
    assert process.returncode == 1, err
    lines = err.splitlines()
    assert lines[0] == (
        "kanin: the broker blocked publishing (memory alarm: the broker is low on memory); "
        "waiting for it to clear."
    )
    assert lines[-1].startswith("kanin: Gave up after 8 s (--timeout): 0 of 300 tasks confirmed")
    assert lines[-1].endswith(
        "; the broker still blocks publishing (memory alarm: the broker is low on memory)."
    )
    assert len(lines) == 2, err
    assert "annot connect" not in err
    assert elapsed < 8 + 8, "giving up took far longer than the timeout"  # start-up included


def test_new_task_waits_out_a_block_longer_than_the_old_timeout_and_sends_each_task_once(alarmed):
    queue = unique_queue("alarm-cli")
    alarm(alarmed, True)
    process = kanin("new-task", "--url", url_of(alarmed), "--queue", queue, "--count", "3000")
    lines: list[str] = []
    said = threading.Event()
    reader = threading.Thread(
        target=read_lines, args=(process.stderr, lines, said, "blocked publishing"), daemon=True
    )
    reader.start()
    try:
        assert said.wait(30), lines
        assert process.poll() is None
        with pytest.raises(subprocess.TimeoutExpired):  # still waiting, past the old timeout
            process.wait(timeout=HOLD)
        alarm(alarmed, False)
        assert process.stdout is not None
        out = process.stdout.read()
        process.wait(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    reader.join(5)
    assert process.returncode == 0, lines
    assert out.count(" [x] Sent Hello World!\n") == 3000
    assert lines == [
        "kanin: the broker blocked publishing (memory alarm: the broker is low on memory); "
        "waiting for it to clear (Ctrl+C to stop, or --timeout SECONDS to give up).\n",
        "kanin: the broker lifted its block; publishing goes on.\n",
    ]
    assert ready_count(alarmed, queue) == 3000
