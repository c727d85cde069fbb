"""Freeze today's analysis and predictions of a fixed corpus, for tests/test_snapshot.py.

The snapshot is what the per-text analysis (cues with spans and modifiers, durations,
urgent flags and reasons, evidence) and the shipped model's prediction were on the day it
was written. ``tests/test_snapshot.py`` compares the current code with it, so a faster
implementation of the analysis can be checked to change nothing.

Regenerate it only for a change you can name (a fixed rule, a retrained shipped model),
and say in the commit message which texts changed and why:

    python tests/make_snapshot.py              # rewrites tests/data/analysis_snapshot.jsonl.gz
    python tests/make_snapshot.py --check      # compare only; exit 1 and list differences
    # the dev set is not in the repository: freeze and check it outside, by hand
    python tests/make_snapshot.py --extra /work/shared/eval/dev.csv --output /tmp/dev.jsonl.gz

The corpus: the seed texts (``data/seed``), the real posts (``data/real``), the sample
tickets (``data/samples``) and every string literal with at least two words in
``tests/*.py`` (the texts the tests use). Durations are computed against the fixed date
``SNAPSHOT_TODAY`` so the snapshot does not age.
"""

from __future__ import annotations

import argparse
import ast
import csv
import datetime
import gzip
import hashlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SNAPSHOT_FILE = ROOT / "tests" / "data" / "analysis_snapshot.jsonl.gz"
SNAPSHOT_TODAY = datetime.date(2026, 12, 1)
CORPUS_FILES = (
    "data/seed/soreness.csv",
    "data/seed/pain.csv",
    "data/seed/other.csv",
    "data/seed/urgent.csv",
    "data/real/reddit_top_2013.csv",
    "data/samples/tickets.csv",
)
TEXT_COLUMNS = ("text", "body")
PROBABILITY_DIGITS = 9


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def _csv_texts(path: Path) -> Iterator[str]:
    with path.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            for column in TEXT_COLUMNS:
                if row.get(column):
                    yield row[column]
                    break


def _test_texts(folder: Path) -> Iterator[str]:
    """Every string literal of two words or more in the test modules, in file order."""
    for path in sorted(folder.glob("*.py")):
        if path.name in ("make_snapshot.py", "test_snapshot.py"):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                text = node.value
                if len(text.split()) >= 2 and len(text) <= 20_000:
                    yield text


def corpus(root: Path = ROOT, extra: tuple[Path, ...] = ()) -> list[tuple[str, str]]:
    """``(source, text)`` pairs, each distinct text once, in a fixed order.

    ``extra`` CSV files (a ``text`` column) are appended: e.g. an evaluation set that is
    not in the repository, to check a change against it outside the tests.
    """
    seen: set[str] = set()
    pairs: list[tuple[str, str]] = []
    sources = [(name, _csv_texts(root / name)) for name in CORPUS_FILES]
    sources.append(("tests", _test_texts(root / "tests")))
    sources.extend((str(path), _csv_texts(path)) for path in extra)
    for name, texts in sources:
        for text in texts:
            if text not in seen:
                seen.add(text)
                pairs.append((name, text))
    return pairs


def records(texts: list[str], batch: int = 2000) -> list[dict[str, Any]]:
    """The frozen form of each text's analysis and prediction with the shipped model."""
    from classifier.analysis import analyze_many
    from classifier.predict import Classifier

    model = Classifier.load("shipped")
    out: list[dict[str, Any]] = []
    for offset in range(0, len(texts), batch):
        chunk = texts[offset : offset + batch]
        # No row budget: a slow machine must not turn a text into "analysis stopped".
        analyses = analyze_many(chunk, today=SNAPSHOT_TODAY, budget_seconds=None)
        predictions = model.predict_analyses(analyses)
        for text, analysis, prediction in zip(chunk, analyses, predictions, strict=True):
            out.append(record(text, analysis, prediction))
    return out


def record(text: str, analysis: Any, prediction: Any) -> dict[str, Any]:
    return {
        "hash": text_hash(text),
        "cues": [
            [
                c.category,
                c.start,
                c.end,
                c.start_char,
                c.end_char,
                c.sentence,
                sorted(c.modifiers),
                c.owner,
            ]
            for c in analysis.cues
        ],
        "durations": [[m.start, m.end, m.days, m.kind] for m in analysis.durations],
        "duration_days": analysis.duration_days,
        "n_tokens": analysis.n_tokens,
        "signals": [
            analysis.first_person,
            analysis.self_reference,
            analysis.is_question,
            list(analysis.sentence_starts),
            sorted(analysis.impersonal_questions),
            sorted(analysis.self_sentences),
        ],
        "notes": list(prediction.notes),
        "label": prediction.label,
        "probabilities": {
            k: round(v, PROBABILITY_DIGITS) for k, v in sorted(prediction.probabilities.items())
        },
        "urgent": [list(prediction.urgent_flags), list(prediction.urgent_reasons)],
        "evidence": list(prediction.evidence),
    }


def write(path: Path, rows: list[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # mtime=0 and no file name in the header: the same rows give the same bytes.
    with (
        path.open("wb") as raw,
        gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=9) as zipped,
    ):
        for row in rows:
            line = json.dumps(row, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
            zipped.write(line.encode("utf-8") + b"\n")


def read(path: Path = SNAPSHOT_FILE) -> list[dict[str, Any]]:
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle]


def differences(
    expected: list[dict[str, Any]], actual: list[dict[str, Any]], texts: list[str]
) -> list[str]:
    """A readable line per differing text: which fields differ, and the text's start."""
    lines = []
    for text, old, new in zip(texts, expected, actual, strict=True):
        if {**old, "source": None} == {**new, "source": None}:
            continue
        fields = sorted(
            k for k in old.keys() | new.keys() if k != "source" and old.get(k) != new.get(k)
        )
        detail = "; ".join(f"{k}: {old.get(k)!r} -> {new.get(k)!r}" for k in fields)
        lines.append(f"{old['hash']} {text[:80]!r}\n    {detail[:1500]}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare only, write nothing")
    parser.add_argument("--output", type=Path, default=SNAPSHOT_FILE)
    parser.add_argument(
        "--extra",
        type=Path,
        nargs="*",
        default=(),
        help="more CSV files with a text column (write these snapshots outside the repo)",
    )
    args = parser.parse_args(argv)
    pairs = corpus(extra=tuple(args.extra))
    texts = [text for _, text in pairs]
    rows = records(texts)
    for (source, _), row in zip(pairs, rows, strict=True):
        row["source"] = source
    if args.check:
        expected = {row["hash"]: row for row in read(args.output)}
        kept = [i for i, row in enumerate(rows) if row["hash"] in expected]
        print(f"{len(rows) - len(kept)} texts are not in the snapshot", file=sys.stderr)
        diff = differences(
            [expected[rows[i]["hash"]] for i in kept],
            [rows[i] for i in kept],
            [texts[i] for i in kept],
        )
        for line in diff[:50]:
            print(line)
        print(f"{len(diff)} of {len(rows)} texts differ", file=sys.stderr)
        return 1 if diff else 0
    write(args.output, rows)
    counts: dict[str, int] = {}
    for source, _ in pairs:
        counts[source] = counts.get(source, 0) + 1
    print(f"wrote {len(rows)} texts to {args.output} ({counts})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
