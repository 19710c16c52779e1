"""A hand-written stand-in for ``desktop.controller.Controller``: only what ``BrokerFlow`` reads.

Its facts are plain attributes the test sets; its two signals are emitted by
the test, so a recorded sequence of connection changes and queue samples
can be replayed in order.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from core.monitor import QueueStats
from core.topology import QueueType
from desktop.controller import ConnectionState
from desktop.preferences import AppSettings


class FakeController(QObject):
    """The controller's public API as ``BrokerFlow`` uses it, with calls recorded.

    Signals:
        connection_changed(str, str): emitted by the test.
        sample_taken(object): emitted by the test (a ``QueueSample``).
        settings_applied(): emitted by the test.
    """

    connection_changed = Signal(str, str)
    sample_taken = Signal(object)
    settings_applied = Signal()

    def __init__(self, settings: AppSettings) -> None:
        super().__init__()
        self.settings = settings
        self.node = ""
        self.queue_type: QueueType | None = QueueType.QUORUM
        self.connection_state: str = ConnectionState.CONNECTING
        self.last_stats: QueueStats | None = None
        self.started = True
        self.queued = 0
        self.used_urls: list[str] = []
        self.max_attempts: int | None = None
        self.finished_total = 0

    def queued_by_bookkeeping(self) -> int:
        return self.queued

    def start(self) -> None:
        self.started = True

    def use_local_broker(self, url: str) -> None:
        self.used_urls.append(url)

    def set_max_attempts(self, attempts: int | None) -> None:
        self.max_attempts = attempts

    def change(self, state: str, node: str = "") -> None:
        """Move to ``state`` on ``node`` (a redacted URL) and say so, as the controller does."""
        self.connection_state = state
        self.node = node
        self.connection_changed.emit(state, f"{state} (fake)")
