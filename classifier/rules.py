"""Rule files as data: cue lexicons, ConText modifiers, combos, urgent and label rules.

Every rule a clinician may want to change lives in a JSON file under
``classifier/resources`` and is validated on load against a closed set of keys,
the way medspaCy keeps ``context_rules.json``. Each rule class has
``from_dict``/``to_dict`` so files round-trip.

A *term* is a phrase with a tiny pattern syntax, expanded into literal phrases:

- ``a|b`` separates alternatives (``numb|numbness|pins and needles``);
- ``( ... )`` groups alternatives inside a phrase (``(can not|unable to) walk``);
- ``?`` after a word or a group makes it optional (``my? (left|right)? leg``).

Examples
--------
>>> expand_term("(numb|numbness) in my? groin")
['numb in my groin', 'numb in groin', 'numbness in my groin', 'numbness in groin']
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

from classifier.config import LABELS, RESOURCES_PACKAGE

MODIFIER_CATEGORIES = ("NEGATED", "HYPOTHETICAL", "HISTORICAL", "OTHER_PERSON")
CONTEXT_CATEGORIES = (*MODIFIER_CATEGORIES, "PSEUDO", "TERMINATE")
DIRECTIONS = ("FORWARD", "BACKWARD", "BIDIRECTIONAL", "PSEUDO", "TERMINATE")
MAX_EXPANSIONS = 10_000
# Categories computed in code rather than matched from a lexicon; rules may name them.
BUILTIN_CATEGORIES = ("long_duration", "impersonal_question", "no_pain", "other_person_complaint")


class RuleError(ValueError):
    """A rule file is malformed; the message names the file and the rule."""


def _check_keys(
    data: Mapping[str, Any], required: set[str], optional: set[str], where: str
) -> None:
    if not isinstance(data, Mapping):
        raise RuleError(f"{where}: expected an object, got {type(data).__name__}")
    missing = required - data.keys()
    if missing:
        raise RuleError(f"{where}: missing key(s) {sorted(missing)}")
    unknown = data.keys() - required - optional
    if unknown:
        raise RuleError(
            f"{where}: unknown key(s) {sorted(unknown)}; allowed: {sorted(required | optional)}"
        )


def _str_list(value: Any, where: str, key: str, *, allow_empty: bool = False) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, list):
        raise RuleError(f"{where}: '{key}' must be a list of strings")
    if not value and not allow_empty:
        raise RuleError(f"{where}: '{key}' must not be empty")
    for item in value:
        if not isinstance(item, str) or not item.strip():
            raise RuleError(f"{where}: '{key}' holds a non-string or blank item: {item!r}")
    return tuple(value)


def _is_token_pattern(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(t, dict) for t in value)


_TERM_TOKEN = re.compile(r"\s*(\(|\)|\||\?|[^\s()|?]+)")


def expand_term(term: str) -> list[str]:
    """Expand a term written in the pattern syntax into literal lowercase phrases.

    Parameters
    ----------
    term : str
        Phrases separated by ``|``; a group ``( ... )`` holds alternatives inside a
        phrase; ``?`` after a word or group makes it optional.

    Returns
    -------
    list of str
        Every phrase the term stands for, in a stable order, without duplicates.

    Raises
    ------
    RuleError
        If parentheses do not balance, an alternative is empty, or the term stands
        for more than ``MAX_EXPANSIONS`` phrases.

    Examples
    --------
    >>> expand_term("pins and needles|tingling")
    ['pins and needles', 'tingling']
    >>> expand_term("(can not|unable to) walk")
    ['can not walk', 'unable to walk']
    """
    tokens = _TERM_TOKEN.findall(term.lower())
    if "".join(tokens) != re.sub(r"\s+", "", term.lower()):
        raise RuleError(f"term {term!r}: cannot be parsed")
    position = 0

    def alternatives() -> list[tuple[str, ...]]:
        nonlocal position
        options = sequence()
        while position < len(tokens) and tokens[position] == "|":
            position += 1
            options += sequence()
        return options

    def sequence() -> list[tuple[str, ...]]:
        nonlocal position
        phrases: list[tuple[str, ...]] = [()]
        empty = True
        while position < len(tokens) and tokens[position] not in ("|", ")"):
            token = tokens[position]
            position += 1
            if token == "(":
                choices = alternatives()
                if position >= len(tokens) or tokens[position] != ")":
                    raise RuleError(f"term {term!r}: unbalanced parentheses")
                position += 1
            elif token == "?":
                raise RuleError(f"term {term!r}: '?' must follow a word or a group")
            else:
                choices = [(token,)]
            if position < len(tokens) and tokens[position] == "?":
                position += 1
                choices = [*choices, ()]
            phrases = [head + tail for head in phrases for tail in choices]
            if len(phrases) > MAX_EXPANSIONS:
                raise RuleError(f"term {term!r} expands to more than {MAX_EXPANSIONS} phrases")
            empty = False
        if empty:
            raise RuleError(f"term {term!r}: empty alternative")
        return phrases

    expanded = alternatives()
    if position != len(tokens):
        raise RuleError(f"term {term!r}: unbalanced parentheses")
    return list(dict.fromkeys(" ".join(words) for words in expanded if words))


@dataclass(frozen=True)
class CueLexicon:
    """One category of cues (``numbness``, ``activity``...) and the terms that signal it.

    ``overrides`` names categories whose cues inside a cue of this one are dropped:
    "like I got hit by a truck" is soreness, not the trauma "hit by a truck".
    """

    category: str
    description: str
    terms: tuple[str, ...]
    group: str = "general"
    patterns: tuple[tuple[Mapping[str, Any], ...], ...] = ()
    overrides: tuple[str, ...] = ()

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], where: str = "lexicon") -> CueLexicon:
        _check_keys(
            data, {"category", "description", "terms"}, {"group", "patterns", "overrides"}, where
        )
        category = data["category"]
        if not isinstance(category, str) or not category.isidentifier():
            raise RuleError(f"{where}: 'category' must be an identifier, got {category!r}")
        terms = _str_list(data["terms"], where, "terms")
        for term in terms:
            try:
                expand_term(term)
            except RuleError as error:
                raise RuleError(f"{where}: {error}") from None
        patterns = data.get("patterns", [])
        if not isinstance(patterns, list) or not all(_is_token_pattern(p) for p in patterns):
            raise RuleError(f"{where}: 'patterns' must be a list of spaCy token patterns")
        return cls(
            category,
            str(data["description"]),
            terms,
            str(data.get("group", "general")),
            tuple(tuple(pattern) for pattern in patterns),
            _str_list(data.get("overrides", []), where, "overrides", allow_empty=True),
        )

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "category": self.category,
            "description": self.description,
            "group": self.group,
            "terms": list(self.terms),
        }
        if self.patterns:
            data["patterns"] = [list(pattern) for pattern in self.patterns]
        if self.overrides:
            data["overrides"] = list(self.overrides)
        return data

    def phrases(self) -> list[str]:
        """All literal phrases of this lexicon."""
        return [phrase for term in self.terms for phrase in expand_term(term)]


@dataclass(frozen=True)
class ContextRule:
    """A ConText trigger: a phrase that modifies the cues in its scope.

    ``direction`` says where the scope lies (after the trigger, before it, or
    both); it ends at the sentence end, after ``max_scope`` tokens, or at a
    terminating phrase ("but", "just", "except"). ``PSEUDO`` rules match
    phrases that look like triggers but are not ("no improvement") and so
    block the shorter trigger inside them.
    """

    literal: str
    category: str
    direction: str
    max_scope: int | None = None
    allowed_types: frozenset[str] | None = None
    excluded_types: frozenset[str] = field(default_factory=frozenset)
    terminates: frozenset[str] | None = None
    pattern: tuple[Mapping[str, Any], ...] | None = None

    KEYS_REQUIRED = frozenset({"literal", "category", "direction"})
    KEYS_OPTIONAL = frozenset(
        {"max_scope", "allowed_types", "excluded_types", "terminates", "pattern", "comment"}
    )

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], where: str = "context rule") -> ContextRule:
        _check_keys(data, set(cls.KEYS_REQUIRED), set(cls.KEYS_OPTIONAL), where)
        category, direction = data["category"], data["direction"]
        if category not in CONTEXT_CATEGORIES:
            raise RuleError(f"{where}: category {category!r} not in {CONTEXT_CATEGORIES}")
        if direction not in DIRECTIONS:
            raise RuleError(f"{where}: direction {direction!r} not in {DIRECTIONS}")
        if {category, direction} & {"PSEUDO", "TERMINATE"} and category != direction:
            raise RuleError(f"{where}: category {category} cannot have direction {direction}")
        max_scope = data.get("max_scope")
        if max_scope is not None and (not isinstance(max_scope, int) or max_scope < 1):
            raise RuleError(f"{where}: 'max_scope' must be a positive integer")
        pattern = data.get("pattern")
        if pattern is not None and not _is_token_pattern(pattern):
            raise RuleError(f"{where}: 'pattern' must be a spaCy token pattern (list of objects)")
        terminates = data.get("terminates")
        if terminates is not None:
            terminates = frozenset(_str_list(terminates, where, "terminates"))
            if unknown := terminates - set(MODIFIER_CATEGORIES):
                raise RuleError(f"{where}: 'terminates' names unknown categories {sorted(unknown)}")
        allowed = data.get("allowed_types")
        if pattern is None:
            try:
                expand_term(data["literal"])
            except RuleError as error:
                raise RuleError(f"{where}: {error}") from None
        return cls(
            literal=data["literal"],
            category=category,
            direction=direction,
            max_scope=max_scope,
            allowed_types=None
            if allowed is None
            else frozenset(_str_list(allowed, where, "allowed_types")),
            excluded_types=frozenset(
                _str_list(data.get("excluded_types", []), where, "excluded_types", allow_empty=True)
            ),
            terminates=terminates,
            pattern=None if pattern is None else tuple(pattern),
        )

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "literal": self.literal,
            "category": self.category,
            "direction": self.direction,
        }
        if self.max_scope is not None:
            data["max_scope"] = self.max_scope
        if self.allowed_types is not None:
            data["allowed_types"] = sorted(self.allowed_types)
        if self.excluded_types:
            data["excluded_types"] = sorted(self.excluded_types)
        if self.terminates is not None:
            data["terminates"] = sorted(self.terminates)
        if self.pattern is not None:
            data["pattern"] = list(self.pattern)
        return data

    def applies_to(self, cue_category: str) -> bool:
        """Whether this modifier may modify a cue of ``cue_category``."""
        if cue_category in self.excluded_types:
            return False
        return self.allowed_types is None or cue_category in self.allowed_types


@dataclass(frozen=True)
class ComboRule:
    """A derived cue: present when every group has a cue in the same sentence.

    ``all_of`` is a list of groups, each a list of categories any of which
    satisfies the group; the derived cue carries the union of the modifiers of
    the cues it was built from, so "no numbness in the groin" stays negated.
    """

    category: str
    description: str
    all_of: tuple[tuple[str, ...], ...]
    window: int | None = None
    group: str = "general"

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], where: str = "combo") -> ComboRule:
        _check_keys(
            data, {"category", "description", "all_of"}, {"window", "group", "comment"}, where
        )
        groups = data["all_of"]
        if not isinstance(groups, list) or len(groups) < 2:
            raise RuleError(f"{where}: 'all_of' must list at least two groups")
        window = data.get("window")
        if window is not None and (not isinstance(window, int) or window < 0):
            raise RuleError(f"{where}: 'window' must be a non-negative integer (tokens)")
        return cls(
            category=str(data["category"]),
            description=str(data["description"]),
            all_of=tuple(_str_list(group, where, "all_of group") for group in groups),
            window=window,
            group=str(data.get("group", "general")),
        )

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "category": self.category,
            "description": self.description,
            "group": self.group,
            "all_of": [list(group) for group in self.all_of],
        }
        if self.window is not None:
            data["window"] = self.window
        return data


@dataclass(frozen=True)
class UrgentRule:
    """One way a red flag is raised: a current cue, possibly with a required companion.

    A cue counts when it is not negated, hypothetical, historical (unless
    ``historical_ok``: "history of cancer" is itself the flag) or about another
    person who is not the one written about. With ``stable_after_days``, a cue in a
    sentence that reports a longer duration and no worsening is long-standing and
    stable, so it does not count. With ``new_complaint_days``, the required
    complaint must be new: a text whose complaint has lasted longer, with nothing
    new or worse, raises no flag ("history of cancer, with *new* back pain"). With
    ``background``, the cue names a standing condition (cancer, osteoporosis, steroid
    use), so a duration in its own sentence dates the condition, not the complaint. With
    ``unless_in_sentence``, a cue does not count in a sentence that also has a current cue
    of one of those categories ("my arms are so sore I can't raise them": soreness, not
    weakness). With ``confirmed_by``, a cue counts only when a current cue of one of those
    categories is in its own sentence or within ``confirmed_within`` sentences of it
    ("took a boot to the head. On the drive home I threw up twice": the sign that the blow
    did harm is often told in another sentence).
    """

    flag: str
    reason: str
    cues: tuple[str, ...]
    requires: tuple[str, ...] = ()
    historical_ok: bool = False
    stable_after_days: int | None = None
    new_complaint_days: int | None = None
    background: bool = False
    unless_in_sentence: tuple[str, ...] = ()
    confirmed_by: tuple[str, ...] = ()
    confirmed_within: int = 0

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], where: str = "urgent rule") -> UrgentRule:
        _check_keys(
            data,
            {"flag", "reason", "cues"},
            {
                "requires",
                "historical_ok",
                "stable_after_days",
                "new_complaint_days",
                "background",
                "unless_in_sentence",
                "confirmed_by",
                "confirmed_within",
                "comment",
            },
            where,
        )
        within = data.get("confirmed_within", 0)
        if isinstance(within, bool) or not isinstance(within, int) or within < 0:
            raise RuleError(f"{where}: 'confirmed_within' must be a non-negative integer")
        if within and not data.get("confirmed_by"):
            raise RuleError(f"{where}: 'confirmed_within' needs 'confirmed_by'")
        for key in ("stable_after_days", "new_complaint_days"):
            value = data.get(key)
            if value is not None and (not isinstance(value, int) or value < 1):
                raise RuleError(f"{where}: '{key}' must be a positive integer")
        for key in ("historical_ok", "background"):
            if not isinstance(data.get(key, False), bool):
                raise RuleError(f"{where}: '{key}' must be true or false")
        return cls(
            flag=str(data["flag"]),
            reason=str(data["reason"]),
            cues=_str_list(data["cues"], where, "cues"),
            requires=_str_list(data.get("requires", []), where, "requires", allow_empty=True),
            historical_ok=data.get("historical_ok", False),
            stable_after_days=data.get("stable_after_days"),
            new_complaint_days=data.get("new_complaint_days"),
            background=data.get("background", False),
            unless_in_sentence=_str_list(
                data.get("unless_in_sentence", []), where, "unless_in_sentence", allow_empty=True
            ),
            confirmed_by=_str_list(
                data.get("confirmed_by", []), where, "confirmed_by", allow_empty=True
            ),
            confirmed_within=within,
        )

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"flag": self.flag, "reason": self.reason, "cues": list(self.cues)}
        if self.requires:
            data["requires"] = list(self.requires)
        if self.historical_ok:
            data["historical_ok"] = True
        if self.stable_after_days is not None:
            data["stable_after_days"] = self.stable_after_days
        if self.new_complaint_days is not None:
            data["new_complaint_days"] = self.new_complaint_days
        if self.background:
            data["background"] = True
        if self.unless_in_sentence:
            data["unless_in_sentence"] = list(self.unless_in_sentence)
        if self.confirmed_by:
            data["confirmed_by"] = list(self.confirmed_by)
        if self.confirmed_within:
            data["confirmed_within"] = self.confirmed_within
        return data


@dataclass(frozen=True)
class LabelRule:
    """A guide rule that rules a label out, whatever the model says.

    The label is excluded when any ``if_any`` cue is current (or when ``if_any`` is
    empty) and no ``unless_any`` cue is current. With ``max_tokens`` the rule holds
    only for texts of at most that many tokens: in a short message the complaint
    named is its subject, in a long post it may be an aside the model must weigh.
    """

    id: str
    excludes: str
    reason: str
    if_any: tuple[str, ...] = ()
    unless_any: tuple[str, ...] = ()
    max_tokens: int | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], where: str = "label rule") -> LabelRule:
        _check_keys(
            data,
            {"id", "excludes", "reason"},
            {"if_any", "unless_any", "max_tokens", "comment"},
            where,
        )
        if data["excludes"] not in LABELS:
            raise RuleError(f"{where}: 'excludes' must be one of {LABELS}")
        if_any = _str_list(data.get("if_any", []), where, "if_any", allow_empty=True)
        unless_any = _str_list(data.get("unless_any", []), where, "unless_any", allow_empty=True)
        if not if_any and not unless_any:
            raise RuleError(f"{where}: give 'if_any', 'unless_any' or both")
        max_tokens = data.get("max_tokens")
        if max_tokens is not None and (
            not isinstance(max_tokens, int) or isinstance(max_tokens, bool) or max_tokens < 1
        ):
            raise RuleError(f"{where}: 'max_tokens' must be a positive integer")
        return cls(
            str(data["id"]), data["excludes"], str(data["reason"]), if_any, unless_any, max_tokens
        )

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "excludes": self.excludes, "reason": self.reason}
        if self.if_any:
            data["if_any"] = list(self.if_any)
        if self.unless_any:
            data["unless_any"] = list(self.unless_any)
        if self.max_tokens is not None:
            data["max_tokens"] = self.max_tokens
        return data

    def applies(self, current: frozenset[str] | set[str], n_tokens: int) -> bool:
        """Whether the rule excludes its label for a text with these current cues."""
        if self.max_tokens is not None and n_tokens > self.max_tokens:
            return False
        triggered = not self.if_any or bool(current.intersection(self.if_any))
        return triggered and not current.intersection(self.unless_any)


@dataclass(frozen=True, eq=False)
class RuleSet:
    """Everything the text analysis and the rule layer need, loaded and cross-checked.

    Two rule sets are equal when their files are (same fingerprint); a rule set is
    hashable, so per-rule-set lookups can be cached.
    """

    lexicons: tuple[CueLexicon, ...]
    context_rules: tuple[ContextRule, ...]
    combos: tuple[ComboRule, ...]
    urgent_rules: tuple[UrgentRule, ...]
    label_rules: tuple[LabelRule, ...]
    fingerprint: str

    def __eq__(self, other: object) -> bool:
        return isinstance(other, RuleSet) and other.fingerprint == self.fingerprint

    def __hash__(self) -> int:
        return hash(self.fingerprint)

    @property
    def categories(self) -> tuple[str, ...]:
        """Every cue category, lexicon and combo, in file order."""
        return (
            *(lexicon.category for lexicon in self.lexicons),
            *(combo.category for combo in self.combos),
        )

    def describe(self, category: str) -> str:
        for item in (*self.lexicons, *self.combos):
            if item.category == category:
                return item.description
        return category.replace("_", " ")

    def flag_reasons(self) -> dict[str, str]:
        """Plain-words reason of each red flag id, in rule-file order."""
        reasons: dict[str, str] = {}
        for rule in self.urgent_rules:
            reasons.setdefault(rule.flag, rule.reason)
        return reasons


def _read_json(name: str) -> tuple[Any, bytes]:
    path = resources.files(RESOURCES_PACKAGE).joinpath(name)
    raw = path.read_bytes()
    try:
        return json.loads(raw), raw
    except json.JSONDecodeError as error:
        raise RuleError(f"{name}: invalid JSON at line {error.lineno}: {error.msg}") from None


def _list_section(data: Any, key: str, name: str) -> list[Any]:
    if not isinstance(data, dict) or not isinstance(data.get(key), list):
        raise RuleError(f"{name}: expected an object with a list under '{key}'")
    return data[key]


def _cross_check(rules: RuleSet) -> None:
    known = set(rules.categories) | set(BUILTIN_CATEGORIES)
    seen: set[str] = set()
    for category in rules.categories:
        if category in seen:
            raise RuleError(f"cue category {category!r} is defined twice")
        seen.add(category)

    def check(names: Iterable[str], where: str) -> None:
        if unknown := sorted(set(names) - known):
            raise RuleError(f"{where} names unknown cue categories {unknown}")

    for lexicon in rules.lexicons:
        check(lexicon.overrides, f"lexicons/{lexicon.category}.json")
    for combo in rules.combos:
        check(itertools.chain.from_iterable(combo.all_of), f"combos.json: {combo.category}")
    for rule in rules.urgent_rules:
        check(
            (*rule.cues, *rule.requires, *rule.unless_in_sentence, *rule.confirmed_by),
            f"urgent_rules.json: {rule.flag}",
        )
    for label_rule in rules.label_rules:
        check((*label_rule.if_any, *label_rule.unless_any), f"label_rules.json: {label_rule.id}")
    for context_rule in rules.context_rules:
        types = context_rule.excluded_types | (context_rule.allowed_types or frozenset())
        check(types, f"context_rules.json: {context_rule.literal!r}")


@cache
def load_rules() -> RuleSet:
    """Load and validate the rule files shipped in ``classifier/resources``.

    Returns
    -------
    RuleSet
        The validated rules, with a fingerprint (SHA-256 of all the files) that
        models record so a prediction can say which rules it ran with.

    Raises
    ------
    RuleError
        If a file is not valid JSON, a rule has an unknown or missing key, or a rule
        names a category that no lexicon defines.
    """
    digest = hashlib.sha256()
    lexicon_dir = resources.files(RESOURCES_PACKAGE).joinpath("lexicons")
    lexicons = []
    for entry in sorted(lexicon_dir.iterdir(), key=lambda item: item.name):
        if not entry.name.endswith(".json"):
            continue
        name = f"lexicons/{entry.name}"
        data, raw = _read_json(name)
        digest.update(name.encode() + raw)
        lexicon = CueLexicon.from_dict(data, name)
        if lexicon.category != entry.name.removesuffix(".json"):
            raise RuleError(f"{name}: category {lexicon.category!r} must match the file name")
        lexicons.append(lexicon)

    sections = {}
    for name, key in (
        ("context_rules.json", "context_rules"),
        ("combos.json", "combos"),
        ("urgent_rules.json", "urgent_rules"),
        ("label_rules.json", "label_rules"),
    ):
        data, raw = _read_json(name)
        digest.update(name.encode() + raw)
        sections[key] = _list_section(data, key, name)

    def build(cls: Any, key: str, name: str) -> tuple[Any, ...]:
        return tuple(
            cls.from_dict(item, f"{name}: rule {index + 1}")
            for index, item in enumerate(sections[key])
        )

    rules = RuleSet(
        lexicons=tuple(lexicons),
        context_rules=build(ContextRule, "context_rules", "context_rules.json"),
        combos=build(ComboRule, "combos", "combos.json"),
        urgent_rules=build(UrgentRule, "urgent_rules", "urgent_rules.json"),
        label_rules=build(LabelRule, "label_rules", "label_rules.json"),
        fingerprint=digest.hexdigest(),
    )
    _cross_check(rules)
    return rules
