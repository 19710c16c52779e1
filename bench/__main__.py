"""``python -m bench``: run every benchmark and write docs/BENCHMARKS.md.

``--quick`` runs a short version for development and writes
``build/BENCHMARKS-quick.md`` instead (docs and README stay untouched unless
``--output`` says otherwise). ``--only`` picks benchmarks by number.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import math
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bench import common, consume, enqueue, gui, memory, redelivery, report, restart, startup
from bench.common import Row, Section, Stat
from core.topology import QueueType

log = logging.getLogger("bench")

ROOT = Path(__file__).resolve().parent.parent
MiB = 2**20


@dataclass(frozen=True)
class Plan:
    """How much to measure."""

    quick: bool
    runs: int
    worker_counts: tuple[int, ...]
    consume_tasks: dict[QueueType, int]
    enqueue_tasks: int
    sync_tasks: int
    memory_workers: tuple[int, ...]
    memory_tasks: int
    growth_warmup: int
    growth_tasks: int
    kill_trials: int
    restart_cycles: int
    restart_workers: int
    startup_runs: int

    @classmethod
    def make(cls, quick: bool) -> Plan:
        if quick:
            return cls(
                quick=True,
                runs=1,
                worker_counts=(1, 4),
                consume_tasks={QueueType.QUORUM: 1500, QueueType.CLASSIC: 2500},
                enqueue_tasks=10_000,
                sync_tasks=1_000,
                memory_workers=(1, 8),
                memory_tasks=1_000,
                growth_warmup=1_000,
                growth_tasks=5_000,
                kill_trials=20,
                restart_cycles=1,
                restart_workers=4,
                startup_runs=1,
            )
        return cls(
            quick=False,
            runs=3,
            worker_counts=(1, 4, 8, 32),
            consume_tasks={QueueType.QUORUM: 4000, QueueType.CLASSIC: 6000},
            enqueue_tasks=100_000,
            sync_tasks=10_000,
            memory_workers=(1, 8, 32, 64),
            memory_tasks=4_000,
            growth_warmup=10_000,
            growth_tasks=100_000,
            kill_trials=30,
            restart_cycles=3,
            restart_workers=8,
            startup_runs=3,
        )


def _progress(message: str) -> None:
    stamp = time.strftime("%H:%M:%S")
    print(f"[bench {stamp}] {message}", file=sys.stderr, flush=True)


# ------------------------------------------------------------------------- 1 + 2: consume


def bench_consume(plan: Plan, with_gui: bool) -> list[Section]:
    """Kanin's pool, raw pika and (when ready) the window, interleaved per configuration."""
    pool_section = Section("1. Consume throughput (headless pool vs raw pika)")
    gui_section = Section("2. Through the GUI (offscreen window vs raw pika)")
    gui_reason = gui.available() if with_gui else "not selected (--only)"
    runners: dict[str, Callable[[str, QueueType, int, int], float]] = {
        "pika": consume.raw_drain,
        "kanin": consume.kanin_drain,
    }
    lateness: list[float] = []
    lateness_by_workers: dict[int, list[float]] = {}
    window: gui.GuiDrain | None = None
    if gui_reason is None:
        window = gui.GuiDrain()

        def gui_drain(queue: str, kind: QueueType, workers: int, total: int) -> float:
            rate, late = window.drain(queue, kind, workers, total)
            lateness.extend(late)
            lateness_by_workers.setdefault(workers, []).extend(late)
            return rate

        runners["gui"] = gui_drain
    names = list(runners)
    cpu_lines: list[str] = []
    cpu_summary: dict[str, list[float]] = {name: [] for name in names}
    gui_thread: list[float] = []
    for kind in (QueueType.QUORUM, QueueType.CLASSIC):
        total = plan.consume_tasks[kind]
        queue = common.unique_queue(f"consume-{kind.value}")
        common.declare(queue, kind)
        try:
            for workers in plan.worker_counts:
                rates: dict[str, list[float]] = {name: [] for name in names}
                cpu: dict[str, list[float]] = {name: [] for name in names}
                gui_cpu: list[float] = []
                for run in range(plan.runs):
                    order = names[run % len(names) :] + names[: run % len(names)]
                    for name in order:
                        common.prefill(queue, total)
                        before = common.process_cpu()
                        rates[name].append(runners[name](queue, kind, workers, total))
                        cpu[name].append((common.process_cpu() - before) / total * 1e6)
                        if name == "gui" and window is not None:
                            gui_cpu.append(window.last_gui_cpu / total * 1e6)
                for n, v in cpu.items():
                    cpu_summary[n].append(Stat.of(v).median)
                if gui_cpu:
                    gui_thread.append(Stat.of(gui_cpu).median)
                cpu_lines.append(
                    f"{kind.value}, {workers} worker{'s' if workers > 1 else ''}: "
                    + ", ".join(f"{n} {Stat.of(v).median:.0f} µs" for n, v in cpu.items())
                    + (f" (GUI thread {Stat.of(gui_cpu).median:.0f} µs)" if gui_cpu else "")
                )
                _progress(
                    f"consume {kind.value} x{workers}: "
                    + ", ".join(f"{n} {Stat.of(r).median:,.0f}/s" for n, r in rates.items())
                )
                raw = Stat.of(rates["pika"])
                case = f"{kind.value}, {workers} worker{'s' if workers > 1 else ''}"
                for name, section, target in (
                    ("kanin", pool_section, 0.95),
                    ("gui", gui_section, 0.9),
                ):
                    if name not in rates:
                        continue
                    mine = Stat.of(rates[name])
                    ratio = mine.median / raw.median
                    section.rows.append(
                        Row(
                            section.title.split(" (")[0],
                            case,
                            f"Kanin {mine.fmt(unit='msg/s')}; pika {raw.fmt(unit='msg/s')}",
                            f"≥ {target} × pika",
                            ratio >= target,
                            _ratio(ratio, target),
                        )
                    )
        finally:
            if window is not None:
                window.close()
            common.delete(queue)
    if gui_reason is None:
        most = max(lateness_by_workers) if lateness_by_workers else 0
        for label, samples in (
            ("every case", lateness),
            (f"{most} workers only", lateness_by_workers.get(most, [])),
        ):
            p99 = common.percentile(samples, 0.99) if samples else 0.0
            worst = max(samples) if samples else 0.0
            gui_section.rows.append(
                Row(
                    "2. Through the GUI",
                    f"event-loop lateness, {label}: {len(samples):,} ticks of a "
                    f"{gui.TICK_MS} ms timer",
                    f"p99 {p99:.1f} ms, max {worst:.1f} ms",
                    "p99 < 50 ms, max < 200 ms",
                    p99 < 50 and worst < 200,
                    f"p99 {p99 / 50:.2f}, max {worst / 200:.2f} of the limit",
                )
            )
    else:
        gui_section.rows.append(
            Row("2. Through the GUI", "all", "not measured", "≥ 0.9 × pika", None, "", gui_reason)
        )
        gui_section.notes.append(f"Not measured: {gui_reason}.")
    pool_section.notes += [
        f"{plan.consume_tasks[QueueType.QUORUM]:,} (quorum) and "
        f"{plan.consume_tasks[QueueType.CLASSIC]:,} (classic) zero-second persistent tasks "
        "pre-filled (raw pika, no confirms, then waited until all were ready), then drained; "
        "prefetch 1, manual ack, one BlockingConnection per worker thread.",
        "The clock starts just before the consumer threads start (each connects, opens a "
        "channel, declares the queue, sets basic_qos and consumes, as the tutorial does: the "
        "same work on both sides) and stops when the last task is acknowledged.",
        "Raw pika is the tutorial's worker.py callback (basic_ack per message) WITHOUT "
        "`time.sleep(body.count(b'.'))`: `time.sleep(0)` costs about 70 µs here and would slow "
        "the baseline by about a quarter. With it, raw pika is slower than shown.",
        "Kanin's pool runs with its observer interface in use (a counting observer); "
        "the runs of pika, Kanin and the window alternate, rotating the order each run.",
        "CPU of the benchmark process per task (user+sys, all threads, median; the broker's "
        "CPU is not included). On 2 cores shared with the broker, a consumer process that "
        "needs more CPU per task drains slower once the cores are busy: "
        + "; ".join(cpu_lines)
        + ".",
    ]
    if gui_reason is None:
        gui_section.notes += gui.NOTES
    _explain_consume(pool_section, gui_section, cpu_summary, gui_thread)
    return [pool_section, gui_section]


