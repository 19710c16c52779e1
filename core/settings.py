"""Connection settings: broker URLs, parsed, validated and redacted.

A Kanin connection is described by one or more AMQP URLs (several for a
cluster, tried in order). They come from ``--url``, the ``KANIN_URL``
environment variable (comma or space separated) or the default below.
Passwords never leave this module in readable form except inside the pika
parameters handed to a connection.
"""

from __future__ import annotations

import ast
import enum
import math
import os
import random
import re
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TextIO
from urllib.parse import parse_qs, quote, unquote, urlsplit

import pika
from pika import spec

from core import identity

DEFAULT_URL = "amqp://guest:guest@localhost:5672/%2F"
ENV_VAR = "KANIN_URL"
_DEFAULT_PORTS = {"amqp": 5672, "amqps": 5671}
_KNOWN_QUERY_KEYS = {
    "heartbeat",
    "connection_attempts",
    "retry_delay",
    "socket_timeout",
    "blocked_connection_timeout",
    "channel_max",
    "frame_max",
    "locale",
    "ssl_options",
    "tcp_options",
    "stack_timeout",
}


class SettingsError(ValueError):
    """Raised for connection settings that cannot work; the message is one clear sentence."""


class UrlSource(enum.Enum):
    """Where the broker URLs of a run came from, by precedence (first wins)."""

    COMMAND_LINE = "--url"
    ENVIRONMENT = ENV_VAR
    SAVED = "saved settings"
    DEFAULT = "default"


@dataclass(frozen=True)
class ChosenUrls:
    """The broker URLs of a run, as given (possibly with credentials), and their source.

    Attributes:
        urls: the URLs (an entry may hold a comma or space separated list).
        source: which level of the precedence gave them.
    """

    urls: tuple[str, ...] = field(repr=False)
    source: UrlSource


def choose_urls(
    given: str | Sequence[str] | None,
    *,
    environ: Mapping[str, str] | None = None,
    saved: Sequence[str] = (),
) -> ChosenUrls:
    """Kanin's settings precedence: ``--url``, else ``KANIN_URL``, else saved, else the default.

    Args:
        given: the ``--url`` value(s) of the command line (a string, a list, or nothing).
        environ: the environment (default ``os.environ``).
        saved: the URLs the window remembers (none for the headless commands and the self-test).

    Returns:
        The URLs of the first level that has any, and which level that was.
    """
    env = os.environ if environ is None else environ
    urls = ([given] if given else []) if isinstance(given, str) else list(given or ())
    if urls:
        return ChosenUrls(tuple(urls), UrlSource.COMMAND_LINE)
    if env.get(ENV_VAR, "").strip():
        return ChosenUrls((env[ENV_VAR],), UrlSource.ENVIRONMENT)
    if saved:
        return ChosenUrls(tuple(saved), UrlSource.SAVED)
    return ChosenUrls((DEFAULT_URL,), UrlSource.DEFAULT)


@dataclass(frozen=True)
class BrokerAddress:
    """One parsed broker URL.

    ``repr`` and ``redacted`` hide the password, so an address can be logged.
    """

    scheme: str
    host: str
    port: int
    vhost: str
    username: str
    password: str = field(repr=False)
    heartbeat: int | None = None
    query: str = field(default="", repr=False)

    @property
    def redacted(self) -> str:
        """The URL with the password replaced by ``***``."""
        user = quote(self.username, safe="")
        auth = f"{user}:***@" if self.password else (f"{user}@" if user else "")
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{auth}{host}:{self.port}/{quote(self.vhost, safe='')}"

    @property
    def endpoint(self) -> str:
        """``host:port``, for messages."""
        return f"{self.host}:{self.port}"

    @property
    def url(self) -> str:
        """The full URL, password included: for pika only, never for display."""
        user = quote(self.username, safe="")
        password = quote(self.password, safe="")
        host = f"[{self.host}]" if ":" in self.host else self.host
        base = f"{self.scheme}://{user}:{password}@{host}:{self.port}/{quote(self.vhost, safe='')}"
        return f"{base}?{self.query}" if self.query else base

    def pika_parameters(
        self, *, heartbeat: int | None = None, client: str | None = None
    ) -> pika.URLParameters:
        """Build pika's connection parameters.

        Args:
            heartbeat: overrides the URL's heartbeat when given.
            client: the worker owning the connection, for its name (see ``core.identity``).

        Returns:
            Parameters with one connection attempt and a short socket timeout,
            so that failures are reported quickly and retried by Kanin itself.
        """
        params = pika.URLParameters(self.url)
        if "connection_attempts" not in self.query:
            params.connection_attempts = 1
        if "socket_timeout" not in self.query:
            params.socket_timeout = 5
        if "blocked_connection_timeout" not in self.query:
            params.blocked_connection_timeout = 60
        if heartbeat is not None:
            params.heartbeat = heartbeat
        params.client_properties = identity.client_properties(client)
        return params


