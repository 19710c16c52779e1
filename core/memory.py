"""What this process's workers have seen of each task: done, given back, taken back by a timeout.

Shared by every worker of a process (``SHARED``), guarded by a lock and
bounded in size. It answers three questions that one delivery cannot:

- Which identity does a message without ``message_id`` (a foreign producer's)
  get? Each first delivery a fresh one; a redelivery the identity of an
  earlier delivery of the same body that went back to the queue (or, failing
  that, that was done: then the redelivery is a duplicate).
- Is this redelivery a duplicate, i.e. a task already done here whose ack the
  broker never got (a frozen network, a connection lost right after the ack)?
- Did the broker already take this task back for exceeding its consumer
  timeout (so running it again would loop for ever), and what is that timeout?

Limits: it knows only this process. A task done or given back by another
Kanin process, or identical foreign bodies given back by several workers at
once, cannot be told apart: such a redelivery gets a fresh identity, or the
identity of another delivery with the very same body (they are
indistinguishable on the wire, as the tutorial's messages carry no id).
"""

from __future__ import annotations

import collections
import hashlib
import itertools
import threading

REMEMBERED = 50_000
"""Task ids kept per kind (done, given back); the oldest are forgotten first."""
PER_BODY = 1024
"""Identities kept per foreign body (the tutorial sends the same text many times)."""


def body_digest(body: bytes) -> str:
    """A short content hash (12 hex digits) naming a body."""
    return hashlib.blake2b(body, digest_size=6).hexdigest()


class TaskMemory:
    """The process's memory of tasks across workers and connections (thread-safe).

    Args:
        remembered: how many task ids to keep per kind.

    Attributes:
        broker_timeout_ms: the broker's consumer timeout, learned from a close
            or configured; ``None`` while unknown.
    """

    def __init__(self, remembered: int = REMEMBERED) -> None:
        self._lock = threading.Lock()
        self._limit = remembered
        self._serial = itertools.count(1)
        self._done: collections.OrderedDict[str, None] = collections.OrderedDict()
        self._returned_foreign: dict[str, collections.deque[str]] = {}
        self._done_foreign: dict[str, collections.deque[str]] = {}
        self._timed_out: collections.OrderedDict[str, int | None] = collections.OrderedDict()
        self.broker_timeout_ms: int | None = None

    # ---------------------------------------------------------------- identities

    def foreign_id(self, body: bytes, redelivered: bool) -> str:
        """The identity of one delivery of a message without ``message_id``.

        Args:
            body: the message body.
            redelivered: the broker's redelivered flag.

        Returns:
            ``ext-<hash>-<n>``: a fresh one for a first delivery; for a
            redelivery, the identity of an earlier delivery of the same body
            that went back to the queue, else of one that was done (a
            duplicate), else a fresh one.
        """
        digest = body_digest(body)
        if redelivered:
            with self._lock:
                # The oldest of those given back; else the latest done (its ack was lost).
                for table, oldest in ((self._returned_foreign, True), (self._done_foreign, False)):
                    waiting = table.get(digest)
                    if waiting:
                        task_id = waiting.popleft() if oldest else waiting.pop()
                        if not waiting:
                            del table[digest]
                        return task_id
        return f"ext-{digest}-{next(self._serial)}"

    # ---------------------------------------------------------------- what became of a task

    def done(self, task_id: str, body: bytes | None = None) -> None:
        """The task was done and acknowledged here.

        Args:
            task_id: its identity.
            body: the body of a foreign task (its redelivery, if the ack was
                lost, is then recognised).
        """
        with self._lock:
            self._done[task_id] = None
            if len(self._done) > self._limit:
                self._done.popitem(last=False)
            if body is not None:
                self._remember(self._done_foreign, body, task_id)

    def given_back(self, task_id: str, body: bytes | None = None) -> None:
        """The task went back to the queue unfinished (given back, lost connection, timeout).

        Args:
            task_id: its identity.
            body: the body of a foreign task, so that its redelivery keeps the identity.
        """
        if body is None:
            return
        with self._lock:
            self._remember(self._returned_foreign, body, task_id)

    def was_done(self, task_id: str) -> bool:
        """True when this task was already done and acknowledged here."""
        with self._lock:
            return task_id in self._done

    def timed_out(self, task_id: str, timeout_ms: int | None) -> None:
        """The broker took this task back for exceeding its consumer timeout.

        Args:
            task_id: its identity.
            timeout_ms: the broker's timeout, if it said (learned for all tasks).
        """
        with self._lock:
            self._timed_out[task_id] = timeout_ms
            if len(self._timed_out) > self._limit:
                self._timed_out.popitem(last=False)
            if timeout_ms is not None:
                self.broker_timeout_ms = timeout_ms

    def timeout_of(self, task_id: str) -> tuple[bool, int | None]:
        """Whether the broker took this task back for its timeout before, and the timeout used."""
        with self._lock:
            if task_id in self._timed_out:
                return True, self._timed_out[task_id]
            return False, None

    def _remember(
        self, table: dict[str, collections.deque[str]], body: bytes, task_id: str
    ) -> None:
        waiting = table.setdefault(body_digest(body), collections.deque(maxlen=PER_BODY))
        waiting.append(task_id)
        if len(table) > self._limit:
            del table[next(iter(table))]


SHARED = TaskMemory()
"""The memory every worker of this process uses unless given another."""
