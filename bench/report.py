"""Writes the results into docs/BENCHMARKS.md and README.md, inside this harness's markers.

docs/BENCHMARKS.md is shared: other engineers own other ``<!-- section:X -->``
blocks. Only the text between ``<!-- section:bench -->`` and
``<!-- /section:bench -->`` is replaced; everything else stays byte for byte.
README.md: only the text between ``<!-- section:performance -->`` and
``<!-- /section:performance -->`` is replaced, and only when those markers exist.
"""

from __future__ import annotations

import re
from pathlib import Path

from bench.common import Row, Section

BENCH_SECTION = "bench"
README_SECTION = "performance"


def _markers(name: str) -> tuple[str, str]:
    return f"<!-- section:{name} -->", f"<!-- /section:{name} -->"


def replace_section(text: str, name: str, body: str, *, append: bool = True) -> str | None:
    """Put ``body`` between the markers of section ``name``.

    Args:
        text: the whole file.
        name: the section's name.
        body: the new content (without the markers).
        append: add the section at the end when the markers are missing.

    Returns:
        The new file text, or None when the markers are missing and ``append`` is off.
    """
    start, end = _markers(name)
    block = f"{start}\n{body.strip()}\n{end}"
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.DOTALL)
    if pattern.search(text):
        return pattern.sub(lambda _m: block, text, count=1)
    if not append:
        return None
    return text.rstrip("\n") + ("\n\n" if text.strip() else "") + block + "\n"


def write_section(path: Path, name: str, body: str, *, title: str | None = None) -> None:
    """Replace (or append) one section of ``path``, creating the file when needed."""
    text = path.read_text(encoding="utf-8") if path.exists() else (f"# {title}\n" if title else "")
    new = replace_section(text, name, body)
    assert new is not None
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(new, encoding="utf-8")


def update_readme(path: Path, body: str) -> bool:
    """Refresh README's performance section when its markers exist; True when written."""
    if not path.exists():
        return False
    new = replace_section(path.read_text(encoding="utf-8"), README_SECTION, body, append=False)
    if new is None:
        return False
    path.write_text(new, encoding="utf-8")
    return True


def _met(value: bool | None) -> str:
    if value is None:
        return "—"
    return "**met**" if value else "**missed**"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def table(rows: list[Row]) -> str:
    """A Markdown table of rows."""
    lines = [
        "| Benchmark | Case | Figure: median (min–max, n) | Target | Met | Ratio |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for row in rows:
        lines.append(
            "| "
            + " | ".join(
                _cell(c)
                for c in (
                    row.bench,
                    row.case,
                    row.figure,
                    row.target,
                    _met(row.met),
                    row.ratio,
                )
            )
            + " |"
        )
    return "\n".join(lines)


def render(
    header: list[str], machine: dict[str, str], sections: list[Section], footer: list[str]
) -> str:
    """The whole bench section."""
    out = ["## Throughput, latency, memory (`make bench`)", ""]
    out += header
    out += ["", "| Machine | |", "| --- | --- |"]
    out += [f"| {key} | {_cell(value)} |" for key, value in machine.items()]
    out += ["", "### Results", ""]
    rows = [row for section in sections for row in section.rows]
    out.append(table(rows))
    out.append("")
    for section in sections:
        if not section.notes:
            continue
        out += [f"### {section.title}", ""]
        out += [f"- {note}" for note in section.notes]
        out.append("")
    out += footer
    return "\n".join(out).rstrip() + "\n"
