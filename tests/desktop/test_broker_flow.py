"""BrokerFlow without a broker: the restart record and the dead-letter decision.

A fake controller replays recorded connection changes and queue samples; the
managed node is a ``LocalNode`` over a fake ``LocalBroker`` whose stop and
start return at once, so the node's own thread still runs and signals.
"""

from __future__ import annotations

import time
from typing import cast

import pytest
from pytestqt.qtbot import QtBot

from core.local_broker import LocalBroker
from core.local_flow import DEAD_LETTER_ATTEMPTS
from core.monitor import QueueStats, Source
from core.settings import ConnectionSettings
from core.topology import QueueType
from desktop.banners import NoticeBanner
from desktop.broker_flow import BrokerFlow, RestartReport
from desktop.controller import ConnectionState, Controller, QueueSample
from desktop.local_node import LocalNode
from desktop.preferences import AppSettings, from_urls
from tests.helpers.fake_controller import FakeController
from tests.helpers.fake_node import FakeLocalBroker

PORT = 25999
MANAGED = f"amqp://guest:***@127.0.0.1:{PORT}/%2F"


def sample(ready: int | None, at: float, source: Source = Source.AMQP) -> QueueSample:
    stats = QueueStats(
        queue="flow-q", at=at, ready=ready, consumers=2, sources=(("ready", source),)
    )
    return QueueSample(stats, kanin_unacked=0, kanin_consumers=2, done_rate=0.0, confirm_rate=0.0)


@pytest.fixture
def fake() -> FakeController:
    # Settings on the fake node's port, where nothing listens: a set-up that ran for real
    # would fail there instead of touching the system broker.
    return FakeController(from_urls([f"amqp://127.0.0.1:{PORT}/%2F"], AppSettings(queue="flow-q")))


@pytest.fixture
def broker() -> FakeLocalBroker:
    return FakeLocalBroker(PORT, running=True)


@pytest.fixture
def flow(qtbot: QtBot, fake: FakeController, broker: FakeLocalBroker) -> BrokerFlow:
    node = LocalNode(broker=cast(LocalBroker, broker))
    offer, report = NoticeBanner("Start a local broker"), NoticeBanner()
    qtbot.addWidget(offer)
    qtbot.addWidget(report)
    return BrokerFlow(cast(Controller, fake), node, offer, report)


def test_restart_report_pairs_the_counts_before_with_the_first_fresh_reading_after(
    qtbot: QtBot, flow: BrokerFlow, fake: FakeController, broker: FakeLocalBroker
) -> None:
    fake.queue_type = None  # no dead-letter set-up in this test: the node stays free
    fake.change(ConnectionState.CONNECTED, MANAGED)
    fake.last_stats = sample(4, time.time()).stats
    fake.queued = 6
    broker.release.clear()  # the restart waits in stop() until the checks below are done
    assert flow.restart_node()
    assert flow.restarting
    assert not flow.can_restart  # one operation at a time
    before = "Before: 4 in the queue (4 waiting, 0 being worked on); waiting: the broker's count"
    assert f"{before}, from a passive queue.declare" in flow.report.text
    with qtbot.waitSignal(flow.node.restarted, timeout=5_000):
        broker.release.set()
    assert broker.calls == ["stop", "start"]
    record = flow.restart
    assert record is not None
    assert record.back_at > 0
    assert not flow.restarting

    fake.queued = 5  # a worker took one of Kanin's tasks while the broker was away
    with qtbot.assertNotEmitted(flow.restart_reported):
        fake.sample_taken.emit(sample(99, record.back_at - 1))  # read before it came back
        fake.change(ConnectionState.RECONNECTING)
        fake.sample_taken.emit(sample(98, record.back_at + 1))  # not connected again yet
        fake.change(ConnectionState.CONNECTED, MANAGED)
        fake.sample_taken.emit(sample(None, record.back_at + 1))  # no count in this reading
    with qtbot.waitSignal(flow.restart_reported, timeout=1_000) as reported:
        fake.sample_taken.emit(sample(3, record.back_at + 2, Source.MANAGEMENT))
    report = reported.args[0]
    assert isinstance(report, RestartReport)
    assert report.record is record
    assert (record.ready_before, record.kanin_before) == (4, 6)
    assert (report.ready_after, report.kanin_after) == (3, 5)
    assert report.source_after == "the broker's count, from the management API"
    assert flow.restart is None
    assert "restarted and came back" in flow.report.text
    with qtbot.assertNotEmitted(flow.restart_reported):  # reported once
        fake.sample_taken.emit(sample(2, record.back_at + 3))