def _ratio(value: float, target: float) -> str:
    """Two decimals, or three when two would round across the target (0.948 is not 0.95)."""
    shown = f"{value:.2f}"
    if (float(shown) >= target) != (value >= target):
        shown = f"{math.floor(value * 1000) / 1000:.3f}"
    return shown


def _explain_consume(
    pool_section: Section,
    gui_section: Section,
    cpu: dict[str, list[float]],
    gui_thread: list[float],
) -> None:
    """Say why consume targets were missed and what would reach them, from this run's data."""
    pika_cpu = Stat.of(cpu["pika"]).median
    kanin_cpu = Stat.of(cpu["kanin"]).median
    missed = [r.case for r in pool_section.rows if r.met is False]
    if missed:
        pool_section.notes.append(
            f"Missed in: {'; '.join(missed)}. Why: Kanin's process needed {kanin_cpu:.0f} µs "
            f"of CPU per task against raw pika's {pika_cpu:.0f} µs (median over the cases). "
            "The difference is Kanin's bookkeeping around each delivery (a Delivery record, "
            "TaskStarted and TaskFinished events, the worker status under a lock): about 6 µs "
            "single-threaded, more once several threads contend for the GIL, and this "
            "machine's 2 cores are shared with the broker. Where the min–max ranges overlap, "
            "the gap is within this run's noise. What would reach 0.95 everywhere: less Python "
            "per task in the worker (build the Delivery lazily; skip TaskStarted when no "
            "observer wants it), or worker processes instead of threads for many workers, so "
            "they stop sharing one GIL."
        )
    gui_missed = [r.case for r in gui_section.rows if r.met is False]
    if gui_missed and "gui" in cpu:
        gui_cpu = Stat.of(cpu["gui"]).median
        thread = Stat.of(gui_thread).median if gui_thread else 0.0
        gui_section.notes.append(
            f"Missed in: {'; '.join(gui_missed)}. Why: with the window, the process needed "
            f"{gui_cpu:.0f} µs of CPU per task against {kanin_cpu:.0f} µs headless; "
            f"{thread:.0f} µs of it is the GUI thread's own work (task-table rows, batched "
            "signals, painting the table, cards and chart). Every thread shares one GIL, "
            "and the window's workers give the GUI thread its turn on purpose "
            "(`core.priority.PriorityGate`): they step aside whenever its 10 ms pulse is "
            "more than 12 ms old, during each 33 ms tick and the paint that follows it, "
            "and they run at nice 10; new workers open their first connection four at a "
            "time. Without that the GUI thread waited up to 1.5 s for the GIL with 32 "
            "workers (measured, same code with the gate off): the lateness target is "
            "bought with worker throughput. What would reach 0.9 as well: less Python "
            "per task in the worker loop (pika's frame handling is most of it), or "
            "workers in a child process that sends the window summaries, which the "
            "window's design (worker threads in the window) rules out."
        )


