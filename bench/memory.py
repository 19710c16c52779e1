"""Resident memory of a worker pool, measured in a fresh process per configuration.

``python -m bench.memory workers QUEUE TYPE N`` starts N workers on QUEUE and
prints JSON lines: ``baseline`` (Kanin imported, no pool), ``idle`` (every
worker connected), then, after the parent writes the number of tasks it
published on stdin, ``consuming`` (the largest RSS sampled while draining) and
``after``. ``python -m bench.memory growth QUEUE TYPE N WARMUP TOTAL`` reports
the RSS after a warm-up and after TOTAL more tasks through the same pool.
"""

from __future__ import annotations

import gc
import json
import subprocess
import sys
import threading
import time
from typing import Any

from bench import common
from core.events import TaskFinished, WorkerConnected, WorkerEvent
from core.pool import WorkerPool
from core.topology import QueueSpec, QueueType
from core.worker import WorkerOptions


class _Counter:
    def __init__(self) -> None:
        self._cond = threading.Condition()
        self.connected = 0
        self.finished = 0

    def on_worker_event(self, event: WorkerEvent) -> None:
        if isinstance(event, TaskFinished):
            with self._cond:
                self.finished += 1
                self._cond.notify_all()
        elif isinstance(event, WorkerConnected):
            with self._cond:
                self.connected += 1
                self._cond.notify_all()

    def wait(self, attribute: str, count: int, timeout: float = 300.0) -> None:
        with self._cond:
            if not self._cond.wait_for(lambda: getattr(self, attribute) >= count, timeout):
                raise TimeoutError(f"{attribute}: {getattr(self, attribute)} of {count}")


def _say(**values: Any) -> None:
    print(json.dumps(values), flush=True)


def _rss() -> int:
    gc.collect()
    return common.rss_bytes()


def _child_workers(queue: str, queue_type: QueueType, workers: int) -> None:
    counter = _Counter()
    baseline = _rss()
    pool = WorkerPool(
        common.settings(), QueueSpec(queue, queue_type), counter, WorkerOptions(prefetch=1)
    )
    pool.add(workers)
    counter.wait("connected", workers)
    time.sleep(0.3)
    _say(baseline=baseline, idle=_rss())
    total = int(sys.stdin.readline())
    peak = 0
    while True:
        peak = max(peak, common.rss_bytes())
        with counter._cond:
            if counter.finished >= total:
                break
        time.sleep(0.01)
    _say(consuming=peak, after=_rss())
    pool.stop_all(timeout=30)


def _child_growth(queue: str, queue_type: QueueType, workers: int, warmup: int, total: int) -> None:
    counter = _Counter()
    pool = WorkerPool(
        common.settings(), QueueSpec(queue, queue_type), counter, WorkerOptions(prefetch=1)
    )
    pool.add(workers)
    counter.wait("connected", workers)
    _say(ready=True)
    counter.wait("finished", warmup)
    before = _rss()
    _say(before=before)
    counter.wait("finished", warmup + total, timeout=600)
    time.sleep(0.2)
    _say(after=_rss())
    pool.stop_all(timeout=30)


def _spawn(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "bench.memory", *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )


def _read(process: subprocess.Popen[str]) -> dict[str, Any]:
    assert process.stdout is not None
    line = process.stdout.readline()
    if not line:
        raise RuntimeError(f"memory probe ended early (exit {process.wait()})")
    value: dict[str, Any] = json.loads(line)
    return value


def measure_workers(workers: int, tasks: int, queue_type: QueueType) -> dict[str, int]:
    """Baseline, idle, consuming (peak) and after RSS in bytes for a pool of ``workers``."""
    queue = common.unique_queue("mem")
    common.declare(queue, queue_type)
    process = _spawn("workers", queue, queue_type.value, str(workers))
    try:
        result = _read(process)
        common.publish_fast(queue, tasks)  # the pool consumes while they arrive
        assert process.stdin is not None
        process.stdin.write(f"{tasks}\n")
        process.stdin.flush()
        result.update(_read(process))
        process.wait(60)
        return {key: int(value) for key, value in result.items()}
    finally:
        if process.poll() is None:
            process.kill()
        common.delete(queue)


def measure_growth(workers: int, warmup: int, total: int, queue_type: QueueType) -> dict[str, int]:
    """RSS after ``warmup`` tasks and after ``total`` more, through one pool."""
    queue = common.unique_queue("grow")
    common.declare(queue, queue_type)
    process = _spawn("growth", queue, queue_type.value, str(workers), str(warmup), str(total))
    try:
        _read(process)
        common.publish_fast(queue, warmup)  # the pool consumes while they arrive
        result = _read(process)
        # Publish the rest while the pool drains, in chunks, to keep the run short.
        sent = 0
        chunk = 20_000
        while sent < total:
            batch = min(chunk, total - sent)
            common.publish_fast(queue, batch)
            sent += batch
        result.update(_read(process))
        process.wait(60)
        return {key: int(value) for key, value in result.items()}
    finally:
        if process.poll() is None:
            process.kill()
        common.delete(queue)


def main(argv: list[str]) -> None:
    """The probe's entry point (runs in the child process)."""
    mode, queue, kind = argv[0], argv[1], QueueType(argv[2])
    if mode == "workers":
        _child_workers(queue, kind, int(argv[3]))
    else:
        _child_growth(queue, kind, int(argv[3]), int(argv[4]), int(argv[5]))


if __name__ == "__main__":
    main(sys.argv[1:])
