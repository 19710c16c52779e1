"""Turn pika and socket failures into one plain sentence for people.

Every message names the broker by ``host:port`` (never the password) and says
what to check. ``is_fatal`` tells a retry loop whether trying again can help.
"""

from __future__ import annotations

import socket
import ssl

import pika.exceptions as pe

from core.settings import BrokerAddress


class BrokerError(RuntimeError):
    """A failure talking to the broker, with a message fit for a person.

    Args:
        message: the sentence to show.
        fatal: True when retrying cannot help (refused login, missing vhost, 406).
    """

    def __init__(self, message: str, *, fatal: bool = False) -> None:
        super().__init__(message)
        self.fatal = fatal


def _inner(exc: BaseException) -> BaseException:
    """Unwrap pika's ``AMQPConnectionError(inner)`` chains down to the cause."""
    seen = 0
    current = exc
    while seen < 5 and current.args and isinstance(current.args[0], BaseException):
        current = current.args[0]
        seen += 1
    cause = getattr(current, "exception", None)  # pika's connector errors keep it here
    if isinstance(cause, BaseException):
        return cause
    return current


def describe(exc: BaseException, address: BrokerAddress | None = None) -> str:
    """One sentence saying what went wrong and what to check.

    Args:
        exc: the exception raised by pika or the socket layer.
        address: the broker that was being reached, if known.

    Returns:
        A message without the password.
    """
    where = f"the broker at {address.endpoint}" if address else "the broker"
    user = address.username if address else "the user"
    vhost = address.vhost if address else "the virtual host"
    text = str(exc)
    if isinstance(exc, BrokerError):
        return text
    if isinstance(exc, pe.ProbableAuthenticationError | pe.AuthenticationError) or (
        "ACCESS_REFUSED" in text and "Login" in text
    ):
        return (
            f"{where.capitalize()} refused the login for user '{user}': "
            "check the user name and password."
        )
    if isinstance(exc, pe.ProbableAccessDeniedError) or "NOT_ALLOWED" in text:
        return (
            f"Virtual host '{vhost}' does not exist on {where}, or user '{user}' "
            "may not use it: check the vhost in the URL (the default vhost '/' is written %2F)."
        )
    if isinstance(exc, pe.IncompatibleProtocolError):
        return (
            f"Something answered at {address.endpoint if address else 'that address'}, "
            "but not an AMQP 0-9-1 broker: check the port "
            "(RabbitMQ listens on 5672, or 5671 for TLS)."
        )
    if isinstance(exc, pe.ConnectionClosedByBroker):
        return f"{where.capitalize()} closed the connection: {exc.reply_code} {exc.reply_text}."
    if isinstance(exc, pe.ChannelClosedByBroker):
        return f"{where.capitalize()} refused the request: {exc.reply_code} {exc.reply_text}."
    inner = _inner(exc)
    if isinstance(inner, socket.gaierror):
        host = address.host if address else "the host"
        return f"The host '{host}' cannot be found (DNS lookup failed): check the host name."
    if isinstance(inner, ConnectionRefusedError):
        return (
            f"Nothing answers at {address.endpoint if address else 'the broker address'} "
            "(connection refused): is RabbitMQ running there, and is the port right?"
        )
    if isinstance(inner, ssl.SSLError):
        return f"The TLS handshake with {where} failed: {inner.reason or inner}."
    if isinstance(inner, TimeoutError | socket.timeout):
        return f"{where.capitalize()} did not answer in time: check the host, port and firewall."
    if isinstance(inner, pe.StreamLostError | pe.ConnectionClosed) or isinstance(
        exc, pe.StreamLostError
    ):
        return f"The connection to {where} was lost ({inner})."
    if isinstance(inner, OSError):
        return f"Cannot reach {where}: {inner.strerror or inner}."
    if isinstance(exc, pe.AMQPConnectionError):
        detail = str(inner) or type(inner).__name__
        return f"Cannot connect to {where}: {detail}."
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def is_fatal(exc: BaseException) -> bool:
    """True when the same attempt cannot succeed later without a change of settings."""
    if isinstance(exc, BrokerError):
        return exc.fatal
    text = str(exc)
    if isinstance(
        exc,
        pe.ProbableAuthenticationError | pe.AuthenticationError | pe.ProbableAccessDeniedError,
    ):
        return True
    if "ACCESS_REFUSED" in text or "NOT_ALLOWED" in text:
        return True
    return isinstance(_inner(exc), socket.gaierror | ssl.SSLError)


def describe_lost(exc: BaseException, address: BrokerAddress | None = None) -> str:
    """Like ``describe``, for a connection that had been open: never "cannot connect".

    Args:
        exc: why the connection ended.
        address: the broker it was open to, if known.

    Returns:
        One sentence without the password.
    """
    text = describe(exc, address)
    where = f"the broker at {address.endpoint}" if address else "the broker"
    prefix = f"Cannot connect to {where}: "
    if text.startswith(prefix):
        return f"Lost the connection to {where}: {text[len(prefix) :]}"
    return text
