"""The outbox: Kanin's new tasks, made, shown as *sending* and handed to the session's producer.

A batch of up to ``ENQUEUE_CHUNK`` texts goes out at once. A bigger one gets
all its ids at once and is made and handed over a chunk per event-loop turn
(the first one now), while the workers step aside (``PriorityGate.first``), so
the window stays responsive; later batches wait for it, in order.

The outbox keeps each task it sent until the broker confirms it (pruned as
it grows), so tasks still *waiting for broker* when the settings change can
be handed to the next session's producer (``take_stranded`` and
``hand_over``) instead of staying behind in a producer that is closing.
"""

from __future__ import annotations

import collections
import logging
import os
import random
import time
from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer, Slot

from core.ledger import TaskState
from core.priority import PriorityGate
from core.producer import Producer
from core.router import ConnectionState, Router
from core.tasks import Task
from desktop.pacer import ENQUEUE_CHUNK
from desktop.task_model import TaskTableModel

log = logging.getLogger(__name__)


class Outbox(QObject):
    """Makes tasks from texts, shows them, and submits them to the producer in force.

    Args:
        model: the task table (rows appear there as *sending*).
        router: says whether the session is connected or cannot send at all.
        gate: the workers' priority gate.
        on_waiting: called after tasks were marked *waiting for broker*.
        parent: the owning QObject.

    Attributes:
        producer: the session's producer (``None``: nothing can be sent).
        closed: Kanin is closing: new tasks are shown as not sent.
    """

    def __init__(
        self,
        model: TaskTableModel,
        router: Router,
        gate: PriorityGate,
        on_waiting: Callable[[], None],
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.producer: Producer | None = None
        self.closed = False
        self._model = model
        self._router = router
        self._gate = gate
        self._on_waiting = on_waiting
        self._counter = 0
        # Chunks still to hand over: (ids, texts, created).
        self._chunks: collections.deque[tuple[list[str], list[str], float]] = collections.deque()
        self._size = 0
        # Tasks handed to a producer, by id, until pruned once the broker confirmed them.
        self._sent: dict[str, Task] = {}
        self._prune_at = 2 * ENQUEUE_CHUNK
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(0)
        self._timer.timeout.connect(self._on_turn)

    @property
    def size(self) -> int:
        """Tasks of big batches not handed over yet."""
        return self._size

    def enqueue(self, texts: list[str]) -> list[str]:
        """Enqueue one task per text (see the module's note on big batches).

        Returns:
            The new tasks' ids.
        """
        if not texts:
            return []
        if len(texts) <= ENQUEUE_CHUNK and not self._chunks:
            return self._send([Task.new(text) for text in texts])
        raw = os.urandom(8 * len(texts)).hex()  # what Task.new's ids are: 16 hex digits
        ids = [raw[i : i + 16] for i in range(0, len(raw), 16)]
        created = time.time()
        for start in range(0, len(texts), ENQUEUE_CHUNK):
            end = start + ENQUEUE_CHUNK
            self._chunks.append((ids[start:end], list(texts[start:end]), created))
        self._size += len(texts)
        log.info("Enqueued %d tasks.", len(texts))
        if not self._timer.isActive():
            self._on_turn()
        return ids

    def enqueue_mixed(self, count: int, min_dots: int, max_dots: int) -> list[str]:
        """Enqueue ``count`` numbered tasks of random lengths (``min_dots`` to ``max_dots``)."""
        low, high = sorted((max(0, min_dots), max(0, max_dots)))
        texts = []
        for _ in range(count):
            self._counter += 1
            texts.append(f"Task {self._counter} " + "." * random.randint(low, high))
        return self.enqueue(texts)

    def take_stranded(self, *, sending_too: bool) -> list[Task]:
        """The tasks the broker has not confirmed that the session's producer never published.

        Called as the session ends: its producer is closed without publishing
        them. Tasks *waiting for broker* are always among them; tasks still
        *sending* only with ``sending_too`` (the session never connected, so
        nothing reached a broker), since a connected producer drains those itself.

        Returns:
            The tasks, in the order they were enqueued (forgotten here until ``hand_over``).
        """
        ledger = self._model.ledger
        states = (TaskState.WAITING, TaskState.SENDING) if sending_too else (TaskState.WAITING,)
        stranded = []
        for task_id, task in self._sent.items():
            record = ledger.get(task_id)
            if record is not None and record.state in states:
                stranded.append(task)
        for task in stranded:
            del self._sent[task.id]
        return stranded

    def hand_over(self, tasks: list[Task]) -> bool:
        """Submit tasks of an earlier session to this session's producer, shown as *waiting*.

        Returns:
            False when this session cannot send (bad settings): the tasks stay
            *waiting for broker* and are kept for the next session.
        """
        producer = self.producer
        if not tasks:
            return True
        for task in tasks:
            self._sent[task.id] = task
        if producer is None or self._router.send_error or self.closed:
            return False
        producer.submit(tasks)
        ids = [task.id for task in tasks]
        self._model.ledger.mark_waiting(ids)  # sending -> waiting until this producer publishes
        self._model.flush()
        self._on_waiting()
        return True

    def close(self) -> None:
        """Hand every waiting chunk over now; tasks enqueued from now on are not sent."""
        while self._chunks:
            self._turn()
        self._timer.stop()
        self.closed = True

    @Slot()
    def _on_turn(self) -> None:
        with self._gate.first():
            self._turn()

    def _turn(self) -> None:
        if self._chunks:
            ids, texts, created = self._chunks.popleft()
            self._size -= len(ids)
            tasks = [
                Task(id=task_id, body=text.encode("utf-8"), created=created)
                for task_id, text in zip(ids, texts, strict=True)
            ]
            self._send(tasks, quiet=True)
        if self._chunks:
            self._timer.start()

    def _send(self, tasks: list[Task], *, quiet: bool = False) -> list[str]:
        # A chunk of a big enqueue (quiet) is shown by the next tick, not repainted now.
        model = self._model
        model.add_tasks(tasks, flush=not quiet)
        ids = [task.id for task in tasks]
        producer = self.producer
        send_error = self._router.send_error
        if send_error or producer is None or self.closed:
            reason = send_error or "Kanin is closing; the task was not sent."
            model.ledger.mark_rejected(ids, f"Not sent: {reason}")
            model.flush()
        else:
            producer.submit(tasks)
            self._keep(tasks)
            if self._router.state is not ConnectionState.CONNECTED:
                model.ledger.mark_waiting(ids)
                model.flush()
                self._on_waiting()
            if len(tasks) == 1 and not quiet:
                log.info("Enqueued task %s: %s", ids[0], tasks[0].preview)
            elif not quiet:
                log.info("Enqueued %d tasks.", len(tasks))
        return ids

    def _keep(self, tasks: list[Task]) -> None:
        """Remember tasks until the broker confirms them; prune the confirmed ones now and then."""
        sent = self._sent
        for task in tasks:
            sent[task.id] = task
        if len(sent) >= self._prune_at:
            ledger = self._model.ledger
            unsent = (TaskState.SENDING, TaskState.WAITING)
            for task_id in [
                i for i in sent if (r := ledger.get(i)) is None or r.state not in unsent
            ]:
                del sent[task_id]
            self._prune_at = max(2 * ENQUEUE_CHUNK, 2 * len(sent))
