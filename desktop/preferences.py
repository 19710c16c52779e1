"""What the window remembers: connection and worker settings in QSettings, passwords elsewhere.

``AppSettings`` is a plain value. ``SettingsStore`` reads and writes it (and the
window geometry) through a ``QSettings`` handed in by the caller, so tests
can point it at a temporary file. The password is never written to
QSettings: when the user ticks "remember", it goes to a ``SecretStore``, by
default the system keyring through the ``keyring`` library.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Protocol, TypeVar
from urllib.parse import quote, urlsplit

from PySide6.QtCore import QByteArray, QSettings

from core.settings import ConnectionSettings, SettingsError, parse_url, split_urls
from core.topology import DEFAULT_QUEUE, QueueSpec, QueueType
from core.worker import AckMode, WorkerOptions

log = logging.getLogger(__name__)

KEYRING_SERVICE = "Kanin"
WORKER_NICE = 10
"""How far below the GUI thread the window's worker threads run (``WorkerOptions.nice``)."""

_E = TypeVar("_E", bound=enum.Enum)


@dataclass(frozen=True)
class AppSettings:
    """Everything the settings dialog edits.

    Attributes:
        urls: broker URLs without passwords, tried in order.
        username: the user name for every URL.
        password: the password (kept in memory; stored only when ``remember_password``).
        remember_password: store the password in the system keyring.
        queue: the queue name.
        queue_type: the type for a queue that does not exist yet.
        prefetch: each worker's prefetch count.
        ack_mode: manual acks (safe) or auto-ack (to demonstrate loss).
        persistent: publish with ``delivery_mode=2``.
    """

    urls: tuple[str, ...] = ("amqp://localhost:5672/%2F",)
    username: str = "guest"
    password: str = field(default="guest", repr=False)
    remember_password: bool = False
    queue: str = DEFAULT_QUEUE
    queue_type: QueueType = QueueType.QUORUM
    prefetch: int = 1
    ack_mode: AckMode = AckMode.MANUAL
    persistent: bool = True

    def connection(self) -> ConnectionSettings:
        """The connection settings, with this user and password on every URL.

        Raises:
            SettingsError: with a sentence saying what is wrong.
        """
        if not self.username:
            raise SettingsError("The user name is empty; RabbitMQ's default user is 'guest'.")
        return ConnectionSettings.from_urls(self.urls).with_credentials(
            self.username, self.password
        )

    def queue_spec(self) -> QueueSpec:
        """The queue to work on.

        Raises:
            SettingsError: for a name the broker would refuse.
        """
        try:
            return QueueSpec(self.queue.strip(), self.queue_type)
        except ValueError as exc:
            raise SettingsError(str(exc)) from None

    def worker_options(self) -> WorkerOptions:
        """Options for new workers (a lower CPU priority than the window's own thread).

        They keep trying when no broker answers yet: their cards say *reconnecting*
        (rather than failing and vanishing at the next retry).
        """
        return WorkerOptions(
            prefetch=self.prefetch, ack_mode=self.ack_mode, nice=WORKER_NICE, keep_trying=True
        )

    def validate(self) -> None:
        """Check everything at once.

        Raises:
            SettingsError: the first problem, in one sentence.
        """
        self.connection()
        self.queue_spec()
        if not 0 <= self.prefetch <= 65535:
            raise SettingsError("The prefetch count must be from 0 to 65535.")

    @property
    def redacted(self) -> str:
        """The broker URL(s) for display: the password is never shown."""
        try:
            return self.connection().redacted
        except SettingsError:
            return ", ".join(self.urls)


@dataclass(frozen=True)
class TypedUrls:
    """Broker URLs as the user typed them, split into addresses and credentials.

    Attributes:
        urls: the URLs without user name and password, in order.
        username: the first URL's user name (``guest`` when it names none).
        password: the first URL's password (``guest`` when it names none).
        has_credentials: the first URL names a user, so its credentials were typed.
    """

    urls: tuple[str, ...]
    username: str
    password: str = field(repr=False)
    has_credentials: bool