# ------------------------------------------------------------------------- 3: enqueue


def bench_enqueue(plan: Plan) -> list[Section]:
    """Kanin's producer vs pika's synchronous confirms vs pika without confirms."""
    section = Section("3. Enqueue with publisher confirms")
    kind = QueueType.QUORUM
    queue = common.unique_queue("enqueue")
    common.declare(queue, kind)
    rates: dict[str, list[float]] = {"kanin": [], "sync": [], "none": []}
    try:
        for _run in range(plan.runs):
            rates["kanin"].append(enqueue.kanin(queue, kind, plan.enqueue_tasks))
            common.purge(queue)
            rates["sync"].append(enqueue.pika_sync_confirms(queue, plan.sync_tasks))
            common.purge(queue)
            rates["none"].append(enqueue.pika_no_confirms(queue, plan.enqueue_tasks))
            common.purge(queue)
    finally:
        common.delete(queue)
    kanin, sync, none = (Stat.of(rates[k]) for k in ("kanin", "sync", "none"))
    window_row = _enqueue_through_window(plan)
    _progress(
        f"enqueue: kanin {kanin.median:,.0f}/s, sync {sync.median:,.0f}/s, "
        f"none {none.median:,.0f}/s"
    )
    n = f"{plan.enqueue_tasks:,}"
    seconds = plan.enqueue_tasks / kanin.median
    section.rows += [
        Row(
            "3. Enqueue",
            f"{n} tasks, quorum: Kanin vs pika synchronous confirms",
            f"Kanin {kanin.fmt(unit='msg/s')} ({seconds:.1f} s for {n}); "
            f"pika sync {sync.fmt(unit='msg/s')}",
            "≥ 5 × faster",
            kanin.median / sync.median >= 5,
            f"{kanin.median / sync.median:.1f}×",
        ),
        Row(
            "3. Enqueue",
            f"{n} tasks, quorum: Kanin vs pika without confirms",
            f"Kanin {kanin.fmt(unit='msg/s')}; pika no confirms {none.fmt(unit='msg/s')}",
            "within 2× (≥ 0.5)",
            kanin.median / none.median >= 0.5,
            f"{kanin.median / none.median:.2f}",
        ),
    ]
    section.rows.append(window_row)
    if window_row.note:
        section.notes.append(f"Missed (window): {window_row.note}")
    section.notes += [
        f"Kanin: `Producer.submit()` of {n} tasks then `wait_idle()` (every task confirmed; "
        "window 1000 outstanding publishes, SelectConnection in the producer thread, mandatory "
        "publishes with message_id and timestamp). Task objects are built before the clock.",
        f"pika synchronous confirms: `confirm_delivery()` then `basic_publish` per task "
        f"(the tutorial's new_task.py plus confirms); {plan.sync_tasks:,} tasks timed and the "
        f"rate extrapolated to {n} (a full run would take "
        f"{plan.enqueue_tasks / sync.median:.0f} s).",
        f"pika without confirms: `basic_publish` of {n} tasks, then one passive queue_declare "
        "round trip on the same channel (the broker answers after handling every publish).",
        "All on a quorum queue (Kanin's and the tutorial's default), persistent messages; "
        "the queue is purged between runs.",
    ]
    return [section]


