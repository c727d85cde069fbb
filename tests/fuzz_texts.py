"""Random texts for the tokenizer identity tests: words, punctuation, digits, unicode, emoji,
hyphens, apostrophes, URLs, emoticons, spaCy's special cases and very long tokens, mixed at
random with random whitespace. The same ``seed`` gives the same texts.
"""

from __future__ import annotations

import random

from classifier.nlp import get_nlp

_WORD_LIST = (
    "my back hurts lower pain sore since monday weeks i can't walk no fever numbness "
    "sciatica leg knee neck ache squats gym doctor physio"
)
_WORDS = _WORD_LIST.split()
_PUNCT = [*"().,;:!?'\"-_*<>^=/\\|[]{}#@&%$+~`", "...", "’", "‘", "“", "”", "–", "—"]
_UNICODE = ["é", "ß", "ﬁ", "Ω", "я", "中", "😀", "🔥", "👍🏽", "❤️", "\u200b", "\u0301", "①", "½"]
_SPACES = [" ", " ", " ", "  ", "\n", "\n\n", "\t", " \n "]


def fuzz_texts(count: int, seed: int) -> list[str]:
    """Random mixes of words, punctuation, digits, unicode, emoji, hyphens, apostrophes,
    URLs, emoticons and special cases, and very long tokens, at random spacing."""
    rules = [rule for rule in get_nlp().tokenizer.rules if rule == rule.lower()]
    rng = random.Random(seed)

    def piece() -> str:
        kind = rng.random()
        if kind < 0.35:
            return rng.choice(_WORDS)
        if kind < 0.5:
            return rng.choice(rules)
        if kind < 0.6:
            return "".join(rng.choice(_PUNCT) for _ in range(rng.randint(1, 4)))
        if kind < 0.67:
            return str(rng.randint(0, 10_000)) + rng.choice(["", "kg", "km", "%", ".", "-", "x"])
        if kind < 0.74:
            return rng.choice(_UNICODE) * rng.randint(1, 3)
        if kind < 0.8:
            return rng.choice(_WORDS) + rng.choice(["-", "'", "’", "/", "."]) + rng.choice(_WORDS)
        if kind < 0.84:
            return (
                rng.choice(["http://", "https://www.", "www."]) + rng.choice(_WORDS) + ".com/x?y=1"
            )
        if kind < 0.86:
            return rng.choice("ab-.'") * rng.randint(30, 300)
        return "".join(rng.choice([*_PUNCT, *_UNICODE, "a", "3"]) for _ in range(rng.randint(1, 3)))

    texts = []
    for _ in range(count):
        parts = []
        for _ in range(rng.randint(1, 25)):
            parts.append(piece())
            parts.append(rng.choice(_SPACES) if rng.random() < 0.85 else "")
        texts.append("".join(parts))
    return texts
