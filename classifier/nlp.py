"""The spaCy pipeline: a blank English tokenizer with painclf's cue, context and combo components.

Nothing is downloaded: the pipeline is ``spacy.blank("en")`` plus a sentencizer
and three components registered here, in one place, with ``@Language.factory``.
All matching is on the token ``NORM``, so "can't", "cant" and "cannot" are the
same words ("can not") to every rule.
"""

from __future__ import annotations

from collections import defaultdict
from functools import cache

import spacy
from spacy.language import Language
from spacy.matcher import Matcher, PhraseMatcher
from spacy.tokens import Doc

from classifier.context import Cue, Segments, apply_context, select_triggers
from classifier.rules import ComboRule, RuleSet, expand_term, load_rules

CUES_ATTR = "painclf_cues"
SEGMENTS_ATTR = "painclf_segments"
MATCH_ATTR = "NORM"


def _register_extensions() -> None:
    for attr in (CUES_ATTR, SEGMENTS_ATTR):
        if not Doc.has_extension(attr):
            Doc.set_extension(attr, default=None)


def _segments(doc: Doc) -> Segments:
    """Sentences from the sentencizer, also split at line breaks (tickets use them as stops)."""
    starts = {sent.start for sent in doc.sents} if len(doc) else {0}
    if "\n" in doc.text:
        starts.update(t.i + 1 for t in doc if t.is_space and "\n" in t.text and t.i + 1 < len(doc))
    return Segments(tuple(sorted(starts)), len(doc))


POSSESSIVE_OWNER = {
    "my": "self",
    "his": "other",
    "her": "other",
    "their": "other",
    "your": "other",
    "'s": "other",
}
# Words that may stand between a possessive and its site: "my lower left back".
_OWNER_SKIP = frozenset({"own", "lower", "upper", "left", "right", "mid", "middle", "whole", "bad"})


def _owner(doc: Doc, start: int) -> str | None:
    """Whose body part a cue names, from a possessive just before (or at) its start."""
    index = start
    while index >= 0 and start - index <= 3:
        norm = doc[index].norm_
        if norm in POSSESSIVE_OWNER:
            return POSSESSIVE_OWNER[norm]
        if index < start and norm not in _OWNER_SKIP:
            return None
        index -= 1
    return None


class CueMatcher:
    """Find every lexicon phrase in a doc and store the cues in ``doc._.painclf_cues``."""

    def __init__(self, nlp: Language, rules: RuleSet) -> None:
        self.phrase_matcher = PhraseMatcher(nlp.vocab, attr=MATCH_ATTR)
        self.matcher = Matcher(nlp.vocab)
        self.categories: dict[int, str] = {}
        self.overrides = {lex.category: frozenset(lex.overrides) for lex in rules.lexicons}
        self.sites = frozenset(lex.category for lex in rules.lexicons if lex.group == "site")
        for lexicon in rules.lexicons:
            key = f"cue:{lexicon.category}"
            self.categories[nlp.vocab.strings.add(key)] = lexicon.category
            self.phrase_matcher.add(key, list(nlp.tokenizer.pipe(lexicon.phrases())))
            if lexicon.patterns:
                self.matcher.add(key, [list(pattern) for pattern in lexicon.patterns])
        self.has_patterns = len(self.matcher) > 0

    def __call__(self, doc: Doc) -> Doc:
        matches = self.phrase_matcher(doc)
        if self.has_patterns:
            matches += self.matcher(doc)
        segments = _segments(doc)
        by_category: dict[str, list[tuple[int, int]]] = defaultdict(list)
        for key, start, end in matches:
            by_category[self.categories[key]].append((start, end))
        cues: list[Cue] = []
        for category, spans in by_category.items():
            # Keep the longest of overlapping matches of one category: "lower back", not "back".
            spans.sort(key=lambda span: (span[0] - span[1], span[0]))
            kept: list[tuple[int, int]] = []
            for start, end in spans:
                if all(end <= k_start or k_end <= start for k_start, k_end in kept):
                    kept.append((start, end))
            for start, end in kept:
                span = doc[start:end]
                cues.append(
                    Cue(
                        category,
                        start,
                        end,
                        span.start_char,
                        span.end_char,
                        span.text,
                        segments.index(start),
                        owner=_owner(doc, start) if category in self.sites else None,
                    )
                )
        overriding = [c for c in cues if self.overrides.get(c.category)]
        if overriding:
            cues = [
                cue
                for cue in cues
                if not any(
                    cue.category in self.overrides[big.category]
                    and big.start <= cue.start
                    and cue.end <= big.end
                    for big in overriding
                )
            ]
        cues.sort(key=lambda cue: (cue.start, cue.end))
        doc._.set(CUES_ATTR, cues)
        doc._.set(SEGMENTS_ATTR, segments)
        return doc


