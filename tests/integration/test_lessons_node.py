"""The lessons that need Kanin's own node, on a private node started once for the module.

The node has the management API, so the forgotten-ack lesson reads the broker's
own unacked count and the poison lesson sets a real dead-letter policy; then
durability restarts it (through ``kanin lesson run --local-broker``, which
adopts the running node) and confirms kills it twice.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator

import pytest

from core.cli import main
from core.lessons.base import run_lesson
from core.lessons.confirms import PublisherConfirms
from core.lessons.forgotten import TASKS, ForgottenAcknowledgment
from core.lessons.lab import LabConfig
from core.lessons.poison import MAX_ATTEMPTS, PoisonTask
from core.local_broker import LocalBroker
from core.management import ManagementApi
from core.settings import ConnectionSettings
from tests.helpers.private_broker import running_node

pytestmark = [pytest.mark.broker, pytest.mark.timeout(300)]


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalBroker]:
    with running_node(tmp_path_factory.mktemp("lessons-node"), management=True) as broker:
        yield broker


def config(node: LocalBroker, *, management: bool = False) -> LabConfig:
    settings = ConnectionSettings.from_urls([node.amqp_url])
    url = node.management_url
    api = ManagementApi(url, "guest", "guest") if management and url else None
    return LabConfig(settings, dot_seconds=0.02, node=node, management=api)


def test_forgotten_ack_the_management_api_counts_every_task_unacked(node: LocalBroker) -> None:
    outcome = run_lesson(ForgottenAcknowledgment(config(node, management=True)))
    assert outcome.figures["unacked_management_api"] == TASKS
    assert outcome.figures["ready_while_worker_lives"] == 0
    assert outcome.figures["ready_after_worker_died"] == TASKS
    assert outcome.passed


def test_poison_on_kanins_node_is_dead_lettered_by_policy_counted_by_the_quorum_queue(
    node: LocalBroker,
) -> None:
    outcome = run_lesson(PoisonTask(config(node)))
    figures = outcome.figures
    assert figures["attempts"] == list(range(1, MAX_ATTEMPTS + 1))
    assert figures["dead_lettered"] == 1
    assert figures["left_in_queue"] == 0
    assert "policy" in str(figures["set_up_with"])
    assert "kanin-dead-letter-kanin.lesson.poison." not in node.ctl("list_policies")  # removed
    assert outcome.passed


def test_durability_through_the_cli_transient_lost_persistent_kept(node: LocalBroker) -> None:
    out = io.StringIO()
    code = main(
        ["lesson", "run", "durability", "--local-broker", "--local-broker-dir",
         str(node.base_dir), "--json"],
        out=out,
    )  # fmt: skip
    result = json.loads(out.getvalue())
    figures = result["figures"]
    assert figures["transient"] == {"before": 3, "after": "queue gone"}
    assert figures["classic"] == {"before": 3, "after": 3}
    assert figures["quorum"] == {"before": 3, "after": 3}
    assert result["passed"] is True
    assert code == 0
    assert node.is_running()  # the CLI adopted the node: it leaves it running


def test_confirms_without_them_tasks_are_lost_with_them_none(node: LocalBroker) -> None:
    outcome = run_lesson(PublisherConfirms(config(node)))
    plain = outcome.figures["without_confirms"]
    confirmed = outcome.figures["with_confirms"]
    assert isinstance(plain, dict)
    assert isinstance(confirmed, dict)
    assert plain["believed_sent"] > plain["queued"]  # some it believed sent are gone
    assert confirmed["believed_sent"] > 0
    assert confirmed["queued"] >= confirmed["believed_sent"]  # every confirmed task survived
    assert outcome.passed
    assert node.is_running()