def _enqueue_through_window(plan: Plan) -> Row:
    """One enqueue of ``plan.enqueue_tasks`` through the window, with its event-loop lateness."""
    case = f"{plan.enqueue_tasks:,} tasks through the window (`controller.enqueue`), n=1"
    target = "window responsive: lateness p99 < 50 ms, max < 200 ms"
    reason = gui.available()
    if reason is not None:
        return Row("3. Enqueue", case, "not measured", target, None, "", reason)
    queue = common.unique_queue("enqueue-gui")
    common.declare(queue, QueueType.QUORUM)
    window = gui.GuiDrain()
    try:
        rate, late = window.enqueue(queue, QueueType.QUORUM, plan.enqueue_tasks)
        call = window.last_enqueue_call
    finally:
        window.close()
        common.delete(queue)
    p99 = common.percentile(late, 0.99)
    worst = max(late) if late else 0.0
    _progress(f"enqueue through the window: {rate:,.0f}/s, lateness p99 {p99:.0f} max {worst:.0f}")
    met = p99 < 50 and worst < 200
    if met:
        note = ""
    elif call * 1000 >= worst / 2:
        note = (
            f"`controller.enqueue()` of {plan.enqueue_tasks:,} texts ran {call:.2f} s in one go "
            "in the GUI thread (it makes the ids, then hands the tasks over in chunks of "
            "1,000 per event-loop turn): that call is the worst stall. What would reach the "
            "target: make the ids in the chunks too."
        )
    else:
        note = (
            f"`controller.enqueue()` itself returned in {call:.2f} s; the late ticks come "
            "afterwards, while the GUI thread makes rows 1,000 tasks per event-loop turn "
            "and turns confirms into row updates, and the producer thread publishes "
            "(stepping aside every 100 publishes while the GUI thread is late), under one "
            "GIL. What would reach the target: smaller chunks (500), or rows made lazily "
            "as the table first shows them."
        )
    return Row(
        "3. Enqueue",
        case,
        f"{rate:,.0f} msg/s confirmed and shown; lateness p99 {p99:.1f} ms, max {worst:.1f} ms",
        target,
        met,
        f"p99 {p99 / 50:.2f}, max {worst / 200:.2f} of the limit",
        note,
    )


