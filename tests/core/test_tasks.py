"""The task model: tutorial format, identity, safe previews of any body."""

from __future__ import annotations

import pika

from core.memory import TaskMemory
from core.tasks import APP_ID, Task, delivery_from, preview, properties_for, work_seconds


def test_one_second_per_dot_capped():
    assert work_seconds(b"Hello...") == 3.0
    assert work_seconds(b"no dots") == 0.0
    assert work_seconds(b"." * 100_000, max_seconds=600) == 600.0


def test_identity_travels_in_properties_not_in_the_body():
    task = Task.new("Hello..", clock=lambda: 1_700_000_000.5)
    props = properties_for(task)
    assert task.body == b"Hello.."
    assert props.message_id == task.id
    assert props.timestamp == 1_700_000_000
    assert props.delivery_mode == pika.DeliveryMode.Persistent.value
    assert properties_for(task, persistent=False).delivery_mode == 1


def test_kanin_delivery_is_recognised():
    task = Task.new("a.")
    delivery = delivery_from(properties_for(task), task.body, redelivered=False)
    assert (delivery.task_id, delivery.foreign, delivery.delivery_count) == (task.id, False, 1)
    assert delivery.work_seconds == 1.0
    assert delivery.created == int(task.created)


def test_identical_foreign_messages_are_distinct_tasks():
    props = pika.BasicProperties(delivery_mode=2)
    memory = TaskMemory()
    first = delivery_from(props, b"Hello...", redelivered=False, identify=memory.foreign_id)
    second = delivery_from(props, b"Hello...", redelivered=False, identify=memory.foreign_id)
    assert first.foreign
    assert first.task_id.startswith("ext-")
    assert first.task_id != second.task_id
    memory.given_back(first.task_id, b"Hello...")
    again = delivery_from(props, b"Hello...", redelivered=True, identify=memory.foreign_id)
    assert again.task_id == first.task_id  # its redelivery is recognised
    assert again.delivery_count is None  # redelivered, and no counter to say how often


def test_the_default_identity_is_fresh_for_each_first_delivery():
    props = pika.BasicProperties(delivery_mode=2)
    ids = {delivery_from(props, b"same", redelivered=False).task_id for _ in range(3)}
    assert len(ids) == 3


def test_quorum_delivery_count_header():
    props = pika.BasicProperties(headers={"x-delivery-count": 2}, app_id=APP_ID, message_id="x")
    assert delivery_from(props, b"", redelivered=True).delivery_count == 3


def test_previews_are_safe_for_any_body():
    assert preview(b"") == "<empty>"
    assert preview(b"Hello...") == "Hello..."
    assert preview(b"\xff\xfe\x00binary") == "<binary, 9 B>"
    assert preview(b"line\nbreak\x1b") == "line\\nbreak\\x1b"
    huge = preview(b"x" * 5_000_000)
    assert huge.endswith("(4.8 MiB)")
    assert len(huge) < 200
    assert preview("é".encode() * 1000).startswith("é")  # a cut through UTF-8 is still text