def split_credentials(entries: Iterable[str]) -> TypedUrls:
    """Take the credentials from the first of the URLs typed; the URLs keep none.

    Args:
        entries: URLs as typed (an entry may hold a comma or space separated list).

    Returns:
        The URLs without credentials and the first URL's user name and password.

    Raises:
        SettingsError: for a malformed URL, or none at all.
    """
    raw = [url for entry in entries for url in split_urls(entry)]
    if not raw:
        raise SettingsError(
            "The broker URL is empty; expected amqp://user:password@host:port/vhost."
        )
    addresses = [parse_url(url) for url in raw]
    first = addresses[0]
    return TypedUrls(
        urls=tuple(strip_credentials(address.url) for address in addresses),
        username=first.username,
        password=first.password,
        has_credentials=urlsplit(raw[0]).username is not None,
    )


def from_urls(urls: list[str], base: AppSettings | None = None) -> AppSettings:
    """Settings for URLs given on the command line or in ``KANIN_URL``.

    The credentials in the first URL become the user name and password
    (``guest`` when it names none); the stored URLs lose them.

    Args:
        urls: URLs as typed, possibly with credentials.
        base: settings to keep the rest from.

    Returns:
        The settings.

    Raises:
        SettingsError: for a malformed URL.
    """
    typed = split_credentials(urls)
    return replace(
        base or AppSettings(),
        urls=typed.urls,
        username=typed.username,
        password=typed.password,
    )


def strip_credentials(url: str) -> str:
    """The URL without user name and password (other parts as they were parsed).

    Args:
        url: a valid AMQP URL.

    Returns:
        ``scheme://host:port/vhost[?query]``.
    """
    address = parse_url(url)
    host = f"[{address.host}]" if ":" in address.host else address.host
    base = f"{address.scheme}://{host}:{address.port}/{quote(address.vhost, safe='')}"
    return f"{base}?{address.query}" if address.query else base


class SecretStore(Protocol):
    """Where a remembered password lives."""

    def available(self) -> bool:
        """True when passwords can be stored."""

    def get(self, account: str) -> str | None:
        """The stored password for an account, if any."""

    def set(self, account: str, password: str) -> None:
        """Store a password (may raise when the store refuses)."""

    def delete(self, account: str) -> None:
        """Forget a password; no error when there is none."""


class KeyringSecrets:
    """The system keyring through the ``keyring`` library, when it has a usable backend."""

    def available(self) -> bool:
        """True when ``keyring`` is installed and its backend is not the failing one."""
        try:
            import keyring
            from keyring.backends import fail
        except ImportError:
            return False
        try:
            return not isinstance(keyring.get_keyring(), fail.Keyring)
        except Exception:  # noqa: BLE001 - a broken backend means no keyring
            return False

    def get(self, account: str) -> str | None:
        """The stored password, or ``None`` (also when the keyring fails)."""
        if not self.available():
            return None
        import keyring

        try:
            return keyring.get_password(KEYRING_SERVICE, account)
        except Exception as exc:  # noqa: BLE001 - a locked or broken keyring
            log.warning("Could not read the password from the system keyring: %s", exc)
            return None

    def set(self, account: str, password: str) -> None:
        """Store the password in the keyring."""
        import keyring

        keyring.set_password(KEYRING_SERVICE, account, password)

    def delete(self, account: str) -> None:
        """Remove the password from the keyring, if it is there."""
        if not self.available():
            return
        import keyring

        try:
            keyring.delete_password(KEYRING_SERVICE, account)
        except Exception:  # noqa: BLE001 - nothing stored, or the keyring refuses
            log.debug("no password to forget for %s", account)


class MemorySecrets:
    """A secret store in memory, for tests and for machines without a keyring.

    Args:
        available: what ``available()`` answers.
    """

    def __init__(self, *, available: bool = True) -> None:
        self._available = available
        self.passwords: dict[str, str] = {}

    def available(self) -> bool:
        """What the constructor was told."""
        return self._available

    def get(self, account: str) -> str | None:
        """The stored password, if any."""
        return self.passwords.get(account)

    def set(self, account: str, password: str) -> None:
        """Store the password."""
        self.passwords[account] = password

    def delete(self, account: str) -> None:
        """Forget the password."""
        self.passwords.pop(account, None)


def account_for(settings: AppSettings) -> str:
    """The keyring account name: ``user@host:port`` of the first URL."""
    try:
        endpoint = parse_url(settings.urls[0]).endpoint
    except (SettingsError, IndexError):
        endpoint = "broker"
    return f"{settings.username}@{endpoint}"


