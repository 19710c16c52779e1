"""The queue watcher: a plain thread polling the queue's figures once a second.

``QueueMonitor`` opens a pika connection, so it must never run in the GUI
thread; it also must be used from one thread only. The watcher owns it in a
thread named ``kanin-monitor`` and posts each reading, plus the broker's
version (from the connection's ``server_properties``), to the bridge.

It also reads the dead-letter queue ``<queue>.dead`` (``core.policies``)
with a passive declare, so the window can show poison tasks piling up there;
that reading's ``ready`` is ``None`` while the queue does not exist. A missing
queue is looked for again only every ``DEAD_LETTER_RECHECK`` readings: each
failed passive declare costs a channel and a line in the broker's log.
"""

from __future__ import annotations

import logging
import threading

import pika

from core.errors import describe
from core.monitor import QueueMonitor
from core.pika_internals import server_properties
from core.policies import dead_letter_queue_name
from core.settings import ConnectionSettings
from desktop.bridge import BrokerInfo, EventBridge

log = logging.getLogger(__name__)

DEAD_LETTER_RECHECK = 10


class QueueWatcher:
    """Polls the queue from its own thread and posts readings to a bridge.

    Args:
        settings: where the broker is.
        queue: the queue to watch.
        bridge: receives ``QueueStats`` and ``BrokerInfo`` items.
        interval: seconds between readings.
        management_port: the management plugin's port, ``None`` to skip it.
    """

    def __init__(
        self,
        settings: ConnectionSettings,
        queue: str,
        bridge: EventBridge,
        *,
        interval: float = 1.0,
        management_port: int | None = 15672,
    ) -> None:
        self._settings = settings
        self._queue = queue
        self._bridge = bridge
        self._interval = interval
        self._management_port = management_port
        self._stop = threading.Event()
        self._look_again = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start the thread."""
        self._thread = threading.Thread(target=self._run, name="kanin-monitor", daemon=True)
        self._thread.start()

    def look_for_dead_letters(self) -> None:
        """Read the dead-letter queue at the next reading (any thread): it was just made."""
        self._look_again.set()

    def stop(self) -> None:
        """Ask the thread to end (any thread); see ``join``."""
        self._stop.set()

    def join(self, timeout: float) -> bool:
        """Wait for the thread; True when it ended."""
        if self._thread is None:
            return True
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def _run(self) -> None:
        monitor = QueueMonitor(self._settings, self._queue, management_port=self._management_port)
        dead = QueueMonitor(
            self._settings, dead_letter_queue_name(self._queue), management_port=None
        )
        version_known = False
        dead_missing = 0  # readings since the dead-letter queue was found missing
        try:
            while not self._stop.is_set():
                if not version_known:
                    version_known = self._fetch_version()
                stats = monitor.poll()
                self._bridge.post(stats)
                due = dead_missing % DEAD_LETTER_RECHECK == 0 or self._look_again.is_set()
                if stats.ready is not None and due:
                    self._look_again.clear()
                    reading = dead.poll()
                    self._bridge.post(reading)
                    dead_missing = 1 if reading.ready is None else 0
                elif dead_missing:
                    dead_missing += 1
                # After a failure, wait longer: a refused login must not hammer the broker.
                delay = self._interval if stats.ready is not None else 5 * self._interval
                self._stop.wait(delay)
        finally:
            monitor.close()
            dead.close()

    def _fetch_version(self) -> bool:
        """Ask the broker for its product and version; True when it answered."""
        try:
            connection = pika.BlockingConnection(self._settings.pika_parameters())
        except Exception as exc:  # noqa: BLE001 - reported by the monitor's reading too
            log.debug("broker version unavailable: %s", describe(exc, self._settings.primary))
            return False
        try:
            properties = server_properties(connection)
            self._bridge.post(
                BrokerInfo(
                    product=_text(properties.get("product", "RabbitMQ")),
                    version=_text(properties.get("version", "unknown")),
                )
            )
        finally:
            try:
                connection.close()
            except Exception:  # noqa: BLE001 - closing only
                log.debug("closing the version connection failed", exc_info=True)
        return True


def _text(value: object) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)
