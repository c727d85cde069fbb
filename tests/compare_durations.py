"""Compare ``find_durations`` of this tree with another version of ``classifier/duration.py``.

    git show main:classifier/duration.py > /tmp/old_duration.py
    python tests/compare_durations.py --old /tmp/old_duration.py

Runs both on the seed, real and gold texts (raw and cleaned), generated tickets, the
tokenizer's fuzz texts and duration-dense fuzz texts, each with several reference dates, and
prints how many texts and mentions were compared and every difference (text, start, end,
days, kind). Without ``--old`` it compares with this tree's pure-Python reference.
Exit status 1 if anything differs.
"""

from __future__ import annotations

import argparse
import csv
import datetime
import importlib.util
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

DATES = (
    datetime.date(2024, 1, 17),
    datetime.date(2024, 2, 29),
    datetime.date(2026, 12, 1),
    datetime.date(2019, 12, 31),
    datetime.datetime(2025, 6, 15, 23, 59),
)


def _csv_texts(folder: Path) -> list[str]:
    texts = []
    for path in sorted(folder.glob("*.csv")):
        with path.open(newline="", encoding="utf-8") as handle:
            texts += [row["text"] for row in csv.DictReader(handle)]
    return texts


def _load_old(path: Path) -> Any:
    spec = importlib.util.spec_from_file_location("painclf_old_duration", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _as_tuples(mentions: list[Any]) -> list[tuple[str, int, int, float, str]]:
    return [(m.text, m.start, m.end, m.days, m.kind) for m in mentions]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--old", type=Path, help="another classifier/duration.py")
    parser.add_argument("--tickets", type=int, default=50_000)
    parser.add_argument("--fuzz", type=int, default=20_000)
    args = parser.parse_args(argv)

    from duration_fuzz import duration_fuzz_texts
    from fuzz_texts import fuzz_texts
    from generate import generate_tickets

    from classifier import duration
    from classifier.analysis import clean_text

    if duration._compiled_scanner() is None:
        print("the compiled scanner is not in use: nothing to compare", file=sys.stderr)
        return 2
    new = duration.find_durations
    old = _load_old(args.old).find_durations if args.old else duration._find_durations_python
    sets = {
        "seed": _csv_texts(ROOT / "data" / "seed"),
        "real": _csv_texts(ROOT / "data" / "real"),
        "gold": _csv_texts(ROOT / "data" / "gold"),
        "tickets": generate_tickets(args.tickets, seed=7),
        "fuzz": fuzz_texts(args.fuzz, seed=11),
        "duration fuzz": duration_fuzz_texts(args.fuzz, seed=13),
    }
    differences = 0
    for name, raw in sets.items():
        texts = raw + [clean_text(text).text for text in raw]
        calls = mentions = 0
        for today in DATES:
            for text in texts:
                expected = _as_tuples(old(text, today))
                found = _as_tuples(new(text, today))
                calls += 1
                mentions += len(expected)
                if found != expected:
                    differences += 1
                    print(f"DIFF {name} {today}: {text[:120]!r}\n  old {expected}\n  new {found}")
        print(
            f"{name}: {len(raw):,} texts (raw and cleaned) x {len(DATES)} dates = "
            f"{calls:,} calls, {mentions:,} mentions compared"
        )
    print(f"differences: {differences}")
    return 1 if differences else 0


if __name__ == "__main__":
    sys.exit(main())
