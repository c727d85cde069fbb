"""Unicode normalisation that a red flag cannot hide from, and bounds that keep analysis linear.

``normalize_unicode`` runs before any matching (``clean_text`` calls it): lone
surrogates are replaced, invisible format characters removed, compatibility forms
folded by NFKC (fullwidth letters, ligatures, mathematical letters) and look-alike
letters of other scripts inside Latin words read as the Latin letters they mimic
("blаdder" with a Cyrillic "а"). Each change is reported as a note.

``collapse_symbol_runs`` cuts runs of punctuation and symbols (emoji included): spaCy's
tokenizer strips prefixes and suffixes one character at a time, re-searching the rest
of the token each time, so one 20,000-character run of ``!`` costs time quadratic in
its length. No word is lost: only symbols beyond the first ``MAX_SYMBOL_RUN`` of a run.

The look-alike table is hand-written from Unicode's confusables list
(https://www.unicode.org/Public/security/latest/confusables.txt), restricted to the
letters that map to one ASCII letter; the PyPI packages that ship the whole list
answer "are these two strings confusable?", not "which Latin word is this?".
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache

# A run of punctuation or symbols longer than this is cut to its first MAX_SYMBOL_RUN
# characters: "!!!" keeps its emphasis, 20,000 "!" no longer stall the tokenizer.
MAX_SYMBOL_RUN = 10
_SYMBOL_RUN = re.compile(rf"[^\w\s]{{{MAX_SYMBOL_RUN + 1},}}")
_SURROGATE = re.compile("[\ud800-\udfff]")
_WORD = re.compile(r"[^\W\d_]+")
_ASCII_LETTER = re.compile(r"[A-Za-z]")

NOTE_SURROGATE = "lone surrogate code point(s) replaced by U+FFFD"
NOTE_INVISIBLE = "invisible format characters removed"
NOTE_NFKC = "compatibility characters normalised (NFKC: fullwidth, ligatures, styled letters)"
NOTE_CONFUSABLE = "look-alike letters from other scripts read as Latin letters"
NOTE_SYMBOL_RUN = f"runs of punctuation or symbols cut to {MAX_SYMBOL_RUN} characters"

# Default-ignorable code points that are not in category Cf (Unicode's
# DerivedCoreProperties): combining grapheme joiner, Hangul fillers, Khmer inherent
# vowels, Mongolian variation selectors, variation selectors.
_IGNORABLE_EXTRA = (
    (0x034F, 0x034F),
    (0x115F, 0x1160),
    (0x17B4, 0x17B5),
    (0x180B, 0x180F),
    (0x3164, 0x3164),
    (0xFE00, 0xFE0F),
    (0xFFA0, 0xFFA0),
    (0xE0100, 0xE01EF),
)

# Letters of other scripts that look like one ASCII letter (from confusables.txt).
CONFUSABLES: dict[str, str] = {
    # Cyrillic
    "а": "a", "в": "b", "е": "e", "к": "k", "м": "m", "н": "h", "о": "o", "р": "p",
    "с": "c", "т": "t", "у": "y", "х": "x", "ѕ": "s", "і": "i", "ј": "j", "ԁ": "d",
    "һ": "h", "ӏ": "l", "ԛ": "q", "ԝ": "w", "ԍ": "g", "ү": "y", "ɡ": "g",
    "А": "A", "В": "B", "Е": "E", "К": "K", "М": "M", "Н": "H", "О": "O", "Р": "P",
    "С": "C", "Т": "T", "Х": "X", "У": "Y", "І": "I", "Ј": "J", "Ѕ": "S", "Ү": "Y",
    "Ԁ": "D", "Ԛ": "Q", "Ԝ": "W", "Ӏ": "I",
    # Greek
    "α": "a", "ο": "o", "ν": "v", "ρ": "p", "ι": "i", "κ": "k", "υ": "u", "χ": "x",
    "γ": "y", "ϲ": "c", "ϳ": "j",
    "Α": "A", "Β": "B", "Ε": "E", "Ζ": "Z", "Η": "H", "Ι": "I", "Κ": "K", "Μ": "M",
    "Ν": "N", "Ο": "O", "Ρ": "P", "Τ": "T", "Υ": "Y", "Χ": "X",
    # Armenian and Latin extensions
    "օ": "o", "ս": "u", "ı": "i", "ɑ": "a", "ȷ": "j", "ɩ": "i",
}  # fmt: skip
_CONFUSABLE_TABLE = str.maketrans(CONFUSABLES)
_CONFUSABLE = re.compile("[" + "".join(sorted(CONFUSABLES)) + "]")


@cache
def _invisible() -> re.Pattern[str]:
    """Every format (Cf) character and the other default-ignorable code points.

    Built from ``unicodedata`` on first use, so it follows Python's Unicode version;
    planes 0, 1 and 14 hold every Cf character (checked below for the rest).
    """
    ranges: list[list[int]] = []
    planes = [*range(0x0, 0x20000), *range(0xE0000, 0xE1000)]
    for code in planes:
        if unicodedata.category(chr(code)) == "Cf":
            if ranges and ranges[-1][1] == code - 1:
                ranges[-1][1] = code
            else:
                ranges.append([code, code])
    ranges.extend([list(r) for r in _IGNORABLE_EXTRA])
    parts = "".join(
        re.escape(chr(lo)) if lo == hi else f"{re.escape(chr(lo))}-{re.escape(chr(hi))}"
        for lo, hi in ranges
    )
    return re.compile(f"[{parts}]+")


def _fold_confusables(text: str) -> str:
    """Read look-alike letters as Latin inside words that are Latin.

    A word is folded when it holds an ASCII letter ("blаdder"), or when every letter is
    a look-alike and the text is mostly ASCII letters ("рее" in an English sentence). A
    word of a Cyrillic or Greek text is left alone: "боль" stays Russian.
    """
    ascii_letters = len(_ASCII_LETTER.findall(text))
    letters = sum(len(word) for word in _WORD.findall(text))
    mostly_latin = ascii_letters * 2 >= letters

    def fold(match: re.Match[str]) -> str:
        word = match.group()
        if not _CONFUSABLE.search(word):
            return word
        if _ASCII_LETTER.search(word) or (
            mostly_latin and all(ch in CONFUSABLES or ch.isascii() for ch in word)
        ):
            return word.translate(_CONFUSABLE_TABLE)
        return word

    return _WORD.sub(fold, text)


def normalize_unicode(text: str) -> tuple[str, tuple[str, ...]]:
    """``text`` with surrogates replaced, invisibles removed, NFKC and look-alikes folded.

    Returns the new text and a note for each kind of change made. Linear in the length
    of the text; ASCII text is returned at once.

    Examples
    --------
    >>> normalize_unicode("I can't control my blad\\u200bder")
    ("I can't control my bladder", ('invisible format characters removed',))
    >>> normalize_unicode("ｎｕｍｂ")[0], normalize_unicode("sоre")[0]  # fullwidth, Cyrillic o
    ('numb', 'sore')
    >>> normalize_unicode("боль в спине")
    ('боль в спине', ())
    """
    if text.isascii():
        return text, ()
    notes: list[str] = []
    if _SURROGATE.search(text):
        text = _SURROGATE.sub("\ufffd", text)
        notes.append(NOTE_SURROGATE)
    invisible = _invisible()
    if invisible.search(text):
        text = invisible.sub("", text)
        notes.append(NOTE_INVISIBLE)
    if not text.isascii():
        normalized = unicodedata.normalize("NFKC", text)
        if normalized != text:
            # A no-break or other wide space becoming " " is not worth a note.
            if normalized.split() != text.split():
                notes.append(NOTE_NFKC)
            text = normalized
            # No code point's NFKC form holds a format character (checked over all
            # of Unicode 14), so the invisible pass need not run again.
    if not text.isascii() and _CONFUSABLE.search(text):
        folded = _fold_confusables(text)
        if folded != text:
            text = folded
            notes.append(NOTE_CONFUSABLE)
    return text, tuple(notes)


def collapse_symbol_runs(text: str) -> tuple[str, bool]:
    """Cut every run of punctuation or symbols to its first ``MAX_SYMBOL_RUN`` characters.

    Examples
    --------
    >>> collapse_symbol_runs("help" + "!" * 20000)
    ('help!!!!!!!!!!', True)
    >>> collapse_symbol_runs("ok...")
    ('ok...', False)
    """
    if not _SYMBOL_RUN.search(text):
        return text, False
    return _SYMBOL_RUN.sub(lambda m: m.group()[:MAX_SYMBOL_RUN], text), True
