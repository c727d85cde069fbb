"""The literal-start scan of the duration patterns finds exactly what ``finditer`` finds.

``classifier.duration`` tries a pattern only where one of its starting literals occurs
(``_STARTS``); that is only right if no match can start anywhere else. Checked here on every
text of the snapshot corpus and on texts built to trip it up.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

import pytest

from classifier import duration

sys.path.insert(0, str(Path(__file__).resolve().parent))
from classifier.analysis import clean_text

_SCRIPT = Path(__file__).resolve().parent / "make_snapshot.py"

TRICKY = [
    "",
    "for",
    "before forever for  3 days, for\tweeks",
    "in a row in   a\nrow inarow 3 days in a row",
    "the day before yesterday; the  day before yesterday; theday before yesterday",
    "last night lastnight last\n night blast night",
    "this morning thismorning this   morning",
    "over the weekend, last weekend, this past weekend, overthe weekend",
    "all week, the whole month, this entire week of pain, tall week",
    "on monday, last tuesday, this past friday, upon sunday, on last sunday",
    "Since İstanbul trip 3 DAYS AGO, FOR 2 WEEKS",
    "foo_for 3 days, 3 days_ago, day_3, for_since",
]


def _corpus() -> list[str]:
    spec = importlib.util.spec_from_file_location("painclf_make_snapshot_scan", _SCRIPT)
    assert spec is not None and spec.loader is not None
    module: Any = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return [text for _, text in module.corpus()]


@pytest.fixture(scope="module")
def lowered_texts() -> list[str]:
    texts = _corpus() + TRICKY
    cleaned = [clean_text(text).text for text in texts]
    return [duration._lower(text) for text in texts + cleaned]


@pytest.mark.parametrize("pattern", list(duration._STARTS), ids=lambda p: p.pattern[:30])
def test_scan_finds_what_finditer_finds(pattern: Any, lowered_texts: list[str]) -> None:
    assert len(lowered_texts) > 4000
    for text in lowered_texts:
        expected = [m.span() for m in pattern.finditer(text)]
        assert [m.span() for m in duration._scan(pattern, text)] == expected, text[:200]


def test_every_unanchored_rule_has_starting_literals() -> None:
    for rule in duration._RULES:
        assert (rule.anchor or rule.pattern) in duration._STARTS


@pytest.mark.parametrize(
    "rule",
    [rule for rule in duration._RULES if rule.window_gate is not None],
    ids=lambda rule: rule.pattern.pattern[:30],
)
def test_every_match_holds_its_window_gate(rule: Any, lowered_texts: list[str]) -> None:
    # The compiled scanner skips a window without the gate: right only if no match lacks it.
    from duration_fuzz import duration_fuzz_texts

    texts = lowered_texts + [duration._lower(text) for text in duration_fuzz_texts(3000, seed=3)]
    held = 0
    for text in texts:
        for match in rule.pattern.finditer(text):
            assert rule.window_gate.search(text, match.start(), match.end()), match.group(0)
            held += 1
    assert held > 20


def test_the_quantity_before_an_anchor_is_found_where_the_regex_finds_it(
    lowered_texts: list[str],
) -> None:
    from duration_fuzz import duration_fuzz_texts

    scanner = duration._compiled_scanner()
    if scanner is None:
        pytest.skip("classifier._dur is not built (or PAINCLF_PURE_PYTHON is set)")
    fuzz = [duration._lower(text) for text in duration_fuzz_texts(1500, seed=4)]
    found = 0
    for text in lowered_texts[:2000] + fuzz + TRICKY:
        for start in range(len(text) + 1):
            expected = duration._QUANTITY_TAIL.search(
                text, max(0, start - duration._TAIL_LOOK_BACK), start
            )
            assert scanner.quantity_before(text, start) == (expected is not None), (text, start)
            found += expected is not None
    assert found > 1000
