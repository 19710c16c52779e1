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

import enum
import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from core.errors import BrokerError
from core.local_broker import LocalBroker, LocalBrokerError, find_server
from core.local_flow import FindServer, ManagedNode
from core.settings import ConnectionSettings
from core.topology import QueueType

log = logging.getLogger(__name__)


class NodePhase(enum.Enum):
    """What the node is doing, as the ``phase_changed`` signal says it."""

    STARTING = "starting"
    STOPPING = "stopping"
    RUNNING = "running"
    STOPPED = "stopped"


class LocalNode(QObject):
    """A Kanin-managed RabbitMQ node whose slow operations run in a background thread.

    The steps themselves are ``core.local_flow.ManagedNode``'s, shared with
    ``kanin worker --local-broker``; this object runs them off the GUI thread
    and reports through signals.

    Args:
        base_dir: the node's folder (default: the user's data directory).
        find: finds the RabbitMQ install (tests inject one returning ``None``).
        broker: an existing ``LocalBroker`` to manage instead (adopted: it is
            not stopped on quit unless this object starts it).
        parent: the owning QObject.

    Signals:
        phase_changed(object): a ``NodePhase``, from the worker thread.
        started(str): the node accepts connections (its AMQP URL, with ``guest``).
        restarted(float): a restart finished; seconds the broker was away.
        failed(str): an operation failed (the message says why and what to do).
        dead_lettering_ready(object): the dead-letter policy is set (a
            ``core.policies.DeadLetterSetup``).
        dead_lettering_failed(str): the policy could not be set (why).
    """

    phase_changed = Signal(object)
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
        self._node = ManagedNode(base_dir, find=find, broker=broker)
        self._thread: threading.Thread | None = None
        self._busy = False  # cleared before the last signal of an operation
        self._lock = threading.Lock()

    # ----------------------------------------------------------------- facts (GUI thread)

    @property
    def installed(self) -> bool:
        """True when ``rabbitmq-server`` is installed (or a broker was handed in)."""
        return self._node.installed

    @property
    def broker(self) -> LocalBroker | None:
        """The managed node, once ``start()`` has made it (or one was handed in)."""
        return self._node.broker

    @property
    def managed(self) -> bool:
        """True when there is a node Kanin manages (started or adopted) and it can restart it."""
        return self._node.broker is not None

    @property
    def owned(self) -> bool:
        """True when this object launched the node: ``close()`` stops it."""
        return self._node.owned

    @property
    def busy(self) -> bool:
        """True while an operation runs in the background (False once its result is signalled)."""
        return self._busy

    def serves(self, url: str) -> bool:
        """True when ``url`` (e.g. the live connection's redacted URL) is on the managed node."""
        return self._node.serves(url)

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
        if self._node.broker is None:
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
        if self._node.broker is None:
            return False

        def run() -> None:
            try:
                setup = self._node.set_up_dead_lettering(settings, queue, max_attempts, queue_type)
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
        try:
            return self._node.close(timeout)
        except LocalBrokerError as exc:
            log.error("%s", exc)
            return False

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
        starting = False  # not installed: no phase, only ``failed`` with the install hint
        try:
            self._node.prepare()
            starting = True
            self.phase_changed.emit(NodePhase.STARTING)
            url = self._node.start()
        except (LocalBrokerError, OSError) as exc:
            self._done()
            if starting:
                self.phase_changed.emit(NodePhase.STOPPED)
            self.failed.emit(str(exc))
            return
        self._done()
        self.phase_changed.emit(NodePhase.RUNNING)
        self.started.emit(url)

    def _do_restart(self) -> None:
        broker = self._node.broker
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
