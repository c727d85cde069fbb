"""The HTML report of a ``painclf label`` run: one self-contained page that opens offline.

Charts are inline SVG drawn here (no CDN, no script, no external file), and every
piece of ticket text is escaped: tickets are untrusted input.
"""

from __future__ import annotations

import html
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from classifier.atomic import atomic_write_text
from classifier.config import LABELS

if TYPE_CHECKING:
    from classifier.batch import LabelSummary

LABEL_COLOURS = {"soreness": "#4c9f70", "pain": "#c8553d", "other": "#6c7a89", "(unread)": "#999"}
_STYLE = """
body{font:15px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:60rem;padding:0 1rem;color:#222}
h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:2rem}
table{border-collapse:collapse;margin:.5rem 0}
td,th{border-bottom:1px solid #ddd;padding:.25rem .6rem;text-align:left;vertical-align:top}
td.n{text-align:right;font-variant-numeric:tabular-nums}
.muted{color:#666;font-size:.9em}.reasons{color:#a33}
.text{white-space:pre-wrap;max-width:34rem}
svg text{font:12px system-ui,sans-serif;fill:#333}
"""


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def bar_chart(counts: dict[str, int], width: int = 520) -> str:
    """Horizontal bars, one per label, as inline SVG.

    Examples
    --------
    >>> bar_chart({"pain": 3, "other": 1}).startswith("<svg")
    True
    """
    row, label_width = 26, 110
    top = max(counts.values(), default=0) or 1
    height = row * len(counts) + 6
    parts = [f'<svg width="{width}" height="{height}" role="img" aria-label="rows per label">']
    for i, (name, count) in enumerate(counts.items()):
        y = 3 + i * row
        length = (width - label_width - 70) * count / top
        colour = LABEL_COLOURS.get(name, "#5b7db1")
        parts.append(f'<text x="0" y="{y + 16}">{_e(name)}</text>')
        parts.append(
            f'<rect x="{label_width}" y="{y + 2}" width="{length:.1f}" height="{row - 8}" '
            f'fill="{colour}"/>'
        )
        parts.append(f'<text x="{label_width + length + 6:.1f}" y="{y + 16}">{count:,}</text>')
    parts.append("</svg>")
    return "".join(parts)


def histogram_chart(bins: list[int], width: int = 520, height: int = 160) -> str:
    """Vertical bars for counts in equal bins over [0, 1], with the axis labelled."""
    top = max(bins, default=0) or 1
    left, bottom = 40, 22
    plot_width, plot_height = width - left - 10, height - bottom - 8
    step = plot_width / max(len(bins), 1)
    parts = [f'<svg width="{width}" height="{height}" role="img" aria-label="confidence">']
    for i, count in enumerate(bins):
        bar = plot_height * count / top
        x = left + i * step
        parts.append(
            f'<rect x="{x + 1:.1f}" y="{8 + plot_height - bar:.1f}" width="{step - 2:.1f}" '
            f'height="{bar:.1f}" fill="#5b7db1"><title>{i / len(bins):.2f}-'
            f"{(i + 1) / len(bins):.2f}: {count:,}</title></rect>"
        )
    for tick in (0.0, 0.25, 0.5, 0.75, 1.0):
        x = left + tick * plot_width
        parts.append(f'<text x="{x - 8:.1f}" y="{height - 4}">{tick:g}</text>')
    parts.append(f'<text x="0" y="16">{top:,}</text><text x="0" y="{8 + plot_height}">0</text>')
    parts.append("</svg>")
    return "".join(parts)


def render_report(summary: LabelSummary) -> str:
    """The report page as a string (HTML5, no external resources)."""
    rows = summary.rows
    counts = dict(summary.labels)
    if summary.unlabeled:
        counts["(unread)"] = summary.unlabeled
    table_rows = [
        *((name, counts[name]) for name in counts),
        ("urgent", summary.urgent),
        ("needs review", summary.needs_review),
        ("errors", summary.errors),
    ]
    summary_table = "".join(
        f'<tr><td>{_e(name)}</td><td class="n">{count:,}</td>'
        f'<td class="n">{100 * summary.share(count):.1f}%</td></tr>'
        for name, count in table_rows
    )
    urgent_rows = "".join(
        f'<tr><td class="n">{ticket["row"]}</td><td>{_e(ticket.get("id") or "")}</td>'
        f'<td class="reasons">{_e(ticket["reasons"])}</td>'
        f'<td class="text">{_e(ticket["text"])}</td></tr>'
        for ticket in summary.urgent_tickets
    )
    more = summary.urgent - len(summary.urgent_tickets)
    urgent_note = (
        f'<p class="muted">and {more:,} more urgent rows: filter the output on '
        "<code>urgent</code>.</p>"
        if more > 0
        else ""
    )
    urgent_section = (
        "<table><tr><th>row</th><th>id</th><th>reasons</th><th>text</th></tr>"
        f"{urgent_rows}</table>{urgent_note}"
        if summary.urgent_tickets
        else "<p>No urgent tickets.</p>"
    )
    problems = "".join(f"<li>{_e(p)}</li>" for p in summary.problems[:200])
    problem_more = summary.problem_count - min(len(summary.problems), 200)
    problems_section = (
        f"<h2>Rows that could not be read ({summary.problem_count:,})</h2><ul>{problems}</ul>"
        + (f'<p class="muted">and {problem_more:,} more.</p>' if problem_more > 0 else "")
        if summary.problem_count
        else ""
    )
    notes = "".join(f"<li>{_e(n)}</li>" for n in summary.notes)
    generated = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    ordered = {label: counts.get(label, 0) for label in (*LABELS, "(unread)") if label in counts}
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>painclf label report: {_e(Path(summary.input).name)}</title>
<style>{_STYLE}</style>
</head>
<body>
<h1>Labeling report</h1>
<p class="muted">{_e(summary.input)} &rarr; {_e(summary.output)}<br>
model {_e(summary.model_version)} &middot; text column(s) {_e(", ".join(summary.text_columns))}
&middot; {generated}</p>
<h2>Summary</h2>
<table><tr><th></th><th>rows</th><th>share</th></tr>
<tr><td>all rows</td><td class="n">{rows:,}</td><td class="n">100%</td></tr>
{summary_table}</table>
<p class="muted">{summary.elapsed_seconds:.1f} s, {summary.rows_per_second:,.0f} rows/s.</p>
{f"<ul>{notes}</ul>" if notes else ""}
<h2>Labels</h2>
{bar_chart(ordered)}
<h2>Confidence of the labeled rows</h2>
{histogram_chart(summary.confidence_histogram)}
<h2>Urgent tickets ({summary.urgent:,})</h2>
{urgent_section}
{problems_section}
</body>
</html>
"""


def write_report(summary: LabelSummary, path: str | Path) -> None:
    """Write the report page to ``path`` atomically."""
    atomic_write_text(path, render_report(summary))
