"""The task model: the official tutorial's wire format plus Kanin's identity.

A task is a plain UTF-8 body; each ``.`` in it is one second of work. Kanin's
own tasks carry an id and a creation time in AMQP properties (``message_id``,
``timestamp``), never in the body, so the tutorial's ``worker.py`` runs them
unchanged. Messages from other producers (no id, binary, empty or huge
bodies) are accepted: they get a derived id and a safe preview.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pika

from core.memory import SHARED

DEFAULT_MESSAGE = "Hello World!"
DEFAULT_MAX_WORK_SECONDS = 600.0
PREVIEW_CHARS = 120
APP_ID = "kanin"


@dataclass(frozen=True)
class Task:
    """A task to enqueue.

    Attributes:
        id: unique id, sent as ``message_id``.
        body: the raw body (UTF-8 text in the tutorial's format).
        created: creation time, seconds since the epoch (sent as ``timestamp``).
    """

    id: str
    body: bytes
    created: float

    @classmethod
    def new(cls, text: str | bytes, *, clock: Any = time.time) -> Task:
        """Make a task with a fresh id from text (or raw bytes)."""
        body = text.encode("utf-8") if isinstance(text, str) else bytes(text)
        return cls(id=uuid.uuid4().hex[:16], body=body, created=float(clock()))

    @property
    def preview(self) -> str:
        """A short, printable form of the body."""
        return preview(self.body)


def work_seconds(body: bytes, max_seconds: float = DEFAULT_MAX_WORK_SECONDS) -> float:
    """Seconds of work a body asks for: one per ``.``, capped at ``max_seconds``."""
    return float(min(body.count(b"."), max_seconds))


def preview(body: bytes, limit: int = PREVIEW_CHARS) -> str:
    """A safe one-line rendering of any body.

    UTF-8 text is shown with control characters escaped; anything else is
    described (``<binary, 2.0 KiB>``). Long bodies are cut with their size noted.
    """
    if not body:
        return "<empty>"
    head = body[: limit * 4]
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A cut through a multi-byte character at the end is still text.
        if len(body) > len(head) and exc.start >= len(head) - 3:
            text = head[: exc.start].decode("utf-8")
        else:
            return f"<binary, {human_size(len(body))}>"
    text = "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text)
    if len(text) > limit or len(body) > len(head):
        return f"{text[:limit]}… ({human_size(len(body))})"
    return text


def human_size(size: int) -> str:
    """``1536`` -> ``1.5 KiB``."""
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{int(value)} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"  # pragma: no cover - loop always returns


def properties_for(task: Task, *, persistent: bool = True) -> pika.BasicProperties:
    """AMQP properties for a Kanin task: persistence, id and creation time."""
    return pika.BasicProperties(
        delivery_mode=pika.DeliveryMode.Persistent if persistent else pika.DeliveryMode.Transient,
        message_id=task.id,
        timestamp=int(task.created),
        content_type="text/plain",
        app_id=APP_ID,
    )


@dataclass(frozen=True)
class Delivery:
    """What a worker knows about a received message, safe to pass between threads.

    Attributes:
        task_id: the ``message_id``, or ``ext-<hash>-<n>`` for messages without one
            (one per delivery, kept across redeliveries where it can be: see ``core.memory``).
        body: the raw body.
        redelivered: the broker's redelivered flag.
        delivery_count: 1 for a first delivery; from ``x-delivery-count`` on quorum
            queues; ``None`` when redelivered on a queue that does not count.
        foreign: True when the message was not published by Kanin.
        created: the ``timestamp`` property, if any.
        work_seconds: how long the work will take.
    """

    task_id: str
    body: bytes
    redelivered: bool
    delivery_count: int | None
    foreign: bool
    created: float | None
    work_seconds: float

    @property
    def preview(self) -> str:
        """A short, printable form of the body."""
        return preview(self.body)


def delivery_from(
    properties: pika.BasicProperties | None,
    body: bytes,
    *,
    redelivered: bool,
    max_work_seconds: float = DEFAULT_MAX_WORK_SECONDS,
    identify: Callable[[bytes, bool], str] | None = None,
) -> Delivery:
    """Describe a received message, deriving what other producers leave out.

    Args:
        properties: the message's properties.
        body: its body.
        redelivered: the broker's redelivered flag.
        max_work_seconds: cap on the work time.
        identify: names a message without ``message_id`` from its body and
            redelivered flag (default: the process's ``core.memory.SHARED``):
            identical bodies from other producers are distinct tasks, so each
            first delivery gets its own identity.

    Returns:
        The delivery.
    """
    message_id = getattr(properties, "message_id", None) if properties else None
    app_id = getattr(properties, "app_id", None) if properties else None
    headers = (getattr(properties, "headers", None) or {}) if properties else {}
    timestamp = getattr(properties, "timestamp", None) if properties else None
    count_header = headers.get("x-delivery-count") if isinstance(headers, dict) else None
    if isinstance(count_header, int):
        delivery_count: int | None = count_header + 1
    else:
        delivery_count = None if redelivered else 1
    if message_id:
        task_id = str(message_id)
    else:
        task_id = (identify or SHARED.foreign_id)(body, redelivered)
    return Delivery(
        task_id=task_id,
        body=body,
        redelivered=redelivered,
        delivery_count=delivery_count,
        foreign=app_id != APP_ID,
        created=float(timestamp) if isinstance(timestamp, int) else None,
        work_seconds=work_seconds(body, max_work_seconds),
    )
