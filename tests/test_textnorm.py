"""Text normalisation and bounds: no invisible or look-alike character hides a red flag,
no input makes the analysis superlinear, and a row past its budget is stopped."""

from __future__ import annotations

import importlib.util
import time
from pathlib import Path

import pytest

from classifier import analysis
from classifier.analysis import NOTE_OVER_BUDGET, analyze, analyze_many, clean_text
from classifier.rules import load_rules
from classifier.textnorm import (
    MAX_SYMBOL_RUN,
    NOTE_CONFUSABLE,
    NOTE_INVISIBLE,
    NOTE_SURROGATE,
    normalize_unicode,
)
from classifier.urgent import find_red_flags


def _red_flag_texts() -> list[tuple[str, str]]:
    """Every (flag, text) that ``tests/test_urgent.py`` expects to raise a red flag."""
    path = Path(__file__).with_name("test_urgent.py")
    spec = importlib.util.spec_from_file_location("_urgent_cases", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    cases = []
    for case in module.RAISED:
        values = getattr(case, "values", case)  # pytest.param or a plain tuple
        flag, text = values[0], values[1]
        cases.append((flag, text))
    return cases


RED_FLAGS = _red_flag_texts()


def _inside_words(text: str, mark: str) -> str:
    """``mark`` in the middle of every word of three letters or more."""
    return " ".join(
        w[: len(w) // 2] + mark + w[len(w) // 2 :] if len(w) > 2 else w for w in text.split(" ")
    )


def _fullwidth(text: str) -> str:
    return "".join(
        "\u3000" if ch == " " else chr(ord(ch) + 0xFEE0) if "!" <= ch <= "~" else ch for ch in text
    )


def _cyrillic(text: str, letters: str) -> str:
    table = {"o": "о", "a": "а", "e": "е", "c": "с", "p": "р", "x": "х", "y": "у", "i": "і"}
    return text.translate(str.maketrans({k: v for k, v in table.items() if k in letters}))


VARIANTS = {
    "zero-width space": lambda t: _inside_words(t, "\u200b"),
    "soft hyphen": lambda t: _inside_words(t, "\u00ad"),
    "zero-width joiner": lambda t: _inside_words(t, "\u200d"),
    "right-to-left mark": lambda t: _inside_words(t, "\u200f"),
    "word joiner and BOM": lambda t: _inside_words(t, "\u2060\ufeff"),
    "HTML entity of a zero-width space": lambda t: _inside_words(t, "&#8203;"),
    "fullwidth letters": _fullwidth,
    "Cyrillic o": lambda t: _cyrillic(t, "o"),
    "Cyrillic a, e, o, c, p": lambda t: _cyrillic(t, "aeocp"),
    "soft hyphen and Cyrillic o": lambda t: _cyrillic(_inside_words(t, "\u00ad"), "o"),
}


def flags_of(text: str) -> set[str]:
    return {finding.flag for finding in find_red_flags(analyze(text), load_rules())}


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_every_red_flag_survives_invisible_and_look_alike_characters(variant: str) -> None:
    disguise = VARIANTS[variant]
    missed = []
    for flag, text in RED_FLAGS:
        plain = flags_of(text)
        assert flag in plain, f"the plain text no longer raises {flag}: {text!r}"
        disguised = disguise(text)
        if disguised == text:
            continue  # no letter to swap ("Cyrillic o" in a text without an o)
        if flags_of(disguised) != plain:
            missed.append((flag, disguised))
    assert not missed, (
        f"{len(missed)} of {len(RED_FLAGS)} red flags hidden by {variant}: {missed[:3]}"
    )


def test_the_issue_reproduction_is_urgent_again(classifier) -> None:
    prediction = classifier.predict("My legs are sore and now I can't control my blad\u200bder")
    assert prediction.urgent and prediction.label == "pain"
    assert NOTE_INVISIBLE in prediction.notes


def test_text_in_another_script_is_not_folded_into_latin() -> None:
    assert normalize_unicode("у меня болит спина") == ("у меня болит спина", ())
    assert normalize_unicode("πονάει η πλάτη μου")[0] == "πονάει η πλάτη μου"
    text, notes = normalize_unicode("my bасk hurts")  # Cyrillic а, с
    assert text == "my back hurts" and NOTE_CONFUSABLE in notes


def test_lone_surrogates_are_replaced_and_noted(classifier) -> None:
    cleaned = clean_text("x \ud83d pain in my back \udc00")
    assert "\ud83d" not in cleaned.text and "\ufffd" in cleaned.text
    assert NOTE_SURROGATE in cleaned.notes
    prediction = classifier.predict("my back hurts \ud83d")
    assert prediction.label in ("pain", "soreness", "other")
    assert NOTE_SURROGATE in prediction.notes


def test_an_ascii_text_is_left_exactly_as_it_was() -> None:
    text = "Sore after squats, nothing sharp -- ok?"
    assert normalize_unicode(text) == (text, ())
    assert clean_text(text).notes == ()


def test_runs_of_symbols_are_cut_but_words_are_kept() -> None:
    cleaned = clean_text("help " + "!" * 5000 + " my back " + "😀" * 3000 + " hurts")
    assert cleaned.text.split() == [
        "help",
        "!" * MAX_SYMBOL_RUN,
        "my",
        "back",
        "😀" * MAX_SYMBOL_RUN,
        "hurts",
    ]


def test_a_row_past_its_budget_is_stopped_and_the_others_are_analysed(monkeypatch) -> None:
    real = analysis.find_durations

    def slow_for_one_text(text: str, **kwargs):
        if "stall" in text:
            time.sleep(30)  # interrupted by the per-row timer long before
        return real(text, **kwargs)

    monkeypatch.setattr(analysis, "find_durations", slow_for_one_text)
    started = time.perf_counter()
    results = analyze_many(
        ["sore for three weeks", "this one will stall", "my back hurts"], budget_seconds=0.2
    )
    assert time.perf_counter() - started < 25, "the timer did not interrupt the stalled row"
    assert results[0].duration_days == 21.0
    assert results[1].text == "" and results[1].notes[-1].startswith(NOTE_OVER_BUDGET)
    assert not results[1].has_words
    assert results[2].text == "my back hurts"


def test_the_budget_also_judges_rows_where_no_timer_can_interrupt(monkeypatch) -> None:
    import threading

    outcome: list = []
    real = analysis.find_durations

    def slow(text: str, **kwargs):
        if "slow" in text:
            time.sleep(0.3)
        return real(text, **kwargs)

    monkeypatch.setattr(analysis, "find_durations", slow)
    worker = threading.Thread(
        target=lambda: outcome.extend(analyze_many(["slow one", "fast one"], budget_seconds=0.1))
    )
    worker.start()
    worker.join()
    assert outcome[0].notes[-1].startswith(NOTE_OVER_BUDGET)
    assert outcome[1].text == "fast one"


HOSTILE_RUNS = {
    "HTML tag opener and spaces": "<" + " " * 20000,
    "exclamation marks": "!" * 20000,
    "ampersands": "&" * 20000,
    "apostrophes": "'" * 20000,
    "double quotes": '"' * 20000,
    "emoji": "😀" * 10000,
    "alternating punctuation": "!?" * 10000,
    "opening brackets": "(" * 20000,
}


@pytest.mark.parametrize("name", list(HOSTILE_RUNS))
def test_hostile_runs_are_analysed_within_the_budget(name: str) -> None:
    # Quadratic before the fix (10 s to minutes each); the budget would stop them now,
    # so a note-free result shows the analysis itself finished within it.
    result = analyze_many([HOSTILE_RUNS[name]], budget_seconds=2.0)[0]
    assert not any(note.startswith(NOTE_OVER_BUDGET) for note in result.notes)
