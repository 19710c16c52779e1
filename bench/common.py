"""Shared pieces: broker access with raw pika, statistics, machine facts, RSS."""

from __future__ import annotations

import atexit
import importlib
import logging
import os
import platform
import resource
import statistics
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pika
import pika.exceptions as pe

from core.pika_internals import server_properties
from core.settings import ConnectionSettings
from core.tasks import Task, properties_for
from core.topology import QueueType

log = logging.getLogger(__name__)

URL = os.environ.get("KANIN_BENCH_URL", "amqp://guest:guest@127.0.0.1:5672/%2F")

_created: set[tuple[str, str]] = set()
_created_lock = threading.Lock()


def settings(url: str = URL) -> ConnectionSettings:
    """Kanin's settings for ``url``."""
    return ConnectionSettings.from_urls([url])


def parameters(url: str = URL) -> pika.URLParameters:
    """Raw pika parameters for ``url``."""
    return pika.URLParameters(url)


def unique_queue(label: str) -> str:
    """A queue name no one else uses: ``kanin-bench-<label>-<random>``."""
    return f"kanin-bench-{label}-{uuid.uuid4().hex[:8]}"


def connect(url: str = URL) -> pika.BlockingConnection:
    """A raw blocking connection."""
    return pika.BlockingConnection(parameters(url))


def declare(name: str, queue_type: QueueType, url: str = URL) -> None:
    """Declare a durable queue the way Kanin and the tutorial do; deleted at exit."""
    with _created_lock:
        _created.add((url, name))
    connection = connect(url)
    try:
        connection.channel().queue_declare(
            queue=name, durable=True, arguments=queue_type.arguments()
        )
    finally:
        connection.close()


def delete(name: str, url: str = URL) -> None:
    """Delete a queue this benchmark created (never any other)."""
    with _created_lock:
        _created.discard((url, name))
    try:
        connection = connect(url)
    except pe.AMQPError:
        log.warning("could not connect to delete queue %s", name)
        return
    try:
        connection.channel().queue_delete(queue=name)
    except pe.ChannelClosedByBroker:
        pass
    finally:
        if connection.is_open:
            connection.close()


@atexit.register
def _delete_leftovers() -> None:
    for url, name in list(_created):
        delete(name, url)


def desktop_missing(attribute: str) -> str | None:
    """None when ``desktop.app`` provides ``attribute``, else why the window can't be used."""
    try:
        module = importlib.import_module("desktop.app")
    except ImportError as exc:
        return f"the window (desktop/app.py) cannot be imported ({exc})"
    if not hasattr(module, attribute):
        return f"desktop.app has no {attribute}()"
    return None


def ready_count(name: str, url: str = URL) -> int:
    """Ready messages, from a passive declare."""
    connection = connect(url)
    try:
        ok = connection.channel().queue_declare(queue=name, passive=True)
        return int(ok.method.message_count)
    finally:
        connection.close()


def purge(name: str, url: str = URL) -> None:
    """Remove every ready message from a queue of ours."""
    connection = connect(url)
    try:
        connection.channel().queue_purge(queue=name)
    finally:
        connection.close()


def task_bodies(count: int, prefix: str = "task") -> list[bytes]:
    """Zero-second task bodies (no dots)."""
    return [f"{prefix}-{i}".encode() for i in range(count)]


def publish_fast(name: str, count: int, url: str = URL) -> None:
    """Publish ``count`` zero-second tasks in Kanin's format, raw pika, no confirms.

    The messages carry ``message_id`` and ``timestamp`` like Kanin's own tasks,
    so every consumer under test gets exactly the same deliveries.
    """
    connection = connect(url)
    try:
        channel = connection.channel()
        _publish_on(channel, name, count)
        channel.queue_declare(queue=name, passive=True)  # a round trip: all handled
    finally:
        connection.close()


def _publish_on(channel: Any, name: str, count: int) -> None:
    for i in range(count):
        task = Task.new(f"task-{i}")
        channel.basic_publish(
            exchange="", routing_key=name, body=task.body, properties=properties_for(task)
        )


def prefill(name: str, count: int, url: str = URL, timeout: float = 120.0) -> None:
    """Fill a queue fast (see ``publish_fast``), then wait until every message is ready."""
    connection = connect(url)
    try:
        channel = connection.channel()
        _publish_on(channel, name, count)
        deadline = time.monotonic() + timeout
        while True:
            ok = channel.queue_declare(queue=name, passive=True)
            if int(ok.method.message_count) >= count:
                return
            if time.monotonic() > deadline:
                raise TimeoutError(f"queue {name} holds {ok.method.message_count} of {count}")
            connection.sleep(0.02)
    finally:
        connection.close()


def wait_until(predicate: Callable[[], bool], timeout: float, step: float = 0.005) -> bool:
    """Poll ``predicate`` until true or ``timeout``; True when it became true."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(step)
    return True


def process_cpu() -> float:
    """User plus system CPU seconds of this process, every thread."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def rss_bytes(pid: int | None = None) -> int:
    """Resident set size of a process (this one by default), from /proc."""
    path = f"/proc/{pid or 'self'}/status"
    with open(path, encoding="ascii") as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS in /proc status")  # pragma: no cover


