"""The HTML report of a ``painclf label`` run: one self-contained page that opens offline.

Charts are inline SVG drawn here and the urgent table is sorted and filtered by a few lines
of inline script (no CDN, no external file). Ticket texts are shown as painclf read them
(cleaned of HTML and entities) with the evidence highlighted, and every piece of ticket
text is escaped: tickets are untrusted input.
"""

from __future__ import annotations

import html
import itertools
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

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
mark{background:#fff2a8;border-radius:2px}mark.rf{background:#ffd0cc}
th button{font:inherit;font-weight:600;border:0;background:none;padding:0;cursor:pointer}
th button::after{content:" \\2195";color:#999}
.filters{display:flex;gap:1rem;align-items:center;margin:.5rem 0}
.filters input{font:inherit;padding:.2rem .4rem;width:16rem}
.filters select{font:inherit}
"""
# Confidence is at least 1/3 (three labels) and mostly near 1: equal bins over [0, 1] put
# almost every row in one bar. These edges spread the top end, where the rows are.
CONFIDENCE_EDGES = (1 / 3, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.98, 0.99, 0.999, 1.0)
_SORT_SCRIPT = """
(() => {
  const table = document.getElementById("urgent-table");
  if (!table) return;
  const body = table.tBodies[0];
  const search = document.getElementById("urgent-search");
  const reason = document.getElementById("urgent-reason");
  const shown = document.getElementById("urgent-shown");
  function filter() {
    const words = search.value.trim().toLowerCase();
    let count = 0;
    for (const row of body.rows) {
      const ok = (!reason.value || row.dataset.flags.split(" ").includes(reason.value)) &&
        (!words || row.textContent.toLowerCase().includes(words));
      row.hidden = !ok;
      count += ok;
    }
    shown.textContent = count;
  }
  search.addEventListener("input", filter);
  reason.addEventListener("change", filter);
  for (const link of document.querySelectorAll("[data-filter-flag]")) {
    link.addEventListener("click", (event) => {
      event.preventDefault();
      reason.value = link.dataset.filterFlag;
      filter();
      table.scrollIntoView();
    });
  }
  table.querySelectorAll("th button").forEach((button, column) => {
    button.addEventListener("click", () => {
      const numeric = button.dataset.type === "number";
      const up = button.getAttribute("aria-sort") !== "ascending";
      table.querySelectorAll("th button").forEach((b) => b.removeAttribute("aria-sort"));
      button.setAttribute("aria-sort", up ? "ascending" : "descending");
      const rows = [...body.rows];
      rows.sort((a, b) => {
        const x = a.cells[column].dataset.sort ?? a.cells[column].textContent;
        const y = b.cells[column].dataset.sort ?? b.cells[column].textContent;
        const order = numeric ? Number(x) - Number(y) : x.localeCompare(y);
        return up ? order : -order;
      });
      body.append(...rows);
    });
  });
})();
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


def _edge(value: float) -> str:
    if value >= 1:
        return "1"
    return f"{value:.3f}" if value > 0.99 else f"{value:.2f}"


def confidence_bins(
    confidences: Sequence[float], edges: Sequence[float] = CONFIDENCE_EDGES
) -> list[tuple[str, int]]:
    """Counts of ``confidences`` in the bins between ``edges``, labelled ``"0.90-0.95"``.

    Examples
    --------
    >>> confidence_bins([0.4, 0.97, 0.999, 1.0], edges=(1 / 3, 0.5, 0.99, 1.0))
    [('0.33-0.50', 1), ('0.50-0.99', 1), ('0.99-1', 2)]
    """
    import numpy as np

    counts, _ = np.histogram(np.clip(confidences, edges[0], edges[-1]), bins=np.asarray(edges))
    labels = [f"{_edge(low)}-{_edge(high)}" for low, high in itertools.pairwise(edges)]
    return list(zip(labels, (int(c) for c in counts), strict=True))


def histogram_chart(bins: Sequence[tuple[str, int]], width: int = 700, height: int = 190) -> str:
    """Vertical bars, one per labelled bin, with the counts written above the bars."""
    top = max((count for _, count in bins), default=0) or 1
    left, bottom = 10, 36
    plot_width, plot_height = width - left - 10, height - bottom - 20
    step = plot_width / max(len(bins), 1)
    parts = [
        f'<svg id="confidence-histogram" width="{width}" height="{height}" role="img" '
        'aria-label="rows per confidence range">'
    ]
    for i, (label, count) in enumerate(bins):
        bar = plot_height * count / top
        x = left + i * step
        y = 20 + plot_height - bar
        parts.append(
            f'<rect x="{x + 2:.1f}" y="{y:.1f}" width="{step - 4:.1f}" height="{bar:.1f}" '
            f'fill="#5b7db1"><title>confidence {label}: {count:,} rows</title></rect>'
        )
        parts.append(f'<text x="{x + 4:.1f}" y="{y - 4:.1f}">{count:,}</text>')
        parts.append(
            f'<text x="{x + 2:.1f}" y="{height - bottom + 16}" font-size="10">{_e(label)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _read_confidences(summary: LabelSummary) -> list[float] | None:
    """The confidence of every labeled row, read back from the output file (None if it
    cannot be read, e.g. the output went to stdout)."""
    path = Path(summary.output)
    if summary.output == "-" or not path.is_file():
        return None
    try:
        import pandas as pd

        suffixes = [suffix.lower() for suffix in path.suffixes if suffix.lower() != ".gz"]
        kind = {".csv": "csv", ".tsv": "tsv", ".jsonl": "jsonl", ".ndjson": "jsonl"}.get(
            suffixes[-1] if suffixes else "", "parquet" if path.suffix == ".parquet" else ""
        )
        columns = ["confidence", "status"]
        if kind == "parquet":
            frame = pd.read_parquet(path, columns=columns)
        elif kind == "jsonl":
            frame = pd.read_json(path, lines=True, dtype=False)[columns]
        elif kind in ("csv", "tsv"):
            sep = "\t" if kind == "tsv" else ","
            frame = pd.read_csv(path, sep=sep, usecols=columns, dtype=str, keep_default_na=False)
        else:
            return None
        ok = frame["status"].astype(str) == "ok"
        values = pd.to_numeric(frame.loc[ok, "confidence"], errors="coerce").dropna()
        return values.astype(float).tolist()
    except Exception:  # the report must not fail a finished run: fall back to the summary
        return None


def _summary_bins(histogram: Sequence[int]) -> list[tuple[str, int]]:
    """The run's own equal bins, from the first non-empty one up (the fallback)."""
    n = len(histogram)
    first = next((i for i, count in enumerate(histogram) if count), n - 1)
    return [(f"{i / n:.2f}-{(i + 1) / n:.2f}", histogram[i]) for i in range(first, n)]


def _urgent_details(tickets: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each listed urgent ticket as painclf read it: cleaned text, evidence spans, flags."""
    from classifier.analysis import analyze_many
    from classifier.predict import evidence_spans
    from classifier.rules import load_rules
    from classifier.urgent import find_red_flags

    rules = load_rules()
    analyses = analyze_many([str(ticket["text"]) for ticket in tickets])
    details = []
    for ticket, analysis in zip(tickets, analyses, strict=True):
        findings = list(find_red_flags(analysis, rules))
        details.append(
            {
                **ticket,
                "clean_text": analysis.text,
                "spans": evidence_spans(analysis, rules),
                "flags": [(finding.flag, finding.reason) for finding in findings],
            }
        )
    return details


def highlighted(text: str, spans: Sequence[tuple[int, int, str]]) -> str:
    """``text`` escaped, with each span in a ``<mark>`` titled with its cue category.

    Examples
    --------
    >>> highlighted("sore <legs>", [(0, 4, "soreness_word")])
    '<mark title="soreness_word">sore</mark> &lt;legs&gt;'
    """
    parts, at = [], 0
    for start, end, category in spans:
        css = ' class="rf"' if category.startswith(("rf_", "emergency")) else ""
        parts.append(_e(text[at:start]))
        parts.append(f'<mark title="{_e(category)}"{css}>{_e(text[start:end])}</mark>')
        at = end
    parts.append(_e(text[at:]))
    return "".join(parts)


def _urgent_section(summary: LabelSummary) -> tuple[str, str]:
    """The urgent table (sortable, filterable) and the counts per urgent reason."""
    if not summary.urgent_tickets:
        return "<p>No urgent tickets.</p>", ""
    details = _urgent_details(summary.urgent_tickets)
    reasons: Counter[tuple[str, str]] = Counter(
        flag for ticket in details for flag in dict(ticket["flags"]).items()
    )
    listed = len(details)
    scope = (
        f"the {listed:,} urgent tickets listed below"
        if listed < summary.urgent
        else "all urgent tickets"
    )
    reason_rows = "".join(
        f'<tr><td><a href="#urgent-table" data-filter-flag="{_e(flag)}">{_e(reason)}</a></td>'
        f'<td class="n">{count:,}</td></tr>'
        for (flag, reason), count in reasons.most_common()
    )
    reason_table = (
        f'<h2>Urgent reasons</h2><p class="muted">Tickets per reason among {scope} (a ticket '
        "may have several); click a reason to filter the table.</p>"
        f'<table id="reason-counts"><tr><th>reason</th><th>tickets</th></tr>{reason_rows}</table>'
    )
    options = "".join(
        f'<option value="{_e(flag)}">{_e(reason)}</option>'
        for (flag, reason), _ in sorted(reasons.items(), key=lambda item: item[0][1])
    )
    rows = "".join(
        f'<tr data-flags="{_e(" ".join(dict(t["flags"])))}">'
        f'<td class="n" data-sort="{t["row"]}">{t["row"]}</td><td>{_e(t.get("id") or "")}</td>'
        f'<td class="reasons">{_e("; ".join(reason for _, reason in t["flags"]) or t["reasons"])}'
        f'</td><td class="text">{highlighted(t["clean_text"], t["spans"])}</td></tr>'
        for t in details
    )
    more = summary.urgent - listed
    note = (
        f'<p class="muted">and {more:,} more urgent rows: filter the output on '
        "<code>urgent</code>.</p>"
        if more > 0
        else ""
    )
    table = (
        '<div class="filters"><label>reason <select id="urgent-reason"><option value="">all'
        f"</option>{options}</select></label>"
        '<label>search <input id="urgent-search" type="search" placeholder="words in the row">'
        f'</label><span class="muted"><span id="urgent-shown">{listed}</span> shown</span></div>'
        '<table id="urgent-table"><thead><tr>'
        '<th><button data-type="number">row</button></th><th><button>id</button></th>'
        "<th><button>reasons</button></th><th><button>text</button></th></tr></thead>"
        f"<tbody>{rows}</tbody></table>{note}"
    )
    return table, reason_table


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
    urgent_section, reason_section = _urgent_section(summary)
    confidences = _read_confidences(summary)
    if confidences is not None:
        bins = confidence_bins(confidences)
        histogram_note = (
            "Rows per confidence range (probability of the label given); the ranges are "
            "narrower near 1, where most rows are."
        )
    else:
        bins = _summary_bins(summary.confidence_histogram)
        histogram_note = "Rows per confidence range (probability of the label given)."
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
<p class="muted">{histogram_note}</p>
{histogram_chart(bins)}
{reason_section}
<h2>Urgent tickets ({summary.urgent:,})</h2>
<p class="muted">Texts as painclf read them (HTML and entities cleaned), evidence
highlighted; click a column title to sort.</p>
{urgent_section}
{problems_section}
<script>{_SORT_SCRIPT}</script>
</body>
</html>
"""


def write_report(summary: LabelSummary, path: str | Path) -> None:
    """Write the report page to ``path`` atomically."""
    atomic_write_text(path, render_report(summary))
