"""The standalone binary: build time, size per saving, start-up to window shown (cold and warm).

``python -m bench.packaging`` (or ``make bench-packaging``) builds every
variant of ``build.spec`` into ``build/bench-packaging/`` (``dist/`` stays
untouched), starts Kanin under Xvfb from source, as the one-folder binary and
as the one-file binary, and writes the results into docs/BENCHMARKS.md
between ``<!-- section:packaging -->`` and ``<!-- /section:packaging -->``;
the rest of that file stays byte for byte.

Start-up is measured from outside, the same way for all three: the clock
starts just before the process is spawned and stops when a window whose
title names this run's queue is mapped and visible on the X server (polled
with ``xdotool``, about every 5 ms). Cold runs drop the page cache first
(``sync; echo 3 > /proc/sys/vm/drop_caches``, root only).

Needs: Xvfb and xdotool (``apt-get install xvfb xdotool``), root for cold
runs, the broker on 127.0.0.1:5672.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.metadata
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bench import common

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "build" / "bench-packaging"
BENCHMARKS = ROOT / "docs" / "BENCHMARKS.md"
BUILDS_JSON = WORK / "builds.json"
BEGIN = "<!-- section:packaging -->"
END = "<!-- /section:packaging -->"
MiB = 2**20


@dataclass(frozen=True)
class Variant:
    """One build of ``build.spec``.

    Attributes:
        key: a short name, also the output folder's name.
        label: what the table says.
        keep: the ``KANIN_KEEP`` value (savings left out).
        onefile: one-file instead of one-folder.
    """

    key: str
    label: str
    keep: str
    onefile: bool = False


# Cumulative: each row adds one saving to the row above.
ONEDIR_STEPS = (
    Variant("plain", "PyInstaller's defaults (only unused stdlib modules excluded)", "all"),
    Variant("qt-excludes", "+ unused Qt modules excluded", "plugins,gtk3,translations,strip"),
    Variant(
        "gtk3",
        "+ platform-theme plugins left out (gtk3: GTK, cairo, pango...; xdg portal)",
        "plugins,translations,strip",
    ),
    Variant(
        "plugins",
        "+ other unused plugins left out (eglfs, vnc, image formats, TLS, ...)",
        "translations,strip",
    ),
    Variant("translations", "+ Qt translations left out", "strip"),
    Variant("final", "+ strip (what `make package` builds)", ""),
)
ONEFILE_STEPS = (
    Variant("onefile-plain", "one-file, PyInstaller's defaults", "all", onefile=True),
    Variant("onefile-final", "one-file, every saving (`make package-onefile`)", "", onefile=True),
)


@dataclass(frozen=True)
class Build:
    """A finished build.

    Attributes:
        variant: what was built.
        seconds: wall time of ``pyinstaller --clean``.
        size: bytes (regular files; symbolic links not counted).
        files: number of regular files.
        executable: the program to start.
    """

    variant: Variant
    seconds: float
    size: int
    files: int
    executable: Path


def save_builds(onedir: Sequence[Build], onefile: Sequence[Build]) -> None:
    """Record the builds, so that ``--reuse-builds`` can measure start-up again."""
    records = [
        {
            "key": item.variant.key,
            "seconds": item.seconds,
            "size": item.size,
            "files": item.files,
            "executable": str(item.executable),
        }
        for item in [*onedir, *onefile]
    ]
    BUILDS_JSON.write_text(json.dumps(records, indent=1), encoding="utf-8")


def load_builds() -> tuple[list[Build], list[Build]]:
    """The builds ``save_builds`` recorded (their programs must still be there)."""
    records = {item["key"]: item for item in json.loads(BUILDS_JSON.read_text(encoding="utf-8"))}

    def one(variant: Variant) -> Build:
        item = records[variant.key]
        executable = Path(item["executable"])
        if not executable.exists():
            raise SystemExit(f"{executable} is gone: run without --reuse-builds")
        return Build(
            variant, float(item["seconds"]), int(item["size"]), int(item["files"]), executable
        )

    return [one(v) for v in ONEDIR_STEPS], [one(v) for v in ONEFILE_STEPS]


def tree_size(path: Path) -> tuple[int, int]:
    """Bytes and count of the regular files under ``path`` (or of ``path`` itself)."""
    if path.is_file():
        return path.stat().st_size, 1
    total = count = 0
    for item in path.rglob("*"):
        if item.is_file() and not item.is_symlink():
            total += item.stat().st_size
            count += 1
    return total, count


COMPONENTS = (
    ("PySide6/Qt/lib/libicu", "ICU (Unicode data and libraries; QtCore links it)"),
    ("PySide6/Qt/lib/", "Qt libraries (Core, Gui, Widgets, DBus, Svg, XcbQpa, Wayland...)"),
    ("PySide6/Qt/plugins/", "Qt plugins (xcb, wayland, offscreen, input, SVG)"),
    ("PySide6/", "PySide6 bindings"),
    ("shiboken6/", "PySide6 bindings"),
    ("libpyside6", "PySide6 bindings"),
    ("libshiboken6", "PySide6 bindings"),
    ("cryptography", "cryptography (keyring's Secret Service backend needs it)"),
    ("_cffi_backend", "cryptography (keyring's Secret Service backend needs it)"),
    ("libpython", "Python interpreter and compiled standard-library modules"),
    ("python3.11/", "Python interpreter and compiled standard-library modules"),
    ("base_library.zip", "Python interpreter and compiled standard-library modules"),
    ("libcrypto", "OpenSSL (Python's ssl and hashlib; amqps://)"),
    ("libssl", "OpenSSL (Python's ssl and hashlib; amqps://)"),
)


def breakdown(folder: Path) -> list[tuple[str, int]]:
    """Where the bytes of a one-folder build go, biggest first."""
    sizes: dict[str, int] = {}
    for item in folder.rglob("*"):
        if not item.is_file() or item.is_symlink():
            continue
        rel = item.relative_to(folder).as_posix().removeprefix("_internal/")
        if "/" not in rel and not rel.endswith((".so", ".zip")) and ".so." not in rel:
            label = "the program: PyInstaller's bootloader and the Python code (Kanin, pika, ...)"
        else:
            label = next(
                (name for prefix, name in COMPONENTS if rel.startswith(prefix)),
                "other system libraries (X11/xcb, GLib, D-Bus, fontconfig, freetype, ...)",
            )
        sizes[label] = sizes.get(label, 0) + item.stat().st_size
    return sorted(sizes.items(), key=lambda pair: pair[1], reverse=True)


def build(variant: Variant) -> Build:
    """Build one variant from scratch (``--clean``) and measure it."""
    name = f"kanin-{variant.key}"
    dist = WORK / "dist"
    workpath = WORK / "work" / variant.key
    shutil.rmtree(workpath, ignore_errors=True)
    shutil.rmtree(dist / name, ignore_errors=True)
    env = dict(os.environ, KANIN_KEEP=variant.keep, KANIN_NAME=name)
    env["KANIN_ONEFILE"] = "1" if variant.onefile else "0"
    command = [
        str(ROOT / ".venv" / "bin" / "pyinstaller"),
        "--noconfirm",
        "--clean",
        "--log-level",
        "WARN",
        "--distpath",
        str(dist),
        "--workpath",
        str(workpath),
        str(ROOT / "build.spec"),
    ]
    started = time.monotonic()
    result = subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900, check=False
    )
    seconds = time.monotonic() - started
    if result.returncode != 0:
        raise RuntimeError(f"building {variant.key} failed:\n{result.stderr[-3000:]}")
    output = dist / name
    executable = output if variant.onefile else output / name
    size, files = tree_size(output)
    print(f"  {variant.key:14} {seconds:6.1f} s  {size / MiB:7.1f} MiB  {files} files", flush=True)
    return Build(variant, seconds, size, files, executable)


@contextmanager
def xvfb() -> Iterator[str]:
    """A private X server on a free display; yields its DISPLAY once it accepts clients."""
    read_end, write_end = os.pipe()
    process = subprocess.Popen(
        # -noreset: by default Xvfb resets when its last client leaves (each xdotool
        # poll), and refuses connections meanwhile.
        ["Xvfb", "-displayfd", str(write_end), "-screen", "0", "1600x1000x24"]
        + ["-nolisten", "tcp", "-noreset"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        pass_fds=(write_end,),
    )
    os.close(write_end)
    try:
        with os.fdopen(read_end, "r", encoding="ascii") as ready:
            number = ready.readline().strip()  # written by Xvfb when it is ready
        if not number:
            raise RuntimeError("Xvfb did not start")
        yield f":{number}"
    finally:
        process.terminate()
        process.wait(timeout=10)


def drop_caches() -> bool:
    """Empty the page cache; False when not allowed (not root, or a read-only /proc)."""
    os.sync()
    try:
        with open("/proc/sys/vm/drop_caches", "w", encoding="ascii") as handle:
            handle.write("3\n")
    except OSError:
        return False
    return True


def window_shown(display: str, title: str) -> bool:
    """True when a visible window's title contains ``title``."""
    result = subprocess.run(
        ["xdotool", "search", "--onlyvisible", "--name", title],
        env=dict(os.environ, DISPLAY=display),
        capture_output=True,
        check=False,
    )
    return result.returncode == 0 and bool(result.stdout.strip())