@dataclass(frozen=True)
class Stat:
    """Median, min and max of repeated measurements."""

    values: tuple[float, ...]

    @classmethod
    def of(cls, values: Sequence[float]) -> Stat:
        """Build from raw values."""
        if not values:
            raise ValueError("no values")
        return cls(tuple(values))

    @property
    def median(self) -> float:
        """The median."""
        return float(statistics.median(self.values))

    @property
    def low(self) -> float:
        """The smallest value."""
        return min(self.values)

    @property
    def high(self) -> float:
        """The largest value."""
        return max(self.values)

    def fmt(self, spec: str = ",.0f", unit: str = "") -> str:
        """``median (min–max, n=N) unit``."""
        space = " " if unit else ""
        if len(self.values) == 1:
            return f"{self.median:{spec}}{space}{unit}"
        return (
            f"{self.median:{spec}}{space}{unit} "
            f"({self.low:{spec}}–{self.high:{spec}}, n={len(self.values)})"
        )


def percentile(values: Sequence[float], fraction: float) -> float:
    """The ``fraction`` percentile (nearest rank) of ``values``."""
    if not values:
        return 0.0
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * len(ordered) + 0.5) - 1))
    return ordered[index]


@dataclass
class Row:
    """One line of the results table.

    Attributes:
        bench: which benchmark (``1. Consume``...).
        case: the configuration measured.
        figure: the measured figure(s), formatted.
        target: the target, in words.
        met: True/False, or None when there is no target or it was not measured.
        ratio: Kanin against the baseline or the target, formatted.
        note: anything the reader must know.
    """

    bench: str
    case: str
    figure: str
    target: str = ""
    met: bool | None = None
    ratio: str = ""
    note: str = ""


@dataclass
class Section:
    """A benchmark's rows and the explanation that follows the table."""

    title: str
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0


def machine() -> dict[str, str]:
    """CPU model, cores, RAM, OS and the versions that matter."""
    cpu = "unknown"
    with open("/proc/cpuinfo", encoding="utf-8") as handle:
        for line in handle:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    ram = 0
    with open("/proc/meminfo", encoding="ascii") as handle:
        for line in handle:
            if line.startswith("MemTotal:"):
                ram = int(line.split()[1]) * 1024
    try:
        import PySide6

        pyside = PySide6.__version__
    except ImportError:  # pragma: no cover
        pyside = "not installed"
    rabbit = "unknown"
    try:
        connection = connect()
        props = server_properties(connection)
        rabbit = props.get("version", b"?")
        rabbit = rabbit.decode() if isinstance(rabbit, bytes) else str(rabbit)
        connection.close()
    except pe.AMQPError:
        pass
    distro = "unknown"
    try:
        with open("/etc/os-release", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("PRETTY_NAME="):
                    distro = line.split("=", 1)[1].strip().strip('"')
    except OSError:
        pass
    return {
        "CPU": cpu,
        "Cores": str(os.cpu_count()),
        "RAM": f"{ram / 2**30:.1f} GiB",
        "OS": f"{distro}, Linux {platform.release()}",
        "Python": platform.python_version(),
        "pika": pika.__version__,
        "PySide6": pyside,
        "RabbitMQ": rabbit,
    }


def load_average() -> tuple[float, float, float]:
    """The 1, 5 and 15 minute load averages."""
    one, five, fifteen = os.getloadavg()
    return one, five, fifteen


class OtherWork:
    """Samples every process's CPU once a second to tell how much others used during a run.

    "Ours" is this process, its children, and the RabbitMQ brokers (the system one is
    the thing under test; private ``kanin-bench`` nodes are started by the benchmark).
    Everything else (other test suites, builds) is "other work".
    """

    def __init__(self, interval: float = 1.0) -> None:
        self._interval = interval
        self._first: dict[int, float] = {}
        self._last: dict[int, float] = {}
        self._names: dict[int, str] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bench-sampler", daemon=True)
        self._tick = os.sysconf("SC_CLK_TCK")
        self._started = 0.0
        self.seconds = 0.0

    def start(self) -> None:
        """Take the first sample and keep sampling in the background."""
        self._started = time.monotonic()
        self._sample(first=True)
        self._thread.start()

    def stop(self) -> tuple[float, float, list[tuple[str, float]]]:
        """Stop; returns other work's CPU seconds, its share of all cores, the top users."""
        self._stop.set()
        self._thread.join(5)
        self._sample(first=False)
        self.seconds = time.monotonic() - self._started
        used: dict[str, float] = {}
        for pid, last in self._last.items():
            delta = last - self._first.get(pid, 0.0)
            if delta > 0:
                name = self._names.get(pid, "?")
                used[name] = used.get(name, 0.0) + delta
        total = sum(used.values())
        cores = os.cpu_count() or 1
        share = total / (self.seconds * cores) if self.seconds else 0.0
        top = sorted(used.items(), key=lambda item: -item[1])[:3]
        return total, share, top

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            self._sample(first=False)

    def _ours(self, pid: int, ppid: int, name: str, cmdline: str) -> bool:
        me = os.getpid()
        if pid == me or ppid == me:
            return True
        if "beam.smp" in name or "beam.smp" in cmdline:
            system = "kanin-" not in cmdline or "kanin-bench-" in cmdline
            return system
        if name in ("epmd", "erl_child_setup", "inet_gethost"):
            return True
        return False

    def _sample(self, *, first: bool) -> None:
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            pid = int(entry)
            try:
                with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as handle:
                    stat = handle.read()
                with open(f"/proc/{pid}/cmdline", "rb") as handle:
                    cmdline = handle.read().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            name = stat[stat.find("(") + 1 : stat.rfind(")")]
            fields = stat[stat.rfind(")") + 2 :].split()
            ppid = int(fields[1])
            if self._ours(pid, ppid, name, cmdline):
                continue
            cpu = (int(fields[11]) + int(fields[12])) / self._tick
            if first:
                self._first[pid] = cpu
            self._last[pid] = cpu
            self._names.setdefault(
                pid, cmdline.split(" ")[1] if name.startswith("python") and " " in cmdline else name
            )
