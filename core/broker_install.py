"""Where RabbitMQ's server scripts are installed on each platform, and how to install them.

Looked for in this order:

- ``$KANIN_RABBITMQ_BIN``, for any other place;
- ``/usr/lib/rabbitmq/bin``: the Debian, Ubuntu and Fedora/RHEL packages (the
  real scripts; ``/usr/sbin/rabbitmq-server`` is a wrapper that switches to the
  ``rabbitmq`` user when run as root);
- Homebrew on macOS: ``/opt/homebrew`` on Apple silicon, ``/usr/local`` on
  Intel, each in the formula's own ``opt/rabbitmq/sbin`` and then the shared
  ``sbin`` (symbolic links to the same scripts, which find their folder themselves);
- on Windows, RabbitMQ's installer: ``%ProgramFiles%/RabbitMQ Server/
  rabbitmq_server-<version>/sbin/rabbitmq-server.bat`` (backslashes there),
  newest version first;
- last, ``rabbitmq-server`` on ``PATH``.

Everything takes the platform, the environment and a root folder as
arguments, so tests describe any machine with a fake file tree.
"""

from __future__ import annotations

import contextlib
import os
import platform
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

DEBIAN_BIN = "usr/lib/rabbitmq/bin"
HOMEBREW_PREFIXES = ("opt/homebrew", "usr/local")  # Apple silicon, then Intel
WINDOWS_FOLDER = "RabbitMQ Server"
OVERRIDE_VARIABLE = "KANIN_RABBITMQ_BIN"

_VERSION = re.compile(r"rabbitmq_server-(\d+(?:\.\d+)*)")


@dataclass(frozen=True)
class ServerInstall:
    """Where the RabbitMQ server scripts are.

    Attributes:
        bin_dir: the folder holding ``rabbitmq-server`` and ``rabbitmqctl``.
        suffix: ``".bat"`` on Windows, else empty.
    """

    bin_dir: Path
    suffix: str = ""

    @property
    def server(self) -> Path:
        """The ``rabbitmq-server`` script."""
        return self.bin_dir / f"rabbitmq-server{self.suffix}"

    @property
    def ctl(self) -> Path:
        """The ``rabbitmqctl`` script."""
        return self.bin_dir / f"rabbitmqctl{self.suffix}"


def _system(system: str | None) -> str:
    return system or platform.system()


def _script_suffix(system: str) -> str:
    return ".bat" if system == "Windows" else ""


def _version_key(folder: Path) -> tuple[int, ...]:
    match = _VERSION.fullmatch(folder.name)
    return tuple(int(part) for part in match.group(1).split(".")) if match else ()


def _windows_dirs(environ: Mapping[str, str]) -> list[Path]:
    """The installer's ``sbin`` folders under each Program Files, newest version first."""
    roots = [environ.get("ProgramFiles") or "C:\\Program Files", environ.get("ProgramFiles(x86)")]
    dirs: list[Path] = []
    for root in dict.fromkeys(r for r in roots if r):
        folder = Path(root) / WINDOWS_FOLDER
        with contextlib.suppress(OSError):
            versions = [p for p in folder.glob("rabbitmq_server-*") if _version_key(p)]
            versions.sort(key=_version_key, reverse=True)
            dirs += [p / "sbin" for p in versions]
    return dirs


def _on_path(name: str, environ: Mapping[str, str], system: str) -> Path | None:
    separator = ";" if system == "Windows" else ":"
    for entry in environ.get("PATH", "").split(separator):
        if entry and (Path(entry) / name).is_file():
            return Path(entry) / name
    return None


