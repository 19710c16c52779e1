"""Direct broker access for tests: raw pika, used to set up and inspect queues."""

from __future__ import annotations

import os
import threading
import time
import uuid

import pika
import pika.exceptions as pe

TEST_URL = os.environ.get("KANIN_TEST_URL", "amqp://guest:guest@localhost:5672/%2F")


def unique_queue(prefix: str = "kanin-test") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def connect(url: str = TEST_URL) -> pika.BlockingConnection:
    return pika.BlockingConnection(pika.URLParameters(url))


def message_count(queue: str, url: str = TEST_URL) -> int:
    connection = connect(url)
    try:
        ok = connection.channel().queue_declare(queue=queue, passive=True)
        return int(ok.method.message_count)
    finally:
        connection.close()


def delete_queue(queue: str, url: str = TEST_URL) -> None:
    connection = connect(url)
    try:
        connection.channel().queue_delete(queue=queue)
    except pe.ChannelClosedByBroker:
        pass
    finally:
        if connection.is_open:
            connection.close()


def drain(queue: str, url: str = TEST_URL) -> list[bytes]:
    """Take every ready message off the queue (acked) and return the bodies."""
    connection = connect(url)
    bodies: list[bytes] = []
    try:
        channel = connection.channel()
        while True:
            method, _props, body = channel.basic_get(queue=queue, auto_ack=True)
            if method is None:
                return bodies
            bodies.append(body)
    finally:
        connection.close()


def wait_for_count(queue: str, expected: int, timeout: float = 10.0, url: str = TEST_URL) -> int:
    """Poll the ready count until it equals ``expected`` (requeues settle asynchronously).

    Returns the last count seen; the caller asserts on it.
    """
    deadline = time.monotonic() + timeout
    pause = threading.Event()
    count = message_count(queue, url)
    while count != expected and time.monotonic() < deadline:
        pause.wait(0.05)
        count = message_count(queue, url)
    return count
