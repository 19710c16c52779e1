"""The queue monitor: figures from AMQP and the management API, each labelled with its source."""

from __future__ import annotations

import contextlib
import threading
import time
import uuid
from collections.abc import Callable, Iterator

import pytest

from core.events import TaskStarted, WorkerConnected
from core.local_broker import LocalBroker, free_port
from core.management import ManagementApi, ManagementError
from core.monitor import QueueMonitor, QueueStats, Source
from core.pool import WorkerPool
from core.producer import Producer
from core.settings import ConnectionSettings
from core.tasks import Task
from core.topology import QueueSpec
from tests.helpers.broker import connect, unique_queue
from tests.helpers.private_broker import connect as connect_private
from tests.helpers.private_broker import fill, running_node
from tests.helpers.recorder import Recorder


def test_ready_and_consumers_come_from_a_passive_declare(broker_url, queue_name):
    settings = ConnectionSettings.from_urls([broker_url])
    spec = QueueSpec(queue_name)
    producer = Producer(settings, spec)
    producer.start()
    monitor = QueueMonitor(settings, queue_name, management_port=None)
    recorder = Recorder()
    pool = WorkerPool(settings, spec, recorder)
    outsider = connect()  # a consumer that is not Kanin's, like the tutorial's worker.py
    try:
        producer.publish([Task.new(f"t{i}") for i in range(3)], timeout=10)
        stats = monitor.poll()
        assert (stats.ready, stats.consumers) == (3, 0)
        assert stats.source_of("ready") is Source.AMQP
        assert stats.unacked is None
        assert stats.source_of("unacked") is Source.NONE
        pool.work = lambda d: 30.0
        pool.add(1)
        recorder.wait_count(WorkerConnected, 1)
        recorder.wait_count(TaskStarted, 1)
        channel = outsider.channel()
        channel.basic_qos(prefetch_count=1)
        channel.basic_consume(queue_name, lambda *a: None)
        stats = monitor.poll()
        assert stats.consumers == 2
        assert stats.source_of("consumers") is Source.AMQP
    finally:
        outsider.close()
        assert pool.stop_all(timeout=10)
        producer.close()
        monitor.close()


def test_missing_queue_is_a_reading_with_an_error_not_an_exception(broker_url):
    monitor = QueueMonitor(
        ConnectionSettings.from_urls([broker_url]), "kanin-test-absent-queue", management_port=None
    )
    try:
        stats = monitor.poll()
    finally:
        monitor.close()
    assert stats.ready is None
    assert "does not exist" in stats.error


def test_unreachable_broker_is_reported_in_the_reading():
    monitor = QueueMonitor(
        ConnectionSettings.from_urls(["amqp://guest:guest@127.0.0.1:1/"]), "q", management_port=None
    )
    stats = monitor.poll()
    assert "connection refused" in stats.error


# ------------------------------------------------ the management API, on a private node


@pytest.fixture(scope="module")
def private_node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalBroker]:
    """This module's node runs the management plugin (``[rabbitmq_management].``)."""
    with running_node(tmp_path_factory.mktemp("node"), management=True) as broker:
        assert broker.management_url is not None
        api = ManagementApi(broker.management_url, "guest", "guest", timeout=2)
        pause = threading.Event()
        deadline = time.monotonic() + 30
        while True:  # the HTTP listener may come up a little after AMQP
            try:
                api.get("/api/overview")
                break
            except ManagementError:
                if time.monotonic() > deadline:
                    raise
                pause.wait(0.2)
        yield broker


def reading(monitor: QueueMonitor, until: Callable[[QueueStats], bool]) -> QueueStats:
    """Poll until a reading satisfies ``until`` (the API refreshes its figures every 5 s)."""
    deadline = time.monotonic() + 20
    pause = threading.Event()
    stats = monitor.poll()
    while not until(stats) and time.monotonic() < deadline:
        pause.wait(0.2)
        stats = monitor.poll()
    return stats


