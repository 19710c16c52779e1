"""A private RabbitMQ node for tests that stop, restart or break the broker.

The node runs from the installed ``rabbitmq-server`` through ``core.local_broker``,
with a unique node name, free ports and a data folder inside pytest's temporary
directory. ``running_node`` always stops the node and deletes its folder, also
when the test fails; tests are skipped when RabbitMQ is not installed.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import signal
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pika
import pytest

from core.local_broker import LocalBroker, LocalBrokerError, find_server
from core.producer import Producer
from core.settings import ConnectionSettings
from core.tasks import Task
from core.topology import QueueSpec

log = logging.getLogger(__name__)


class ConfiguredBroker(LocalBroker):
    """A private node with extra ``rabbitmq.conf`` lines and an ``advanced.config`` of the test's.

    Args:
        base: the node's folder.
        config: lines appended to ``rabbitmq.conf`` (e.g. ``consumer_timeout = 10000``).
        advanced: the whole ``advanced.config`` (an Erlang term ending in ``.``), if any.
        **kwargs: passed to ``LocalBroker``.
    """

    def __init__(
        self, base: Path, *, config: Sequence[str] = (), advanced: str | None = None, **kwargs: Any
    ) -> None:
        super().__init__(base, **kwargs)
        self.extra_config = tuple(config)
        self.advanced = advanced

    def _prepare_files(self) -> None:
        super()._prepare_files()
        if self.extra_config:
            with (self.base_dir / "rabbitmq.conf").open("a", encoding="utf-8") as conf:
                conf.write("\n".join(self.extra_config) + "\n")
        if self.advanced is not None:
            (self.base_dir / "advanced.config").write_text(self.advanced + "\n", encoding="utf-8")


@contextlib.contextmanager
def running_node(
    base: Path,
    *,
    management: bool = False,
    config: Sequence[str] = (),
    advanced: str | None = None,
) -> Iterator[LocalBroker]:
    """Start a private node under ``base`` and tear it down afterwards, whatever happens.

    Args:
        base: an empty folder of the test's own (it is deleted at the end).
        management: enable the management HTTP API.
        config: extra ``rabbitmq.conf`` lines.
        advanced: the node's ``advanced.config`` text.
    """
    if find_server() is None:
        pytest.skip("rabbitmq-server is not installed")
    name = f"kanin-test-{uuid.uuid4().hex[:8]}@localhost"
    broker = ConfiguredBroker(
        base,
        config=config,
        advanced=advanced,
        node_name=name,
        management=management,
        start_timeout=60,
    )
    try:
        broker.start()
        yield broker
    finally:
        _tear_down(broker)
        shutil.rmtree(base, ignore_errors=True)


def _tear_down(broker: LocalBroker) -> None:
    try:
        broker.stop(timeout=20)
    except LocalBrokerError:
        log.warning("node %s did not stop; killing it", broker.node_name)
    pid = _pid_of(broker)
    if pid is not None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def _pid_of(broker: LocalBroker) -> int | None:
    """The node's pid when its process is still there (checked by ``core.node_process``)."""
    return broker.pid()


def connect(broker: LocalBroker) -> pika.BlockingConnection:
    """A raw pika connection to the node, for setting up and inspecting queues."""
    return pika.BlockingConnection(pika.URLParameters(broker.amqp_url))


def ready_count(broker: LocalBroker, queue: str) -> int:
    """Messages ready in ``queue`` (passive declare)."""
    connection = connect(broker)
    try:
        ok = connection.channel().queue_declare(queue=queue, passive=True)
        return int(ok.method.message_count)
    finally:
        connection.close()


def fill(settings: ConnectionSettings, spec: QueueSpec, tasks: list[Task]) -> None:
    """Publish ``tasks`` (persistent, confirmed) to ``spec``, declaring it."""
    producer = Producer(settings, spec)
    try:
        producer.start()
        producer.publish(tasks, timeout=30)
    finally:
        producer.close()
