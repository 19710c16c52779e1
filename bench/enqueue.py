"""Enqueue with publisher confirms: Kanin's Producer against raw pika, same run.

- Kanin: ``Producer.submit(tasks)`` then ``wait_idle()``: every task confirmed.
- pika, synchronous confirms: ``BlockingChannel.confirm_delivery()`` then one
  ``basic_publish`` per task, each waiting for its confirm (the tutorial's
  ``new_task.py`` plus ``confirm_delivery()``).
- pika, no confirms: ``basic_publish`` per task; the clock stops after a
  passive ``queue_declare`` round trip on the same channel, which the broker
  answers only after handling every publish before it.

Task objects (ids, bodies) are made before the clock starts, for all three.
"""

from __future__ import annotations

import time

import pika

from bench import common
from core.producer import Producer
from core.tasks import Task
from core.topology import QueueSpec, QueueType

TUTORIAL_PROPERTIES = pika.BasicProperties(delivery_mode=pika.DeliveryMode.Persistent)


def kanin(queue: str, queue_type: QueueType, count: int, url: str = common.URL) -> float:
    """Kanin's pipelined confirms; returns confirmed tasks per second."""
    tasks = [Task.new(f"task-{i}") for i in range(count)]
    producer = Producer(common.settings(url), QueueSpec(queue, queue_type))
    producer.start()
    try:
        started = time.perf_counter()
        futures = producer.submit(tasks)
        if not producer.wait_idle(timeout=300):
            raise TimeoutError(f"Kanin's producer left {producer.waiting} unconfirmed")
        elapsed = time.perf_counter() - started
        failed = sum(1 for future in futures if future.exception() is not None)
        if failed:
            raise RuntimeError(f"{failed} tasks were not confirmed")
        return count / elapsed
    finally:
        producer.close(timeout=10)


def pika_sync_confirms(queue: str, count: int, url: str = common.URL) -> float:
    """One ``basic_publish`` per task on a confirming channel; returns tasks per second."""
    bodies = common.task_bodies(count)
    connection = common.connect(url)
    try:
        channel = connection.channel()
        channel.confirm_delivery()
        started = time.perf_counter()
        for body in bodies:
            channel.basic_publish(
                exchange="", routing_key=queue, body=body, properties=TUTORIAL_PROPERTIES
            )
        elapsed = time.perf_counter() - started
        return count / elapsed
    finally:
        connection.close()


def pika_no_confirms(queue: str, count: int, url: str = common.URL) -> float:
    """Publishes without confirms, then one round trip; returns tasks per second."""
    bodies = common.task_bodies(count)
    connection = common.connect(url)
    try:
        channel = connection.channel()
        started = time.perf_counter()
        for body in bodies:
            channel.basic_publish(
                exchange="", routing_key=queue, body=body, properties=TUTORIAL_PROPERTIES
            )
        channel.queue_declare(queue=queue, passive=True)
        elapsed = time.perf_counter() - started
        return count / elapsed
    finally:
        connection.close()
