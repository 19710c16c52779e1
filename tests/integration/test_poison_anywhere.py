"""Poison tasks on a broker Kanin does not manage (the shared one): bounded, then dead-lettered.

No policy is set here: Kanin counts the attempts itself (``x-kanin-attempts``
on a classic queue, the broker's ``x-delivery-count`` on a quorum queue),
holds each failed task a little longer before it goes back, and publishes it
to ``<queue>.dead`` after the last attempt. Before, such a task looped about a
thousand times a second without end, one log line each.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pika.exceptions as pe
import pytest

from core.attempts import ATTEMPTS_HEADER
from core.events import TaskFailed, TaskFinished, TaskStarted, WorkerConnected
from core.pool import WorkerPool
from core.producer import Producer
from core.settings import ConnectionSettings
from core.tasks import Task
from core.topology import QueueSpec, QueueType
from core.work import poison_work
from core.worker import WorkerOptions
from tests.helpers.broker import TEST_URL, connect, delete_queue, message_count
from tests.helpers.recorder import Recorder

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def poisoned(queue_name: str) -> Iterator[str]:
    """The test's queue; its dead-letter queue is deleted afterwards too."""
    yield queue_name
    delete_queue(f"{queue_name}.dead")


def dead_count(queue: str, timeout: float) -> int:
    """The ready count of ``<queue>.dead`` once it is there and not empty (0 if it never is)."""
    deadline = time.monotonic() + timeout
    pause = threading.Event()
    while time.monotonic() < deadline:
        try:
            count = message_count(f"{queue}.dead")
        except pe.ChannelClosedByBroker:  # not declared yet
            count = 0
        if count:
            return count
        pause.wait(0.1)
    return 0


def dead_headers(queue: str) -> dict[str, object]:
    connection = connect()
    try:
        method, properties, _body = connection.channel().basic_get(f"{queue}.dead", auto_ack=True)
        assert method is not None, "nothing in the dead-letter queue"
        return dict(properties.headers or {})
    finally:
        connection.close()


def test_a_poison_task_is_retried_ever_later_then_dead_lettered_without_a_policy(poisoned, caplog):
    caplog.set_level(logging.WARNING, logger="core.runner")
    settings = ConnectionSettings.from_urls([TEST_URL])
    spec = QueueSpec(poisoned, QueueType.CLASSIC)
    recorder = Recorder()
    options = WorkerOptions(max_attempts=4)
    pool = WorkerPool(settings, spec, recorder, options, work=poison_work)
    try:
        pool.add(1)
        recorder.wait_count(WorkerConnected, 1)
        poison, after = Task.new("poison pill"), Task.new("fine")
        producer = Producer(settings, spec)
        try:
            producer.start()
            producer.publish([poison, after], timeout=10)
        finally:
            producer.close()
        recorder.wait_for(lambda: any(not e.requeued for e in recorder.of(TaskFailed)), 30)
        recorder.wait_for(lambda: bool(recorder.of(TaskFinished)), 10)
    finally:
        assert pool.stop_all(timeout=10)
    failures = [e for e in recorder.of(TaskFailed) if e.task_id == poison.id]
    assert [(e.attempt, e.requeued) for e in failures] == [
        (1, True),
        (2, True),
        (3, True),
        (4, False),
    ]
    starts = [e for e in recorder.of(TaskStarted) if e.delivery.task_id == poison.id]
    gaps = [b.at - a.at for a, b in zip(starts, starts[1:], strict=False)]
    assert [round(g) for g in gaps] == [1, 2, 4], gaps  # each retry waits twice as long
    lines = [r for r in caplog.records if "failed (attempt" in r.getMessage()]
    assert len(lines) == 4  # one line per attempt, no more
    assert message_count(poisoned) == 0
    assert dead_count(poisoned, 10) == 1
    assert dead_headers(poisoned)[ATTEMPTS_HEADER] == 4


def test_kanin_worker_takes_max_attempts_on_any_broker_and_ends_the_loop(poisoned):
    spec = QueueSpec(poisoned, QueueType.QUORUM)
    settings = ConnectionSettings.from_urls([TEST_URL])
    producer = Producer(settings, spec)
    try:
        producer.start()
        producer.publish([Task.new("poison again")], timeout=10)
    finally:
        producer.close()
    process = subprocess.Popen(
        [sys.executable, "-m", "core", "worker", "--url", TEST_URL, "--queue", poisoned]
        + ["--poison", "--max-attempts", "2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env=os.environ,
    )
    try:
        assert dead_count(poisoned, 30) == 1
    finally:
        process.send_signal(signal.SIGTERM)
        _out, err = process.communicate(timeout=20)
    assert process.returncode == 0, err
    lines = err.splitlines()
    assert lines[0] == f"kanin: tasks failing 2 times go to '{poisoned}.dead'."
    assert sum("failed (attempt" in line for line in lines) == 2, err
    assert message_count(poisoned) == 0