# ------------------------------------------------------------------------- 4: memory


def bench_memory(plan: Plan) -> list[Section]:
    """RSS per worker count (fresh process each) and growth over many tasks."""
    section = Section("4. Memory")
    kind = QueueType.CLASSIC
    results: dict[int, dict[str, int]] = {}
    for workers in plan.memory_workers:
        results[workers] = memory.measure_workers(workers, plan.memory_tasks, kind)
    lines = []
    for workers, r in results.items():
        lines.append(
            f"{workers} workers: baseline {r['baseline'] / MiB:.1f} MiB, idle "
            f"{r['idle'] / MiB:.1f} MiB, consuming (peak) {r['consuming'] / MiB:.1f} MiB"
        )
    _progress("memory: " + "; ".join(lines))
    low, high = min(results), max(results)
    for state in ("idle", "consuming"):
        per = (results[high][state] - results[low][state]) / (high - low) / MiB
        section.rows.append(
            Row(
                "4. Memory",
                f"RSS per extra worker, {state} ({low} → {high} workers)",
                f"{per:.2f} MiB "
                f"({results[low][state] / MiB:.1f} → {results[high][state] / MiB:.1f} MiB)",
                "< 2 MB per worker",
                per * MiB < 2_000_000,
                f"{per * MiB / 2_000_000:.2f} of the limit",
            )
        )
    growth = memory.measure_growth(8, plan.growth_warmup, plan.growth_tasks, kind)
    delta = (growth["after"] - growth["before"]) / MiB
    _progress(f"memory growth over {plan.growth_tasks:,}: {delta:+.2f} MiB")
    section.rows.append(
        Row(
            "4. Memory",
            f"RSS growth over {plan.growth_tasks:,} tasks (8 workers)",
            f"{delta:+.2f} MiB ({growth['before'] / MiB:.1f} → {growth['after'] / MiB:.1f} MiB)",
            "no growth (≤ 1 MiB, allocator noise)",
            delta <= 1.0,
            "",
        )
    )
    section.notes += [
        "Each worker count runs in a fresh Python process (`python -m bench.memory`) with "
        "Kanin's WorkerPool on a classic queue, prefetch 1; RSS is VmRSS from /proc after "
        "`gc.collect()`. Baseline: Kanin imported, no pool; idle: every worker connected; "
        f"consuming: the highest RSS sampled every 10 ms while {plan.memory_tasks:,} "
        "zero-second tasks were drained.",
        *(f"RSS with {line}." for line in lines),
        f"Growth: one pool of 8 workers drains {plan.growth_warmup:,} tasks (warm-up), RSS "
        f"is read, then {plan.growth_tasks:,} more tasks go through and RSS is read again.",
    ]
    return [section]


# ------------------------------------------------------------------------- 5: kill


