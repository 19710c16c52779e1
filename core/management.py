"""A small client of RabbitMQ's management HTTP API: one user's requests, answers as JSON.

The monitor reads a queue's figures with it and the dead-letter set-up writes
policies with it. Every failure (unreachable, refused, not JSON, not HTTP at
all) becomes one ``ManagementError`` whose message says which; the password
is sent in the ``Authorization`` header only, never logged or shown.
"""

from __future__ import annotations

import base64
import http.client
import json
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from core.errors import BrokerError
from core.settings import BrokerAddress

DEFAULT_PORT = 15672


class ManagementError(BrokerError):
    """The management API did not answer, or refused; ``status`` is the HTTP code, if any.

    Args:
        message: the sentence to show.
        status: the HTTP status of a refusal, ``None`` when there was no answer.
    """

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message, fatal=status in (401, 403))
        self.status = status


def vhost_path(kind: str, vhost: str, name: str) -> str:
    """``/api/<kind>/<vhost>/<name>`` with both names escaped (``/`` becomes ``%2F``)."""
    return f"/api/{kind}/{quote(vhost, safe='')}/{quote(name, safe='')}"


@dataclass(frozen=True)
class ManagementApi:
    """The management API at one base URL, used as one user.

    Attributes:
        base_url: e.g. ``http://127.0.0.1:15672``.
        username: the user (needs a management tag; ``policymaker`` to set policies).
        password: its password (not shown by ``repr``).
        timeout: seconds to wait for an answer.
    """

    base_url: str
    username: str
    password: str = field(repr=False)
    timeout: float = 10.0

    @classmethod
    def for_broker(
        cls, address: BrokerAddress, port: int = DEFAULT_PORT, timeout: float = 10.0
    ) -> ManagementApi:
        """The API on the broker's host at ``port``, with the broker's credentials.

        ``https`` when the broker's URL is ``amqps``.
        """
        scheme = "https" if address.scheme == "amqps" else "http"
        return cls(f"{scheme}://{address.host}:{port}", address.username, address.password, timeout)

    def get(self, path: str) -> Any:
        """``GET path`` and return the decoded JSON answer."""
        return self.request("GET", path)

    def put(self, path: str, body: dict[str, Any]) -> None:
        """``PUT path`` with a JSON body."""
        self.request("PUT", path, body)

    def delete(self, path: str) -> None:
        """``DELETE path``."""
        self.request("DELETE", path)

    def queue(self, vhost: str, name: str) -> dict[str, Any]:
        """The API's record of one queue (``messages_ready``, ``messages_unacknowledged``, ...).

        Raises:
            ManagementError: when there is no such record.
        """
        data = self.get(vhost_path("queues", vhost, name))
        if not isinstance(data, dict):
            raise ManagementError(f"The management API at {self.base_url} sent no queue record.")
        return data

    def request(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        """Send one request; return the decoded JSON answer (``None`` for an empty one).

        Raises:
            ManagementError: when the API cannot be reached, refuses, or answers nonsense.
        """
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(  # noqa: S310 - the URL is the user's broker
            self.base_url.rstrip("/") + path, data=data, method=method
        )
        token = base64.b64encode(f"{self.username}:{self.password}".encode()).decode()
        request.add_header("Authorization", f"Basic {token}")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                raw = response.read()
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode(errors="replace")[:200]
            raise ManagementError(
                f"The management API refused {method} {path}: {exc.code} {detail}",
                status=exc.code,
            ) from exc
        except (urllib.error.URLError, OSError, http.client.HTTPException, ValueError) as exc:
            raise ManagementError(
                f"The management API at {self.base_url} cannot be reached: {exc}"
            ) from exc
        if not raw.strip():
            return None
        try:
            return json.loads(raw)
        except ValueError as exc:
            raise ManagementError(
                f"The management API at {self.base_url} did not answer in JSON."
            ) from exc
