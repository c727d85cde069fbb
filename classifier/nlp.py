"""The spaCy pipeline: a blank English tokenizer with painclf's cue, context and combo components.

Nothing is downloaded: the pipeline is ``spacy.blank("en")`` plus a sentencizer
and three components registered here, in one place, with ``@Language.factory``.
All matching is on the token ``NORM``, so "can't", "cant" and "cannot" are the
same words ("can not") to every rule.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np
import spacy
from spacy.attrs import (
    IDX,
    IS_ALPHA,
    IS_PUNCT,
    IS_SPACE,
    IS_STOP,
    LENGTH,
    LIKE_NUM,
    NORM,
    ORTH,
    SPACY,
)
from spacy.language import Language
from spacy.matcher import Matcher, PhraseMatcher
from spacy.tokenizer import Tokenizer
from spacy.tokens import Doc
from spacy.vocab import Vocab

from classifier.context import Cue, Segments, apply_context, select_triggers
from classifier.fastpath import compiled, compiled_tokens
from classifier.rules import (
    CONTEXT_CATEGORIES,
    MODIFIER_CATEGORIES,
    ComboRule,
    RuleSet,
    expand_term,
    load_rules,
)

CUES_ATTR = "painclf_cues"
TOKENS_ATTR = "painclf_tokens"
MATCH_ATTR = "NORM"
# The raw text of a doc, kept in user_data: Doc.text rebuilds it from every token.
TEXT_KEY = "painclf_text"


def _register_extensions() -> None:
    # Components keep their results in doc.user_data (cheap to read and write);
    # the extensions expose them the spaCy way: doc._.painclf_cues.
    for attr in (CUES_ATTR, TOKENS_ATTR):
        if not Doc.has_extension(attr):
            Doc.set_extension(attr, getter=lambda doc, key=attr: doc.user_data.get(key))


@dataclass(frozen=True, slots=True)
class TokenTable:
    """Per-token arrays of one doc, read once so later steps need no Token objects.

    ``norms`` are the NORM hashes, ``starts`` and ``ends`` character offsets (plain
    lists: indexing a list is much cheaper than indexing a numpy array), and
    ``segments`` the sentences (split also at line breaks: tickets use them as stops);
    ``words`` and ``stop_words`` count alphabetic tokens and English function words;
    ``attrs`` is the per-token array the compiled path matches token patterns on (None
    on the pure-Python path).
    """

    norms: list[int]
    starts: list[int]
    ends: list[int]
    segments: Segments
    norm_set: frozenset[int]
    text: str
    words: int = 0
    stop_words: int = 0
    attrs: np.ndarray | None = None


# The columns of the compiled path's per-token array, in the order ``classifier._fast`` reads.
_FAST_COLUMNS = [NORM, IDX, LENGTH, IS_SPACE, IS_ALPHA, IS_STOP, IS_PUNCT, ORTH, LIKE_NUM, SPACY]


def token_table(doc: Doc) -> TokenTable:
    """Build the ``TokenTable`` of a doc with one ``to_array`` call."""
    n = len(doc)
    text = doc.user_data.get(TEXT_KEY)
    if text is None:
        text = doc.text
    if n == 0:
        return TokenTable([], [], [], Segments((0,), 0), frozenset(), text)
    if compiled() is not None:
        return table_from_array(doc.to_array(_FAST_COLUMNS), text, doc.vocab)
    table = doc.to_array([NORM, IDX, LENGTH, IS_SPACE, IS_ALPHA, IS_STOP, IS_PUNCT])
    norm_list = table[:, 0].tolist()
    start_array = table[:, 1].astype(np.int64)
    starts = start_array.tolist()
    ends = (start_array + table[:, 2].astype(np.int64)).tolist()
    # A sentence ends after terminal punctuation (as spaCy's sentencizer does) and at
    # a line break, which tickets use as a full stop.
    ends_here = _sentence_end_hashes(doc.vocab)
    sentence_starts = {0}
    for i, norm in enumerate(norm_list[:-1]):
        if norm in ends_here and norm_list[i + 1] not in ends_here:
            sentence_starts.add(i + 1)
    if "\n" in text:
        for i in np.flatnonzero(table[:, 3]).tolist():
            if i + 1 < n and "\n" in text[starts[i] : ends[i]]:
                sentence_starts.add(i + 1)
    return TokenTable(
        norm_list,
        starts,
        ends,
        Segments(tuple(sorted(sentence_starts)), n, (0, *np.cumsum(table[:, 6]).tolist())),
        frozenset(norm_list),
        text,
        int(table[:, 4].sum()),
        int((table[:, 4] & table[:, 5]).sum()),
    )


def table_from_array(attrs: np.ndarray, text: str, vocab: Vocab) -> TokenTable:
    """The ``TokenTable`` of a per-token array with the columns ``_FAST_COLUMNS`` (from
    ``Doc.to_array`` or ``classifier._tok.ChunkTokenizer``); compiled path only."""
    n = attrs.shape[0]
    if n == 0:
        return TokenTable([], [], [], Segments((0,), 0), frozenset(), text)
    norms, starts, ends, sentence_starts, punct, words, stop_words = compiled().table_columns(
        attrs, _sentence_end_hashes(vocab), text
    )
    return TokenTable(
        norms,
        starts,
        ends,
        Segments(tuple(sentence_starts), n, tuple(punct)),
        frozenset(norms),
        text,
        words,
        stop_words,
        attrs,
    )


SENTENCE_END = (".", "!", "?", "...", "..", "…", "?!", "!?", "!!", "??", "!!!", "???")
_SENTENCE_END_CACHE: set[int] = set()


def _sentence_end_hashes(vocab: Vocab) -> set[int]:
    if not _SENTENCE_END_CACHE:
        _SENTENCE_END_CACHE.update(vocab.strings.add(mark) for mark in SENTENCE_END)
    return _SENTENCE_END_CACHE


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


_OP_COUNTS = {None: (1, 1), "?": (0, 1), "*": (0, -1), "+": (1, -1)}
_OP_RANGE = re.compile(r"\{(\d*)(,?)(\d*)\}")


def _op_counts(op: Any) -> tuple[int, int] | None:
    """``(min, max)`` repeats of a token pattern's ``OP`` (max -1: unbounded); None if unknown."""
    if op in _OP_COUNTS:
        return _OP_COUNTS[op]
    found = _OP_RANGE.fullmatch(op) if isinstance(op, str) else None
    if found is None:
        return None
    low, comma, high = found.groups()
    if not comma:
        return (int(low), int(low)) if low else None
    return int(low or 0), int(high) if high else -1