def bench_kill(plan: Plan) -> list[Section]:
    """Kill to redelivery latency."""
    section = Section("5. Kill to redelivery")
    for kind in (QueueType.QUORUM, QueueType.CLASSIC):
        values = redelivery.trials(kind, plan.kill_trials)
        stat = Stat.of(values)
        _progress(f"kill {kind.value}: median {stat.median:.1f} ms")
        p90 = common.percentile(values, 0.9)
        section.rows.append(
            Row(
                "5. Kill to redelivery",
                f"{kind.value}, {len(values)} trials",
                f"{stat.fmt('.1f', 'ms')}, p90 {p90:.1f} ms",
                "median < 100 ms",
                stat.median < 100,
                f"{stat.median / 100:.3f} of the limit",
            )
        )
    section.notes += [
        "Two idle workers (prefetch 1); one task is published; the worker that takes it is "
        "killed with `WorkerPool.kill()` (socket shut down, no ack). The clock runs from the "
        "kill() call to the other worker's TaskStarted for the same task (redelivered=True). "
        "A fresh worker replaces the killed one before the next trial.",
    ]
    return [section]


# ------------------------------------------------------------------------- 6: restart


def bench_restart(plan: Plan) -> list[Section]:
    """Broker restart to recovery on a private node."""
    section = Section("6. Broker restart to recovery")
    reason = restart.available()
    if reason is not None:
        section.rows.append(
            Row("6. Broker restart", "private node", "not measured", "< 2 s", None, "", reason)
        )
        section.notes.append(f"Not measured: {reason}.")
        return [section]
    values = restart.cycles(plan.restart_cycles, plan.restart_workers)
    stat = Stat.of(values)
    _progress(f"restart: median {stat.median:.2f} s")
    section.rows.append(
        Row(
            "6. Broker restart",
            f"private node, {plan.restart_workers} workers, quorum queue, {len(values)} restarts",
            stat.fmt(".2f", "s"),
            "< 2 s",
            stat.high < 2,
            f"{stat.median / 2:.2f} of the limit",
        )
    )
    section.notes += [
        "A private node (`core.local_broker.LocalBroker`: own node name, ports and data in a "
        "temporary folder; the system broker is never touched) is stopped (SIGTERM, clients see "
        "320 CONNECTION_FORCED) and started again. Its AMQP port is polled every 5 ms; from the "
        "first accepted connection to the last worker's WorkerConnected (after its "
        "WorkerReconnecting). Workers use the default options (capped, jittered backoff).",
        "Met means every restart (the max, not only the median) recovered within 2 s.",
    ]
    return [section]


# ------------------------------------------------------------------------- 7: start-up


def bench_startup(plan: Plan) -> list[Section]:
    """`kanin` to the window shown."""
    section = Section("7. Start-up")
    section.rows += startup.rows(plan.startup_runs)
    section.notes += startup.NOTES
    return [section]


BENCHMARKS: dict[str, Callable[[Plan], list[Section]]] = {
    "3": bench_enqueue,
    "4": bench_memory,
    "5": bench_kill,
    "6": bench_restart,
    "7": bench_startup,
}


