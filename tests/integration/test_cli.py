"""The command line contract, run as real processes: output lines and exit codes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from core.settings import parse_url
from tests.helpers.broker import message_count, wait_for_count
from tests.integration.test_interop import LineReader

KANIN = [sys.executable, "-m", "core"]
ROOT = Path(__file__).resolve().parents[2]


def kanin(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*KANIN, *args], capture_output=True, text=True, timeout=timeout, cwd=ROOT, env=os.environ
    )


def test_new_task_prints_like_the_tutorial_and_waits_for_confirms(broker_url, queue_name):
    result = kanin("new-task", "--url", broker_url, "--queue", queue_name, "Hello..")
    assert result.returncode == 0, result.stderr
    assert result.stdout == " [x] Sent Hello..\n"
    default = kanin("new-task", "--url", broker_url, "--queue", queue_name, "--count", "3")
    assert default.stdout == " [x] Sent Hello World!\n" * 3
    assert message_count(queue_name) == 4


def test_worker_max_tasks_exits_zero_after_that_many_acks(broker_url, queue_name):
    sent = kanin("new-task", "--url", broker_url, "--queue", queue_name, "--count", "5", "job")
    assert sent.returncode == 0, sent.stderr
    result = kanin(
        "worker",
        "--url",
        broker_url,
        "--queue",
        queue_name,
        "--concurrency",
        "2",
        "--max-tasks",
        "3",
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == " [*] Waiting for messages. To exit press CTRL+C"
    assert lines.count(" [x] Received job") == 3
    assert lines.count(" [x] Done") == 3
    assert wait_for_count(queue_name, 2) == 2  # exactly three were taken; the rest wait


def test_sigterm_stops_the_worker_gracefully_and_loses_nothing(broker_url, queue_name):
    kanin("new-task", "--url", broker_url, "--queue", queue_name, "long task" + "." * 30)
    process = subprocess.Popen(
        [*KANIN, "worker", "--url", broker_url, "--queue", queue_name],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    reader = LineReader(process)
    reader.expect(" [x] Received long task" + "." * 30)
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=15) == 0
    assert wait_for_count(queue_name, 1) == 1  # given back, not lost


def test_unreachable_broker_exits_one_with_a_clear_message(queue_name):
    result = kanin("new-task", "--url", "amqp://guest:guest@127.0.0.1:1/%2F", "--queue", queue_name)
    assert result.returncode == 1
    assert "connection refused" in result.stderr
    assert "Traceback" not in result.stderr
    worker = kanin(
        "worker", "--url", "amqp://guest:wrong@127.0.0.1:5672/%2F", "--queue", queue_name
    )
    assert worker.returncode == 1
    assert "refused the login for user 'guest'" in worker.stderr
    assert "wrong" not in worker.stderr


def test_the_password_comes_from_a_file_instead_of_the_process_list(
    broker_url, queue_name, tmp_path
):
    secret = tmp_path / "password"
    secret.write_text(parse_url(broker_url).password + "\n")
    wrong = parse_url(broker_url).url.replace(f":{parse_url(broker_url).password}@", ":x@", 1)
    result = kanin(
        "new-task", "--url", wrong, "--password-file", str(secret), "--queue", queue_name, "hi"
    )
    assert result.returncode == 0, result.stderr
    assert message_count(queue_name) == 1
    (tmp_path / "empty").write_text("")
    empty = kanin("new-task", "--password-file", str(tmp_path / "empty"), "--queue", queue_name)
    assert empty.returncode == 2
    assert empty.stderr == (
        f"kanin: The first line of the password file {tmp_path / 'empty'} is empty; "
        "it should hold the password.\n"
    )


@pytest.mark.parametrize(
    ("query", "sentence"),
    [
        ("ssl_options=xyz", "The URL option ssl_options must be a dict of ssl settings"),
        ("frame_max=1", "The URL option frame_max must be a whole number of bytes"),
        ("channel_max=abc", "The URL option channel_max must be a whole number of channels"),
        ("socket_timeout=-1", "The URL option socket_timeout must be more than 0 seconds"),
    ],
)
def test_a_bad_url_option_is_one_sentence_and_exits_two(query, sentence):
    result = kanin("new-task", "--url", f"amqp://guest:guest@127.0.0.1:5672/%2F?{query}")
    assert result.returncode == 2
    assert result.stderr.startswith(f"kanin: {sentence}")
    assert len(result.stderr.splitlines()) == 1


def test_bad_usage_exits_two():
    assert kanin("new-task", "--url", "localhost").returncode == 2
    assert kanin("worker", "--concurrency", "0").returncode == 2
    assert kanin("new-task", "--timeout", "0").returncode == 2
    assert kanin("new-task", "--timeout", "soon").returncode == 2
    assert "--max-tasks" in kanin("worker", "--help").stdout


def test_the_kanin_entry_point_runs_headless_without_loading_qt():
    code = (
        "import sys, desktop.launcher, core.cli, core.pool, core.producer; "
        "assert desktop.launcher.is_headless(['--url', 'amqp://h', 'worker']); "
        "assert not desktop.launcher.is_headless(['--queue', 'worker']); "
        "assert 'PySide6' not in sys.modules, 'Qt was loaded'"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    help_text = subprocess.run(
        [str(Path(sys.executable).parent / "kanin"), "new-task", "--help"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert help_text.returncode == 0
    assert "--count" in help_text.stdout


def test_prefetch_0_is_said_to_mean_unlimited(broker_url, queue_name):
    """Issue 15: ``--prefetch 0`` is no longer accepted silently."""
    sent = kanin("new-task", "--url", broker_url, "--queue", queue_name, "job")
    assert sent.returncode == 0, sent.stderr
    result = kanin(
        "worker", "--url", broker_url, "--queue", queue_name, "--prefetch", "0", "--max-tasks", "1"
    )
    assert result.returncode == 0, result.stderr
    assert "--prefetch 0 means unlimited" in result.stderr