def compile_token_pattern(pattern: list[dict[str, Any]], vocab: Vocab, fast: Any) -> Any:
    """A spaCy token pattern as a ``classifier._fast.TokenPattern``, or None when it uses a
    feature the compiled matcher does not have (then spaCy's ``Matcher`` runs it).

    Supported: ``NORM`` and ``ORTH`` (a string or ``IN``), ``TEXT`` and ``LOWER`` (``REGEX``,
    ``LOWER`` also ``NOT_IN``), ``IS_PUNCT``, ``LIKE_NUM`` and ``SPACY``, and the operators
    ``?``, ``*``, ``+`` and ``{n,m}``.
    """
    strings = vocab.strings
    predicates, lows, highs = [], [], []

    def hashes(value: Any) -> frozenset[int] | None:
        if isinstance(value, str):
            return frozenset({strings.add(value)})
        if isinstance(value, dict) and value.keys() == {"IN"}:
            return frozenset(strings.add(v) for v in value["IN"])
        return None

    for spec in pattern:
        counts = _op_counts(spec.get("OP"))
        if counts is None:
            return None
        fields: dict[str, Any] = {}
        for attr, value in spec.items():
            if attr == "OP":
                continue
            if attr in ("NORM", "ORTH"):
                fields[attr.lower() + "s"] = hashes(value)
                if fields[attr.lower() + "s"] is None:
                    return None
            elif attr == "TEXT" and isinstance(value, dict) and value.keys() == {"REGEX"}:
                fields["text_regex"] = re.compile(value["REGEX"])
            elif (
                attr == "LOWER" and isinstance(value, dict) and value.keys() <= {"REGEX", "NOT_IN"}
            ):
                if "REGEX" in value:
                    fields["lower_regex"] = re.compile(value["REGEX"])
                if "NOT_IN" in value:
                    fields["lower_not_in"] = frozenset(value["NOT_IN"])
            elif attr in ("IS_PUNCT", "LIKE_NUM", "SPACY") and isinstance(value, bool):
                fields[attr.lower()] = int(value)
            else:
                return None
        predicates.append(fast.Predicate(**fields))
        lows.append(counts[0])
        highs.append(counts[1])
    return fast.TokenPattern(predicates, lows, highs) if predicates else None


