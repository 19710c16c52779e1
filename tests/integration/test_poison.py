"""Poison tasks on a private node: counted, given back, then dead-lettered by a policy."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.events import TaskFailed, TaskFinished, WorkerConnected, WorkerFailed
from core.local_broker import LocalBroker
from core.policies import dead_letter_queue_name, setup_dead_lettering
from core.pool import WorkerPool
from core.producer import Producer
from core.settings import ConnectionSettings
from core.tasks import Task
from core.topology import QueueSpec, QueueType
from core.work import poison_work
from core.worker import WorkerOptions
from tests.helpers.broker import unique_queue
from tests.helpers.private_broker import ready_count, running_node
from tests.helpers.recorder import Recorder

pytestmark = pytest.mark.private_broker

TUTORIAL = Path(__file__).parents[1] / "helpers" / "tutorial"


@pytest.fixture(scope="module")
def private_node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalBroker]:
    """This module's node also runs the management API, to set policies over HTTP."""
    with running_node(tmp_path_factory.mktemp("node"), management=True) as broker:
        yield broker


@pytest.mark.parametrize(
    ("queue_type", "via"),
    [(QueueType.QUORUM, "management API"), (QueueType.CLASSIC, "rabbitmqctl")],
    ids=["quorum-http", "classic-ctl"],
)
def test_poison_task_is_dead_lettered_after_n_attempts_and_the_worker_survives(
    private_broker, queue_type, via
):
    settings = ConnectionSettings.from_urls([private_broker.amqp_url])
    spec = QueueSpec(unique_queue("poison"), queue_type)
    setup = setup_dead_lettering(
        settings,
        spec.name,
        3,
        queue_type=queue_type,
        broker=private_broker if via == "rabbitmqctl" else None,
        management_url=private_broker.management_url if via == "management API" else None,
    )
    assert setup.dead_letter_queue == dead_letter_queue_name(spec.name) == f"{spec.name}.dead"
    assert setup.applied_with == via
    recorder = Recorder()
    pool = WorkerPool(settings, spec, recorder, WorkerOptions(max_attempts=3), work=poison_work)
    try:
        (name,) = pool.add(1)
        recorder.wait_count(WorkerConnected, 1)
        poison = Task.new("poison pill")
        healthy = [Task.new(f"fine {i}") for i in range(5)]
        producer = Producer(settings, spec)
        try:
            producer.start()
            producer.publish([poison, *healthy], timeout=10)
            recorder.wait_for(lambda: any(not e.requeued for e in recorder.of(TaskFailed)))
            after = Task.new("still working")
            producer.publish([after], timeout=10)
        finally:
            producer.close()
        recorder.wait_for(lambda: after.id in {e.task_id for e in recorder.of(TaskFinished)})
        state = pool.worker(name).state
    finally:
        assert pool.stop_all(timeout=10)
    failures = [e for e in recorder.of(TaskFailed) if e.task_id == poison.id]
    assert [(e.attempt, e.requeued) for e in failures] == [(1, True), (2, True), (3, False)]
    assert {e.task_id for e in recorder.of(TaskFinished)} == {t.id for t in [*healthy, after]}
    assert not recorder.of(WorkerFailed)
    assert not state.finished
    assert ready_count(private_broker, spec.name) == 0
    assert ready_count(private_broker, setup.dead_letter_queue) == 1
    print(
        f"\n{queue_type.value}: poison task failed 3 times, then went to {setup.dead_letter_queue}"
    )


def test_policy_keeps_the_tutorial_scripts_working(private_broker):
    """The policy adds no queue argument: the tutorial's declare still matches."""
    settings = ConnectionSettings.from_urls([private_broker.amqp_url])
    spec = QueueSpec(unique_queue("poison-tutorial"))
    setup_dead_lettering(settings, spec.name, 3, broker=private_broker)
    producer = Producer(settings, spec)
    try:
        producer.start()  # declares the quorum queue exactly as the tutorial does
    finally:
        producer.close()
    script = (TUTORIAL / "new_task.py").read_text()
    script = script.replace(
        'host="localhost"', f'host="127.0.0.1", port={private_broker.amqp_port}'
    )
    assert f"port={private_broker.amqp_port}" in script
    result = subprocess.run(
        [sys.executable, "-c", script, "Hello..."],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
        env={**os.environ, "TUTORIAL_QUEUE": spec.name},
    )
    assert result.returncode == 0, result.stderr
    assert ready_count(private_broker, spec.name) == 1
    policies = private_broker.ctl("list_policies", "-q")
    assert f"kanin-dead-letter-{spec.name}" in policies
