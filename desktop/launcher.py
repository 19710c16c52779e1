"""The ``kanin`` entry point: headless subcommands go to ``core.cli``, the rest opens the window.

This module imports no Qt at load time, so ``kanin worker`` on a server never
loads the GUI libraries.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

HEADLESS_COMMANDS = frozenset({"worker", "new-task", "cluster", "lesson"})
_VALUE_OPTIONS = frozenset({"--url", "--queue", "--queue-type", "--screenshot", "--log-file"})


def is_headless(argv: Sequence[str]) -> bool:
    """True when the command line asks for a headless subcommand."""
    words = [
        arg
        for i, arg in enumerate(argv)
        if not arg.startswith("-") and not (i > 0 and argv[i - 1] in _VALUE_OPTIONS)
    ]
    return bool(words) and words[0] in HEADLESS_COMMANDS


def main(argv: Sequence[str] | None = None) -> int:
    """Run Kanin; returns the exit code."""
    from desktop.logs import guard_streams  # a windowed frozen build has no stdout/stderr

    guard_streams()
    args = list(sys.argv[1:] if argv is None else argv)
    if is_headless(args):
        from core.cli import main as cli_main

        return cli_main(args)
    from desktop.app import main as app_main

    return app_main(args)


if __name__ == "__main__":
    sys.exit(main())