def _caseless(text: str) -> bool:
    """Whether ``text`` holds no letter or mark: no character lowercases to one of its
    characters but itself (a lowercase mapping gives letters and marks), so where a token
    of the lowercased text holds it, the original text holds it too."""
    return bool(text) and all(unicodedata.category(ch)[0] not in "LM" for ch in text)


def _regex_characters(regex: str) -> list[str]:
    """Caseless characters every match of ``regex`` holds: its literals outside any group,
    alternative or repeat (none when it sets flags or does not parse)."""
    try:
        from re import _constants, _parser  # the parser of ``re`` itself

        parsed = _parser.parse(regex)
    except (ImportError, re.error):
        return []
    if parsed.state.flags & ~re.UNICODE:
        return []
    return [ch for op, value in parsed if op is _constants.LITERAL and _caseless(ch := chr(value))]


def _text_needs(pattern: list[dict[str, Any]]) -> tuple[tuple[str, ...], ...]:
    """For a pattern with no word gate: groups of strings of which the text must hold at
    least one each for the pattern to match (a required token's caseless ``ORTH``, the
    caseless characters of a required token's ``REGEX``)."""
    needs: list[tuple[str, ...]] = []
    for spec in pattern:
        if spec.get("OP") in ("?", "*", "!") or str(spec.get("OP", "")).startswith("{0"):
            continue
        orth = spec.get("ORTH")
        options = (orth,) if isinstance(orth, str) else None
        if isinstance(orth, dict) and "IN" in orth:
            options = tuple(orth["IN"])
        if options and all(isinstance(o, str) and _caseless(o) for o in options):
            needs.append(options)
        for attr in ("TEXT", "LOWER"):
            value = spec.get(attr)
            regex = value.get("REGEX") if isinstance(value, dict) else None
            if isinstance(regex, str):
                needs.extend((ch,) for ch in dict.fromkeys(_regex_characters(regex)))
    return tuple(needs)


def _holds_one_of_each(text: str, needs: tuple[tuple[str, ...], ...]) -> bool:
    """Whether ``text`` holds at least one string of each group of ``needs``."""
    for options in needs:
        for option in options:
            if option in text:
                break
        else:
            return False
    return True


