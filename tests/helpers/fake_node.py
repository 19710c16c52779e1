"""Hand-written fakes for the local-broker flow: a node that starts and stops on the spot."""

from __future__ import annotations

import threading

from core.local_broker import ServerInstall


class FakeLocalBroker:
    """Stands in for ``core.local_broker.LocalBroker``: records start/stop, runs nothing.

    Args:
        port: the AMQP port it pretends to listen on at 127.0.0.1.
        running: whether it pretends to be running already (adopted, not started here).

    Attributes:
        release: ``stop()`` waits for it (set it to let a restart go on; it starts set).
    """

    def __init__(self, port: int = 25672, *, running: bool = False) -> None:
        self.node_name = "kanin-fake@localhost"
        self.amqp_port = port
        self.running = running
        self.calls: list[str] = []
        self.release = threading.Event()
        self.release.set()
        self._lock = threading.Lock()

    @property
    def amqp_url(self) -> str:
        return f"amqp://guest:guest@127.0.0.1:{self.amqp_port}/%2F"

    def is_running(self) -> bool:
        return self.running

    def start(self, timeout: float | None = None) -> None:
        with self._lock:
            self.calls.append("start")
            self.running = True

    def stop(self, timeout: float = 30.0) -> bool:
        if not self.release.wait(10):
            raise TimeoutError("the test never released the fake broker's stop")
        with self._lock:
            self.calls.append("stop")
            was_running, self.running = self.running, False
        return was_running


def no_server() -> ServerInstall | None:
    """A ``find`` for a machine without RabbitMQ."""
    return None
