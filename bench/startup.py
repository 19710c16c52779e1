"""Start-up: ``kanin`` to the window shown, from source (and from the binary when built)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from bench import common
from bench.common import Row, Stat

ROOT = Path(__file__).resolve().parent.parent
BINARY = ROOT / "dist" / "kanin" / "kanin"

NOTES = [
    "From source: a fresh `python -m bench.startup_probe` process runs `desktop.launcher.main()` "
    "exactly as the `kanin` console script does, with `MainWindow.show` wrapped to note the "
    "moment the window is shown and exposed (then the probe exits). The clock runs from just "
    "before the parent's `Popen` to that moment, so it includes the interpreter's start, "
    "every import and the window's construction; offscreen platform.",
    "From the binary: see the packaging section of this file (bench/packaging.py), which "
    "measures the frozen build.",
]


def available() -> str | None:
    """None when the window can be started, else why not."""
    return common.desktop_missing("main")


def from_source(url: str = common.URL) -> float:
    """Seconds from spawning the probe to the window shown."""
    env = dict(os.environ, QT_QPA_PLATFORM=os.environ.get("QT_QPA_PLATFORM", "offscreen"))
    queue = common.unique_queue("startup")
    started = time.time()
    process = subprocess.run(
        [sys.executable, "-m", "bench.startup_probe", "--url", url, "--queue", queue],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    common.delete(queue, url)
    for line in process.stdout.splitlines():
        if line.startswith("{"):
            shown = float(json.loads(line)["shown"])
            return shown - started
    raise RuntimeError(
        f"the start-up probe did not report (exit {process.returncode}): "
        f"{process.stderr.strip()[-500:]}"
    )


def rows(runs: int) -> list[Row]:
    """Start-up rows for the report."""
    reason = available()
    if reason is not None:
        return [Row("7. Start-up", "from source", "not measured", "—", None, "", reason)]
    from_source()  # warm the file cache once, not counted
    values = [from_source() for _ in range(runs)]
    stat = Stat.of(values)
    result = [
        Row(
            "7. Start-up",
            "`kanin` from source to window shown (warm cache)",
            stat.fmt(".2f", "s"),
            "no target set; reported",
            None,
            "",
        )
    ]
    if BINARY.exists():
        result.append(
            Row("7. Start-up", "from the binary", "see the packaging section", "—", None, "")
        )
    else:
        result.append(
            Row(
                "7. Start-up",
                "from the binary",
                "not measured here: no dist/kanin/kanin; see the packaging section",
                "—",
                None,
                "",
            )
        )
    return result