def busy_sample(
    ready: int, at: float, kanin_unacked: int, unacked: int | None = None
) -> QueueSample:
    """A reading with Kanin's busy workers, and the management API's unacked count if given."""
    sources: tuple[tuple[str, Source], ...] = (("ready", Source.AMQP),)
    if unacked is not None:
        sources = (("ready", Source.MANAGEMENT), ("unacked", Source.MANAGEMENT))
    stats = QueueStats(
        queue="flow-q", at=at, ready=ready, consumers=2, unacked=unacked, sources=sources
    )
    return QueueSample(stats, kanin_unacked, kanin_consumers=2, done_rate=0.0, confirm_rate=0.0)


@pytest.mark.parametrize("api", [False, True])
def test_restart_counts_the_tasks_being_worked_on_before_and_after(
    qtbot: QtBot, flow: BrokerFlow, fake: FakeController, api: bool
) -> None:
    # Recorded on a private node: 10 persistent tasks, 2 workers busy; after the restart the
    # broker handed 4 of them out again before the first reading.
    fake.queue_type = None
    fake.change(ConnectionState.CONNECTED, MANAGED)
    before = busy_sample(8, time.time(), 2, 2 if api else None)
    fake.sample_taken.emit(before)
    fake.last_stats = before.stats
    fake.finished_total = 7
    with qtbot.waitSignal(flow.node.restarted, timeout=5_000):
        assert flow.restart_node()
    record = flow.restart
    assert record is not None
    fake.change(ConnectionState.CONNECTED, MANAGED)
    with qtbot.waitSignal(flow.restart_reported, timeout=1_000) as reported:
        fake.sample_taken.emit(
            busy_sample(6, record.back_at + 1, 0 if api else 4, 4 if api else None)
        )
    report = reported.args[0]
    assert report.summary() == (
        "before: 10 in the queue (8 waiting, 2 being worked on) · done during the restart: 0 "
        "· after: 10 in the queue (6 waiting, 4 being worked on)"
    )
    text = flow.report.text
    assert "before: 10 in the queue (8 waiting, 2 being worked on)" in text
    assert "after: 10 in the queue (6 waiting, 4 being worked on)" in text
    source = "the broker's count, from the management API" if api else "Kanin's own workers"
    assert f"being worked on: {source}" in text


def test_restart_counts_the_tasks_done_in_between(
    qtbot: QtBot, flow: BrokerFlow, fake: FakeController
) -> None:
    fake.queue_type = None
    fake.change(ConnectionState.CONNECTED, MANAGED)
    fake.sample_taken.emit(busy_sample(3, time.time(), 2))
    fake.last_stats = busy_sample(3, time.time(), 2).stats
    fake.finished_total = 40
    with qtbot.waitSignal(flow.node.restarted, timeout=5_000):
        assert flow.restart_node()
    record = flow.restart
    assert record is not None
    fake.finished_total = 42  # two acknowledged just before the broker went down
    fake.change(ConnectionState.CONNECTED, MANAGED)
    with qtbot.waitSignal(flow.restart_reported, timeout=1_000) as reported:
        fake.sample_taken.emit(busy_sample(2, record.back_at + 1, 1))
    assert "done during the restart: 2 · after: 3 in the queue (2 waiting, 1 being worked on)" in (
        reported.args[0].summary()
    )


