"""The compiled duration scanner (``classifier._dur``) finds exactly what the pure-Python rules
find: every mention's text, offsets, days and kind, on random texts dense in duration phrases,
on the tokenizer's fuzz texts and on generated tickets, with several reference dates.
"""

from __future__ import annotations

import datetime
import sys
from pathlib import Path

import pytest

from classifier import duration
from classifier.analysis import clean_text

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "benchmarks"))

from both_paths import run_on_both_paths  # noqa: E402
from duration_fuzz import duration_fuzz_texts  # noqa: E402
from fuzz_texts import fuzz_texts  # noqa: E402

scanner = duration._compiled_scanner()
needs_compiled = pytest.mark.skipif(
    scanner is None, reason="classifier._dur is not built (or PAINCLF_PURE_PYTHON is set)"
)
DATES = (datetime.date(2024, 1, 17), datetime.date(2024, 2, 29), datetime.date(2019, 12, 31))


def _tuples(mentions: list[duration.DurationMention]) -> list[tuple]:
    return [(m.text, m.start, m.end, m.days, m.kind) for m in mentions]


def _sample() -> list[str]:
    from generate import generate_tickets

    texts = duration_fuzz_texts(3000, seed=5) + fuzz_texts(1000, seed=6)
    texts += generate_tickets(1000, seed=8)
    return texts + [clean_text(text).text for text in texts]


@needs_compiled
def test_the_compiled_scanner_finds_what_the_pure_rules_find() -> None:
    texts = _sample()
    compared = 0
    for today in DATES:
        for text in texts:
            expected = duration._find_durations_python(text, today)
            found = duration.find_durations(text, today)
            assert _tuples(found) == _tuples(expected), (text, today)
            assert all(type(m) is duration.DurationMention for m in found)
            compared += len(expected)
    # The sample must exercise the rules, not just agree on nothing.
    assert compared > 20_000
    kinds = {m.kind for text in texts[:3000] for m in duration.find_durations(text, DATES[0])}
    assert kinds == {"span", "ago", "program"}


@needs_compiled
def test_mentions_are_equal_hashable_and_frozen() -> None:
    text = "sore for 3 weeks, hurt it 2 days ago"
    found = duration.find_durations(text, DATES[0])
    assert found == duration._find_durations_python(text, DATES[0])
    assert len({*found}) == 2
    with pytest.raises(AttributeError):
        found[0].days = 1.0  # type: ignore[misc]


@needs_compiled
def test_odd_inputs_behave_as_in_pure_python() -> None:
    class Text(str):
        def lower(self) -> str:
            return str(self).lower()

    assert _tuples(duration.find_durations(Text("For 3 DAYS"), DATES[0])) == [
        ("For 3 DAYS", 0, 10, 3.0, "span")
    ]
    with pytest.raises(TypeError, match="text must be str"):
        duration.find_durations(b"for 3 days", DATES[0])  # type: ignore[arg-type]
    assert duration.find_durations("", DATES[0]) == []
    moment = datetime.datetime(2024, 1, 17, 23, 59)
    assert _tuples(duration.find_durations("sore since Monday", moment)) == _tuples(
        duration._find_durations_python("sore since Monday", moment)
    )
    # Without a date: today's, as the pure rules take it.
    assert _tuples(duration.find_durations("since monday, for 2 weeks")) == _tuples(
        duration._find_durations_python("since monday, for 2 weeks")
    )
    # A bare "today" next to another mention is dropped on both paths.
    assert _tuples(duration.find_durations("hurt it 3 weeks ago and today it's worse")) == [
        ("3 weeks ago", 8, 19, 21.0, "ago")
    ]


def test_the_pure_python_switch_gives_the_same_mentions() -> None:
    texts = duration_fuzz_texts(300, seed=21)
    code = (
        "import json, sys, datetime\n"
        "from classifier import duration\n"
        "texts = json.load(sys.stdin)\n"
        "found = [[(m.text, m.start, m.end, m.days, m.kind)\n"
        "          for m in duration.find_durations(t, datetime.date(2024, 1, 17))]\n"
        "         for t in texts]\n"
        "print(json.dumps([duration._compiled_scanner() is None, found]))\n"
    )
    (pure_off, pure_found), (compiled_off, compiled_found) = run_on_both_paths(code, texts)
    assert pure_off is True
    assert compiled_off is (scanner is None)
    assert pure_found == compiled_found
    assert sum(map(len, pure_found)) > 200


def test_a_missing_duration_module_warns_and_falls_back(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "classifier._dur", None)  # import fails
    duration._compiled_scanner.cache_clear()
    try:
        if scanner is None:
            assert duration._compiled_scanner() is None  # pure path: not even tried
        else:
            with pytest.warns(RuntimeWarning, match="pure-Python rules are used"):
                assert duration._compiled_scanner() is None
        assert _tuples(duration.find_durations("sore for 3 weeks", DATES[0])) == [
            ("for 3 weeks", 5, 16, 21.0, "span")
        ]
    finally:
        monkeypatch.undo()
        duration._compiled_scanner.cache_clear()
    assert (duration._compiled_scanner() is None) == (scanner is None)
