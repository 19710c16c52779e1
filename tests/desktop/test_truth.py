"""Issue 15, "States that are wrong": what the window says about tasks and workers is true.

Real broker with the test's own queue; a private node where a dead-letter policy is set.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import replace

import pytest
from pytestqt.qtbot import QtBot

from core.events import WorkerState
from core.local_broker import LocalBroker
from core.policies import setup_dead_lettering
from core.tasks import Delivery
from core.topology import QueueType
from core.work import poison_work
from desktop.controller import ConnectionState, Controller
from desktop.preferences import AppSettings, from_urls
from tests.helpers.broker import unique_queue
from tests.helpers.private_broker import ready_count


def quick(delivery: Delivery) -> float:
    """0.1 s per dot."""
    return delivery.body.count(b".") * 0.1


def connected(qtbot: QtBot, controller: Controller) -> None:
    qtbot.waitUntil(
        lambda: controller.connection_state is ConnectionState.CONNECTED, timeout=15_000
    )


@pytest.fixture
def make_controller(qtbot: QtBot) -> Iterator[object]:
    made: list[Controller] = []

    def make(settings: AppSettings, **kwargs: object) -> Controller:
        controller = Controller(settings, management_port=None, watch_interval=0.5, **kwargs)  # type: ignore[arg-type]
        made.append(controller)
        controller.start()
        return controller

    yield make
    for controller in made:
        assert controller.shutdown(10.0)
        controller.deleteLater()


@pytest.mark.private_broker
def test_a_poison_task_is_shown_dead_lettered_after_3_deliveries(
    qtbot: QtBot, make_controller, private_broker: LocalBroker
) -> None:
    """The policy comes after the worker started (as in the window); 3 deliveries, then dead."""
    queue = unique_queue("truth-poison")
    settings = from_urls([private_broker.amqp_url], AppSettings(queue=queue))
    controller = make_controller(settings, work=poison_work)
    connected(qtbot, controller)
    [name] = controller.add_workers(1)
    qtbot.waitUntil(
        lambda: [s.state for s in controller.statuses] == [WorkerState.IDLE], timeout=15_000
    )
    setup = setup_dead_lettering(
        settings.connection(), queue, 3, queue_type=QueueType.QUORUM, broker=private_broker
    )
    controller.set_max_attempts(setup.max_attempts)
    [task_id] = controller.enqueue(["poison pill"])
    row = controller.model.get(task_id)
    assert row is not None
    qtbot.waitUntil(lambda: row.state.final, timeout=20_000)
    assert row.state_text == "dead-lettered after 3 deliveries"
    assert row.attempts == [name, name, name]
    qtbot.waitUntil(
        lambda: ready_count(private_broker, setup.dead_letter_queue) == 1, timeout=10_000
    )


def test_a_task_given_back_by_a_removed_worker_counts_one_delivery_per_worker(
    qtbot: QtBot, make_controller, broker_url: str, queue_name: str
) -> None:
    """A task seen on two workers shows 2 deliveries, not 3."""
    settings = from_urls([broker_url], AppSettings(queue=queue_name))
    controller = make_controller(settings, work=quick)
    connected(qtbot, controller)
    with qtbot.waitSignal(controller.task_started, timeout=15_000) as started:
        [first] = controller.add_workers(1)
        [task_id] = controller.enqueue(["given back" + "." * 300])
    with qtbot.waitSignal(controller.task_returned, timeout=10_000):
        assert controller.remove_workers(1) == [first]  # gives its task back
    qtbot.waitUntil(lambda: controller.worker_names(alive_only=True) == [], timeout=10_000)
    with qtbot.waitSignal(controller.task_started, timeout=15_000) as again:
        [second] = controller.add_workers(1)
    assert (started.args[1], again.args[1]) == (first, second)
    row = controller.model.get(task_id)
    assert row is not None
    assert row.attempts == [first, second]
    assert row.delivery_count == 2


def test_tasks_prefetched_by_a_busy_worker_show_as_delivered_and_waiting_on_it(
    qtbot: QtBot, make_controller, broker_url: str, queue_name: str
) -> None:
    settings = from_urls([broker_url], AppSettings(queue=queue_name, prefetch=3))
    controller = make_controller(settings, work=quick)
    connected(qtbot, controller)
    [name] = controller.add_workers(1)
    qtbot.waitUntil(lambda: bool(controller.statuses), timeout=10_000)
    ids = controller.enqueue(["long" + "." * 30, "next.", "last."])
    rows = [controller.model.get(i) for i in ids]
    qtbot.waitUntil(
        lambda: (
            [r.state_text for r in rows if r is not None]
            == [f"running on {name}"] + [f"delivered, waiting on {name}"] * 2
        ),
        timeout=15_000,
    )
    qtbot.waitUntil(lambda: controller.statuses[0].buffered == 2, timeout=5_000)


def test_changing_a_setting_keeps_the_workers_names_in_order_and_their_counters(
    qtbot: QtBot, make_controller, broker_url: str, queue_name: str
) -> None:
    settings = from_urls([broker_url], AppSettings(queue=queue_name))
    controller = make_controller(settings, work=quick)
    connected(qtbot, controller)
    names = controller.add_workers(4)
    ids = controller.enqueue([f"t{i}" for i in range(8)])
    rows = [controller.model.get(i) for i in ids]
    qtbot.waitUntil(lambda: all(r is not None and r.state.final for r in rows), timeout=20_000)
    controller.kill_worker(names[1])  # a gap in the names: W-1, W-3, W-4 run on
    qtbot.waitUntil(
        lambda: [s.state.finished for s in controller.statuses] == [False, True, False, False],
        timeout=10_000,
    )
    qtbot.waitUntil(lambda: sum(s.done for s in controller.statuses) == 8, timeout=5_000)
    before = {s.name: s.done for s in controller.statuses if not s.state.finished}
    assert sum(before.values()) > 0
    controller.apply_settings(replace(controller.settings, prefetch=2))
    connected(qtbot, controller)
    qtbot.waitUntil(lambda: len(controller.statuses) == 3, timeout=10_000)
    after = controller.statuses
    assert [s.name for s in after] == list(before) == [n for n in names if n in before]
    assert {s.name: s.done for s in after} == before


def test_with_nothing_listening_the_cards_stay_reconnecting_and_the_log_stays_quiet(
    qtbot: QtBot, make_controller, caplog: pytest.LogCaptureFixture
) -> None:
    queue = unique_queue("truth-nobody")
    settings = from_urls(["amqp://guest:guest@127.0.0.1:1/%2F"], AppSettings(queue=queue))
    with caplog.at_level(logging.WARNING):
        controller = make_controller(settings)
        controller.add_workers(2)
        qtbot.waitUntil(
            lambda: [s.state for s in controller.statuses] == [WorkerState.RECONNECTING] * 2,
            timeout=10_000,
        )
        qtbot.wait(3_000)  # an observation window: about 3 retries per thread happen in it
        controller.retry()  # "Retry now" keeps the workers (and their cards)
        qtbot.waitUntil(lambda: len(controller.statuses) == 2, timeout=5_000)
        qtbot.waitUntil(
            lambda: all(s.state is WorkerState.RECONNECTING for s in controller.statuses),
            timeout=10_000,
        )
    warnings = [r.getMessage() for r in caplog.records if r.name.startswith("core")]
    # One line per worker and producer per session (two sessions), not 2-3 a second.
    assert len(warnings) <= 6, warnings
