"""``kanin lesson list`` and ``kanin lesson run NAME...``: the lessons without a window.

Exit codes: 0 when every outcome matched its lesson's prediction, 1 when one
contradicted it or the broker failed, 2 for bad usage (an unknown lesson, or
a lesson that restarts or kills the broker asked of a broker Kanin does not
manage).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

import pika.exceptions as pe

from core.errors import BrokerError, describe
from core.lessons import catalog
from core.lessons.base import Lesson, Outcome, run_lesson
from core.lessons.lab import DEFAULT_DOT_SECONDS, Lab, LabConfig
from core.lessons.report import LessonRun, write_report
from core.local_broker import LocalBrokerError, find_server
from core.local_flow import ManagedNode
from core.management import ManagementApi
from core.settings import DEFAULT_URL, ENV_VAR, ConnectionSettings, SettingsError

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2

QUIET = ("core.topology", "core.producer", "core.worker", "core.attempts", "core.runner")
"""Loggers whose warnings are the lessons' own doing (adopted queues, killed brokers)."""


def _dot(text: str) -> float:
    value = float(text)
    if not 0 <= value <= 10:
        raise argparse.ArgumentTypeError("must be from 0 to 10 seconds")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The ``kanin lesson`` parser."""
    parser = argparse.ArgumentParser(
        prog="kanin lesson", description="The tutorial's lessons as experiments on the broker."
    )
    commands = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    commands.add_parser("list", help="each lesson's name and what it shows")
    run = commands.add_parser("run", help="run lessons and print their outcomes")
    run.add_argument("names", nargs="+", metavar="NAME", help="lesson names, or 'all'")
    where = run.add_mutually_exclusive_group()
    where.add_argument(
        "--url",
        action="append",
        metavar="URL",
        help=f"broker URL (default: ${ENV_VAR}, else {DEFAULT_URL.replace('%', '%%')})",
    )
    where.add_argument(
        "--local-broker",
        action="store_true",
        help="run on Kanin's own node (started if needed); durability and confirms need it",
    )
    run.add_argument("--local-broker-dir", metavar="DIR", default=None, help=argparse.SUPPRESS)
    run.add_argument(
        "--management-url",
        metavar="URL",
        help="the broker's management API (e.g. http://127.0.0.1:15672), for unacked counts",
    )
    run.add_argument(
        "--dot",
        type=_dot,
        default=DEFAULT_DOT_SECONDS,
        metavar="SECONDS",
        help=f"work time of one '.' in a task (default {DEFAULT_DOT_SECONDS}; the tutorial's is 1)",
    )
    run.add_argument("--json", action="store_true", help="one JSON object per lesson")
    run.add_argument("--report", metavar="FILE.html", type=Path, help="write an HTML report")
    run.add_argument("-v", "--verbose", action="store_true", help="log what happens")
    return parser


def main(argv: Sequence[str], *, out: TextIO | None = None) -> int:
    """Run ``kanin lesson ...``; returns the exit code."""
    stream = out or sys.stdout
    try:
        args = build_parser().parse_args(list(argv))
    except SystemExit as exc:  # argparse: --help gives 0, errors 2
        return int(exc.code or 0)
    if args.action == "list":
        width = max(len(name) for name in catalog.LESSONS)
        for name, lesson in catalog.LESSONS.items():
            print(f"{name:<{width}}  {lesson.summary}", file=stream)
        return EXIT_OK
    _quiet_logs(args.verbose)
    try:
        names = list(catalog.LESSONS) if args.names == ["all"] else list(dict.fromkeys(args.names))
        lessons = [catalog.find(name) for name in names]
    except KeyError as exc:
        print(f"kanin: {exc.args[0]}", file=sys.stderr)
        return EXIT_USAGE
    needing = [lesson.name for lesson in lessons if lesson.needs_own_node]
    if needing and not args.local_broker:
        print(
            f"kanin: lesson {', '.join(needing)} restarts or kills the broker, so it runs only "
            "on Kanin's own node: add --local-broker (never on a broker Kanin does not manage).",
            file=sys.stderr,
        )
        return EXIT_USAGE
    if args.local_broker:
        return _on_local_broker(args, lessons, stream)
    try:
        settings = ConnectionSettings.resolve(args.url)
    except SettingsError as exc:
        print(f"kanin: {exc}", file=sys.stderr)
        return EXIT_USAGE
    return _run(args, lessons, LabConfig(settings, args.dot, None, _api(args, settings)), stream)


def _quiet_logs(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    if not verbose:
        logging.getLogger("pika").setLevel(logging.CRITICAL)
        for name in (*QUIET, "core.lessons"):
            logging.getLogger(name).setLevel(logging.ERROR)


def _api(args: argparse.Namespace, settings: ConnectionSettings) -> ManagementApi | None:
    if not args.management_url:
        return None
    address = settings.primary
    return ManagementApi(args.management_url, address.username, address.password)


def _on_local_broker(args: argparse.Namespace, lessons: list[type[Lesson]], out: TextIO) -> int:
    node = ManagedNode(args.local_broker_dir, find=find_server)
    try:
        broker = node.prepare()
        print(
            f"kanin: starting the local broker {broker.node_name} "
            f"on 127.0.0.1:{broker.amqp_port} ...",
            file=sys.stderr,
            flush=True,
        )
        node.start()
        settings = node.connection()
        config = LabConfig(settings, args.dot, broker, _api(args, settings))
        return _run(args, lessons, config, out)
    except (LocalBrokerError, OSError) as exc:
        print(f"kanin: {exc}", file=sys.stderr)
        return EXIT_FAILED
    finally:
        try:
            node.close()
        except LocalBrokerError as exc:
            print(f"kanin: {exc}", file=sys.stderr)


def _run(
    args: argparse.Namespace, lessons: list[type[Lesson]], config: LabConfig, out: TextIO
) -> int:
    try:
        broker = Lab(config, "probe").broker_identity()
    except (pe.AMQPError, OSError, BrokerError) as exc:
        print(f"kanin: {describe(exc, config.settings.primary)}", file=sys.stderr)
        return EXIT_FAILED
    runs: list[LessonRun] = []
    for lesson in lessons:
        if not args.json:
            print(f"== {lesson.name}: {lesson.title}", file=out)
            print(f"   Prediction: {lesson.prediction}", file=out, flush=True)
        outcome = run_lesson(lesson(config))
        runs.append(LessonRun(lesson, outcome))
        _print(outcome, out, as_json=args.json)
    if args.report is not None:
        try:
            write_report(args.report, runs, broker)
        except OSError as exc:
            print(f"kanin: cannot write the report: {exc}", file=sys.stderr)
            return EXIT_FAILED
        if not args.json:
            print(f"Report written to {args.report}", file=out)
    return EXIT_OK if all(run.outcome.passed for run in runs) else EXIT_FAILED


def _print(outcome: Outcome, out: TextIO, *, as_json: bool) -> None:
    if as_json:
        print(json.dumps(outcome.as_json()), file=out, flush=True)
        return
    for sentence in outcome.sentences:
        print(f"   {sentence}", file=out)
    mark = "matched the prediction" if outcome.passed else "CONTRADICTED the prediction"
    print(f"   Outcome: {mark} ({outcome.seconds:.1f} s)", file=out, flush=True)
