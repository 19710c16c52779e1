"""``kanin cluster ...`` without a node: parsing, usage errors, a stopped cluster's status."""

from __future__ import annotations

import argparse
import io
import json

import pytest

from core.cli import EXIT_OK, EXIT_USAGE, build_parser
from core.cluster_cli import run_cluster
from core.local_broker import find_server


def cli(words: list[str]) -> argparse.Namespace:
    """Parsed ``kanin cluster WORDS`` (not through ``core.cli.main``, which sets up logging)."""
    return build_parser().parse_args(["cluster", *words])


def test_the_cluster_actions_parse():
    args = build_parser().parse_args(["cluster", "kill", "kanin-2"])
    assert (args.command, args.action, args.node) == ("cluster", "kill", "kanin-2")
    args = build_parser().parse_args(["cluster", "start", "--nodes", "5"])
    assert args.nodes == 5
    assert build_parser().parse_args(["cluster", "stop", "--wipe"]).wipe
    assert build_parser().parse_args(["cluster", "status", "--json"]).json


def test_zero_nodes_is_a_usage_error(tmp_path):
    code = run_cluster(cli(["--dir", str(tmp_path), "start", "--nodes", "0"]), io.StringIO())
    assert code == EXIT_USAGE


def test_status_json_of_a_cluster_never_started_says_every_node_is_down(tmp_path):
    if find_server() is None:
        pytest.skip("rabbitmq-server is not installed")
    out = io.StringIO()
    code = run_cluster(cli(["--dir", str(tmp_path / "c"), "status", "--json"]), out)
    assert code == EXIT_OK
    status = json.loads(out.getvalue())
    assert [(n["name"], n["running"]) for n in status["nodes"]] == [
        (f"kanin-{i}@localhost", False) for i in (1, 2, 3)
    ]
    assert status["leader"] is None
    assert not (tmp_path / "c").exists()  # asking wrote nothing
