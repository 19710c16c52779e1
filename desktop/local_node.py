"""The managed local RabbitMQ node, started, restarted and stopped off the GUI thread.

``core.local_broker.LocalBroker`` blocks (start: about 6 s, stop: about 1 s).
``LocalNode`` runs each of its operations in a plain thread named
``kanin-local-broker`` and reports through Qt signals of this object, which
lives in the GUI thread: receivers are bound slots of GUI objects, so they
run in the GUI thread (queued connections).

Only a node that this object started is stopped by ``close()`` on quit; a
node that was already running (adopted) is left alone.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from core.errors import BrokerError
from core.local_broker import (
    LocalBroker,
    LocalBrokerError,
    ServerInstall,
    find_server,
    install_hint,
)
from core.policies import setup_dead_lettering
from core.settings import ConnectionSettings
from core.topology import QueueType

log = logging.getLogger(__name__)

FindServer = Callable[[], ServerInstall | None]


class NodePhase:
    """What the node is doing, as the ``phase_changed`` signal says it."""

    STARTING = "starting"
    STOPPING = "stopping"
    RUNNING = "running"
    STOPPED = "stopped"


class LocalNode(QObject):
    """A Kanin-managed RabbitMQ node whose slow operations run in a background thread.

    Args:
        base_dir: the node's folder (default: the user's data directory).
        find: finds the RabbitMQ install (tests inject one returning ``None``).
        broker: an existing ``LocalBroker`` to manage instead (adopted: it is
            not stopped on quit unless this object starts it).
        parent: the owning QObject.

    Signals:
        phase_changed(str): a ``NodePhase`` value, from the worker thread.
        started(str): the node accepts connections (its AMQP URL, with ``guest``).
        restarted(float): a restart finished; seconds the broker was away.
        failed(str): an operation failed (the message says why and what to do).
        dead_lettering_ready(object): the dead-letter policy is set (a
            ``core.policies.DeadLetterSetup``).
        dead_lettering_failed(str): the policy could not be set (why).
    """

    phase_changed = Signal(str)
    started = Signal(str)
    restarted = Signal(float)
    failed = Signal(str)
    dead_lettering_ready = Signal(object)
    dead_lettering_failed = Signal(str)

    def __init__(
        self,
        base_dir: Path | None = None,
        *,
        find: FindServer = find_server,
        broker: LocalBroker | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._base_dir = base_dir
        self._find = find
        self._broker = broker
        self._owned = False  # this object launched the node: stop it on quit
        self._thread: threading.Thread | None = None
        self._busy = False  # cleared before the last signal of an operation
        self._lock = threading.Lock()

    # ----------------------------------------------------------------- facts (GUI thread)

    @property
    def installed(self) -> bool:
        """True when ``rabbitmq-server`` is installed (or a broker was handed in)."""
        return self._broker is not None or self._find() is not None

    @property
    def broker(self) -> LocalBroker | None:
        """The managed node, once ``start()`` has made it (or one was handed in)."""
        return self._broker

    @property
    def managed(self) -> bool:
        """True when there is a node Kanin manages (started or adopted) and it can restart it."""
        return self._broker is not None

    @property
    def owned(self) -> bool:
        """True when this object launched the node: ``close()`` stops it."""
        return self._owned

    @property
    def busy(self) -> bool:
        """True while an operation runs in the background (False once its result is signalled)."""
        return self._busy

    # ----------------------------------------------------------------- operations

    def start(self) -> bool:
        """Start (or adopt) the node in the background; ``started`` or ``failed`` follows.

        Returns:
            False when an operation is already running or RabbitMQ is not installed
            (``failed`` then carries ``core.local_broker.install_hint()``).
        """
        return self._run(self._do_start)

    def restart(self) -> bool:
        """Stop and start the node in the background; ``restarted`` or ``failed`` follows.

        Returns:
            False when no node is managed or an operation is already running.
        """
        if self._broker is None:
            return False
        return self._run(self._do_restart)

    def setup_dead_lettering(
        self,
        settings: ConnectionSettings,
        queue: str,
        max_attempts: int,
        queue_type: QueueType,
    ) -> bool:
        """Set the dead-letter policy on ``queue`` of the managed node, in the background.

        Tasks failing ``max_attempts`` times then go to ``<queue>.dead``
        (``core.policies``); ``dead_lettering_ready`` or ``dead_lettering_failed`` follows.

        Args:
            settings: the connection to the managed node.
            queue: the work queue.
            max_attempts: attempts before a failing task is dead-lettered.
            queue_type: the work queue's type (a classic queue gets no delivery limit).

        Returns:
            False when no node is managed or an operation is already running.
        """
        broker = self._broker
        if broker is None:
            return False

        def run() -> None:
            try:
                setup = setup_dead_lettering(
                    settings, queue, max_attempts, queue_type=queue_type, broker=broker
                )
            except BrokerError as exc:
                self._done()
                self.dead_lettering_failed.emit(str(exc))
                return
            self._done()
            self.dead_lettering_ready.emit(setup)

        return self._run(run)

    def close(self, timeout: float = 30.0) -> bool:
        """On quit (GUI thread, blocks about 1 s): stop the node if this object started it.

        Its data stays, so queued tasks are there next time.

        Args:
            timeout: seconds to wait for a running operation and for the stop.

        Returns:
            True when a node was stopped.
        """
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
        broker = self._broker
        if broker is None or not self._owned:
            return False
        self._owned = False
        try:
            stopped = broker.stop(timeout)
        except LocalBrokerError as exc:
            log.error("%s", exc)
            return False
        if stopped:
            log.info("Stopped the local broker %s; its queues and tasks stay.", broker.node_name)
        return stopped

    # ----------------------------------------------------------------- the thread

    def _run(self, target: Callable[[], None]) -> bool:
        with self._lock:
            if self._busy:
                return False
            self._busy = True
            self._thread = threading.Thread(target=target, name="kanin-local-broker", daemon=True)
            self._thread.start()
        return True

    def _done(self) -> None:
        """The operation is over: receivers of its last signal see ``busy`` False."""
        with self._lock:
            self._busy = False

    def _do_start(self) -> None:
        broker = self._broker
        try:
            if broker is None:
                server = self._find()
                if server is None:
                    self._done()
                    self.failed.emit(install_hint())
                    return
                broker = LocalBroker(self._base_dir, server=server)
                self._broker = broker
            self.phase_changed.emit(NodePhase.STARTING)
            was_running = broker.is_running()
            broker.start()
            if not was_running:
                self._owned = True
        except (LocalBrokerError, OSError) as exc:
            self._done()
            self.phase_changed.emit(NodePhase.STOPPED)
            self.failed.emit(str(exc))
            return
        self._done()
        self.phase_changed.emit(NodePhase.RUNNING)
        self.started.emit(broker.amqp_url)

    def _do_restart(self) -> None:
        broker = self._broker
        if broker is None:
            self._done()
            return
        began = time.monotonic()
        try:
            self.phase_changed.emit(NodePhase.STOPPING)
            broker.stop()
            self.phase_changed.emit(NodePhase.STARTING)
            broker.start()
        except (LocalBrokerError, OSError) as exc:
            self._done()
            self.phase_changed.emit(NodePhase.STOPPED)
            self.failed.emit(str(exc))
            return
        self._done()
        self.phase_changed.emit(NodePhase.RUNNING)
        self.restarted.emit(time.monotonic() - began)
