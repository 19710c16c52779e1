"""Dead-lettering for poison tasks, set up through a policy (never a queue argument).

A task whose work keeps failing must not loop forever. After ``max_attempts``
failed attempts it goes to a dead-letter queue, ``<queue>.dead`` by default.
The routing is done by a RabbitMQ **policy** on the work queue::

    dead-letter-exchange     ""                 (the default exchange)
    dead-letter-routing-key  "<queue>.dead"
    delivery-limit           max_attempts - 1   (quorum queues only: RabbitMQ 3.10
                                                 does not apply a policy with this key
                                                 to a classic queue at all)

The broker's ``delivery-limit`` counts *returns*, not deliveries: a quorum
queue dead-letters a task returned more than ``delivery-limit`` times, that
is after ``delivery-limit + 1`` deliveries. A limit of ``max_attempts`` would
let a fourth delivery through for 3 attempts; ``max_attempts - 1`` makes the
broker's backstop agree with the worker's count.

A policy, unlike an ``x-`` argument in the declare, is ignored by the
equivalence check, so the tutorial's scripts, which declare the queue with
exactly ``{"x-queue-type": "quorum"}``, keep working against the same queue.

Who counts the attempts:

- The worker (``WorkerOptions.max_attempts``) rejects a task without requeue
  at its last attempt, and the policy's dead-letter exchange takes it, on
  either queue type.
- Quorum queues count deliveries themselves (``x-delivery-count``); the
  policy's ``delivery-limit`` is a backstop that also catches tasks returned
  by crashed workers or foreign consumers.
- Classic queues count nothing, so Kanin's worker republishes a failed task
  with an ``x-kanin-attempts`` header (with a publisher confirm, before acking
  the original) instead of nacking it; see ``core.attempts``.

The policy is applied through the management HTTP API when its URL is given,
else with ``rabbitmqctl set_policy`` on a node Kanin manages (``LocalBroker``).
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from typing import Any

import pika

from core.errors import BrokerError, describe
from core.local_broker import LocalBroker, LocalBrokerError
from core.management import ManagementApi, vhost_path
from core.settings import ConnectionSettings
from core.topology import QueueType

log = logging.getLogger(__name__)

DEAD_LETTER_SUFFIX = ".dead"
POLICY_PREFIX = "kanin-dead-letter-"
POLICY_PRIORITY = 10


def dead_letter_queue_name(queue: str) -> str:
    """The dead-letter queue of ``queue``: ``<queue>.dead``."""
    return f"{queue}{DEAD_LETTER_SUFFIX}"


def policy_name(queue: str) -> str:
    """The name of the dead-letter policy Kanin sets on ``queue``."""
    return f"{POLICY_PREFIX}{queue}"


def policy_definition(
    queue: str, max_attempts: int, queue_type: QueueType = QueueType.QUORUM
) -> dict[str, Any]:
    """The policy's definition: dead-letter to ``<queue>.dead``, at most ``max_attempts``.

    Args:
        queue: the work queue.
        max_attempts: deliveries a task may have before it is dead-lettered (the
            broker's ``delivery-limit`` is one less: it counts returns).
        queue_type: the work queue's type; ``delivery-limit`` is for quorum queues only.

    Returns:
        The definition, as the management API and ``rabbitmqctl`` take it.
    """
    if max_attempts < 1:
        raise ValueError("The number of attempts must be 1 or more.")
    definition: dict[str, Any] = {
        "dead-letter-exchange": "",
        "dead-letter-routing-key": dead_letter_queue_name(queue),
    }
    if queue_type is QueueType.QUORUM:
        definition["delivery-limit"] = max_attempts - 1  # returns, not deliveries
    return definition


@dataclass(frozen=True)
class DeadLetterSetup:
    """What ``setup_dead_lettering`` did; the window shows ``dead_letter_queue``.

    Attributes:
        queue: the work queue.
        dead_letter_queue: where poison tasks end up.
        policy: the policy's name.
        max_attempts: attempts before dead-lettering (pass it to ``WorkerOptions``).
        applied_with: ``"management API"`` or ``"rabbitmqctl"``.
    """

    queue: str
    dead_letter_queue: str
    policy: str
    max_attempts: int
    applied_with: str


def setup_dead_lettering(
    settings: ConnectionSettings,
    queue: str,
    max_attempts: int,
    *,
    queue_type: QueueType = QueueType.QUORUM,
    broker: LocalBroker | None = None,
    management_url: str | None = None,
    dead_letter_type: QueueType = QueueType.QUORUM,
) -> DeadLetterSetup:
    """Declare ``<queue>.dead`` and set the dead-letter policy on ``queue``.

    Args:
        settings: the broker (its first address is used; its user needs the
            ``policymaker`` or ``administrator`` tag for the HTTP API).
        queue: the work queue (it may or may not exist yet: policies match by name).
        max_attempts: attempts before a failing task is dead-lettered.
        queue_type: the work queue's type (``QueueReport.queue_type`` once
            declared); a classic queue gets no ``delivery-limit``.
        broker: a node Kanin manages, for ``rabbitmqctl``.
        management_url: e.g. ``http://localhost:15672``; preferred when given.
        dead_letter_type: the type of the dead-letter queue when it is created.

    Returns:
        What was set up.

    Raises:
        BrokerError: when neither way is available or the broker refuses.
    """
    address = settings.primary
    definition = policy_definition(queue, max_attempts, queue_type)
    dead_queue = dead_letter_queue_name(queue)
    name = policy_name(queue)
    pattern = f"^{re.escape(queue)}$"
    _declare_dead_letter_queue(settings, dead_queue, dead_letter_type)
    if management_url:
        body = {"pattern": pattern, "definition": definition, "priority": POLICY_PRIORITY}
        body["apply-to"] = "queues"
        api = ManagementApi(management_url, address.username, address.password)
        api.put(vhost_path("policies", address.vhost, name), body)
        how = "management API"
    elif broker is not None:
        try:
            broker.ctl(
                "set_policy",
                "-p",
                address.vhost,
                "--priority",
                str(POLICY_PRIORITY),
                "--apply-to",
                "queues",
                name,
                pattern,
                json.dumps(definition),
            )
        except LocalBrokerError as exc:
            raise BrokerError(str(exc)) from exc
        how = "rabbitmqctl"
    else:
        raise BrokerError(
            "Dead-lettering needs the management API (give its URL) or a local broker "
            "managed by Kanin, to set a policy."
        )
    log.info(
        "Queue '%s': tasks failing %d times go to '%s' (policy %s, via %s).",
        queue,
        max_attempts,
        dead_queue,
        name,
        how,
    )
    return DeadLetterSetup(queue, dead_queue, name, max_attempts, how)


def remove_dead_lettering(
    settings: ConnectionSettings,
    queue: str,
    *,
    broker: LocalBroker | None = None,
    management_url: str | None = None,
) -> None:
    """Remove the dead-letter policy of ``queue`` (the dead-letter queue stays)."""
    address = settings.primary
    name = policy_name(queue)
    if management_url:
        api = ManagementApi(management_url, address.username, address.password)
        api.delete(vhost_path("policies", address.vhost, name))
    elif broker is not None:
        try:
            broker.ctl("clear_policy", "-p", address.vhost, name)
        except LocalBrokerError as exc:
            raise BrokerError(str(exc)) from exc


def _declare_dead_letter_queue(
    settings: ConnectionSettings, name: str, queue_type: QueueType
) -> None:
    address = settings.primary
    try:
        connection = pika.BlockingConnection(settings.pika_parameters())
    except Exception as exc:  # noqa: BLE001 - reported as one sentence
        raise BrokerError(describe(exc, address)) from exc
    try:
        channel = connection.channel()
        try:
            channel.queue_declare(queue=name, durable=True, arguments=queue_type.arguments())
        except pika.exceptions.ChannelClosedByBroker as exc:
            if exc.reply_code != 406:  # it exists with another type: use it as it is
                raise BrokerError(describe(exc, address)) from exc
    finally:
        if connection.is_open:
            connection.close()