def candidate_dirs(
    system: str | None = None,
    environ: Mapping[str, str] | None = None,
    root: Path | None = None,
) -> list[Path]:
    """The folders that may hold ``rabbitmq-server``, in the order they are tried.

    Args:
        system: a ``platform.system()`` value (default: this machine's).
        environ: the environment (default: ``os.environ``); gives
            ``KANIN_RABBITMQ_BIN``, ``PATH`` and Windows' ``ProgramFiles``.
        root: where the fixed Unix folders are rooted (default: ``/``).

    Returns:
        Folders, most specific first; they need not exist.
    """
    system = _system(system)
    environ = os.environ if environ is None else environ
    base = Path(root) if root is not None else Path("/")
    dirs: list[Path] = []
    override = environ.get(OVERRIDE_VARIABLE)
    if override:
        dirs.append(Path(override))
    if system == "Windows":
        dirs += _windows_dirs(environ)
    else:
        dirs.append(base / DEBIAN_BIN)
        for prefix in HOMEBREW_PREFIXES:
            dirs += [base / prefix / "opt/rabbitmq/sbin", base / prefix / "sbin"]
    found = _on_path(f"rabbitmq-server{_script_suffix(system)}", environ, system)
    if found is not None:  # last: on Debian this is the user-switching wrapper
        dirs.append(found.resolve().parent)
    return list(dict.fromkeys(dirs))


def find_server(
    candidates: Sequence[Path] | None = None,
    *,
    system: str | None = None,
    environ: Mapping[str, str] | None = None,
    root: Path | None = None,
) -> ServerInstall | None:
    """Find the installed RabbitMQ server scripts.

    Args:
        candidates: folders to look in instead of ``candidate_dirs()``.
        system: a ``platform.system()`` value (default: this machine's); on
            ``"Windows"`` the scripts end in ``.bat``.
        environ: the environment (default: ``os.environ``).
        root: where the fixed Unix folders are rooted (default: ``/``).

    Returns:
        The first folder holding both ``rabbitmq-server`` and ``rabbitmqctl``,
        or ``None`` when RabbitMQ is not installed (show ``install_hint()`` then).
    """
    system = _system(system)
    folders = candidates if candidates is not None else candidate_dirs(system, environ, root)
    for folder in folders:
        install = ServerInstall(Path(folder), _script_suffix(system))
        if install.server.is_file() and install.ctl.is_file():
            return install
    return None


def _os_release() -> dict[str, str]:
    values: dict[str, str] = {}
    with contextlib.suppress(OSError):
        for line in Path("/etc/os-release").read_text(encoding="utf-8").splitlines():
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip().strip('"')
    return values


def _linux_command(release: Mapping[str, str]) -> str:
    family = f"{release.get('ID', '')} {release.get('ID_LIKE', '')}".lower()
    if any(name in family for name in ("debian", "ubuntu")):
        return "sudo apt-get install rabbitmq-server"
    if any(name in family for name in ("fedora", "rhel", "centos", "rocky", "alma")):
        return "sudo dnf install rabbitmq-server"
    if "suse" in family:
        return "sudo zypper install rabbitmq-server"
    if "arch" in family:
        return "sudo pacman -S rabbitmq"
    return "install the rabbitmq-server package of your distribution"


def install_hint(system: str | None = None, os_release: Mapping[str, str] | None = None) -> str:
    """Say how to install RabbitMQ here, and how to use a remote broker instead.

    Args:
        system: ``platform.system()`` value to describe (default: this machine).
        os_release: ``/etc/os-release`` fields (default: read from this machine).

    Returns:
        A short paragraph for a dialog or the terminal.
    """
    system = _system(system)
    if system == "Darwin":
        how = (
            "To install it with Homebrew: brew install rabbitmq\n"
            "(Kanin finds it under /opt/homebrew on Apple silicon and /usr/local on Intel.)"
        )
    elif system == "Windows":
        how = (
            "To install it: run RabbitMQ's Windows installer from rabbitmq.com (install "
            "Erlang/OTP first), or with Chocolatey: choco install rabbitmq\n"
            "(Kanin finds it under Program Files\\RabbitMQ Server.)"
        )
    else:
        release = _os_release() if os_release is None else os_release
        how = f"To install it: {_linux_command(release)}"
    return (
        "RabbitMQ is not installed on this computer, so Kanin cannot start a local broker.\n"
        f"{how}\n"
        f"Installed somewhere else? Set {OVERRIDE_VARIABLE} to the folder holding "
        f"rabbitmq-server.\n"
        "Or use a broker elsewhere: kanin --url amqp://USER:PASSWORD@HOST:5672/%2F "
        "(or set KANIN_URL)."
    )