def test_restart_without_a_reading_says_so(
    qtbot: QtBot, flow: BrokerFlow, fake: FakeController
) -> None:
    fake.queued = 2
    with qtbot.waitSignal(flow.node.restarted, timeout=5_000):
        assert flow.restart_node()
    record = flow.restart
    assert record is not None
    assert record.ready_before is None
    assert record.before_text().startswith("no reading from the broker yet (0 being worked on)")


@pytest.mark.parametrize(
    ("node", "wanted"),
    [
        (MANAGED, True),
        (f"amqp://someone:***@127.0.0.1:{PORT}/%2F", True),  # credentials do not matter
        (f"amqp://guest:***@127.0.0.1:{PORT + 1}/%2F", False),  # another port
        (f"amqp://guest:***@10.0.0.7:{PORT}/%2F", False),  # another host
        (f"amqp://guest:***@127.0.0.1:{PORT}/other", False),  # another vhost (text matched)
        (f"amqp://guest:***@localhost:{PORT}/%2F", False),  # host names as written
        ("", False),  # not connected
    ],
)
def test_dead_lettering_is_wanted_only_on_the_managed_node(
    flow: BrokerFlow, fake: FakeController, node: str, wanted: bool
) -> None:
    fake.node = node
    assert flow.wants_dead_lettering() is wanted


def test_dead_lettering_is_asked_once_per_queue_when_connected_to_the_managed_node(
    flow: BrokerFlow, fake: FakeController, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[tuple[ConnectionSettings, str, int, QueueType]] = []

    def setup(settings: ConnectionSettings, queue: str, attempts: int, kind: QueueType) -> bool:
        asked.append((settings, queue, attempts, kind))
        return True

    monkeypatch.setattr(flow.node, "setup_dead_lettering", setup)
    fake.queue_type = None
    fake.change(ConnectionState.CONNECTED, MANAGED)  # the queue's type is not known yet
    assert asked == []
    fake.change(ConnectionState.CONNECTED, f"amqp://guest:***@127.0.0.1:{PORT + 1}/%2F")
    fake.queue_type = QueueType.CLASSIC
    fake.change(ConnectionState.CONNECTED, f"amqp://guest:***@127.0.0.1:{PORT + 1}/%2F")
    assert asked == []  # another broker: Kanin does not set policies there
    fake.change(ConnectionState.CONNECTED, MANAGED)
    fake.change(ConnectionState.CONNECTED, MANAGED)
    assert [(queue, n, kind) for _s, queue, n, kind in asked] == [
        ("flow-q", DEAD_LETTER_ATTEMPTS, QueueType.CLASSIC)
    ]
    assert not flow.wants_dead_lettering()


def test_restart_broker_acts_only_on_the_node_the_window_uses(
    qtbot: QtBot, flow: BrokerFlow, fake: FakeController, broker: FakeLocalBroker
) -> None:
    """Issue 15: Kanin manages a node, but the window points at another broker."""
    fake.queue_type = None
    fake.settings = from_urls(["amqp://127.0.0.1:5672/%2F"], AppSettings(queue="flow-q"))
    fake.settings_applied.emit()
    fake.change(ConnectionState.CONNECTED, "amqp://guest:***@127.0.0.1:5672/%2F")
    assert flow.managed
    assert not flow.uses_managed_node()
    assert not flow.can_restart
    assert "the window uses another broker (amqp://" in flow.restart_tip
    assert not flow.restart_node()
    assert broker.calls == []  # Kanin's own node was left alone
    assert flow.restart is None
    # Back on the managed node (even while reconnecting to it), Restart broker is offered.
    fake.settings = from_urls([f"amqp://127.0.0.1:{PORT}/%2F"], AppSettings(queue="flow-q"))
    with qtbot.waitSignal(flow.changed):
        fake.change(ConnectionState.RECONNECTING)
    assert flow.can_restart
    assert flow.restart_tip.startswith("Stop and start Kanin's local RabbitMQ node")
