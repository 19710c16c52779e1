"""A task longer than the broker's consumer timeout, on a private node (issue 13, item 1).

The node runs with ``consumer_timeout = 5000`` and, in ``advanced.config``,
``channel_tick_interval = 1000`` (3.10.8 honours it: the channel checks
its unacked deliveries every second instead of every minute), so the
broker takes a 12-second task back about 5-6 s after its delivery.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.events import (
    TaskFailed,
    TaskFinished,
    TaskStarted,
    TaskTakenBack,
    TaskTooLong,
    WorkerConnected,
)
from core.local_broker import LocalBroker
from core.memory import TaskMemory
from core.pool import WorkerPool
from core.settings import ConnectionSettings
from core.tasks import Task
from core.topology import QueueSpec
from core.worker import Worker
from tests.helpers.broker import unique_queue
from tests.helpers.private_broker import fill, ready_count, running_node
from tests.helpers.recorder import Recorder

pytestmark = pytest.mark.private_broker

TIMEOUT_MS = 5000


@pytest.fixture(scope="module")
def short_timeout_node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalBroker]:
    with running_node(
        Path(tmp_path_factory.mktemp("node")),
        config=[f"consumer_timeout = {TIMEOUT_MS}"],
        advanced="[{rabbit, [{channel_tick_interval, 1000}]}].",
    ) as broker:
        yield broker


@pytest.mark.timeout(90)
def test_a_task_longer_than_the_consumer_timeout_stops_at_once_and_ends_visibly(
    short_timeout_node: LocalBroker, caplog: pytest.LogCaptureFixture
):
    caplog.set_level(logging.WARNING, logger="core")
    settings = ConnectionSettings.from_urls([short_timeout_node.amqp_url])
    spec = QueueSpec(unique_queue())
    recorder = Recorder()
    memory = TaskMemory()
    pool = WorkerPool(
        settings, spec, recorder, worker_factory=functools.partial(Worker, memory=memory)
    )
    try:
        pool.add(2)
        recorder.wait_count(WorkerConnected, 2, timeout=30)
        task = Task.new("twelve seconds............")
        fill(settings, spec, [task])
        first = recorder.wait_count(TaskStarted, 1)[0]

        # The broker closes the first worker's channel about 5-6 s after the delivery:
        # the worker stops at once and says why.
        (taken,) = recorder.wait_count(TaskTakenBack, 1, timeout=20)
        assert taken.task_id == task.id
        assert taken.worker == first.worker
        assert taken.timeout_ms == TIMEOUT_MS
        assert TIMEOUT_MS / 1000 <= taken.at - first.at < TIMEOUT_MS / 1000 + 3
        assert (
            "The broker took the task back: it was unacknowledged longer than the broker's "
            "consumer timeout (5 s)." in caplog.text
        )

        # The redelivery is not worked on beside the first copy, and not for ever: it is
        # rejected (dropped here: the queue has no dead-letter policy).
        (failed,) = recorder.wait_count(TaskFailed, 1, timeout=10)
        assert failed.task_id == task.id
        assert failed.requeued is False
        assert failed.at - taken.at < 1.0
        for started in recorder.of(TaskStarted)[1:]:
            assert started.at >= taken.at - 0.5  # at most one slice of overlap
        assert recorder.of(TaskFinished) == []

        # The timeout is now known: a second long task is announced before it starts.
        second = Task.new("twelve again............")
        fill(settings, spec, [second])
        (warning,) = recorder.wait_count(TaskTooLong, 1, timeout=10)
        assert (warning.task_id, warning.timeout_seconds) == (second.id, TIMEOUT_MS / 1000)
        recorder.wait_for(
            lambda: any(e.task_id == second.id for e in recorder.of(TaskFailed)), timeout=20
        )
        assert len(recorder.of(TaskTakenBack)) == 2
        assert ready_count(short_timeout_node, spec.name) == 0
        assert pool.stop_all(timeout=15)
    finally:
        pool.stop_all(timeout=15)
