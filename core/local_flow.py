"""Kanin's own RabbitMQ node for one run, as the CLI and the window both use it.

``kanin worker --local-broker`` and the window's "Start a local broker" follow
the same steps: find the install (or say how to get one), make the node,
start it or adopt it when it already runs, set a dead-letter policy on the
work queue, and on the way out stop the node only if this run started it.
Both also need to know whether a connection is on the managed node: that is
decided on parsed addresses (host, port, vhost), never by matching text.

Everything here blocks (a start takes about 6 s): the window calls it from a
background thread (``desktop.local_node``), the CLI from its main thread.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from core.local_broker import (
    LocalBroker,
    LocalBrokerError,
    ServerInstall,
    find_server,
    install_hint,
)
from core.policies import DeadLetterSetup, setup_dead_lettering
from core.settings import BrokerAddress, ConnectionSettings, SettingsError, parse_url
from core.topology import QueueType

log = logging.getLogger(__name__)

DEAD_LETTER_ATTEMPTS = 3
"""On Kanin's own node, the window sends a task failing this many times to ``<queue>.dead``."""

FindServer = Callable[[], ServerInstall | None]


def same_node(address: BrokerAddress, other: BrokerAddress) -> bool:
    """True when two addresses reach the same virtual host of the same listener.

    Credentials and options do not matter; host names are compared as written
    (``127.0.0.1`` and ``localhost`` differ, as they may be different listeners).
    """
    return (address.host.lower(), address.port, address.vhost) == (
        other.host.lower(),
        other.port,
        other.vhost,
    )


class ManagedNode:
    """The node Kanin manages for one run: made on demand, started or adopted, stopped if started.

    Args:
        base_dir: the node's folder (default: the user's data directory).
        find: finds the RabbitMQ install (tests inject one returning ``None``).
        broker: an existing ``LocalBroker`` to manage instead (adopted: it is
            not stopped by ``close()`` unless ``start()`` launched it).
    """

    def __init__(
        self,
        base_dir: Path | str | None = None,
        *,
        find: FindServer = find_server,
        broker: LocalBroker | None = None,
    ) -> None:
        self._base_dir = Path(base_dir) if base_dir is not None else None
        self._find = find
        self._broker = broker
        self._owned = False  # start() launched the node: close() stops it

    @property
    def installed(self) -> bool:
        """True when ``rabbitmq-server`` is installed (or a broker was handed in)."""
        return self._broker is not None or self._find() is not None

    @property
    def broker(self) -> LocalBroker | None:
        """The node, once ``prepare()`` or ``start()`` made it (or one was handed in)."""
        return self._broker

    @property
    def owned(self) -> bool:
        """True when ``start()`` launched the node (it was not running): ``close()`` stops it."""
        return self._owned

    def prepare(self) -> LocalBroker:
        """The node, made (name and ports chosen) but not started.

        Raises:
            LocalBrokerError: RabbitMQ is not installed; the message says how to get it.
        """
        if self._broker is None:
            server = self._find()
            if server is None:
                raise LocalBrokerError(install_hint())
            self._broker = LocalBroker(self._base_dir, server=server)
        return self._broker

    def start(self) -> str:
        """Start the node, or adopt it when it already runs, and wait until AMQP answers.

        Returns:
            Its AMQP URL (user ``guest``, allowed from 127.0.0.1 only).

        Raises:
            LocalBrokerError: not installed, or the node did not start (the log's tail says why).
            OSError: the node's folder cannot be written.
        """
        broker = self.prepare()
        was_running = broker.is_running()
        broker.start()
        if not was_running:
            self._owned = True
        return broker.amqp_url

    def serves(self, url: str) -> bool:
        """True when ``url`` (e.g. the redacted URL of a live connection) is on this node.

        Args:
            url: an AMQP URL; its password may be ``***``; "" is no connection.
        """
        broker = self._broker
        if broker is None or not url:
            return False
        try:
            return same_node(parse_url(url), parse_url(broker.amqp_url))
        except SettingsError:
            return False

    def connection(self) -> ConnectionSettings:
        """The settings to connect to the node as ``guest``.

        Raises:
            LocalBrokerError: RabbitMQ is not installed.
        """
        return ConnectionSettings.from_urls([self.prepare().amqp_url])

    def set_up_dead_lettering(
        self,
        settings: ConnectionSettings,
        queue: str,
        max_attempts: int,
        queue_type: QueueType,
    ) -> DeadLetterSetup:
        """Declare ``<queue>.dead`` and set the dead-letter policy with ``rabbitmqctl``.

        Args:
            settings: the connection to the node.
            queue: the work queue.
            max_attempts: attempts before a failing task is dead-lettered.
            queue_type: the work queue's real type (a classic queue gets no delivery limit).

        Returns:
            What was set up.

        Raises:
            BrokerError: the broker refused, or no node is managed.
        """
        return setup_dead_lettering(
            settings, queue, max_attempts, queue_type=queue_type, broker=self._broker
        )

    def close(self, timeout: float = 30.0) -> bool:
        """Stop the node if ``start()`` launched it; its data stays. An adopted node keeps running.

        Args:
            timeout: seconds to wait for the node to stop.

        Returns:
            True when a node was stopped.

        Raises:
            LocalBrokerError: the node did not stop in time.
        """
        broker = self._broker
        if broker is None or not self._owned:
            return False
        self._owned = False
        stopped = broker.stop(timeout)
        if stopped:
            log.info("Stopped the local broker %s; its queues and tasks stay.", broker.node_name)
        return stopped