class ContextComponent:
    """Apply the ConText rules to the cues found by ``painclf_cues``."""

    def __init__(self, nlp: Language, rules: RuleSet) -> None:
        self.phrase_matcher = PhraseMatcher(nlp.vocab, attr=MATCH_ATTR)
        self.matcher = Matcher(nlp.vocab)
        self.rules = {}
        for index, rule in enumerate(rules.context_rules):
            key = f"context:{index}"
            self.rules[nlp.vocab.strings.add(key)] = rule
            if rule.pattern is not None:
                self.matcher.add(key, [list(rule.pattern)])
            else:
                phrases = list(nlp.tokenizer.pipe(expand_term(rule.literal)))
                self.phrase_matcher.add(key, phrases)

    def __call__(self, doc: Doc) -> Doc:
        cues = doc._.get(CUES_ATTR)
        if not cues:
            return doc
        matches = self.phrase_matcher(doc) + self.matcher(doc)
        triggers = select_triggers([(s, e, self.rules[k]) for k, s, e in matches], cues)
        apply_context(cues, triggers, doc._.get(SEGMENTS_ATTR))
        return doc


def _gap(a: Cue, b: Cue) -> int:
    return max(0, b.start - a.end, a.start - b.end)


class ComboComponent:
    """Add derived cues (``spine_complaint``, ``limb_weakness``...) from cues in one sentence."""

    def __init__(self, combos: tuple[ComboRule, ...]) -> None:
        self.combos = combos

    def __call__(self, doc: Doc) -> Doc:
        cues: list[Cue] | None = doc._.get(CUES_ATTR)
        if not cues:
            return doc
        derived: list[Cue] = []
        for combo in self.combos:
            seen: set[tuple[int, int]] = set()
            first, *others = combo.all_of
            for anchor in cues:
                if anchor.category not in first:
                    continue
                parts = [anchor]
                for group in others:
                    candidates = [
                        c
                        for c in (*cues, *derived)
                        if c.category in group
                        and c.sentence == anchor.sentence
                        and (combo.window is None or _gap(anchor, c) <= combo.window)
                    ]
                    if not candidates:
                        break
                    parts.append(min(candidates, key=lambda c: (not c.is_current, _gap(anchor, c))))
                else:
                    start = min(p.start for p in parts)
                    end = max(p.end for p in parts)
                    if (start, end) in seen:
                        continue
                    seen.add((start, end))
                    span = doc[start:end]
                    modifiers = set().union(*(p.modifiers for p in parts))
                    derived.append(
                        Cue(
                            combo.category,
                            start,
                            end,
                            span.start_char,
                            span.end_char,
                            span.text,
                            anchor.sentence,
                            modifiers,
                            owner=next((p.owner for p in parts if p.owner), None),
                        )
                    )
        if derived:
            cues.extend(derived)
            cues.sort(key=lambda cue: (cue.start, cue.end))
        return doc


@Language.factory("painclf_cues")
def make_cue_matcher(nlp: Language, name: str) -> CueMatcher:
    return CueMatcher(nlp, load_rules())


@Language.factory("painclf_context")
def make_context(nlp: Language, name: str) -> ContextComponent:
    return ContextComponent(nlp, load_rules())


@Language.factory("painclf_combos")
def make_combos(nlp: Language, name: str) -> ComboComponent:
    return ComboComponent(load_rules().combos)


@cache
def get_nlp() -> Language:
    """The shared pipeline, built once per process (building it takes about a second).

    Examples
    --------
    >>> doc = get_nlp()("No numbness or fever, just soreness.")
    >>> [cue.describe() for cue in doc._.painclf_cues if cue.category == "numbness"]
    ['numbness (negated)']
    """
    _register_extensions()
    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    nlp.add_pipe("painclf_cues")
    nlp.add_pipe("painclf_context")
    nlp.add_pipe("painclf_combos")
    return nlp
