"""The urgent flag: deterministic red-flag rules over current cues, with reasons in plain words.

The flag never depends on the model. A red flag counts only when it is current
(not negated, hypothetical or past), about the writer or the person written
about, and, for flags marked ``stable_after_days``, not long-standing and stable
(see ``urgent_rules.json`` and the labeling guide).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

from classifier.analysis import Analysis, complaint_durations
from classifier.context import Cue
from classifier.duration import DurationMention, duration_days
from classifier.rules import RuleSet, UrgentRule

# Cues that say someone has a complaint; used to tell whose complaint a text is about.
COMPLAINT_CATEGORIES = frozenset(
    {"spine_complaint", "msk_complaint", "pain_word", "soreness_word", "sharp_quality"}
)
CHANGE_CATEGORIES = frozenset({"worsening", "onset_new"})
# A duration this short (in days) in a red flag's sentence dates the flag to the last days.
RECENT_DAYS = 14


@dataclass(frozen=True, slots=True)
class UrgentFinding:
    """One red flag found in a text."""

    flag: str
    reason: str
    evidence: str

    def describe(self) -> str:
        """Plain-words reason with the words that raised it."""
        return f'{self.reason}: "{self.evidence}"'


def written_about_other_person(analysis: Analysis) -> bool:
    """Whether another person's red flag counts: the writer has no complaint of their own.

    "My husband has chest pain, I'm scared" is about the husband, so his flag
    counts; in "my dad had cancer, and my back is sore from the gym" the writer's
    own complaint is what the text is about, and the father's cancer is history.
    A complaint is the writer's when its site is theirs ("my back") or, with no
    owner named, when it stands in a sentence where the writer says I or me.
    """
    others = [c for c in analysis.cues if c.owner == "other" and c.category in COMPLAINT_CATEGORIES]
    for cue in analysis.cues:
        if (
            cue.category not in COMPLAINT_CATEGORIES
            or not cue.is_current
            or "OTHER_PERSON" in cue.modifiers
        ):
            continue
        if cue.owner == "self":
            return False
        if (
            cue.owner is None
            and cue.sentence in analysis.self_sentences
            and not any(o.start <= cue.start and cue.end <= o.end for o in others)
        ):
            return False
    return True


def _long_standing(cue: Cue, analysis: Analysis, days: int) -> bool:
    """The cue's sentence reports a duration over ``days`` (or "all my life") and
    nothing new or worse."""
    long_ago = any(
        mention.kind == "span"
        and mention.days > days
        and analysis.sentence_of_char(mention.start) == cue.sentence
        for mention in analysis.durations
    ) or any(
        # "same as always" is itself about the past: only a negation cancels it.
        c.category == "long_standing"
        and "NEGATED" not in c.modifiers
        and c.sentence == cue.sentence
        for c in analysis.cues
    )
    if not long_ago:
        return False
    if any(
        # "a bad back for years, but since the weekend his leg keeps giving way": the
        # sentence also dates something to the last days, so the flag is new.
        mention.days <= RECENT_DAYS
        and mention.kind in ("span", "ago")
        and analysis.sentence_of_char(mention.start) == cue.sentence
        for mention in analysis.durations
    ):
        return False
    return not any(
        c.is_current and c.category in CHANGE_CATEGORIES and c.sentence == cue.sentence
        for c in analysis.cues
    )


def _complaint_is_old(analysis: Analysis, days: int, flag_categories: Sequence[str]) -> bool:
    """The complaint has lasted more than ``days`` and nothing is new or worse.

    For a flag that names a standing condition (``background``: cancer, osteoporosis, steroid
    use), a duration nearer to the condition's cue (``flag_categories``) than to any
    complaint dates the condition, not the complaint: in "treated for prostate cancer four
    years ago. This month he started getting a deep ache in his back" the back pain is new;
    in "I had cancer twenty years ago and my back pain has been the same for ten years" it
    is not.
    """
    if analysis.duration_days is None or analysis.duration_days <= days:
        return False
    conditions = [c for c in analysis.cues if c.category in flag_categories]
    if conditions:
        complaints = [
            c for c in analysis.cues if c.category in COMPLAINT_CATEGORIES and c.is_current
        ]
        dating = complaint_durations(analysis.durations, analysis.cues, analysis.sentence_starts)
        mentions = [m for m in dating if _char_gap(m, complaints) <= _char_gap(m, conditions)]
        complaint_days = duration_days(mentions)
        if complaint_days is None or complaint_days <= days:
            return False
    return not analysis.current_categories.intersection(CHANGE_CATEGORIES)


def _char_gap(mention: DurationMention, cues: list[Cue]) -> float:
    """Characters between a duration and the nearest of ``cues`` (infinite without cues)."""
    return min(
        (max(cue.start_char - mention.end, mention.start - cue.end_char, 0) for cue in cues),
        default=math.inf,
    )


def _current_sentences(analysis: Analysis, categories: Sequence[str]) -> frozenset[int]:
    """The sentences holding a current cue of ``categories`` (read once per rule and text:
    asked per cue, a hostile text of many cues made the check quadratic)."""
    return frozenset(c.sentence for c in analysis.cues if c.category in categories and c.is_current)


def _counts(
    cue: Cue,
    rule: UrgentRule,
    analysis: Analysis,
    other_person_ok: bool,
    vetoing: frozenset[int],
    confirming: frozenset[int] | None,
) -> bool:
    """Whether ``cue`` raises ``rule``'s flag. ``vetoing`` are the sentences of the rule's
    ``unless_in_sentence`` cues, ``confirming`` those of its ``confirmed_by`` cues (None:
    the rule needs no confirmation)."""
    modifiers = cue.modifiers
    if "NEGATED" in modifiers or "HYPOTHETICAL" in modifiers:
        return False
    if cue.sentence in analysis.impersonal_questions:
        return False
    if "HISTORICAL" in modifiers and not rule.historical_ok:
        return False
    if "OTHER_PERSON" in modifiers and not other_person_ok:
        return False
    if cue.sentence in vetoing:
        return False
    within = rule.confirmed_within
    if confirming is not None and not any(
        cue.sentence + step in confirming for step in range(-within, within + 1)
    ):
        return False
    return rule.stable_after_days is None or not _long_standing(
        cue, analysis, rule.stable_after_days
    )


@cache
def _flag_categories(rules: RuleSet) -> frozenset[str]:
    """Every cue category that can raise a red flag (most texts have none)."""
    return frozenset(category for rule in rules.urgent_rules for category in rule.cues)


def find_red_flags(analysis: Analysis, rules: RuleSet) -> list[UrgentFinding]:
    """Evaluate every urgent rule on one analysed text.

    Parameters
    ----------
    analysis : Analysis
        The text analysis.
    rules : RuleSet
        The loaded rules (``classifier.rules.load_rules()``).

    Returns
    -------
    list of UrgentFinding
        One finding per red flag raised, in rule-file order; empty when not urgent.

    Examples
    --------
    >>> from classifier.analysis import analyze
    >>> from classifier.rules import load_rules
    >>> [f.flag for f in find_red_flags(analyze("I can't control my bladder"), load_rules())]
    ['bladder_bowel']
    >>> find_red_flags(analyze("no trouble peeing, bladder is fine"), load_rules())
    []
    """
    if not analysis.cues or _flag_categories(rules).isdisjoint(c.category for c in analysis.cues):
        return []
    other_person_ok = written_about_other_person(analysis)
    current = analysis.current_categories
    findings: dict[str, UrgentFinding] = {}
    for rule in rules.urgent_rules:
        if rule.flag in findings:
            continue
        if rule.requires and not current.intersection(rule.requires):
            continue
        if rule.new_complaint_days and _complaint_is_old(
            analysis,
            rule.new_complaint_days,
            rule.cues if rule.background else (),
        ):
            continue
        vetoing = (
            _current_sentences(analysis, rule.unless_in_sentence)
            if rule.unless_in_sentence
            else frozenset()
        )
        confirming = _current_sentences(analysis, rule.confirmed_by) if rule.confirmed_by else None
        for cue in analysis.cues:
            if cue.category in rule.cues and _counts(
                cue, rule, analysis, other_person_ok, vetoing, confirming
            ):
                findings[rule.flag] = UrgentFinding(rule.flag, rule.reason, cue.text)
                break
    return list(findings.values())
