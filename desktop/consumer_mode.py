"""How the window's workers consume, in words: their prefetch, and the auto-ack warning.

The status bar, every worker card and the workers panel's hint say the same
thing, from the settings in effect: ``prefetch 1``, ``prefetch: unlimited``
(a prefetch of 0), or with auto-ack a warning that stays while it is on.
"""

from __future__ import annotations

AUTO_ACK_WARNING = "auto-ack: a killed worker loses its task"


def prefetch_text(prefetch: int) -> str:
    """The prefetch in words: ``prefetch 1``, or ``prefetch: unlimited`` for 0."""
    return "prefetch: unlimited" if prefetch == 0 else f"prefetch {prefetch}"


def card_line(prefetch: int, auto_ack: bool, buffered: int) -> str:
    """A worker card's last line: its prefetch and the tasks waiting in its buffer."""
    if auto_ack:
        return f"⚠ {AUTO_ACK_WARNING}"
    text = prefetch_text(prefetch)
    return f"{text}   ·   {buffered} delivered, waiting" if buffered else text


def empty_hint(prefetch: int, auto_ack: bool) -> str:
    """The workers panel's hint before the first worker (rich text)."""
    if auto_ack:
        how = (
            "with <b>auto-ack</b>: the broker forgets each task on delivery, so a "
            "killed worker loses its task"
        )
    elif prefetch == 1:
        how = "taking one task at a time (prefetch 1) and acknowledging it when done"
    elif prefetch == 0:
        how = (
            "with no prefetch limit (prefetch: unlimited): the broker pushes every ready "
            "task to the first worker; each is acknowledged when done"
        )
    else:
        how = (
            f"holding up to {prefetch} unacknowledged tasks (prefetch {prefetch}) "
            "and acknowledging each when done"
        )
    return (
        "No workers yet. Click <b>Add worker</b>: each worker is a thread with its own "
        f"connection, {how}."
    )