def parse_url(url: str) -> BrokerAddress:
    """Parse and check one AMQP URL.

    Args:
        url: e.g. ``amqp://user:pass@host:5672/vhost?heartbeat=30``.

    Returns:
        The address.

    Raises:
        SettingsError: naming what is wrong, without echoing the password.
    """
    text = url.strip()
    if not text:
        raise SettingsError(
            "The broker URL is empty; expected amqp://user:password@host:port/vhost."
        )
    if "://" not in text:
        raise SettingsError(
            "The broker URL must start with amqp:// or amqps:// "
            "(for example amqp://guest:guest@localhost:5672/%2F)."
        )
    try:
        parts = urlsplit(text)
        port_value = parts.port
    except ValueError:
        raise SettingsError(
            f"The broker URL {_hide_password(text)} has a port that is not "
            "a number from 1 to 65535."
        ) from None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        raise SettingsError(
            f"The broker URL scheme '{scheme}' is not supported; use amqp:// or amqps://."
        )
    host = parts.hostname or ""
    if not host:
        raise SettingsError(f"The broker URL {_hide_password(text)} names no host.")
    if port_value == 0:
        raise SettingsError(f"The broker URL {_hide_password(text)} has port 0; use 1 to 65535.")
    port = port_value or _DEFAULT_PORTS[scheme]
    path = parts.path
    if path in ("", "/"):
        vhost = "/"
    else:
        vhost = unquote(path[1:])
        if "/" in path[1:]:
            raise SettingsError(
                f"The vhost in {_hide_password(text)} contains '/'; write it as %2F "
                "(the default vhost '/' is %2F)."
            )
    query = parse_qs(parts.query, keep_blank_values=True)
    unknown = sorted(set(query) - _KNOWN_QUERY_KEYS)
    if unknown:
        raise SettingsError(
            f"The broker URL has unknown option(s) {', '.join(unknown)}; "
            f"known options are {', '.join(sorted(_KNOWN_QUERY_KEYS))}."
        )
    heartbeat: int | None = None
    if "heartbeat" in query:
        raw = query["heartbeat"][-1]
        if not raw.isdigit():
            raise SettingsError(f"The heartbeat must be a whole number of seconds, not '{raw}'.")
        heartbeat = int(raw)
    for key, values in query.items():
        _check_option(key, values)
    return BrokerAddress(
        scheme=scheme,
        host=host,
        port=port,
        vhost=vhost,
        username=unquote(parts.username) if parts.username is not None else "guest",
        password=unquote(parts.password) if parts.password is not None else "guest",
        heartbeat=heartbeat,
        query=parts.query,
    )


_WHOLE = {  # option: (smallest, largest, what it is)
    "connection_attempts": (1, None, "a whole number of attempts, 1 or more"),
    "channel_max": (1, 65535, "a whole number of channels from 1 to 65535"),
    "frame_max": (
        spec.FRAME_MIN_SIZE,
        spec.FRAME_MAX_SIZE,
        f"a whole number of bytes from {spec.FRAME_MIN_SIZE} to {spec.FRAME_MAX_SIZE}",
    ),
}
_SECONDS = {  # option: True when 0 is allowed
    "retry_delay": True,
    "socket_timeout": False,
    "blocked_connection_timeout": True,
    "stack_timeout": False,
}
_DICTS = {
    "ssl_options": "a dict of ssl settings such as {'ca_certs':'/path/ca.pem'}",
    "tcp_options": "a dict of TCP settings such as {'TCP_KEEPIDLE':60}",
}


def _check_option(key: str, values: list[str]) -> None:
    """Check one URL option's value as pika will read it; one sentence when it cannot work."""
    if len(values) != 1:
        raise SettingsError(f"The URL option {key} is given {len(values)} times; give it once.")
    raw = values[0]
    if key in _WHOLE:
        low, high, what = _WHOLE[key]
        value = int(raw) if raw.isdigit() else None
        if value is None or value < low or (high is not None and value > high):
            raise SettingsError(f"The URL option {key} must be {what}, not '{raw}'.")
    elif key in _SECONDS:
        try:
            seconds = float(raw)
        except ValueError:
            seconds = math.nan
        if not (seconds > 0 or (seconds == 0 and _SECONDS[key])) or math.isinf(seconds):
            least = "0 or more" if _SECONDS[key] else "more than 0"
            raise SettingsError(f"The URL option {key} must be {least} seconds, not '{raw}'.")
    elif key in _DICTS:
        try:
            value_of = ast.literal_eval(raw)
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            value_of = None
        if not isinstance(value_of, dict):
            raise SettingsError(f"The URL option {key} must be {_DICTS[key]}, not '{raw}'.")
        if key == "ssl_options":
            try:
                pika.URLParameters(f"amqps://localhost/?ssl_options={quote(raw, safe='')}")
            except Exception as exc:  # noqa: BLE001 - pika's own check, said in one sentence
                raise SettingsError(f"The URL option ssl_options is not accepted: {exc}.") from None