def main(argv: list[str] | None = None) -> int:
    """Run the benchmarks and write the report."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a short run for development")
    parser.add_argument(
        "--only",
        default="",
        help="comma separated benchmark numbers (1-7); default all (1 and 2 run together)",
    )
    parser.add_argument("--output", type=Path, help="the Markdown file to write")
    parser.add_argument(
        "--no-readme", action="store_true", help="do not refresh README's performance section"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR, format="%(levelname)s %(name)s: %(message)s")
    # Kills and broker restarts make pika log every dropped connection: expected here.
    logging.getLogger("pika").setLevel(logging.CRITICAL)
    # Reconnect warnings during the restart benchmark are expected too.
    for name in ("core", "desktop"):
        logging.getLogger(name).setLevel(logging.ERROR)
    plan = Plan.make(args.quick)
    selected = {part.strip() for part in args.only.split(",") if part.strip()} or {
        str(i) for i in range(1, 8)
    }
    output = args.output or (
        ROOT / "build" / "BENCHMARKS-quick.md" if args.quick else ROOT / "docs" / "BENCHMARKS.md"
    )
    began = time.monotonic()
    load_before = common.load_average()
    others = common.OtherWork()
    others.start()
    stamp = dt.datetime.now(dt.UTC)
    info = common.machine()
    _progress(f"{'quick' if plan.quick else 'full'} run; load average {load_before[0]:.2f}")
    sections: list[Section] = []
    failures: list[str] = []
    jobs: list[tuple[str, Callable[[], list[Section]]]] = []
    if selected & {"1", "2"}:
        jobs.append(("1+2", lambda: bench_consume(plan, "2" in selected)))
    for key, function in BENCHMARKS.items():
        if key in selected:
            jobs.append((key, lambda function=function: function(plan)))  # type: ignore[misc]
    for key, job in jobs:
        started = time.monotonic()
        try:
            produced = job()
        except Exception as exc:  # noqa: BLE001 - one broken benchmark must not hide the rest
            log.exception("benchmark %s failed", key)
            failures.append(f"benchmark {key} failed: {type(exc).__name__}: {exc}")
            produced = [
                Section(
                    f"{key}. (failed)",
                    [Row(key, "all", "not measured", "", None, "", f"{type(exc).__name__}: {exc}")],
                )
            ]
        spent = time.monotonic() - started
        for section in produced:
            section.seconds = spent / len(produced)
        sections += produced
        _progress(f"benchmark {key} took {spent:.0f} s")
    total = time.monotonic() - began
    other_cpu, other_share, top = others.stop()
    loaded = load_before[0] >= 0.5 or other_share >= 0.05
    busiest = ", ".join(f"{name} {seconds:.0f} s" for name, seconds in top if seconds >= 1)
    other = (
        f"other processes used {other_cpu:.0f} CPU-seconds during the run, "
        f"{other_share:.0%} of the machine's {os.cpu_count()} cores"
        + (f" (busiest: {busiest})" if busiest else "")
    )
    conditions = (
        f"**measured under load**: 1-minute load average {load_before[0]:.2f} before the run; "
        f"{other}. Figures are noisy; compare within a row (same run, interleaved)"
        if loaded
        else f"quiet machine: 1-minute load average {load_before[0]:.2f} before the run; {other}"
    )
    command = "python -m bench --quick" if plan.quick else "make bench"
    header = [
        f"Measured {stamp:%Y-%m-%d %H:%M} UTC by `{command}` "
        f"in {total / 60:.1f} min ({total:.0f} s); "
        f"{conditions}. Median of {plan.runs} runs with (min–max, n) unless stated; "
        "every comparison ran in the same run, interleaved.",
    ]
    footer = [f"Failures: {'; '.join(failures)}"] if failures else []
    body = report.render(header, info, sections, footer)
    report.write_section(output, report.BENCH_SECTION, body, title="Kanin benchmarks")
    _progress(f"wrote {output} in {total:.0f} s total")
    if not plan.quick and not args.no_readme and args.output is None:
        if report.update_readme(ROOT / "README.md", readme_body(sections, stamp, loaded)):
            _progress("refreshed README.md's performance section")
    return 1 if failures else 0


def readme_body(sections: list[Section], stamp: dt.datetime, loaded: bool) -> str:
    """README's performance section: the ratios, one line each."""
    lines = [
        "## Performance",
        "",
        f"From `make bench` on {stamp:%Y-%m-%d} (2-core machine"
        f"{', under load' if loaded else ''}); details, conditions and raw figures in "
        "[docs/BENCHMARKS.md](docs/BENCHMARKS.md). Ratio: Kanin's figure divided by the "
        "baseline's (raw pika) measured in the same run.",
        "",
        "| Benchmark | Case | Ratio / figure | Target | Met |",
        "| --- | --- | --- | --- | --- |",
    ]
    for section in sections:
        for row in section.rows:
            shown = row.ratio if row.ratio and "of the limit" not in row.ratio else row.figure
            met = "—" if row.met is None else ("met" if row.met else "missed")
            lines.append(f"| {row.bench} | {row.case} | {shown} | {row.target} | {met} |")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
