"""Interop with the official tutorial's new_task.py and worker.py, run as real processes."""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest

from core.events import TaskFinished, TaskStarted, WorkerConnected
from core.pool import WorkerPool
from core.producer import Producer
from core.settings import ConnectionSettings
from core.tasks import Task
from core.topology import QueueSpec, QueueType
from tests.helpers.broker import connect, message_count
from tests.helpers.recorder import Recorder

TUTORIAL = Path(__file__).resolve().parent.parent / "helpers" / "tutorial"


def tutorial_env(queue_name: str) -> dict[str, str]:
    return {**os.environ, "TUTORIAL_QUEUE": queue_name}


class LineReader:
    """Reads a process's stdout lines in a thread; ``expect`` waits for a line."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        assert process.stdout is not None
        self._thread = threading.Thread(target=self._read, args=(process.stdout,), daemon=True)
        self._thread.start()

    def _read(self, stream: Iterable[str]) -> None:
        for line in stream:
            self.lines.put(line.rstrip("\n"))

    def expect(self, wanted: str, timeout: float = 20.0) -> None:
        while True:
            line = self.lines.get(timeout=timeout)
            self.seen.append(line)
            if line == wanted:
                return


@pytest.fixture
def tutorial_worker(queue_name: str) -> Iterator[LineReader]:
    process = subprocess.Popen(
        [sys.executable, "-u", str(TUTORIAL / "worker.py")],
        env=tutorial_env(queue_name),
        stdout=subprocess.PIPE,
        text=True,
    )
    reader = LineReader(process)
    try:
        reader.expect(" [*] Waiting for messages. To exit press CTRL+C")
        yield reader
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_tutorial_new_task_runs_on_kanin_workers(broker_url, queue_name):
    for message in ("First message.", "Second message..", "Third"):
        result = subprocess.run(
            [sys.executable, str(TUTORIAL / "new_task.py"), *message.split()],
            env=tutorial_env(queue_name),
            capture_output=True,
            text=True,
            check=True,
            timeout=30,
        )
        assert result.stdout.strip() == f"[x] Sent {message}"
    recorder = Recorder()
    pool = WorkerPool(ConnectionSettings.from_urls([broker_url]), QueueSpec(queue_name), recorder)
    try:
        pool.add(2)
        finished = recorder.wait_count(TaskFinished, 3, timeout=30)
    finally:
        assert pool.stop_all(timeout=10)
    started = recorder.of(TaskStarted)
    assert sorted(e.delivery.body for e in started) == [
        b"First message.",
        b"Second message..",
        b"Third",
    ]
    assert all(e.delivery.foreign for e in started)
    assert {e.delivery.work_seconds for e in started} == {1.0, 2.0, 0.0}
    assert len(finished) == 3
    assert message_count(queue_name) == 0


def test_kanin_tasks_run_on_the_tutorial_worker(broker_url, queue_name, tutorial_worker):
    producer = Producer(ConnectionSettings.from_urls([broker_url]), QueueSpec(queue_name))
    producer.start()
    try:
        producer.publish([Task.new("Kanin task."), Task.new("Hello World!")], timeout=10)
    finally:
        producer.close()
    tutorial_worker.expect(" [x] Received Kanin task.")
    tutorial_worker.expect(" [x] Done")
    tutorial_worker.expect(" [x] Received Hello World!")
    tutorial_worker.expect(" [x] Done")


def test_a_classic_task_queue_from_the_older_tutorial_is_adopted(broker_url, queue_name):
    connection = connect()
    connection.channel().queue_declare(queue=queue_name, durable=True)  # older tutorial: classic
    connection.close()
    recorder = Recorder()
    spec = QueueSpec(queue_name, QueueType.QUORUM)
    producer = Producer(ConnectionSettings.from_urls([broker_url]), spec)
    report = producer.start()
    pool = WorkerPool(ConnectionSettings.from_urls([broker_url]), spec, recorder)
    try:
        assert report is not None
        assert report.adopted
        assert report.queue_type is QueueType.CLASSIC
        producer.publish([Task.new("on a classic queue")], timeout=10)
        pool.add(1)
        (connected,) = recorder.wait_count(WorkerConnected, 1)
        recorder.wait_count(TaskFinished, 1)
    finally:
        producer.close()
        assert pool.stop_all(timeout=10)
    assert "adopted" in connected.queue_description
    assert "classic" in connected.queue_description
