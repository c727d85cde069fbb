"""Random texts dense in duration phrases, for comparing the compiled duration scanner with
the pure-Python rules: anchors, quantities, units, weekdays, months, years, program days and
their near misses, with random case, punctuation, unicode and spacing. The same ``seed``
gives the same texts.
"""

from __future__ import annotations

import random


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


_ANCHORS = _words(
    "for since ago been lasted lasting lasts going on now straight in a row of past last "
    "previous day the this over all whole entire during within after post into it's its is "
    "i'm am today yesterday tonight morning night weekend every each other before"
)
_QUANTITIES = _words(
    "1 2 3 10 14 48 1400 2019 2024 2.5 1.5 one two three twenty twenty-one thirty five "
    "a an few couple several dozen half a couple of a few about around over nearly ~ like "
    "well over more than at least a good 2-3 2 to 3 one or two 3–4 and a half or so"
)
_UNITS = _words(
    "h hr hrs hour hours d day days dayz dys night nights nite week weeks weeeks wks wk "
    "fortnight month months mo mos mths mnths year years yrs yera ages minutes"
)
_DATES = _words(
    "monday tuesday wed thurs fri saturday sunday jan january feb march may june july aug "
    "sept october nov dec 1st 2nd 3rd 15th early mid late 2019 2020-03 2021-02-30 1850 "
    "first second third tenth"
)
_FILLER = _words(
    "my back hurts pain pain. soreness ache sore stiff sciatica flare-up plan program "
    "routine workout squats i you it be have not and , . ; : ! ? - / ( ) \n 😀 é İ"
)
_TAILS = (
    "", "", "ago", "now", "straight", "in a row", "of pain", "of the plan", "of constant back "
    "pain", "old", "a week", "per day", "/day", "or two", "or so", "since", "after the fall",
)  # fmt: skip
_PIECES = (_ANCHORS, _QUANTITIES, _UNITS, _DATES, _FILLER)
_SPACES = (" ", " ", " ", "", "  ", "\n", "\t", ", ")


def duration_fuzz_texts(count: int, seed: int) -> list[str]:
    """Random runs of duration words and their neighbours, some in upper or title case."""
    rng = random.Random(seed)
    texts = []
    for _ in range(count):
        words = []
        for _ in range(rng.randint(1, 40)):
            if rng.random() < 0.3:
                # A phrase that mostly parses: "<anchor> <quantity> <unit> <tail>".
                parts = [rng.choice(_ANCHORS), rng.choice(_QUANTITIES)]
                parts.append(rng.choice(_UNITS if rng.random() < 0.8 else _DATES))
                parts.append(rng.choice(_TAILS))
                word = rng.choice(_SPACES[:4]).join(part for part in parts if part)
            else:
                word = rng.choice(rng.choice(_PIECES))
            roll = rng.random()
            if roll < 0.08:
                word = word.upper()
            elif roll < 0.15:
                word = word.title()
            words.append(word)
            words.append(rng.choice(_SPACES))
        texts.append("".join(words))
    return texts