def start_once(command: Sequence[str], *, cold: bool) -> float:
    """Seconds from spawning Kanin to its window being shown; then Kanin is closed.

    Each run has its own X server, settings folder and queue.
    """
    queue = common.unique_queue("startup")
    with tempfile.TemporaryDirectory(prefix="kanin-bench-") as home, xvfb() as display:
        env = {
            key: value
            for key, value in os.environ.items()
            if key not in ("QT_QPA_PLATFORM", "KANIN_URL", "WAYLAND_DISPLAY")
        }
        env.update(
            DISPLAY=display,
            XDG_CONFIG_HOME=f"{home}/config",  # fresh settings: nothing remembered
            XDG_CACHE_HOME=f"{home}/cache",
            KANIN_LOG_DIR=f"{home}/log",
        )
        if cold and not drop_caches():
            raise RuntimeError("cold runs need root (writing /proc/sys/vm/drop_caches)")
        errors = Path(home) / "stderr.txt"
        with errors.open("wb") as stderr:
            started = time.monotonic()
            process = subprocess.Popen(
                [*command, "--url", common.URL, "--queue", queue],
                cwd=home,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=stderr,
            )
        try:
            deadline = started + 60
            while not window_shown(display, queue):
                if process.poll() is not None:
                    tail = errors.read_text(encoding="utf-8", errors="replace")[-2000:]
                    raise RuntimeError(f"{command[0]} exited with {process.returncode}:\n{tail}")
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{command[0]} showed no window within 60 s")
                time.sleep(0.005)
            elapsed = time.monotonic() - started
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
            common.delete(queue)
    return elapsed


