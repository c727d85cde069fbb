"""The accent stripping of ``lean`` looks only at the non-ASCII characters: the same answers as
its per-character form; ``clean_text``'s language notes are those of its per-character rule."""

from __future__ import annotations

import csv
import sys
import unicodedata
from pathlib import Path

from classifier.analysis import NOTE_NO_WORDS, NOTE_NOT_ENGLISH, clean_text
from classifier.config import REAL_DIR, SEED_DIR
from classifier.dataset import load_labeled
from classifier.lean import strip_accents_unicode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

ODD = [
    "",
    "é",
    "½ ① ² ٣",  # numeric, not letters
    "боль в спине, back",
    "me duele la espalda desde hace tres semanas",
    "中文 back pain 中文中文",
    "e\u0301 a\u0300 n\u0303 \u0301\u0301",
    "lone \ud800 surrogate \udfff",
    "\x00 nul \x00",
    "ﬁne ﬂ ＡＢＣ",
    "😀🔥 sore",
]


def _texts() -> list[str]:
    from fuzz_texts import fuzz_texts

    frame, _, _ = load_labeled([SEED_DIR])
    with (REAL_DIR / "reddit_top_2013.csv").open(newline="", encoding="utf-8") as handle:
        real = [row["text"] for row in csv.DictReader(handle)]
    return [*ODD, *frame["text"].tolist(), *real, *fuzz_texts(3000, seed=31)]


def _language_notes_per_character(text: str) -> list[str]:
    """What ``clean_text`` decided before, one character at a time."""
    if text.isascii():
        return [] if any("a" <= ch.lower() <= "z" for ch in text) else [NOTE_NO_WORDS]
    letters = [ch for ch in text if ch.isalpha()]
    if not letters:
        return [NOTE_NO_WORDS]
    if sum(ch.isascii() for ch in letters) < 0.5 * len(letters):
        return [NOTE_NOT_ENGLISH]
    return []


def test_the_letter_counts_are_the_per_character_ones() -> None:
    assert [chr(c) for c in range(128) if chr(c).isalpha()] == [
        *map(chr, range(65, 91)),
        *map(chr, range(97, 123)),
    ]
    decided = 0
    for text in _texts():
        clean = clean_text(text)
        if not clean.text:
            continue
        found = [n for n in clean.notes if n in (NOTE_NO_WORDS, NOTE_NOT_ENGLISH)]
        assert found == _language_notes_per_character(clean.text), text
        decided += bool(found)
    assert decided > 50


def test_accents_are_stripped_as_one_character_at_a_time() -> None:
    changed = 0
    for text in _texts():
        normalized = unicodedata.normalize("NFKD", text)
        expected = (
            text
            if text.isascii()
            else "".join([c for c in normalized if not unicodedata.combining(c)])
        )
        assert strip_accents_unicode(text) == expected
        changed += expected != text
    assert changed > 100
