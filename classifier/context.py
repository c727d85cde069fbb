"""ConText: decide which cues are negated, hypothetical, historical or about another person.

The algorithm follows ConText (Harkema et al., 2009) as medspaCy implements it:
trigger phrases from ``context_rules.json`` open a scope after them (FORWARD),
before them (BACKWARD) or both; the scope ends at the sentence end, after
``max_scope`` tokens, or at a terminating phrase ("but", "just", "except").
Every cue inside a scope gets the trigger's category, so in "No numbness or
fever, just soreness" the scope of "No" stops at "just" and "soreness" stays
current. Pseudo-triggers ("no improvement", "won't go away") are matched too and,
being longer, win over the shorter trigger inside them.

This module is pure Python over token offsets; ``classifier.nlp`` wires it into spaCy.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field

from classifier.rules import MODIFIER_CATEGORIES, ContextRule


@dataclass(slots=True)
class Cue:
    """One matched cue: a span of tokens of one category, with its context modifiers.

    ``owner`` is ``"self"`` or ``"other"`` when a possessive stands just before the
    cue ("my back", "his leg"), else None.
    """

    category: str
    start: int
    end: int
    start_char: int
    end_char: int
    text: str
    sentence: int
    modifiers: set[str] = field(default_factory=set)
    owner: str | None = None

    @property
    def is_current(self) -> bool:
        """True when the cue is neither negated, hypothetical nor historical."""
        return not (self.modifiers & _NOT_CURRENT)

    def describe(self) -> str:
        """Evidence text, e.g. ``'numbness (negated)'``."""
        if not self.modifiers:
            return self.text
        names = ", ".join(_MODIFIER_WORDS[m] for m in MODIFIER_CATEGORIES if m in self.modifiers)
        return f"{self.text} ({names})"


_NOT_CURRENT = frozenset({"NEGATED", "HYPOTHETICAL", "HISTORICAL"})
# Triggers that name a person (a relative, a bystander) rather than a time or a condition.
_PERSON_CATEGORIES = frozenset({"HYPOTHETICAL", "OTHER_PERSON"})
_MODIFIER_WORDS = {
    "NEGATED": "negated",
    "HYPOTHETICAL": "hypothetical",
    "HISTORICAL": "past",
    "OTHER_PERSON": "other person",
}


@dataclass(frozen=True, slots=True)
class Trigger:
    """A matched context phrase."""

    start: int
    end: int
    rule: ContextRule


@dataclass(frozen=True, slots=True)
class Segments:
    """Sentence boundaries as sorted token offsets; segment i is ``[starts[i], starts[i+1])``.

    ``punct`` counts punctuation tokens before each offset (``punct[i]`` is the number in
    ``[0, i)``), so that a scope limit counts words: the commas of a list ("no fever,
    chills, numbness or tingling") do not use up a negation's scope.
    """

    starts: tuple[int, ...]
    length: int
    punct: tuple[int, ...] | None = None

    def words_between(self, start: int, end: int) -> int:
        """Tokens in ``[start, end)`` that are not punctuation."""
        if self.punct is None:
            return end - start
        return (end - start) - (self.punct[end] - self.punct[start])

    def forward_limit(self, start: int, words: int, stop: int) -> int:
        """The offset after ``words`` non-punctuation tokens from ``start``, at most ``stop``."""
        end = min(stop, start + words)
        while end < stop and self.words_between(start, end) < words:
            end += 1
        return end

    def backward_limit(self, end: int, words: int, stop: int) -> int:
        """The offset ``words`` non-punctuation tokens before ``end``, at least ``stop``."""
        start = max(stop, end - words)
        while start > stop and self.words_between(start, end) < words:
            start -= 1
        return start

    def index(self, token: int) -> int:
        return bisect_right(self.starts, token) - 1

    def bounds(self, index: int) -> tuple[int, int]:
        end = self.starts[index + 1] if index + 1 < len(self.starts) else self.length
        return self.starts[index], end


def select_triggers(
    matches: Sequence[tuple[int, int, ContextRule]], cues: Sequence[Cue]
) -> list[Trigger]:
    """Resolve overlapping context matches.

    Of overlapping triggers of one category the longest wins; a pseudo-trigger
    ("no improvement") blocks every trigger it overlaps; triggers of different
    categories may overlap ("my dad had" is both another person and the past), except
    that a person inside a longer time phrase is part of it ("a kid" in "as a kid" is
    the writer's past, not a bystander). A trigger that lies within a
    strictly longer cue is part of that cue ("no
    bladder control", "can't walk") and does not modify anything.
    """
    candidates = sorted(matches, key=lambda m: (m[0] - m[1], m[0]))
    long_cues = [(c.start, c.end) for c in cues if c.end - c.start > 1]
    taken: list[tuple[int, int, str]] = []
    triggers: list[Trigger] = []
    for start, end, rule in candidates:
        if long_cues and any(
            c_start <= start and end <= c_end and c_end - c_start > end - start
            for c_start, c_end in long_cues
        ):
            continue
        if rule.category in _PERSON_CATEGORIES and any(
            t_start <= start and end <= t_end and t_end - t_start > end - start
            for t_start, t_end, category in taken
            if category == "HISTORICAL"
        ):
            continue
        # Overlapping terminators are all kept: "and now" ends a negation, and the
        # "now" inside it ends a past.
        if rule.category != "TERMINATE" and any(
            start < t_end and t_start < end and (category in (rule.category, "PSEUDO"))
            for t_start, t_end, category in taken
        ):
            continue
        taken.append((start, end, rule.category))
        if rule.category != "PSEUDO":
            triggers.append(Trigger(start, end, rule))
    triggers.sort(key=lambda t: t.start)
    return triggers


def _terminates(trigger: Trigger, category: str) -> bool:
    terminates = trigger.rule.terminates
    return trigger.rule.category == "TERMINATE" and (terminates is None or category in terminates)


def scopes(trigger: Trigger, triggers: Sequence[Trigger], segments: Segments) -> list[range]:
    """Token ranges that ``trigger`` modifies, within its sentence and before any terminator."""
    rule = trigger.rule
    seg_start, seg_end = segments.bounds(segments.index(trigger.start))
    limit = rule.max_scope
    result: list[range] = []
    if rule.direction in ("FORWARD", "BIDIRECTIONAL"):
        end = seg_end if limit is None else segments.forward_limit(trigger.end, limit, seg_end)
        for other in triggers:
            if (
                other.start >= trigger.end
                and other.start < end
                and _terminates(other, rule.category)
            ):
                end = other.start
                break
        result.append(range(trigger.end, end))
    if rule.direction in ("BACKWARD", "BIDIRECTIONAL"):
        start = (
            seg_start if limit is None else segments.backward_limit(trigger.start, limit, seg_start)
        )
        for other in reversed(triggers):
            if (
                other.end <= trigger.start
                and other.end > start
                and _terminates(other, rule.category)
            ):
                start = other.end
                break
        result.append(range(start, trigger.start))
    return result


def apply_context(cues: Sequence[Cue], triggers: Sequence[Trigger], segments: Segments) -> None:
    """Add to each cue the categories of the triggers whose scope it overlaps (in place)."""
    if not cues:
        return
    for trigger in triggers:
        category = trigger.rule.category
        if category not in MODIFIER_CATEGORIES:
            continue
        # A cue inside the trigger is modified too: "if I injure" is hypothetical,
        # "old injury" is past.
        for cue in cues:
            inside = trigger.start <= cue.start and cue.end <= trigger.end
            if inside and trigger.rule.applies_to(cue.category):
                cue.modifiers.add(category)
        for scope in scopes(trigger, triggers, segments):
            if not scope:
                continue
            for cue in cues:
                if (
                    cue.start < scope.stop
                    and scope.start < cue.end
                    and trigger.rule.applies_to(cue.category)
                ):
                    cue.modifiers.add(category)