@dataclass(frozen=True)
class Startup:
    """Start-up timings of one program.

    Attributes:
        label: what was started.
        warm: seconds per run, started again right after a cold start.
        cold: seconds per run, page cache dropped before each.
    """

    label: str
    warm: list[float]
    cold: list[float]


def start(command: Sequence[str], *, cold: bool, attempts: int = 2) -> float:
    """``start_once``, tried again once when Kanin did not start (the error is printed)."""
    for attempt in range(1, attempts + 1):
        try:
            return start_once(command, cold=cold)
        except RuntimeError as exc:
            if attempt == attempts:
                raise
            print(f"  (start failed, trying again: {str(exc).strip()[:300]})", flush=True)
    raise AssertionError("unreachable")


def measure_startups(programs: Sequence[tuple[str, list[str]]], runs: int) -> list[Startup]:
    """Start every program ``runs`` times cold and ``runs`` times warm.

    Each round starts every program twice: once right after dropping the page
    cache (cold), then again at once (warm: that cold start has just read
    everything). Rounds and programs take turns, so a busy spell on the
    machine slows all programs and both modes alike instead of one of them.
    """
    cold: dict[str, list[float]] = {label: [] for label, _ in programs}
    warm: dict[str, list[float]] = {label: [] for label, _ in programs}
    for _ in range(runs):
        for label, command in programs:
            cold[label].append(start(command, cold=True))
            warm[label].append(start(command, cold=False))
    result = []
    for label, _ in programs:
        print(f"  {label:32} warm {fmt_times(warm[label])}   cold {fmt_times(cold[label])}")
        result.append(Startup(label, warm[label], cold[label]))
    return result