@contextlib.contextmanager
def held_queue(broker: LocalBroker, published: int, held: int) -> Iterator[str]:
    """A quorum queue with ``published`` tasks, ``held`` of them delivered and never acked."""
    settings = ConnectionSettings.from_urls([broker.amqp_url])
    spec = QueueSpec(unique_queue("monitor"))
    fill(settings, spec, [Task.new(f"t{i}") for i in range(published)])
    holder = connect_private(broker)
    try:
        channel = holder.channel()
        channel.basic_qos(prefetch_count=held)
        channel.basic_consume(spec.name, lambda *a: None)  # never acks
        yield spec.name
    finally:
        holder.close()


def add_user_without_management(broker: LocalBroker) -> str:
    """A user of vhost ``/`` with no management tag; its password is its name."""
    user = f"kanin-{uuid.uuid4().hex[:8]}"
    broker.ctl("add_user", user, user)
    broker.ctl("set_permissions", "-p", "/", user, ".*", ".*", ".*")
    return user


@pytest.mark.private_broker
def test_unacked_and_totals_come_from_the_management_api(private_broker):
    settings = ConnectionSettings.from_urls([private_broker.amqp_url])
    with held_queue(private_broker, published=5, held=2) as queue:
        monitor = QueueMonitor(settings, queue, management_port=private_broker.management_port)
        try:
            stats = reading(monitor, lambda s: (s.unacked, s.total) == (2, 5))
        finally:
            monitor.close()
    assert (stats.ready, stats.unacked, stats.total, stats.consumers) == (3, 2, 5, 1)
    assert stats.queue_type == "quorum"
    for name in ("unacked", "total", "queue_type"):
        assert stats.source_of(name) is Source.MANAGEMENT, name
    assert stats.source_of("ready") is Source.AMQP  # the passive declare still comes first
    assert stats.error == ""


@pytest.mark.private_broker
def test_ready_and_consumers_come_from_the_api_when_amqp_cannot_be_reached(private_broker):
    # AMQP at a port where nothing listens (as behind a firewall), the API on its own port.
    settings = ConnectionSettings.from_urls([f"amqp://guest:guest@127.0.0.1:{free_port()}/%2F"])
    with held_queue(private_broker, published=4, held=1) as queue:
        monitor = QueueMonitor(settings, queue, management_port=private_broker.management_port)
        try:
            stats = reading(monitor, lambda s: (s.ready, s.unacked) == (3, 1))
        finally:
            monitor.close()
    assert (stats.ready, stats.unacked, stats.consumers) == (3, 1, 1)
    assert stats.source_of("ready") is Source.MANAGEMENT
    assert stats.source_of("consumers") is Source.MANAGEMENT
    assert stats.source_of("unacked") is Source.MANAGEMENT
    assert "connection refused" in stats.error  # why AMQP gave nothing


@pytest.mark.private_broker
@pytest.mark.parametrize(
    "api",
    ["refuses the user", "is absent", "is not HTTP"],
)
def test_without_the_api_the_monitor_falls_back_to_the_passive_declare(private_broker, api):
    user = "guest"
    port = private_broker.management_port
    if api == "refuses the user":
        user = add_user_without_management(private_broker)
        refused = ManagementApi(private_broker.management_url, user, user, timeout=2)
        with pytest.raises(ManagementError) as error:
            refused.get("/api/overview")
        assert error.value.status == 401
    elif api == "is absent":
        port = free_port()
    else:
        port = private_broker.amqp_port  # answers, but in AMQP
    settings = ConnectionSettings.from_urls(
        [f"amqp://{user}:{user}@127.0.0.1:{private_broker.amqp_port}/%2F"]
    )
    with held_queue(private_broker, published=3, held=1) as queue:
        monitor = QueueMonitor(settings, queue, management_port=port)
        try:
            stats = monitor.poll()
        finally:
            monitor.close()
    assert (stats.ready, stats.consumers) == (2, 1)
    assert stats.source_of("ready") is Source.AMQP
    assert stats.unacked is None
    assert stats.source_of("unacked") is Source.NONE
    assert stats.error == ""
