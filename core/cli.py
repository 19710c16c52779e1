"""The headless command line: ``kanin worker`` and ``kanin new-task``.

Both speak the official tutorial's format and print what its scripts print
(`` [x] Received <body>``, `` [x] Done``, `` [x] Sent <message>``), so
scripts written against the tutorial keep working. Exit codes:

- 0: done (``worker`` stopped by Ctrl+C/SIGTERM or reached ``--max-tasks``).
- 1: the broker could not be reached, refused the login or refused a task.
- 2: bad command line or settings (wrong URL, bad option).
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from collections.abc import Sequence
from types import FrameType
from typing import TextIO

from pika import BlockingConnection

from core import identity
from core.attempts import DEFAULT_MAX_ATTEMPTS
from core.budget import TaskBudget
from core.cluster_cli import add_cluster_command, run_cluster
from core.errors import BrokerError, describe
from core.events import TaskFinished, TaskStarted, WorkerConnected, WorkerEvent, WorkerFailed
from core.local_broker import LocalBrokerError, find_server
from core.local_flow import ManagedNode
from core.policies import dead_letter_queue_name
from core.pool import WorkerPool
from core.producer import Producer
from core.sender import NO_PROGRESS_LIMIT, Reporter, SendingStopped, send
from core.settings import DEFAULT_URL, ENV_VAR, ConnectionSettings, SettingsError, read_password
from core.tasks import DEFAULT_MAX_WORK_SECONDS, DEFAULT_MESSAGE
from core.topology import DEFAULT_QUEUE, QueueSpec, QueueType, declare_queue
from core.work import dot_work, poison_work
from core.worker import AckMode, WorkerOptions

EXIT_OK = 0
EXIT_BROKER = 1
EXIT_USAGE = 2

log = logging.getLogger(__name__)


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value


def _non_negative(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError("must be 0 or more")
    return value


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: '{text}'") from None
    if not value > 0:
        raise argparse.ArgumentTypeError("must be more than 0 seconds")
    return value


def add_connection_options(parser: argparse.ArgumentParser) -> None:
    """``--url`` (repeatable), ``--queue`` and ``--queue-type``, shared by every command."""
    parser.add_argument(
        "--url",
        action="append",
        metavar="URL",
        help=f"broker URL; repeat (or separate with commas) for a cluster. "
        f"Default: ${ENV_VAR}, else {DEFAULT_URL.replace('%', '%%')}",
    )
    parser.add_argument(
        "--password-file",
        metavar="FILE",
        help="read the password from the first line of FILE ('-': standard input) instead "
        f"of the URL, for every URL: a password in --url is visible to other users in the "
        f"process list (${ENV_VAR} is not)",
    )
    parser.add_argument(
        "--queue", default=DEFAULT_QUEUE, help=f"queue name (default: {DEFAULT_QUEUE})"
    )
    parser.add_argument(
        "--queue-type",
        choices=[QueueType.QUORUM.value, QueueType.CLASSIC.value],
        default=QueueType.QUORUM.value,
        help="type for a queue that does not exist yet (default: quorum); "
        "an existing queue is used as it is",
    )


def build_parser() -> argparse.ArgumentParser:
    """The parser for the headless subcommands."""
    parser = argparse.ArgumentParser(
        prog="kanin",
        description="Kanin: RabbitMQ work queues. With no command, opens the window.",
        epilog="Exit codes: 0 done, 1 broker unreachable or refused, 2 bad usage.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log details to stderr")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    worker = commands.add_parser(
        "worker",
        help="run headless workers (like the tutorial's worker.py)",
        description="Consume tasks: one second of work per '.' in the body, manual acks.",
        epilog="Ctrl+C or SIGTERM stops gracefully: tasks in progress go back to the queue.",
    )
    add_connection_options(worker)
    worker.add_argument(
        "--prefetch",
        type=_non_negative,
        default=1,
        help="prefetch count (default 1; 0 means unlimited)",
    )
    worker.add_argument(
        "--concurrency",
        type=_positive,
        default=1,
        help="worker threads, each with its own connection",
    )
    worker.add_argument(
        "--max-tasks", type=_positive, default=None, help="exit 0 after this many tasks are acked"
    )
    worker.add_argument(
        "--auto-ack",
        action="store_true",
        help="acknowledge on delivery (demonstrates losing tasks when a worker dies)",
    )
    worker.add_argument(
        "--max-work-seconds",
        type=float,
        default=DEFAULT_MAX_WORK_SECONDS,
        help="cap on one task's work time (default 600)",
    )
    worker.add_argument("--heartbeat", type=_non_negative, default=None, help="heartbeat seconds")
    worker.add_argument(
        "--local-broker",
        action="store_true",
        help="start Kanin's own RabbitMQ node (data in the user data folder) and use it "
        "instead of --url; it is stopped on exit, its queued tasks stay",
    )
    worker.add_argument("--local-broker-dir", metavar="DIR", default=None, help=argparse.SUPPRESS)
    worker.add_argument(
        "--poison",
        action="store_true",
        help="tasks containing the word 'poison' fail (to show redelivery and dead-lettering)",
    )
    worker.add_argument(
        "--max-attempts",
        type=_positive,
        default=DEFAULT_MAX_ATTEMPTS,
        help="a task whose work fails this many times goes to <queue>.dead, on any broker "
        f"(default {DEFAULT_MAX_ATTEMPTS}); each retry waits longer (1 s, 2 s, 4 s... up to "
        "60 s). With --local-broker Kanin also sets the dead-letter policy",
    )

    new_task = commands.add_parser(
        "new-task",
        help="enqueue tasks (like the tutorial's new_task.py), with publisher confirms",
        description="Publish persistent tasks and wait for the broker's confirms.",
    )
    add_connection_options(new_task)
    new_task.add_argument("--count", type=_positive, default=1, help="how many copies to send")
    new_task.add_argument(
        "--timeout",
        type=_seconds,
        default=None,
        metavar="SECONDS",
        help="give up (exit 1) when the broker has not confirmed every task within SECONDS; "
        "without it, a block by the broker (a resource alarm) is waited out and only "
        f"{NO_PROGRESS_LIMIT:.0f} s without any confirm end the command",
    )
    new_task.add_argument(
        "message",
        nargs="*",
        help=f"the task text; each '.' is a second of work ('{DEFAULT_MESSAGE}')",
    )
    add_cluster_command(commands)
    return parser


def _drop_reported_errors(record: logging.LogRecord) -> bool:
    """Drop core's ERROR records: the CLI prints those failures itself."""
    return not (record.levelno >= logging.ERROR and record.name.startswith("core."))


