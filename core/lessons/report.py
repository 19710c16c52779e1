"""The lesson report: one self-contained HTML file with each lesson's outcome card."""

from __future__ import annotations

import datetime
import html
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.lessons.base import Lesson, Outcome

STYLE = """
body{font-family:system-ui,sans-serif;margin:2em auto;max-width:60em;color:#111;background:#fff}
h1{font-size:1.8em}.card{border:2px solid #999;border-radius:8px;padding:1em 1.4em;margin:1.2em 0}
.card.passed{border-color:#1a7f37}.card.failed{border-color:#cf222e}
.mark{font-weight:bold;padding:.1em .5em;border-radius:4px;color:#fff}
.passed .mark{background:#1a7f37}.failed .mark{background:#cf222e}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:.2em .6em;
text-align:left;vertical-align:top}.meta{color:#555}.prediction{font-style:italic}
"""


@dataclass(frozen=True)
class LessonRun:
    """One lesson as it ran: which lesson and its outcome."""

    lesson: type[Lesson]
    outcome: Outcome


def _value(value: Any) -> str:
    """A figure as HTML: nested dicts become tables, lists comma-separated text."""
    if isinstance(value, dict):
        rows = "".join(
            f"<tr><th>{html.escape(str(k))}</th><td>{_value(v)}</td></tr>" for k, v in value.items()
        )
        return f"<table>{rows}</table>"
    if isinstance(value, list):
        return html.escape(", ".join(str(v) for v in value))
    if isinstance(value, float):
        return f"{value:.3f}".rstrip("0").rstrip(".")
    return html.escape("—" if value is None else str(value))


def card(run: LessonRun) -> str:
    """One lesson's outcome card."""
    outcome = run.outcome
    status = "passed" if outcome.passed else "failed"
    mark = "matched the prediction" if outcome.passed else "CONTRADICTED the prediction"
    sentences = "".join(f"<li>{html.escape(s)}</li>" for s in outcome.sentences)
    sources = ", ".join(f"{k}: {v}" for k, v in outcome.sources.items())
    error = f"<p><b>Error:</b> {html.escape(outcome.error)}</p>" if outcome.error else ""
    return (
        f'<section class="card {status}" id="{html.escape(outcome.lesson)}">'
        f"<h2>{html.escape(run.lesson.title)} <small>({html.escape(outcome.lesson)})</small></h2>"
        f'<p class="prediction">Prediction: {html.escape(run.lesson.prediction)}</p>'
        f'<p><span class="mark">{mark}</span> in {outcome.seconds:.1f} s</p>'
        f"<ul>{sentences}</ul>{error}"
        f"<h3>Figures</h3>{_value(outcome.figures)}"
        f'<p class="meta">Sources: {html.escape(sources)}</p></section>'
    )


def render(runs: Sequence[LessonRun], broker: str, when: datetime.datetime | None = None) -> str:
    """The whole report as one HTML document (no external files)."""
    when = when or datetime.datetime.now(datetime.UTC)
    passed = sum(1 for r in runs if r.outcome.passed)
    cards = "".join(card(r) for r in runs)
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>Kanin lessons</title><style>{STYLE}</style></head><body>"
        f'<h1>Kanin lessons</h1><p class="meta">Broker: {html.escape(broker)} · '
        f"{when:%Y-%m-%d %H:%M UTC} · {passed} of {len(runs)} matched their prediction</p>"
        f"{cards}</body></html>\n"
    )


def write_report(
    path: Path, runs: Sequence[LessonRun], broker: str, when: datetime.datetime | None = None
) -> None:
    """Write the report to ``path`` (UTF-8)."""
    path.write_text(render(runs, broker, when), encoding="utf-8")