class GatedMatcher:
    """Token patterns that run only on docs holding the words each pattern needs.

    spaCy's ``Matcher`` checks every pattern at every token, which costs far more
    than the ``PhraseMatcher``; most patterns need a rare word ("without", a year)
    that most docs lack, so each pattern gets its own matcher and a gate: the NORMs
    its required tokens accept, and, for regex tokens, a search over the text. A pattern
    with no such word runs only on texts that hold the punctuation or symbols its
    required tokens need (``_text_needs``: "°" for a temperature, "):" for an emoticon).
    """

    def __init__(self, vocab: Vocab) -> None:
        self.vocab = vocab
        self.entries: list[
            tuple[
                Matcher, list[frozenset[int]], re.Pattern[str] | None, tuple[tuple[str, ...], ...]
            ]
        ] = []
        # Per entry, the pattern compiled for ``classifier._fast`` (None: run spaCy's Matcher).
        self.compiled: list[tuple[int, Any] | None] = []
        self.any_gate: frozenset[int] = frozenset()
        self.ungated = False
        # The gates as bits (see ``_index``); None until the first call after an ``add``.
        self._gate_index: tuple[dict[int, tuple[int, int]], int, list[int]] | None = None

    def __len__(self) -> int:
        return len(self.entries)

    @property
    def fully_compiled(self) -> bool:
        """Whether every pattern runs compiled, so a ``TokenTable`` with ``attrs`` is
        enough and no ``Doc`` is needed."""
        return all(entry is not None for entry in self.compiled)

    def add(self, key: str, pattern: list[dict[str, Any]]) -> None:
        matcher = Matcher(self.vocab)
        matcher.add(key, [pattern])
        fast = compiled()
        token_pattern = compile_token_pattern(pattern, self.vocab, fast) if fast else None
        self.compiled.append(
            None if token_pattern is None else (self.vocab.strings.add(key), token_pattern)
        )
        gates: list[frozenset[int]] = []
        text_gate = None
        for spec in pattern:
            if spec.get("OP") in ("?", "*", "!") or str(spec.get("OP", "")).startswith("{0"):
                continue
            for attr in ("NORM", "LOWER"):
                value = spec.get(attr)
                if isinstance(value, str):
                    gates.append(frozenset({self.vocab.strings.add(value)}))
                elif isinstance(value, dict) and "IN" in value:
                    gates.append(frozenset(self.vocab.strings.add(v) for v in value["IN"]))
            for attr in ("TEXT", "LOWER"):
                value = spec.get(attr)
                regex = value.get("REGEX") if isinstance(value, dict) else None
                if isinstance(regex, str) and text_gate is None:
                    body = regex.removeprefix("^").removesuffix("$")
                    text_gate = re.compile(rf"(?<!\w)(?:{body})(?!\w)", re.IGNORECASE)
        # Check the most selective gate first: the loop stops at the first miss.
        gates.sort(key=len)
        self.entries.append((matcher, gates, text_gate, () if gates else _text_needs(pattern)))
        if gates:
            self.any_gate = self.any_gate.union(*gates)
        else:
            self.ungated = True
        self._gate_index = None

    def _index(self) -> tuple[dict[int, tuple[int, int]], int, list[int]]:
        """The gates as bit masks: for each gate word, the bits of the gates that accept it
        and of the entries that have such a gate; the bits of the entries with no gate; and
        each entry's gate bits. An entry runs when a text's words light all its gate bits."""
        by_word: dict[int, tuple[int, int]] = {}
        ungated = 0
        needed: list[int] = []
        bit = 0
        for index, (_, gates, _, _) in enumerate(self.entries):
            mask = 0
            for gate in gates:
                for word in gate:
                    gate_bits, entry_bits = by_word.get(word, (0, 0))
                    by_word[word] = (gate_bits | 1 << bit, entry_bits | 1 << index)
                mask |= 1 << bit
                bit += 1
            needed.append(mask)
            if not gates:
                ungated |= 1 << index
        return by_word, ungated, needed

    def __call__(self, doc: Doc | None, table: TokenTable) -> list[tuple[int, int, int]]:
        """The matches in a doc, or with ``doc=None`` in a table alone (``fully_compiled``
        matchers only)."""
        matches: list[tuple[int, int, int]] = []
        present = table.norm_set & self.any_gate
        if not present and not self.ungated:
            return matches
        if doc is None and not table.norms:
            return matches  # spaCy's Matcher finds nothing in an empty doc
        if self._gate_index is None:
            self._gate_index = self._index()
        by_word, candidates, needed = self._gate_index
        lit = 0
        for word in present:
            gate_bits, entry_bits = by_word[word]
            lit |= gate_bits
            candidates |= entry_bits
        strings = self.vocab.strings
        text = table.text
        # The candidate entries in entry order, lowest bit first; an entry runs when the
        # text lights every one of its gates (a word of each).
        while candidates:
            index = (candidates & -candidates).bit_length() - 1
            candidates &= candidates - 1
            if needed[index] & ~lit:
                continue
            matcher, _, text_gate, needs = self.entries[index]
            fast = self.compiled[index]
            if needs and not _holds_one_of_each(text, needs):
                continue
            if fast is not None and table.attrs is not None:
                # The compiled pattern is cheaper than the text gate's regex search over
                # the whole text (up to 200 µs on a long post), so it runs first and the
                # gate only on a doc it matched: the same matches either way.
                key, token_pattern = fast
                found = token_pattern.matches(table.attrs, strings)
                if found and (text_gate is None or text_gate.search(text)):
                    matches.extend((key, start, end) for start, end in found)
            elif text_gate is None or text_gate.search(text):
                matches.extend(matcher(doc))
        return matches


def _phrase_table(matcher: PhraseMatcher, phrase_docs: list[tuple[int, Doc]]) -> Any:
    """The phrases of a ``PhraseMatcher`` as a ``classifier._tok.PhraseTable`` (None when
    the module is not there), matching on NORM as the matcher does.

    Where several keys share a phrase, the matcher gives them in the order of its own
    hash map; the table gives them in that order, asked of the matcher itself.
    """
    tok = compiled_tokens()
    if tok is None or MATCH_ATTR != "NORM":
        return None
    docs: dict[tuple[int, ...], Doc] = {}
    for _, doc in phrase_docs:
        if len(doc):
            docs.setdefault(tuple(token.norm for token in doc), doc)
    phrases = [
        (norms, [key for key, start, end in matcher(doc) if start == 0 and end == len(doc)])
        for norms, doc in docs.items()
    ]
    return tok.PhraseTable(phrases, _FAST_COLUMNS.index(NORM))


