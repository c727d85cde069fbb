"""The urgent flag: deterministic red-flag rules over current cues, with reasons in plain words.

The flag never depends on the model. A red flag counts only when it is current
(not negated, hypothetical or past), about the writer or the person written
about, and, for flags marked ``stable_after_days``, not long-standing and stable
(see ``urgent_rules.json`` and the labeling guide).
"""

from __future__ import annotations

from dataclasses import dataclass

from classifier.analysis import Analysis
from classifier.context import Cue
from classifier.rules import RuleSet, UrgentRule

# Cues that say someone has a complaint; used to tell whose complaint a text is about.
COMPLAINT_CATEGORIES = frozenset(
    {"pain_word", "soreness_word", "spine_complaint", "msk_complaint", "sharp_quality"}
)
SITE_CATEGORIES = frozenset({"site_spine", "site_msk"})
_THIRD_PERSON = ("his ", "her ", "their ")
CHANGE_CATEGORIES = frozenset({"worsening", "onset_new"})


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
    """Whether the complaint in the text is someone else's ("my husband fell...", "her back...").

    A red flag about another person counts only when that person is the one the
    text is about; "my dad had cancer" in a text about the writer's own back does not.
    """
    for cue in analysis.cues:
        if (
            cue.is_current
            and cue.category in COMPLAINT_CATEGORIES
            and "OTHER_PERSON" in cue.modifiers
        ):
            return True
    sites = [c for c in analysis.cues if c.category in SITE_CATEGORIES and c.is_current]
    if any(c.text.lower().startswith(_THIRD_PERSON) for c in sites):
        return True
    writer_site = any(c.text.lower().startswith("my ") for c in sites)
    return not analysis.self_reference and not writer_site


def _long_standing(cue: Cue, analysis: Analysis, days: int) -> bool:
    """The cue's sentence reports a duration over ``days`` and nothing new or worse."""
    long_ago = any(
        mention.kind == "span"
        and mention.days > days
        and analysis.sentence_of_char(mention.start) == cue.sentence
        for mention in analysis.durations
    )
    if not long_ago:
        return False
    return not any(
        c.is_current and c.category in CHANGE_CATEGORIES and c.sentence == cue.sentence
        for c in analysis.cues
    )


def _counts(cue: Cue, rule: UrgentRule, analysis: Analysis, other_person_ok: bool) -> bool:
    modifiers = cue.modifiers
    if "NEGATED" in modifiers or "HYPOTHETICAL" in modifiers:
        return False
    if "HISTORICAL" in modifiers and not rule.historical_ok:
        return False
    if "OTHER_PERSON" in modifiers and not other_person_ok:
        return False
    return rule.stable_after_days is None or not _long_standing(
        cue, analysis, rule.stable_after_days
    )


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
    if not analysis.cues:
        return []
    other_person_ok = written_about_other_person(analysis)
    current = analysis.current_categories
    findings: dict[str, UrgentFinding] = {}
    for rule in rules.urgent_rules:
        if rule.flag in findings:
            continue
        if rule.requires and not current.intersection(rule.requires):
            continue
        for cue in analysis.cues:
            if cue.category in rule.cues and _counts(cue, rule, analysis, other_person_ok):
                findings[rule.flag] = UrgentFinding(rule.flag, rule.reason, cue.text)
                break
    return list(findings.values())
