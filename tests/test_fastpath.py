"""The compiled analysis (``classifier._fast``) gives exactly what the pure-Python path gives.

The pure path is today's code: spaCy's ``Matcher`` for token patterns and numpy for the token
table. Both are run on the snapshot corpus; the pure path in a child process with
``PAINCLF_PURE_PYTHON=1`` (the choice is made once per process).
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import pytest
import spacy
from spacy.matcher import Matcher

from classifier import fastpath
from classifier.nlp import (
    TOKENS_ATTR,
    compile_token_pattern,
    get_nlp,
    process_text,
    token_table,
)
from classifier.rules import load_rules

ROOT = Path(__file__).resolve().parents[1]
fast = fastpath.compiled()
needs_compiled = pytest.mark.skipif(
    fast is None, reason="classifier._fast is not built (or PAINCLF_PURE_PYTHON is set)"
)


def _rule_patterns() -> list[list[dict[str, Any]]]:
    rules = load_rules()
    patterns = [list(p) for lexicon in rules.lexicons for p in lexicon.patterns]
    patterns += [list(rule.pattern) for rule in rules.context_rules if rule.pattern is not None]
    return patterns


def _spacy_spans(pattern: list[dict[str, Any]], doc: Any) -> list[tuple[int, int]]:
    matcher = Matcher(doc.vocab)
    matcher.add("p", [pattern])
    return sorted({(start, end) for _, start, end in matcher(doc)})


def _compiled_spans(pattern: list[dict[str, Any]], doc: Any) -> list[tuple[int, int]]:
    token_pattern = compile_token_pattern(pattern, doc.vocab, fast)
    assert token_pattern is not None, f"not compiled: {pattern}"
    return sorted(token_pattern.matches(token_table(doc).attrs, doc.vocab.strings))


@needs_compiled
def test_every_rule_pattern_is_compiled() -> None:
    vocab = get_nlp().vocab
    missing = [p for p in _rule_patterns() if compile_token_pattern(p, vocab, fast) is None]
    assert not missing


@needs_compiled
@pytest.mark.parametrize(
    ("pattern", "text"),
    [
        ([{"NORM": "a"}, {"NORM": "b", "OP": "*"}], "a b b c a b a"),
        ([{"NORM": "a"}, {"NORM": "b", "OP": "+"}, {"NORM": "c"}], "a b b c a c a b c"),
        ([{"NORM": "a"}, {"NORM": "b", "OP": "?"}, {"NORM": "b", "OP": "?"}], "a b b b a"),
        ([{"NORM": "x"}, {"IS_PUNCT": False, "OP": "{0,2}"}, {"NORM": "y"}], "x q y x q , y x y"),
        ([{"NORM": "x"}, {"NORM": "q", "OP": "{2}"}], "x q q q x q"),
        ([{"NORM": "x"}, {"NORM": "q", "OP": "{2,}"}], "x q q q x q q"),
        ([{"NORM": "x"}, {"NORM": "q", "OP": "{,2}"}], "x q q q x"),
        ([{"ORTH": {"IN": ["(", ")"]}}, {"LIKE_NUM": True}], "( 12 ) ( ten ) 3"),
        ([{"TEXT": {"REGEX": "^[0-9]+$"}}, {"NORM": "-", "SPACY": True}], "3 - 4 -5 6 -"),
        ([{"LOWER": {"REGEX": "ing$", "NOT_IN": ["sitting"]}}], "running sitting Lifting"),
        ([{"NORM": "q", "OP": "*"}, {"NORM": "x"}], "q q x x q"),
    ],
)
def test_compiled_patterns_find_what_spacy_finds(pattern: list[dict[str, Any]], text: str) -> None:
    doc = spacy.blank("en")(text)
    assert _compiled_spans(pattern, doc) == _spacy_spans(pattern, doc)


@needs_compiled
def test_rule_patterns_find_what_spacy_finds_on_the_seed_texts() -> None:
    texts = _seed_texts()
    # Texts that reach every pattern: temperatures, years, list items, dashes, "):".
    texts += [
        "fever of 39.5 since 2019, lost 10 kg. 1) back - sore 2. knee): fine; not for years",
        "Temp is 101 degrees, fell off the ladder, shooting down my left leg, a) b) c)",
    ]
    patterns = _rule_patterns()
    found = 0
    for text in texts:
        doc = process_text(text)
        for pattern in patterns:
            expected = _spacy_spans(pattern, doc)
            assert _compiled_spans(pattern, doc) == expected, (text, pattern)
            found += len(expected)
    assert found > 100  # the patterns were reached, not only rejected


def _seed_texts() -> list[str]:
    import csv

    texts = []
    for name in ("soreness", "pain", "other", "urgent"):
        with (ROOT / "data" / "seed" / f"{name}.csv").open(newline="", encoding="utf-8") as f:
            texts += [row["text"] for row in csv.DictReader(f)]
    return texts


@needs_compiled
def test_compiled_context_gives_the_pure_modifiers_on_the_seed_texts() -> None:
    from dataclasses import replace

    from classifier.context import apply_context, select_triggers
    from classifier.nlp import CUES_ATTR, TEXT_KEY

    nlp = get_nlp()
    cue_matcher, context = nlp.get_pipe("painclf_cues"), nlp.get_pipe("painclf_context")
    texts = [
        *_seed_texts(),
        "No fever, chills, numbness or tingling but my back hurts. Not sore: none; it's gone.",
        "My dad had back pain as a kid - if I lift, would I get it? Never had sciatica before",
    ]
    modified = 0
    for text in texts:
        doc = nlp.tokenizer(text.lower())
        doc.user_data[TEXT_KEY] = text
        cues = cue_matcher(doc).user_data[CUES_ATTR]
        table = doc.user_data[TOKENS_ATTR]
        matches = context.phrase_matcher(doc) + context.matcher(doc, table)
        if not cues or not matches:
            continue
        compiled_cues = [replace(c, modifiers=set()) for c in cues]
        pure_cues = [replace(c, modifiers=set()) for c in cues]
        context._apply_compiled(matches, compiled_cues, table)
        rules = [(s, e, context.rules[k]) for k, s, e in matches]
        apply_context(pure_cues, select_triggers(rules, pure_cues), table.segments)
        assert [c.modifiers for c in compiled_cues] == [c.modifiers for c in pure_cues], text
        modified += sum(bool(c.modifiers) for c in pure_cues)
    assert modified > 300  # scopes were exercised, not only empty ones


@needs_compiled
def test_compiled_cue_resolution_gives_the_pure_cues_on_the_seed_texts() -> None:
    from classifier.nlp import CUES_ATTR, TEXT_KEY

    nlp = get_nlp()
    cue_matcher = nlp.get_pipe("painclf_cues")
    texts = [
        *_seed_texts(),
        "Felt like I got hit by a truck after leg day; my lower left back and his neck hurt",
        "lost 10 kg, can't walk, no bladder control; sore sore sore lower back back pain",
    ]
    compiled_rules = cue_matcher.fast_rules
    found = 0
    for text in texts:
        doc = nlp.tokenizer(text.lower())
        doc.user_data[TEXT_KEY] = text
        compiled_cues = cue_matcher(doc).user_data[CUES_ATTR]
        cue_matcher.fast_rules = None
        try:
            pure_cues = cue_matcher(doc).user_data[CUES_ATTR]
        finally:
            cue_matcher.fast_rules = compiled_rules
        assert compiled_cues == pure_cues, text
        found += len(pure_cues)
    assert found > 5000


@needs_compiled
def test_compiled_combos_give_the_pure_derived_cues_on_the_seed_texts() -> None:
    from dataclasses import replace

    from classifier.nlp import CUES_ATTR, TEXT_KEY

    nlp = get_nlp()
    components = [component for _, component in nlp.pipeline]
    combos = nlp.get_pipe("painclf_combos")
    derived = 0
    for text in _seed_texts():
        doc = nlp.tokenizer(text.lower())
        doc.user_data[TEXT_KEY] = text
        for component in components[:-1]:
            doc = component(doc)
        cues = doc.user_data[CUES_ATTR]
        doc.user_data[CUES_ATTR] = [replace(c, modifiers=set(c.modifiers)) for c in cues]
        compiled_cues = combos(doc).user_data[CUES_ATTR]
        doc.user_data[CUES_ATTR] = [replace(c, modifiers=set(c.modifiers)) for c in cues]
        combos.fast = False
        try:
            pure_cues = combos(doc).user_data[CUES_ATTR]
        finally:
            combos.fast = True
        assert compiled_cues == pure_cues, text
        derived += len(pure_cues) - len(cues)
    assert derived > 500


@needs_compiled
def test_token_table_is_the_pure_one() -> None:
    for text in ("", "One.\nTwo!! three?! ... four\n\n- five (6) done", "no fever, chills"):
        doc = process_text(text)
        compiled_table = doc.user_data[TOKENS_ATTR]
        os.environ[fastpath.PURE_PYTHON_ENV] = "1"
        fastpath.compiled.cache_clear()
        try:
            pure_table = token_table(doc)
        finally:
            del os.environ[fastpath.PURE_PYTHON_ENV]
            fastpath.compiled.cache_clear()
        for name in ("norms", "starts", "ends", "segments", "norm_set", "text", "words"):
            assert getattr(compiled_table, name) == getattr(pure_table, name), name
        assert compiled_table.stop_words == pure_table.stop_words


def test_a_missing_extension_warns_and_falls_back(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(fastpath.PURE_PYTHON_ENV, raising=False)
    monkeypatch.setitem(sys.modules, "classifier._fast", None)  # import fails
    fastpath.compiled.cache_clear()
    try:
        with pytest.warns(RuntimeWarning, match="pure-Python analysis"):
            assert fastpath.compiled() is None
    finally:
        monkeypatch.undo()
        fastpath.compiled.cache_clear()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert (fastpath.compiled() is None) == (fast is None)


def test_pure_python_env_selects_the_pure_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(fastpath.PURE_PYTHON_ENV, "1")
    fastpath.compiled.cache_clear()
    try:
        assert fastpath.compiled() is None
    finally:
        monkeypatch.undo()
        fastpath.compiled.cache_clear()


@needs_compiled
def test_both_paths_give_identical_outputs_on_the_snapshot_corpus(tmp_path: Path) -> None:
    """Every text of the snapshot corpus: the pure path in a child process, the compiled
    path here."""
    script = ROOT / "tests" / "make_snapshot.py"
    spec = importlib.util.spec_from_file_location("painclf_make_snapshot", script)
    assert spec is not None and spec.loader is not None
    snapshot = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = snapshot
    spec.loader.exec_module(snapshot)
    output = tmp_path / "pure.jsonl.gz"
    env = {**os.environ, fastpath.PURE_PYTHON_ENV: "1"}
    subprocess.run([sys.executable, str(script), "--output", str(output)], env=env, check=True)
    pure_rows = snapshot.read(output)
    texts = [text for _, text in snapshot.corpus()]
    compiled_rows = snapshot.records(texts)
    assert len(compiled_rows) == len(pure_rows) > 4000
    for row, pure in zip(compiled_rows, pure_rows, strict=True):
        row["source"] = pure["source"]
    diff = snapshot.differences(pure_rows, compiled_rows, texts)
    assert not diff, f"{len(diff)} texts differ (pure -> compiled):\n" + "\n".join(diff[:5])


def test_the_analysis_leaves_no_reference_cycles() -> None:
    """``analyze_many`` pauses the cyclic collector; that is safe only while the analysis
    (spaCy docs, cues, tables) creates no garbage that reference counting cannot free."""
    import gc

    from classifier.analysis import analyze_many

    texts = [
        "Hi, my lower back has been sore for 3 weeks since I fell off a ladder. No fever!",
        "temp of 39.5, can't control my bladder; my dad had cancer (years ago) - help?",
        "Question: is it normal to be sore after day one?\n\n1) legs 2) arms",
    ] * 20
    analyze_many(texts[:3])
    gc.collect()
    enabled = gc.isenabled()
    gc.disable()
    try:
        analyze_many(texts)
        assert gc.collect() == 0
    finally:
        if enabled:
            gc.enable()


def test_predicting_leaves_no_reference_cycles() -> None:
    """``predict_iter`` pauses the collector over a chunk's analysis and scoring; that is safe
    only while scoring and building predictions make no garbage in cycles either."""
    import gc

    from classifier.predict import Classifier

    texts = [
        "Hi, my lower back has been sore for 3 weeks since I fell off a ladder. No fever!",
        "temp of 39.5, can't control my bladder; my dad had cancer (years ago) - help?",
        "my neck is stiff and tender",
        "how do I change my password?",
        "",
    ] * 20
    model = Classifier.load("shipped")
    model.predict_many(texts[:5])
    gc.collect()
    enabled = gc.isenabled()
    gc.disable()
    try:
        predictions = model.predict_many(texts, chunk_size=7)
        del predictions
        assert gc.collect() == 0
    finally:
        if enabled:
            gc.enable()


_ODD_TEXTS = [
    "",
    "   ",
    "No fever, chills, numbness or tingling but my back hurts. Not sore: none; it's gone.",
    "My dad had back pain as a kid - if I lift, would I get it? Never had sciatica before",
    "CAN'T feel my legs!!! lower-back pain since 10a.m. :( x( :3<< https://x.org/back-pain",
    "lost 10 kg, can't walk, no bladder control; sore sore sore lower back back pain",
    "Ich habe Rückenschmerzen seit 3 Wochen 😢\n\n1) back 2) knee",
]


@needs_compiled
def test_phrase_tables_find_what_the_phrase_matchers_find() -> None:
    """The same matches in the same order (by start, length, then key), on every text."""
    nlp = get_nlp()
    matchers = [nlp.get_pipe("painclf_cues"), nlp.get_pipe("painclf_context")]
    found = 0
    for text in [*_seed_texts(), *_ODD_TEXTS]:
        doc = process_text(text)
        table = doc.user_data[TOKENS_ATTR]
        for component in matchers:
            expected = component.phrase_matcher(doc)
            actual = component.phrase_table.matches(table.attrs) if len(doc) else []
            assert actual == expected, text
            found += len(expected)
    assert found > 10000


@needs_compiled
def test_a_phrase_shared_by_keys_gives_them_in_the_matchers_order() -> None:
    from spacy.matcher import PhraseMatcher

    from classifier.nlp import _phrase_table, table_from_array

    nlp = spacy.blank("en")
    matcher = PhraseMatcher(nlp.vocab, attr="NORM")
    docs = []
    for key in ("k3", "k1", "k2", "k0"):
        phrases = list(nlp.tokenizer.pipe(["lower back", "back", "lower back pain"]))
        matcher.add(key, phrases)
        docs += [(nlp.vocab.strings[key], doc) for doc in phrases]
    table = _phrase_table(matcher, docs)
    doc = nlp.tokenizer("my lower back pain and back")
    from classifier.nlp import _FAST_COLUMNS

    attrs = table_from_array(doc.to_array(_FAST_COLUMNS), doc.text, nlp.vocab).attrs
    assert table.matches(attrs) == matcher(doc)
    assert len(matcher(doc)) == 4 * 4


@needs_compiled
def test_the_analysis_without_a_doc_is_the_analysis_with_one() -> None:
    """``analyse_text`` (compiled tokenizer, phrase tables, no Doc) against the spaCy
    pipeline's doc: the same cues, modifiers, owners and token table, on the seed texts
    and a fuzz set."""
    from classifier.nlp import CUES_ATTR, analyse_text

    spec = importlib.util.spec_from_file_location("_fuzz_texts", ROOT / "tests" / "fuzz_texts.py")
    assert spec is not None and spec.loader is not None
    fuzz = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(fuzz)

    texts = [*_seed_texts(), *_ODD_TEXTS, *fuzz.fuzz_texts(1500, seed=7)]
    cues_seen = 0
    for text in texts:
        doc = process_text(text)
        found = analyse_text(text)
        assert found is not None
        cues, table = found
        assert cues == (doc.user_data[CUES_ATTR] or []), text
        expected = doc.user_data[TOKENS_ATTR]
        for name in ("norms", "starts", "ends", "segments", "norm_set", "text", "words"):
            assert getattr(table, name) == getattr(expected, name), (name, text)
        assert table.stop_words == expected.stop_words
        cues_seen += len(cues)
    assert cues_seen > 5000


def test_a_missing_tokenizer_module_warns_and_falls_back(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "classifier._tok", None)  # import fails
    fastpath.compiled_tokens.cache_clear()
    try:
        if fast is None:
            assert fastpath.compiled_tokens() is None  # pure path: not even tried
        else:
            with pytest.warns(RuntimeWarning, match="spaCy's tokenizer is used"):
                assert fastpath.compiled_tokens() is None
    finally:
        monkeypatch.undo()
        fastpath.compiled_tokens.cache_clear()


def test_the_collector_runs_between_the_chunks_of_a_stream() -> None:
    import gc

    from classifier.predict import Classifier

    assert gc.isenabled()
    stream = Classifier.load("shipped").predict_iter(["sore back"] * 5, chunk_size=2)
    states = [gc.isenabled() for _ in stream]
    assert states == [True] * 5
    assert gc.isenabled()