class CueMatcher:
    """Find every lexicon phrase in a doc and store the cues in ``doc._.painclf_cues``."""

    def __init__(self, nlp: Language, rules: RuleSet) -> None:
        self.phrase_matcher = PhraseMatcher(nlp.vocab, attr=MATCH_ATTR)
        self.matcher = GatedMatcher(nlp.vocab)
        self.categories: dict[int, str] = {}
        self.overrides = {lex.category: frozenset(lex.overrides) for lex in rules.lexicons}
        self.sites = frozenset(lex.category for lex in rules.lexicons if lex.group == "site")
        strings = nlp.vocab.strings
        self.possessives = {strings.add(word): owner for word, owner in POSSESSIVE_OWNER.items()}
        self.owner_skip = frozenset(strings.add(word) for word in _OWNER_SKIP)
        phrase_docs: list[tuple[int, Doc]] = []
        for lexicon in rules.lexicons:
            key = f"cue:{lexicon.category}"
            self.categories[strings.add(key)] = lexicon.category
            docs = list(nlp.tokenizer.pipe(lexicon.phrases()))
            self.phrase_matcher.add(key, docs)
            phrase_docs += [(strings.add(key), doc) for doc in docs]
            for pattern in lexicon.patterns:
                self.matcher.add(key, list(pattern))
        fast = compiled()
        self.fast_rules = None if fast is None else self._compile(fast, strings)
        self.phrase_table = _phrase_table(self.phrase_matcher, phrase_docs)

    def _compile(self, fast: Any, strings: Any) -> Any:
        """The lexicons as the arrays ``classifier._fast.resolve_cues`` reads."""
        names = list(dict.fromkeys(self.categories.values()))
        index = {name: i for i, name in enumerate(names)}
        return fast.CueRules(
            names,
            {key: index[name] for key, name in self.categories.items()},
            [name in self.sites for name in names],
            [{index[c] for c in self.overrides.get(name, ()) if c in index} for name in names],
            self.possessives,
            self.owner_skip,
            Cue,
        )

    def owner(self, norms: list[int], start: int) -> str | None:
        """Whose body part a cue names, from a possessive just before (or at) its start."""
        index = start
        while index >= 0 and start - index <= 3:
            norm = norms[index]
            if norm in self.possessives:
                return self.possessives[norm]
            if index < start and norm not in self.owner_skip:
                return None
            index -= 1
        return None

    def find(self, table: TokenTable) -> list[Cue]:
        """The cues of a token table alone, without a ``Doc`` (the compiled path: see
        ``analyse_text``); the same as ``__call__`` puts in ``doc._.painclf_cues``."""
        matches = self.phrase_table.matches(table.attrs) if table.attrs is not None else []
        if self.matcher:
            matches += self.matcher(None, table)
        if not matches:
            return []
        return self._resolve_compiled(matches, table)

    def _resolve_compiled(
        self, matches: list[tuple[int, int, int]], table: TokenTable
    ) -> list[Cue]:
        return compiled().resolve_cues(
            self.fast_rules,
            matches,
            table.norms,
            table.starts,
            table.ends,
            table.text,
            table.segments.starts,
        )

    def __call__(self, doc: Doc) -> Doc:
        table = token_table(doc)
        doc.user_data[TOKENS_ATTR] = table
        matches = self.phrase_matcher(doc)
        if self.matcher:
            matches += self.matcher(doc, table)
        if not matches:
            doc.user_data[CUES_ATTR] = []
            return doc
        if self.fast_rules is not None:
            doc.user_data[CUES_ATTR] = self._resolve_compiled(matches, table)
            return doc
        by_category: dict[str, list[tuple[int, int]]] = defaultdict(list)
        for key, start, end in matches:
            by_category[self.categories[key]].append((start, end))
        text = table.text
        starts, ends, segments = table.starts, table.ends, table.segments
        cues: list[Cue] = []
        for category, spans in by_category.items():
            if len(spans) > 1:
                # Keep the longest of overlapping matches of one category: "lower back", not "back".
                spans.sort(key=lambda span: (span[0] - span[1], span[0]))
                kept: list[tuple[int, int]] = []
                taken: set[int] = set()
                for start, end in spans:
                    positions = range(start, end)
                    if taken.isdisjoint(positions):
                        kept.append((start, end))
                        taken.update(positions)
                spans = kept
            is_site = category in self.sites
            for start, end in spans:
                start_char, end_char = starts[start], ends[end - 1]
                cues.append(
                    Cue(
                        category,
                        start,
                        end,
                        start_char,
                        end_char,
                        text[start_char:end_char],
                        segments.index(start),
                        owner=self.owner(table.norms, start) if is_site else None,
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
        doc.user_data[CUES_ATTR] = cues
        return doc


_CONTEXT_CODES = {category: code for code, category in enumerate(CONTEXT_CATEGORIES)}
_DIRECTION_BITS = {"FORWARD": 1, "BACKWARD": 2, "BIDIRECTIONAL": 3}


class ContextComponent:
    """Apply the ConText rules to the cues found by ``painclf_cues``."""

    def __init__(self, nlp: Language, rules: RuleSet) -> None:
        self.phrase_matcher = PhraseMatcher(nlp.vocab, attr=MATCH_ATTR)
        self.matcher = GatedMatcher(nlp.vocab)
        self.rules = {}
        # Match key -> the rule's index in the compiled rules of ``classifier._fast``.
        self.rule_index: dict[int, int] = {}
        phrase_docs: list[tuple[int, Doc]] = []
        for index, rule in enumerate(rules.context_rules):
            key = f"context:{index}"
            self.rules[nlp.vocab.strings.add(key)] = rule
            self.rule_index[nlp.vocab.strings.add(key)] = index
            if rule.pattern is not None:
                self.matcher.add(key, list(rule.pattern))
            else:
                phrases = list(nlp.tokenizer.pipe(expand_term(rule.literal)))
                self.phrase_matcher.add(key, phrases)
                phrase_docs += [(nlp.vocab.strings.add(key), doc) for doc in phrases]
        self.category_index = {lex.category: i for i, lex in enumerate(rules.lexicons)}
        fast = compiled()
        self.fast_rules = None if fast is None else self._compile(fast, rules)
        self.phrase_table = _phrase_table(self.phrase_matcher, phrase_docs)

    def _compile(self, fast: Any, rules: RuleSet) -> Any:
        """The context rules as the arrays ``classifier._fast.context_modifiers`` reads."""
        every_modifier = (1 << len(MODIFIER_CATEGORIES)) - 1
        categories = list(self.category_index)
        return fast.ContextRules(
            [_CONTEXT_CODES[rule.category] for rule in rules.context_rules],
            [_DIRECTION_BITS.get(rule.direction, 0) for rule in rules.context_rules],
            [-1 if rule.max_scope is None else rule.max_scope for rule in rules.context_rules],
            [
                every_modifier
                if rule.terminates is None
                else sum(1 << MODIFIER_CATEGORIES.index(m) for m in rule.terminates)
                for rule in rules.context_rules
            ],
            [[rule.applies_to(c) for c in categories] for rule in rules.context_rules]
            or [[False] * len(categories)],
        )

    def __call__(self, doc: Doc) -> Doc:
        cues = doc.user_data.get(CUES_ATTR)
        if not cues:
            return doc
        table: TokenTable = doc.user_data.get(TOKENS_ATTR)
        matches = self.phrase_matcher(doc) + self.matcher(doc, table)
        if not matches:
            return doc
        if self.fast_rules is not None and table.segments.punct is not None:
            self._apply_compiled(matches, cues, table)
        else:
            triggers = select_triggers([(s, e, self.rules[k]) for k, s, e in matches], cues)
            apply_context(cues, triggers, table.segments)
        return doc

    def apply(self, cues: list[Cue], table: TokenTable) -> None:
        """Set the modifiers of cues found in a token table alone, without a ``Doc`` (the
        compiled path); the same as ``__call__`` does to ``doc._.painclf_cues``."""
        if not cues:
            return
        matches = self.phrase_table.matches(table.attrs) if table.attrs is not None else []
        matches += self.matcher(None, table)
        if matches:
            self._apply_compiled(matches, cues, table)

    def _apply_compiled(
        self, matches: list[tuple[int, int, int]], cues: list[Cue], table: TokenTable
    ) -> None:
        segments = table.segments
        compiled().apply_context(
            self.fast_rules,
            matches,
            self.rule_index,
            cues,
            self.category_index,
            segments.starts,
            segments.length,
            segments.punct,
        )


def _gap(a: Cue, b: Cue) -> int:
    return max(0, b.start - a.end, a.start - b.end)


class ComboComponent:
    """Add derived cues (``spine_complaint``, ``limb_weakness``...) from cues in one sentence."""

    def __init__(self, combos: tuple[ComboRule, ...]) -> None:
        self.combos = combos
        self.needed = [frozenset(combo.all_of[0]) for combo in combos]
        # For classifier._fast.derive_combos; the anchor categories in the order the pure
        # path iterates their frozenset, so both paths meet anchors in the same order.
        self.fast_combos = [
            (
                combo.category,
                list(first),
                first,
                [tuple(group) for group in combo.all_of[1:]],
                -1 if combo.window is None else combo.window,
            )
            for combo, first in zip(combos, self.needed, strict=True)
        ]
        self.fast = compiled() is not None

    def apply(self, cues: list[Cue], text: str) -> None:
        """Add the derived cues to cues found without a ``Doc`` (the compiled path)."""
        if cues:
            compiled().derive_combos(cues, self.fast_combos, text, Cue)

    def __call__(self, doc: Doc) -> Doc:
        cues: list[Cue] | None = doc.user_data.get(CUES_ATTR)
        if not cues:
            return doc
        text = doc.user_data.get(TOKENS_ATTR).text
        if self.fast:
            compiled().derive_combos(cues, self.fast_combos, text, Cue)
            return doc
        by_category: dict[str, list[Cue]] = defaultdict(list)
        for cue in cues:
            by_category[cue.category].append(cue)
        derived: list[Cue] = []
        for combo, first in zip(self.combos, self.needed, strict=True):
            if first.isdisjoint(by_category):
                continue
            if any(by_category.keys().isdisjoint(group) for group in combo.all_of[1:]):
                continue
            seen: set[tuple[int, int]] = set()
            anchors = [c for category in first for c in by_category.get(category, ())]
            for anchor in anchors:
                parts = [anchor]
                for group in combo.all_of[1:]:
                    candidates = [
                        c
                        for category in group
                        for c in by_category.get(category, ())
                        if c.sentence == anchor.sentence
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
                    start_char = min(p.start_char for p in parts)
                    end_char = max(p.end_char for p in parts)
                    cue = Cue(
                        combo.category,
                        start,
                        end,
                        start_char,
                        end_char,
                        text[start_char:end_char],
                        anchor.sentence,
                        set().union(*(p.modifiers for p in parts)),
                        owner=next((p.owner for p in parts if p.owner), None),
                    )
                    derived.append(cue)
                    by_category[combo.category].append(cue)
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
    nlp.add_pipe("painclf_cues")
    nlp.add_pipe("painclf_context")
    nlp.add_pipe("painclf_combos")
    return nlp


def special_case_tokens(
    tokenizer: Tokenizer,
) -> tuple[set[tuple[int, int]], dict[tuple[int, ...], tuple[set[int], set[int]]]]:
    """What ``classifier._tok.ChunkTokenizer`` needs to know of a tokenizer's special cases.

    spaCy applies a special case that affixes would split ("(:", "a.m.") by matching its
    affix-split tokens over the whole doc (``Tokenizer.add_special_case``). Returns the pairs
    of ORTH hashes that follow each other in those token sequences (only through such a pair
    can a match reach across chunks) and, for the token sequences made by those of the
    special cases that change what the affixes give, the first and last tokens the affixes
    give for them.
    """
    bare = Tokenizer(
        tokenizer.vocab,
        rules={},
        prefix_search=tokenizer.prefix_search,
        suffix_search=tokenizer.suffix_search,
        infix_finditer=tokenizer.infix_finditer,
        token_match=tokenizer.token_match,
        url_match=tokenizer.url_match,
    )
    strings = tokenizer.vocab.strings
    pairs: set[tuple[int, int]] = set()
    outputs: dict[tuple[int, ...], tuple[set[int], set[int]]] = {}
    for string, substrings in (tokenizer.rules or {}).items():
        matched = (
            not tokenizer.faster_heuristics
            or tokenizer.find_prefix(string)
            or tokenizer.find_infix(string)
            or tokenizer.find_suffix(string)
            or " " in string
        )
        if not matched:
            continue
        orths = [token.orth for token in bare(string)]
        pairs.update(itertools.pairwise(orths))
        made = tuple(strings.add(substring[ORTH]) for substring in substrings)
        # A special case that makes the very tokens the affixes give changes nothing
        # when it is hidden ("it's"), unless it also sets another NORM ("let's": "us").
        renormed = any(
            NORM in substring and substring[NORM] != tokenizer.vocab[substring[ORTH]].norm_
            for substring in substrings
        )
        if orths and (made != tuple(orths) or renormed):
            firsts, lasts = outputs.setdefault(made, (set(), set()))
            firsts.add(orths[0])
            lasts.add(orths[-1])
    return pairs, outputs


@cache
def chunk_tokenizer() -> Any:
    """The shared pipeline's tokenizer compiled (``classifier._tok.ChunkTokenizer``) or None.

    It gives ``get_nlp().tokenizer(text).to_array(_FAST_COLUMNS)`` without a ``Doc``, and
    falls back on spaCy's tokenizer for a text it cannot be sure of (see its module).
    """
    tok = compiled_tokens()
    if tok is None:
        return None
    tokenizer = get_nlp().tokenizer
    pairs, outputs = special_case_tokens(tokenizer)
    return tok.ChunkTokenizer(
        tokenizer, list(_FAST_COLUMNS), (IDX, LENGTH, ORTH, SPACY), pairs, outputs
    )


def _lower_same_length(text: str) -> str:
    lowered = text.lower()
    return lowered if len(lowered) == len(text) else text


@cache
def _compiled_pipeline() -> tuple[Any, CueMatcher, ContextComponent, ComboComponent] | None:
    """The parts ``analyse_text`` runs, or None when something needs a ``Doc``."""
    tokenizer = chunk_tokenizer()
    if tokenizer is None:
        return None
    nlp = get_nlp()
    cues, context, combos = (component for _, component in nlp.pipeline)
    runnable = (
        cues.phrase_table is not None
        and context.phrase_table is not None
        and cues.fast_rules is not None
        and context.fast_rules is not None
        and combos.fast
        and cues.matcher.fully_compiled
        and context.matcher.fully_compiled
    )
    return (tokenizer, cues, context, combos) if runnable else None


def analyse_text(text: str) -> tuple[list[Cue], TokenTable] | None:
    """The cues and the token table of one text without a spaCy ``Doc``, or None when the
    compiled path is not there (then ``process_text`` gives them, the same).

    The compiled tokenizer gives spaCy's tokens as an array (falling back on spaCy's
    tokenizer where it must), the phrase tables find what the ``PhraseMatcher`` finds,
    and the compiled stages resolve cues, ConText modifiers and combos, as
    ``process_text`` does with them on a ``Doc``.
    """
    parts = _compiled_pipeline()
    if parts is None:
        return None
    tokenizer, cue_matcher, context, combos = parts
    attrs, _ = tokenizer(_lower_same_length(text))
    table = table_from_array(attrs, text, cue_matcher.phrase_matcher.vocab)
    cues = cue_matcher.find(table)
    if cues:
        context.apply(cues, table)
        combos.apply(cues, text)
    return cues, table


def process_text(text: str) -> Doc:
    """Run the pipeline over one text, keeping the raw text on the doc (see ``pipe_texts``)."""
    nlp = get_nlp()
    doc = nlp.tokenizer(_lower_same_length(text))
    doc.user_data[TEXT_KEY] = text
    for _, component in nlp.pipeline:
        doc = component(doc)
    return doc


def pipe_texts(texts: Iterable[str], batch_size: int = 512) -> Iterator[Doc]:
    """Run the pipeline over texts, keeping each raw text on its doc.

    Equivalent to ``get_nlp().pipe(texts)``, but the components read the text from
    ``doc.user_data`` instead of rebuilding it from the tokens, which is the single
    largest cost for short texts.
    """
    nlp = get_nlp()
    components = [component for _, component in nlp.pipeline]
    text_list = texts if isinstance(texts, list) else list(texts)
    # spaCy's tokenizer exceptions are case-sensitive ("CAN'T" stays one token), and every
    # rule matches on lowercase NORMs, so tokenize the lowercased text when lowering keeps
    # the length (offsets then still point into the original text, kept for evidence).
    lowered = [_lower_same_length(text) for text in text_list]
    for text, doc in zip(
        text_list, nlp.tokenizer.pipe(lowered, batch_size=batch_size), strict=True
    ):
        doc.user_data[TEXT_KEY] = text
        for component in components:
            doc = component(doc)
        yield doc