def fmt_times(values: Sequence[float]) -> str:
    """``median s (min–max)``."""
    return f"{statistics.median(values):.2f} s ({min(values):.2f}–{max(values):.2f})"


def mib(size: int) -> str:
    """Bytes as MiB with one decimal."""
    return f"{size / MiB:.1f} MiB"


def render(
    onedir: list[Build], onefile: list[Build], startups: list[Startup], runs: int, load: float
) -> str:
    """The Markdown section, markers included."""
    facts = common.machine()
    facts["PyInstaller"] = importlib.metadata.version("pyinstaller")
    final = onedir[-1]
    final_onefile = onefile[-1]
    lines = [
        BEGIN,
        "## Packaging: the standalone binary",
        "",
        f"Measured by `python -m bench.packaging` (`make bench-packaging`) on "
        f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC. Machine: "
        + "; ".join(f"{key} {value}" for key, value in facts.items())
        + ".",
        "",
        "### Build (clean: `pyinstaller --clean`, no cache)",
        "",
        "| variant | build time | size | files |",
        "| --- | ---: | ---: | ---: |",
        f"| one-folder `dist/kanin/` (`make package`) | {final.seconds:.1f} s "
        f"| {mib(final.size)} | {final.files} |",
        f"| one-file `dist/kanin-onefile` (`make package-onefile`) | "
        f"{final_onefile.seconds:.1f} s | {mib(final_onefile.size)} | 1 |",
        "",
        "### What each saving bought (one-folder, cumulative)",
        "",
        "| step | size | saved by this step | build time |",
        "| --- | ---: | ---: | ---: |",
    ]
    previous: Build | None = None
    for item in onedir:
        saved = "—" if previous is None else mib(previous.size - item.size)
        lines.append(
            f"| {item.variant.label} | {mib(item.size)} | {saved} | {item.seconds:.1f} s |"
        )
        previous = item
    plain_onefile = onefile[0]
    lines += [
        f"| **total saved** | | **{mib(onedir[0].size - final.size)}** "
        f"({100 * (onedir[0].size - final.size) / onedir[0].size:.0f} %) | |",
        "",
        "One-file: "
        + f"{mib(plain_onefile.size)} with PyInstaller's defaults "
        + f"({plain_onefile.seconds:.1f} s to build), {mib(final_onefile.size)} "
        + f"with every saving ({final_onefile.seconds:.1f} s): the same savings, "
        + "compressed (PyInstaller's archive is zlib-compressed).",
        "",
        f"Where the {mib(final.size)} of the one-folder build go:",
        "",
        "| part | size |",
        "| --- | ---: |",
        *[f"| {label} | {mib(size)} |" for label, size in breakdown(final.executable.parent)],
        "",
        "What the savings are, besides size:",
        "",
        "- *Qt module excludes*: Kanin imports only QtCore, QtGui and QtWidgets, so "
        "PyInstaller's Qt hooks already leave QML, WebEngine and the rest out; here the "
        "list keeps out QtNetwork, which the PySide6 package itself pulls in, with its "
        "TLS and network-information plugins. It also guards against a future import or "
        "hook dragging in a large module.",
        "- *Platform-theme plugins*: the gtk3 plugin links GTK 3, GDK, cairo, pango, "
        "harfbuzz, atk and more; they are bundled from the build machine when it has GTK "
        "(this one does, like most desktops), and left half-bundled when it has not, so "
        "the desktop's GTK would be loaded against the bundled GLib. Without it Qt draws "
        "its own Fusion style. The libraries only these plugins needed go with them.",
        "- *Other plugins*: platform plugins no desktop uses (eglfs, linuxfb, vnc, "
        "minimal...), input plugins for them, TLS and network-information backends (Kanin "
        "does not use QtNetwork) and image formats other than SVG (PNG is built in); "
        "xcb, wayland, offscreen, the input methods (compose, ibus) and the SVG icon "
        "engine stay.",
        "- *Translations*: Qt's own dialog translations; Kanin installs no translator.",
        "- *strip*: symbol tables of the bundled shared libraries (Linux only; Windows "
        "DLLs and signed macOS libraries are not stripped). The stripped binary passes "
        "the self-test, which CI runs on every build.",
        "- None of these changes start-up noticeably: files that are not loaded cost "
        "nothing at start. The one-file variant pays for unpacking itself on every start.",
        "",
        f"### Start-up to the window shown (Xvfb; median of {runs}, min–max)",
        "",
        "| program | warm | cold |",
        "| --- | ---: | ---: |",
    ]
    for startup in startups:
        lines.append(f"| {startup.label} | {fmt_times(startup.warm)} | {fmt_times(startup.cold)} |")
    lines += [
        "",
        f"Load average (1 min) around the start-up runs: up to {load:.1f} on "
        f"{os.cpu_count()} cores (other work on the machine slows the runs down).",
        "",
        "How: the clock starts just before the process is spawned and stops when a "
        "visible X11 window whose title names this run's queue exists on the Xvfb "
        "server (polled with `xdotool` every 5 ms). Each run has fresh settings "
        "(`XDG_CONFIG_HOME`), its own X server, its own queue (deleted afterwards) and the local "
        "broker; Kanin is then closed with SIGTERM. *Cold*: `sync; echo 3 > "
        "/proc/sys/vm/drop_caches` before each run (Python, Qt and the binary read "
        "from disk); *warm*: started again right after that cold start. The "
        "programs and modes take turns. From source = the "
        "`.venv/bin/kanin` entry point. The one-file binary unpacks itself (about "
        f"{mib(final.size)}) into a temporary folder on every start, warm or cold. "
        "This machine is a VM whose disk the host caches, so *cold* means re-reading "
        "from a fast virtual disk. "
        "Build times are wall-clock times on the same shared machine and vary with its load; "
        "on it, repeating this benchmark moved the start-up medians by up to about 0.3 s, "
        "so compare the programs within one run.",
        END,
    ]
    return "\n".join(lines) + "\n"