class SettingsStore:
    """Reads and writes ``AppSettings`` and the window geometry.

    Args:
        qsettings: where to keep them (tests pass one on a temporary file).
        secrets: where a remembered password goes.
    """

    def __init__(self, qsettings: QSettings, secrets: SecretStore) -> None:
        self.qsettings = qsettings
        self.secrets = secrets

    def saved_urls(self) -> tuple[str, ...]:
        """The remembered broker URLs (none when nothing is remembered)."""
        value = self.qsettings.value("connection/urls", None)
        if isinstance(value, str):
            return tuple(split_urls(value))
        if isinstance(value, list):
            return tuple(str(u) for u in value if str(u))
        return ()

    def local_broker_chosen(self) -> bool:
        """True when the settings were last saved while on Kanin's own local node."""
        return str(self.qsettings.value("connection/local_broker", "false")).lower() == "true"

    def choose_local_broker(self, chosen: bool) -> None:
        """Remember whether the window works on Kanin's own local node (not its port)."""
        self.qsettings.setValue("connection/local_broker", "true" if chosen else "false")

    def load(self) -> AppSettings:
        """The stored settings, defaults where nothing (or nothing valid) is stored."""
        q = self.qsettings
        default = AppSettings()
        settings = replace(
            default,
            urls=self.saved_urls() or default.urls,
            username=str(q.value("connection/username", default.username)),
            remember_password=_bool(q.value("connection/remember_password", False)),
            queue=str(q.value("queue/name", default.queue)),
            queue_type=_enum(QueueType, q.value("queue/type"), default.queue_type),
            prefetch=_int(q.value("workers/prefetch"), default.prefetch),
            ack_mode=_enum(AckMode, q.value("workers/ack_mode"), default.ack_mode),
            persistent=_bool(q.value("tasks/persistent", True)),
        )
        if settings.queue_type is QueueType.UNKNOWN:
            settings = replace(settings, queue_type=QueueType.QUORUM)
        if settings.remember_password:
            password = self.secrets.get(account_for(settings))
            if password is not None:
                settings = replace(settings, password=password)
        return settings

    def save(self, settings: AppSettings) -> str:
        """Store the settings; the password only in the secret store, only if asked.

        Args:
            settings: what to keep.

        Returns:
            A warning for the user when the password could not be remembered, else "".
        """
        q = self.qsettings
        q.setValue("connection/urls", ",".join(settings.urls))
        q.setValue("connection/username", settings.username)
        q.setValue("connection/remember_password", settings.remember_password)
        q.setValue("queue/name", settings.queue)
        q.setValue("queue/type", settings.queue_type.value)
        q.setValue("workers/prefetch", settings.prefetch)
        q.setValue("workers/ack_mode", settings.ack_mode.value)
        q.setValue("tasks/persistent", settings.persistent)
        q.sync()
        account = account_for(settings)
        if not settings.remember_password:
            self.secrets.delete(account)
            return ""
        if not self.secrets.available():
            return "No system keyring is available: the password will be asked again next time."
        try:
            self.secrets.set(account, settings.password)
        except Exception as exc:  # noqa: BLE001 - a locked keyring or a refused write
            log.warning("The system keyring refused the password: %s", exc)
            return f"The system keyring refused the password ({type(exc).__name__})."
        return ""

    def load_geometry(self) -> tuple[QByteArray | None, QByteArray | None]:
        """The saved window geometry and dock/toolbar state, if any."""
        geometry = self.qsettings.value("window/geometry")
        state = self.qsettings.value("window/state")
        return (
            geometry if isinstance(geometry, QByteArray) else None,
            state if isinstance(state, QByteArray) else None,
        )

    def save_geometry(self, geometry: QByteArray, state: QByteArray) -> None:
        """Remember the window geometry and dock/toolbar state."""
        self.qsettings.setValue("window/geometry", geometry)
        self.qsettings.setValue("window/state", state)
        self.qsettings.sync()

    def load_zoom(self) -> int:
        """The window's remembered zoom, in percent of the system font (100 when none)."""
        return _int(self.qsettings.value("window/zoom"), 100)

    def save_zoom(self, percent: int) -> None:
        """Remember the window's zoom, in percent of the system font."""
        self.qsettings.setValue("window/zoom", percent)
        self.qsettings.sync()


def _bool(value: object) -> bool:
    if isinstance(value, str):
        return value.lower() in ("true", "1", "yes")
    return bool(value)


def _int(value: object, default: int) -> int:
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return default


def _enum(kind: type[_E], value: object, default: _E) -> _E:
    try:
        return kind(str(value))
    except ValueError:
        return default
