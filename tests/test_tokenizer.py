"""The compiled tokenizer (``classifier._tok``) gives spaCy's tokens, or asks spaCy.

Every check compares the per-token array (NORM, offsets, flags, ORTH, SPACY) with what
``get_nlp().tokenizer(text).to_array`` gives, the first time a text is seen (its chunks are
new: spaCy answers) and the second (the answer is assembled from the table of chunks).
"""

from __future__ import annotations

import csv
import importlib.util
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from classifier import fastpath
from classifier.nlp import _FAST_COLUMNS, _lower_same_length, chunk_tokenizer, get_nlp

ROOT = Path(__file__).resolve().parents[1]


def _load_fuzz() -> Any:
    spec = importlib.util.spec_from_file_location("_fuzz_texts", ROOT / "tests" / "fuzz_texts.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


_fuzz_texts = _load_fuzz().fuzz_texts
tok = fastpath.compiled_tokens()
pytestmark = pytest.mark.skipif(
    tok is None, reason="classifier._tok is not built (or PAINCLF_PURE_PYTHON is set)"
)

TRICKY = [
    "",
    " ",
    "  ",
    "\n",
    " leading and trailing ",
    "two  spaces, three   and a tab\there\n\nnew lines \n and \r\n",
    "don't can't won't i'm it's we've they'd y'all gonna cannot dont cant im ive",
    "at 10a.m. or 3 p.m. on the u.s. east coast, e.g. vs. etc. mr. dr. st.",
    "sad :( happy :) :-) (: x(: :3 <3 ):^ o.O -_- (>_<) ^_^ :'( xD ;)",
    "x( :3<< and ;) [- :-/{( and !>] =3]> and ’em|[ :(3",
    "see https://www.example.com/back-pain?id=3&x=y, or www.nhs.uk/conditions/ and me@mail.com",
    "well-known back-to-back 3-4 days 10-15kg 5km 2x a day 1/2 3.5 1,000 $5 £10 50% #1 @you",
    "'quoted' \"double\" ‘curly’ “curly” (parens) [brackets] {braces} <angles>",
    "ellipsis... dots.. end. question? !? ?! !!! ... … – — -- ---",
    "emoji 😀😢 back🔥 👍🏽 ❤️ flags 🇬🇧 and zero\u200bwidth and nbsp\u00a0here",
    "naïve café résumé straße ΑΒΓ абв 中文 العربية ﬁ ①",
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!!!!",
    "dogs' s it's' 'tis 'cause ''quote'' o'clock rock'n'roll",
    "1) first 2) second a) b) - item • bullet * star",
    "C++ c# .net node.js 3.14.15 v1.2 1st 2nd 3rd 4th",
]


def _spacy_array(text: str) -> np.ndarray:
    return get_nlp().tokenizer(text).to_array(_FAST_COLUMNS)


def _check(texts: list[str]) -> tuple[int, int]:
    """Tokenize every text twice; return the fallbacks of each pass."""
    tokenizer = chunk_tokenizer()
    fallbacks = []
    for _ in range(2):
        fell = 0
        for text in texts:
            array, fell_back = tokenizer(text)
            expected = _spacy_array(text)
            assert array.dtype == np.uint64
            assert array.shape == expected.shape and (array == expected).all(), repr(text)
            fell += fell_back
        fallbacks.append(fell)
    return fallbacks[0], fallbacks[1]


def test_tricky_texts_give_spacys_tokens() -> None:
    _check([_lower_same_length(text) for text in TRICKY] + TRICKY)


def test_a_fuzz_set_gives_spacys_tokens() -> None:
    texts = _fuzz_texts(3000, seed=10)
    first, second = _check(texts)
    assert first > 0  # new chunks were learned from spaCy...
    assert second < 0.2 * len(texts)  # ...and then mostly assembled from the table


def test_the_data_files_give_spacys_tokens() -> None:
    from classifier.analysis import clean_text

    texts = []
    for path in [
        *sorted((ROOT / "data" / "seed").glob("*.csv")),
        ROOT / "data/real/reddit_top_2013.csv",
    ]:
        with path.open(newline="", encoding="utf-8") as handle:
            texts += [
                _lower_same_length(clean_text(row["text"]).text) for row in csv.DictReader(handle)
            ]
    _, second = _check(texts)
    assert second < 0.02 * len(texts)


def test_a_special_case_hidden_across_chunks_falls_back() -> None:
    """In ``x( :3<<`` spaCy's special-case stage matches "(" ":" across the space, and that
    match hides the special case ":3" inside the second chunk: the text's tokens are not
    the chunks' own, so the table must not answer for it."""
    tokenizer = chunk_tokenizer()
    text = "x( :3<<"
    alone = [token.text for chunk in text.split(" ") for token in get_nlp().tokenizer(chunk)]
    together = [token.text for token in get_nlp().tokenizer(text)]
    assert alone != together  # the case this test is about
    for chunk in text.split(" "):
        tokenizer(chunk)  # both chunks are in the table now
    before = tokenizer.boundary_fallbacks
    array, fell_back = tokenizer(text)
    assert fell_back and tokenizer.boundary_fallbacks == before + 1
    assert (array == _spacy_array(text)).all()
    # The same pair beside chunks with no special case in them is assembled from the table.
    tokenizer("x( :b")
    array, fell_back = tokenizer("x( :b")
    assert not fell_back and (array == _spacy_array("x( :b")).all()


def test_chunks_are_cut_where_spacy_cuts() -> None:
    # The space after a word is dropped (its token's SPACY), a second one is a token.
    assert tok.cut("a  b\n c ") == [
        (0, 1, True),
        (2, 3, False),
        (3, 4, False),
        (4, 6, False),
        (6, 7, True),
    ]
    assert [t.text for t in get_nlp().tokenizer("a  b\n c ")] == ["a", " ", "b", "\n ", "c"]
    assert tok.cut(" a") == [(0, 1, False), (1, 2, False)]
    assert tok.cut("") == []


def test_a_full_table_is_emptied_and_answers_stay_the_same() -> None:
    from spacy.attrs import IDX, LENGTH, ORTH, SPACY

    from classifier.nlp import special_case_tokens

    tokenizer = get_nlp().tokenizer
    pairs, outputs = special_case_tokens(tokenizer)
    small = tok.ChunkTokenizer(
        tokenizer, list(_FAST_COLUMNS), (IDX, LENGTH, ORTH, SPACY), pairs, outputs, max_chunks=8
    )
    texts = _fuzz_texts(200, seed=3)
    for text in texts * 2:
        array, _ = small(text)
        assert (array == _spacy_array(text)).all()
        assert len(small) <= 8  # emptied when full


def test_new_chunks_are_asked_alone_and_a_text_of_many_new_chunks_whole() -> None:
    from spacy.attrs import IDX, LENGTH, ORTH, SPACY

    from classifier.nlp import special_case_tokens

    tokenizer = get_nlp().tokenizer
    pairs, outputs = special_case_tokens(tokenizer)
    fresh = tok.ChunkTokenizer(
        tokenizer, list(_FAST_COLUMNS), (IDX, LENGTH, ORTH, SPACY), pairs, outputs, alone_limit=3
    )
    few = "my back hurts, zqxw!"  # 4 chunks, then the two new ones of the second text
    array, fell_back = fresh(few)
    assert fell_back and (array == _spacy_array(few)).all()  # 4 new chunks: spaCy, whole
    assert fresh.chunks_alone == 0 and len(fresh) == 4
    other = "my back hurts, zqxw? vbnm."
    array, fell_back = fresh(other)
    assert not fell_back and (array == _spacy_array(other)).all()
    assert fresh.chunks_alone == 2 and len(fresh) == 6