def write_section(section: str, path: Path = BENCHMARKS) -> None:
    """Replace the packaging section of ``path`` (or append it); nothing else changes."""
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        _, tail = rest.split(END, 1)
        tail = tail[1:] if tail.startswith("\n") else tail
        text = head + section + tail
    else:
        if text and not text.endswith("\n\n"):
            text += "\n" if text.endswith("\n") else "\n\n"
        text += section
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def main(argv: Sequence[str] | None = None) -> int:
    """Build, measure, write docs/BENCHMARKS.md; returns the exit code."""
    parser = argparse.ArgumentParser(prog="python -m bench.packaging", description=__doc__)
    parser.add_argument("--runs", type=int, default=5, help="start-ups per program and mode")
    parser.add_argument("--output", type=Path, default=BENCHMARKS, help="the Markdown file")
    parser.add_argument(
        "--reuse-builds",
        action="store_true",
        help=f"measure start-up only, with the builds recorded in {BUILDS_JSON.relative_to(ROOT)}",
    )
    args = parser.parse_args(argv)
    for tool in ("Xvfb", "xdotool"):
        if shutil.which(tool) is None:
            print(f"bench.packaging: {tool} is missing (apt-get install xvfb xdotool)")
            return 1
    if args.reuse_builds and BUILDS_JSON.exists():
        onedir, onefile = load_builds()
        print(f"reusing the builds recorded in {BUILDS_JSON}", flush=True)
    else:
        print("building (each from scratch):", flush=True)
        onedir = [build(variant) for variant in ONEDIR_STEPS]
        onefile = [build(variant) for variant in ONEFILE_STEPS]
        save_builds(onedir, onefile)
    print("starting Kanin under Xvfb (programs take turns):", flush=True)
    programs = [
        ("from source (`.venv/bin/kanin`)", [str(ROOT / ".venv" / "bin" / "kanin")]),
        ("one-folder binary", [str(onedir[-1].executable)]),
        ("one-file binary", [str(onefile[-1].executable)]),
    ]
    load = os.getloadavg()[0]
    startups = measure_startups(programs, args.runs)
    load = max(load, os.getloadavg()[0])
    write_section(render(onedir, onefile, startups, args.runs, load), args.output)
    print(f"wrote the packaging section of {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
