"""The text gates of the token patterns that need no word (``nlp._text_needs``) only skip
texts the pattern cannot match: the matches are those of the patterns run on every text."""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import pytest

from classifier import nlp
from classifier.analysis import clean_text
from classifier.config import REAL_DIR, SEED_DIR
from classifier.dataset import load_labeled

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT / "tests"))

CRAFTED = [
    "fever of 39.5° since last night, back pain",
    "temp 102°F and my back is killing me",
    "38,5°c",
    "it was 40 °C outside",
    "my back hurts ): and 1) legs 2) arms a. neck b) hips",
    "1.) sore 2.) stiff",
    "ＴＥＭＰ ３９°",
    "",
    "   ",
    "\x00 ° \x00",
    "lone \ud800 surrogate ): 39°",
    "°" * 50,
]


def _texts() -> list[str]:
    from fuzz_texts import fuzz_texts
    from generate import generate_tickets

    frame, _, _ = load_labeled([SEED_DIR])
    with (REAL_DIR / "reddit_top_2013.csv").open(newline="", encoding="utf-8") as handle:
        real = [row["text"] for row in csv.DictReader(handle)]
    with (ROOT / "data" / "gold" / "gold.csv").open(newline="", encoding="utf-8") as handle:
        gold = [row["text"] for row in csv.DictReader(handle)]
    raw = [*CRAFTED, *frame["text"].tolist(), *real, *gold]
    raw += [*generate_tickets(2000, seed=17), *fuzz_texts(3000, seed=18)]
    return [clean_text(text).text for text in raw]


def _matchers() -> list[nlp.GatedMatcher]:
    cues, context, _ = (component for _, component in nlp.get_nlp().pipeline)
    return [cues.matcher, context.matcher]


def test_the_patterns_without_a_word_gate_get_a_text_gate() -> None:
    needs = [e[3] for m in _matchers() for e in m.entries if not e[1]]
    assert needs and all(needs)
    assert (("°",),) in needs


@pytest.mark.parametrize("use_doc", [False, True], ids=["table", "doc"])
def test_text_gates_skip_only_texts_without_a_match(use_doc: bool) -> None:
    texts = _texts()
    if use_doc:
        texts = texts[::5]
    hits = 0
    for matcher in _matchers():
        ungated = nlp.GatedMatcher(matcher.vocab)
        for name, value in vars(matcher).items():
            setattr(ungated, name, value)
        ungated.entries = [(m, g, t, ()) for m, g, t, _ in matcher.entries]
        for text in texts:
            doc = nlp.get_nlp().tokenizer(nlp._lower_same_length(text))
            doc.user_data[nlp.TEXT_KEY] = text
            table = nlp.token_table(doc)
            if use_doc or table.attrs is None:
                got, expected = matcher(doc, table), ungated(doc, table)
            else:
                got, expected = matcher(None, table), ungated(None, table)
            assert got == expected, text
            hits += len(expected)
    assert hits > (200 if use_doc else 1000)


def test_a_pattern_that_sets_flags_or_does_not_parse_gets_no_characters() -> None:
    assert nlp._regex_characters("(?i)°c") == []
    assert nlp._regex_characters("(") == []
    assert nlp._regex_characters("^a(b)?°c:$") == ["°", ":"]
    assert nlp._text_needs([{"ORTH": "Dr"}, {"ORTH": {"IN": [")", "]"]}}]) == ((")", "]"),)
    assert nlp._text_needs([{"ORTH": ")", "OP": "?"}]) == ()