def main(argv: Sequence[str] | None = None, *, out: TextIO | None = None) -> int:
    """Run a headless command; returns the exit code."""
    stream = out or sys.stdout
    words = list(sys.argv[1:] if argv is None else argv)
    if words[:1] == ["lesson"]:  # the lesson lab has a command line of its own
        from core.lessons.command import main as lesson_main

        return lesson_main(words[1:], out=stream)
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    if not args.verbose:
        # pika logs every failed attempt with a traceback, and Kanin's fatal errors are
        # printed once as "kanin: ..." below: keep stderr to one sentence per problem.
        logging.getLogger("pika").setLevel(logging.CRITICAL)
        for handler in logging.getLogger().handlers:
            handler.addFilter(_drop_reported_errors)
    if args.command is None:
        parser.print_help(stream)
        return EXIT_USAGE
    identity.set_command(args.command)
    if args.command == "cluster":
        return run_cluster(args, stream)
    try:
        settings = ConnectionSettings.resolve(args.url)
        if args.password_file:
            settings = settings.with_password(read_password(args.password_file))
        queue = QueueSpec(args.queue, QueueType(args.queue_type))
    except (SettingsError, ValueError) as exc:
        print(f"kanin: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if args.command == "worker" and args.poison and not args.local_broker:
        print(
            f"kanin: tasks failing {args.max_attempts} times go to "
            f"'{dead_letter_queue_name(queue.name)}'.",
            file=sys.stderr,
        )
    if args.command == "worker" and args.local_broker:
        return run_with_local_broker(args, queue, stream)
    if args.command == "worker":
        return run_workers(args, settings, queue, stream)
    return run_new_task(args, settings, queue, stream)


def run_with_local_broker(args: argparse.Namespace, queue: QueueSpec, out: TextIO) -> int:
    """``kanin worker --local-broker``: start the managed node, run the workers, stop it."""
    node = ManagedNode(args.local_broker_dir, find=find_server)
    try:
        broker = node.prepare()
    except LocalBrokerError as exc:  # not installed: the message says how to get it
        print(f"kanin: {exc}", file=sys.stderr)
        return EXIT_BROKER
    try:
        print(
            f"kanin: starting the local broker {broker.node_name} "
            f"on 127.0.0.1:{broker.amqp_port} ...",
            file=sys.stderr,
            flush=True,
        )
        node.start()
        settings = node.connection()
        if args.max_attempts:
            setup = node.set_up_dead_lettering(
                settings, queue.name, args.max_attempts, _actual_type(settings, queue)
            )
            print(
                f"kanin: tasks failing {setup.max_attempts} times "
                f"go to '{setup.dead_letter_queue}'.",
                file=sys.stderr,
            )
        return run_workers(args, settings, queue, out)
    except (LocalBrokerError, BrokerError) as exc:
        print(f"kanin: {exc}", file=sys.stderr)
        return EXIT_BROKER
    finally:
        try:
            node.close()
        except LocalBrokerError as exc:
            print(f"kanin: {exc}", file=sys.stderr)


def _actual_type(settings: ConnectionSettings, queue: QueueSpec) -> QueueType:
    """Declare (or adopt) the queue and say which type it really is."""
    try:
        connection = BlockingConnection(settings.pika_parameters())
    except Exception as exc:  # noqa: BLE001 - reported as one sentence
        raise BrokerError(describe(exc, settings.primary)) from exc
    try:
        _channel, report = declare_queue(connection, queue)
    finally:
        if connection.is_open:
            connection.close()
    return report.queue_type


def run_new_task(
    args: argparse.Namespace, settings: ConnectionSettings, queue: QueueSpec, out: TextIO
) -> int:
    """``kanin new-task``: publish with confirms and print `` [x] Sent <message>``."""
    message = " ".join(args.message) or DEFAULT_MESSAGE
    if not args.verbose:  # the reporter prints the producer's warnings as one line each
        logging.getLogger("core.producer").setLevel(logging.ERROR)
    reporter = Reporter(sys.stderr, can_give_up=args.timeout is None)
    producer = Producer(settings, queue, reporter)
    try:
        report = producer.start()
        if report is not None and report.adopted:
            print(f"kanin: {report.describe()}", file=sys.stderr)
        send(producer, message, args.count, out, timeout=args.timeout)
    except (BrokerError, SendingStopped) as exc:
        print(f"kanin: {exc}", file=sys.stderr)
        return EXIT_BROKER
    finally:
        producer.close(timeout=5, drain=False)
    return EXIT_OK


class _Printer:
    """Prints the tutorial's lines for each task and remembers a fatal error."""

    def __init__(self, out: TextIO) -> None:
        self._out = out
        self._lock = threading.Lock()
        self.failures: list[str] = []
        self.failed = threading.Event()
        self._greeted = False

    def on_worker_event(self, event: WorkerEvent) -> None:
        if isinstance(event, WorkerConnected):
            with self._lock:
                if self._greeted:
                    return
                self._greeted = True
            line = " [*] Waiting for messages. To exit press CTRL+C"
        elif isinstance(event, TaskStarted):
            line = f" [x] Received {event.delivery.preview}"
        elif isinstance(event, TaskFinished):
            line = " [x] Done"
        elif isinstance(event, WorkerFailed):
            with self._lock:
                self.failures.append(event.message)
            self.failed.set()
            return
        else:
            return
        with self._lock:
            print(line, file=self._out, flush=True)


def run_workers(
    args: argparse.Namespace, settings: ConnectionSettings, queue: QueueSpec, out: TextIO
) -> int:
    """``kanin worker``: run workers until a signal, ``--max-tasks`` or a fatal error."""
    printer = _Printer(out)
    if args.prefetch == 0 and not args.auto_ack:
        print(
            "kanin: --prefetch 0 means unlimited: the broker pushes every ready task to "
            "these workers at once, with no fair dispatch (use 1 for the tutorial's).",
            file=sys.stderr,
        )
    budget = TaskBudget(args.max_tasks) if args.max_tasks else None
    options = WorkerOptions(
        prefetch=args.prefetch,
        ack_mode=AckMode.AUTO if args.auto_ack else AckMode.MANUAL,
        max_work_seconds=args.max_work_seconds,
        heartbeat=args.heartbeat,
        max_attempts=getattr(args, "max_attempts", None),
    )
    work = poison_work if getattr(args, "poison", False) else dot_work
    pool = WorkerPool(settings, queue, printer, options, work=work, budget=budget)
    stop_requested = threading.Event()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        stop_requested.set()

    previous = {
        sig: signal.signal(sig, on_signal)
        for sig in (signal.SIGINT, signal.SIGTERM)
        if threading.current_thread() is threading.main_thread()
    }
    pool.add(args.concurrency)
    try:
        while True:
            if stop_requested.wait(0.2):
                break
            if budget is not None and budget.exhausted.is_set():
                break
            if not pool.names(alive_only=True):
                break
    finally:
        pool.stop_all(timeout=15)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if printer.failures and not (budget is not None and budget.exhausted.is_set()):
        for failure in dict.fromkeys(printer.failures):
            print(f"kanin: {failure}", file=sys.stderr)
        return EXIT_BROKER
    return EXIT_OK