def _hide_password(url: str) -> str:
    """Replace the password in a raw URL with ``***`` without parsing it strictly."""
    return re.sub(r"(://[^:/@]*:)[^@/]*@", r"\1***@", url)


def split_urls(text: str) -> list[str]:
    """Split a comma or whitespace separated list of URLs."""
    return [part for part in re.split(r"[,\s]+", text) if part]


@dataclass(frozen=True)
class ConnectionSettings:
    """Where the broker is: one or more addresses, tried in order.

    Args:
        addresses: at least one broker address.
    """

    addresses: tuple[BrokerAddress, ...]

    def __post_init__(self) -> None:
        if not self.addresses:
            raise SettingsError("At least one broker URL is needed.")

    @classmethod
    def from_urls(cls, urls: Iterable[str]) -> ConnectionSettings:
        """Parse several URLs (each entry may itself hold a comma separated list)."""
        addresses: list[BrokerAddress] = []
        for entry in urls:
            addresses.extend(parse_url(url) for url in split_urls(entry))
        if not addresses:
            raise SettingsError(
                "The broker URL is empty; expected amqp://user:password@host:port/vhost."
            )
        return cls(tuple(addresses))

    @classmethod
    def resolve(
        cls, urls: str | Sequence[str] | None = None, environ: Mapping[str, str] | None = None
    ) -> ConnectionSettings:
        """The settings by ``choose_urls`` (nothing saved): URLs, else ``KANIN_URL``, else default.

        Raises:
            SettingsError: for a malformed URL.
        """
        return cls.from_urls(choose_urls(urls, environ=environ).urls)

    @property
    def primary(self) -> BrokerAddress:
        """The first address: the one shown when a single address is needed."""
        return self.addresses[0]

    @property
    def redacted(self) -> str:
        """All addresses, passwords hidden, comma separated."""
        return ", ".join(address.redacted for address in self.addresses)

    def pika_parameters(
        self, *, heartbeat: int | None = None, client: str | None = None, shuffle: bool = False
    ) -> list[pika.URLParameters]:
        """Parameters for every address, for pika's failover (it tries them in order).

        Args:
            heartbeat: overrides the URLs' heartbeat when given.
            client: the worker owning the connection, for its name (see ``core.identity``).
            shuffle: put the addresses in a random order, as pika's documentation
                recommends, so that many clients spread over a cluster's nodes.
        """
        addresses = list(self.addresses)
        if shuffle:
            random.shuffle(addresses)
        return [a.pika_parameters(heartbeat=heartbeat, client=client) for a in addresses]

    def client_parameters(
        self, client: str, *, heartbeat: int | None = None
    ) -> list[pika.URLParameters]:
        """A worker's parameters: named after it, the addresses shuffled for this connection.

        pika's documentation shuffles the list per client so that clients spread
        over a cluster's nodes; each connection attempt draws a new order.

        Args:
            client: the worker's name (see ``core.identity``).
            heartbeat: overrides the URLs' heartbeat when given.
        """
        return self.pika_parameters(heartbeat=heartbeat, client=client, shuffle=True)

    def with_password(self, password: str) -> ConnectionSettings:
        """The same addresses and users with another password (``--password-file``)."""
        return ConnectionSettings(tuple(replace(a, password=password) for a in self.addresses))

    def with_credentials(self, username: str, password: str) -> ConnectionSettings:
        """The same addresses with another user name and password."""
        return ConnectionSettings(
            tuple(replace(a, username=username, password=password) for a in self.addresses)
        )


def read_password(path: str, stdin: TextIO | None = None) -> str:
    """The password on the first line of a file (``-``: standard input), without its newline.

    Args:
        path: the file, or ``-``.
        stdin: standard input (tests pass their own).

    Returns:
        The password.

    Raises:
        SettingsError: the file cannot be read or its first line is empty.
    """
    try:
        if path == "-":
            line = (stdin or sys.stdin).readline()
        else:
            with open(path, encoding="utf-8") as handle:
                line = handle.readline()
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise SettingsError(f"The password file {path} cannot be read: {reason}.") from None
    password = line.rstrip("\r\n")
    if not password:
        where = "standard input" if path == "-" else f"the password file {path}"
        raise SettingsError(f"The first line of {where} is empty; it should hold the password.")
    return password
