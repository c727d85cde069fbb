"""Duration extraction from free text, in days: "for three weeks", "since 2019", "2 days ago".

By the labeling guide, muscle soreness lasts a few days (up to about five) while pain lasts more
than about a week, recurs or is chronic, so the duration is both a model feature and evidence.

Two kinds of mention are found:

- ``"span"``: how long something has lasted: "for 3 weeks", "since Monday", "the past few
  days", "10 days now", "3 days in a row", "day 3 of the pain", "for months".
- ``"ago"``: an onset point: "2 days ago", "yesterday", "last night", "this morning", "today",
  "on Monday", "last week", "over the weekend".
- ``"program"``: the day of an exercise program: "day 14 of the plan", "I'm on day 5", "my
  third day of the routine". It says where the writer is in the program, not how long the
  complaint has lasted (day 14 can be the first sore day), so it is evidence but not a duration.

:func:`duration_days` reduces the mentions of one text to one number. Everything is plain
:mod:`re`, compiled once at import and matched against the lower-cased text. A text with no digit
and none of the unit or keyword stems is rejected after a few substring tests; the other texts
only run each rule near the word it needs ("for", "since", "ago", "last", ...). When the
extension is built, :func:`find_durations` runs these same rules, regex calls and handlers from
compiled code (``classifier._dur``); ``_find_durations_python`` is the pure-Python reference.

Examples
--------
>>> import datetime
>>> today = datetime.date(2024, 1, 17)
>>> [m.describe() for m in find_durations("Sore since Monday, hurt it 2 days ago", today)]
['since Monday (~2 days)', '2 days ago']
>>> duration_days(find_durations("My back has been bad for three weeks now", today))
21.0
"""

from __future__ import annotations

import bisect
import datetime
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from classifier.fastpath import compiled, optional_extension

__all__ = ["DurationMention", "duration_days", "find_durations"]

SPAN = "span"
AGO = "ago"
PROGRAM = "program"

# Mentions longer than this (100 years) are not about a complaint; they are dropped.
_MAX_DAYS = 36_500.0
_DAYS_PER_UNIT = {
    "h": 1 / 24,
    "d": 1.0,
    "n": 1.0,
    "w": 7.0,
    "f": 14.0,
    "m": 30.0,
    "y": 365.0,
}
# Bare plurals without a number: "for days", "for weeks", "for months", "for years", "for ages".
_VAGUE_DAYS = {
    "days": 3.0,
    "weeks": 21.0,
    "months": 90.0,
    "years": 730.0,
    "ages": 365.0,
}
_WORD_VALUES = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14,
    "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20,
    "thirty": 30, "forty": 40, "fourty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
    "eighty": 80, "ninety": 90,
    "a": 1, "an": 1, "couple": 2, "few": 3, "several": 3, "dozen": 12, "half": 0.5,
}  # fmt: skip
_ORDINAL_VALUES = {
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7,
    "eighth": 8, "ninth": 9, "tenth": 10, "eleventh": 11, "twelfth": 12, "thirteenth": 13,
    "fourteenth": 14, "fifteenth": 15, "twentieth": 20, "thirtieth": 30,
}  # fmt: skip
# Named points and periods, after whitespace is collapsed and the text lower-cased.
_NAMED_DAYS = {
    "the day before yesterday": 2.0, "yesterday": 1.0, "last night": 1.0,
    "this morning": 0.0, "today": 0.0,
    "week": 7.0, "fortnight": 14.0, "month": 30.0, "year": 365.0,
}  # fmt: skip
_WEEKDAYS = {"mo": 0, "tu": 1, "we": 2, "th": 3, "fr": 4, "sa": 5, "su": 6}
_MONTHS = {
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6,
    "jul": 7, "aug": 8, "sep": 9, "oct": 10, "nov": 11, "dec": 12,
}  # fmt: skip
# "since early/mid/late 2019" starts at the first of this month.
_PART_OF_YEAR_MONTH = {"early": 1, "mid": 7, "late": 10}
# Words after "since may" that show "may" is the verb, not the month.
_MAY_VERB_FOLLOWERS = frozenset({"be", "have", "not", "i", "we", "you", "he", "she", "it", "they"})
# Onsets dropped when a text has other mentions (see find_durations).
_WEAK_ONSETS = frozenset({"today", "this morning"})
_FREQUENCY_WORDS = frozenset({"every", "each", "other", "alternate"})
# "day 3 of the pain", "day 10 after the fall": the day counts the complaint (or the time
# since its cause). Any other "day N" ("of the plan", "I'm on day 14") is the program's day.
_COMPLAINT_DAY_WORDS = frozenset(
    {
        "pain", "soreness", "ache", "aching", "hurting", "injury", "injuries", "spasm",
        "spasms", "sciatica", "flare", "flare-up", "symptoms", "numbness", "tingling",
        "stiffness", "it", "this", "recovery", "fall", "accident", "crash", "surgery",
        "operation", "strain", "sprain", "tweak",
    }
)  # fmt: skip
_SINCE_EVENT_WORDS = frozenset({"after", "post", "since"})

# --- regex building blocks -------------------------------------------------------------------

_TENS = "twenty|thirty|forty|fourty|fifty|sixty|seventy|eighty|ninety"
_ONES = "one|two|three|four|five|six|seven|eight|nine"
_TEENS = "ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen"
_CARDINAL = rf"(?:(?:{_TENS})(?:[\s-]+(?:{_ONES}))?|{_TEENS}|{_ONES})"
_FUZZY = (
    r"a\s+couple(?:\s+of)?|couple(?:\s+of)?|a\s+few|few|several|a\s+dozen|dozen|half\s+an?|an|a"
)
_WORDNUM = rf"(?:{_CARDINAL}|{_FUZZY})"
_DIGITS = r"[0-9]{1,6}(?:\.[0-9]{1,3})?"
_RANGE_SEP = r"(?:\s*[-\u2013\u2014]\s*|\s+(?:to|or)\s+)"
# Units a number word may take ("a few wks"); single letters and "mo" need digits ("3d", "2mo").
_UNIT_LONG = (
    r"fortnights?|hours?|hrs?|days?|dayz|dys|nights?|nites?|we+ks?|wks?"
    r"|months?|monthes|monts|mnths?|mths?|mos|years?|yeras?|yaers?|yrs?"
)
_UNIT_ANY = rf"{_UNIT_LONG}|mo|h|d|w|y"
_QUALIFIER = (
    r"(?:(?:about|around|approximately|approx\.?|roughly|nearly|almost|over|under|like|maybe"
    r"|probably|possibly|just|only|some|well\s+over|more\s+than|less\s+than|at\s+least|at\s+most"
    r"|close\s+to|upwards\s+of|a\s+good|a\s+solid|a\s+little\s+over|a\s+bit\s+over)\s+|~\s*)*"
)
_QUANTITY = (
    r"(?<![\w.])(?:"
    rf"(?P<dlo>{_DIGITS})(?:{_RANGE_SEP}(?P<dhi>{_DIGITS}))?(?P<dhalf>\s+and\s+a\s+half)?"
    rf"\s*(?P<dunit>{_UNIT_ANY})"
    rf"|(?P<wlo>{_WORDNUM})(?:{_RANGE_SEP}(?P<whi>{_CARDINAL}|{_DIGITS}))?"
    rf"(?P<whalf>\s+and\s+a\s+half)?\s+(?P<wunit>{_UNIT_LONG})"
    r")(?![a-z0-9])"
    r"(?P<half2>\s+and\s+a\s+half)?"
    r"(?:\s+or\s+(?:(?P<orn>two|three|four|[2-4])|so)\b)?"
    # "a 2 year old", "3 days a week", "2 hours per day", "8 hours/day" are not durations.
    r"(?!\s*(?:-\s*)?old\b)"
    r"(?!\s*(?:(?:a|an|per|each|every)\s+|/\s*)(?:day|night|week|month|year|session|time)s?\b)"
)
_STARTS_WORD = r"(?<![\w.])"
_CONTINUING = r"(?:\s+(?:now|straight|in\s+a\s+row))?"
_VAGUE = r"(?P<vague>days|weeks|months|years|ages)"
_WEEKDAY_FULL = "monday|tuesday|wednesday|thursday|friday|saturday|sunday"
_WEEKDAY_ANY = (
    r"mon(?:day)?|tue(?:s(?:day)?)?|wed(?:s|nesday)?|thu(?:r(?:s(?:day)?)?)?"
    r"|fri(?:day)?|sat(?:urday)?|sun(?:day)?"
)
_MONTH_ANY = (
    r"jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?"
)
_PAIN_WORDS = (
    r"(?:(?:constant|chronic|back|lower|upper|neck|bad|severe|this|the|on\s+and\s+off"
    r"|intermittent|nagging|dull|sharp|mild|muscle|muscular)\s+){0,3}"
    r"(?:pain|aches?|aching|soreness|discomfort|stiffness|agony|suffering|symptoms|spasms?)\b"
)


def _compile(pattern: str) -> re.Pattern[str]:
    """Compile a lower-case pattern for the lower-cased text (twice as fast as IGNORECASE)."""
    return re.compile(pattern)


# A text with no digit and none of these stems (searched in the lower-cased text) cannot hold
# a duration; substring tests are much cheaper than one regex with many alternatives.
_STEMS = (
    "day", "dys", "eek", "wek", "wk", "mont", "mos", "mth", "year", "yera", "yaer", "yr",
    "hour", "hr", "night", "nite", "since", "ago", "morning", "ages",
)  # fmt: skip
_DIGIT = re.compile(r"[0-9]")
_HAS_QUANTITY = re.compile(_QUANTITY, re.IGNORECASE)
_PREVIOUS_WORD = _compile(r"([a-z']+)[\s,]*$")
# "for 3 hours" is usually an activity ("played tennis for 3 hours", "sat for 3 hours"); a
# "for" span of less than a day in hours counts only with one of these words earlier in its
# clause ("my back has been stiff for 2 hours", "pain for 12 hrs") or "now" after it.
_COMPLAINT_WORD = _compile(
    r"\b(?:been|had|has|have|haven'?t|hasn'?t|hurt\w*|ach\w*|pain\w*|sore\w*|stiff\w*"
    r"|spasm\w*|tingl\w*|numb\w*|throb\w*|burn\w*|cramp\w*|bleed\w*|bled|swell\w*|swollen"
    r"|tight\w*|tender\w*|locked|stuck|dizz\w*)\b"
)
_CLAUSE_BREAK = re.compile(r"[.!?;,:\n]")
_CLAUSE_LOOK_BACK = 80

_FOR = _compile(rf"\bfor\s+{_QUALIFIER}{_QUANTITY}{_CONTINUING}")
_PAST = _compile(
    r"(?:\b(?:for|over|in|during|within)\s+)?(?:\bthe\s+)?\b(?:past|last|previous)\s+"
    rf"{_QUALIFIER}{_QUANTITY}{_CONTINUING}"
)
_SINCE_QUANTITY = _compile(
    rf"\bsince\s+(?:the\s+)?(?:(?:past|last)\s+)?{_QUALIFIER}{_QUANTITY}(?:\s+ago\b)?"
)
_BEEN = _compile(rf"\bbeen\s+(?:[a-z]+ing\s+)?{_QUALIFIER}{_QUANTITY}{_CONTINUING}")
_LASTED = _compile(
    rf"\b(?:lasted|lasting|lasts|going\s+on)\s+(?:for\s+)?{_QUALIFIER}{_QUANTITY}{_CONTINUING}"
)
_AGO = _compile(rf"{_STARTS_WORD}{_QUALIFIER}{_QUANTITY}\s+ago\b")
_SUFFIX = _compile(
    rf"{_STARTS_WORD}{_QUALIFIER}{_QUANTITY}\s+(?:now|straight|in\s+a\s+row|since)\b"
)
_OF_PAIN = _compile(rf"{_STARTS_WORD}{_QUALIFIER}{_QUANTITY}\s+of\s+{_PAIN_WORDS}")
# What a quantity can end with; a rule whose match ends in "<quantity> ago" needs it before "ago".
_QUANTITY_TAIL = _compile(
    rf"(?<![a-z])(?:{_UNIT_ANY}|half|so|two|three|four|[2-4]|days|weeks|months|years|ages)\s+$"
)
_VAGUE_SPAN = _compile(
    r"\b(?:for|since)\s+(?:(?:the\s+)?(?:past|last)\s+)?(?:(?:many|so\s+many|countless)\s+)?"
    rf"{_VAGUE}\b(?!\s+(?:ago|old)\b)(?!\s+[0-9])"
    r"(?!\s+(?:a|an|per|each|every)\s+(?:day|week|month|year)s?\b)"
)
_VAGUE_AGO = _compile(rf"{_STARTS_WORD}(?:(?:many|so\s+many)\s+)?{_VAGUE}\s+ago\b")
_NAMED_AGO = _compile(
    r"\b(?P<name>the\s+day\s+before\s+yesterday|yesterday|last\s+night|this\s+morning|today)\b"
)
_SINCE_NAMED = _compile(
    r"\bsince\s+(?:(?P<name>the\s+day\s+before\s+yesterday|yesterday|last\s+night|this\s+morning"
    r"|today)|(?:last|the\s+last|the\s+past)\s+(?P<unit>week|fortnight|month|year)"
    r"|(?P<weekend>(?:the|last|this\s+past)\s+weekend))\b"
)
_PAST_UNIT = _compile(
    r"(?P<the>\b(?:(?:for|over|in|during|within)\s+)?the\s+|\bthis\s+)?"
    r"\b(?P<which>past|last|previous)\s+(?P<unit>week|fortnight|month|year)\b"
    r"(?:\s+or\s+(?P<orn>two|three|[23])\b)?(?!\s+of\b)"
)
_WEEKEND_AGO = _compile(r"\b(?:over\s+the|last|this\s+past)\s+weekend\b")
_ALL_PERIOD = _compile(
    r"\b(?:all|the\s+whole|the\s+entire|this\s+whole|this\s+entire)\s+(?P<unit>week|month)\b"
    r"(?!\s+of\b)"
)
# What may follow "day 3" or "third day": "of the program", "after the fall", "into my plan".
_DAY_POST = (
    r"\s+(?:of|into|after|post|since|in)\b(?:\s+(?:the|my|this|our|a|an))?"
    r"(?:\s+[a-z0-9][a-z0-9-]*)?"
)
_DAY_N = _compile(
    r"(?P<pre>\b(?:on|it'?s|its|is|i'?m|am|now|today\s+is)\s+)?"
    rf"\bday\s+(?P<n>[0-9]{{1,3}}|{_CARDINAL})\b(?!\s*[-\u2013\u2014/.:,]?\s*[0-9])"
    rf"(?P<post>{_DAY_POST})?"
)
_ORDINAL_DAY = _compile(
    r"\b(?P<o>first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|eleventh|twelfth"
    r"|thirteenth|fourteenth|fifteenth|twentieth|thirtieth|[0-9]{1,3}(?:st|nd|rd|th))\s+day\b"
)
_SINCE_WEEKDAY = _compile(rf"\bsince\s+(?:(?:last|this\s+past|past)\s+)?(?P<wd>{_WEEKDAY_ANY})\b")
_ON_WEEKDAY = _compile(rf"\b(?:on|last|this\s+past)\s+(?:last\s+)?(?P<wd>{_WEEKDAY_FULL})\b")
_SINCE_MONTH = _compile(
    r"\bsince\s+(?:last\s+)?(?:(?:the\s+)?(?P<d1>[0-9]{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?)?"
    rf"(?P<m>{_MONTH_ANY})\b(?:\s*(?P<d2>[0-9]{{1,2}})(?:st|nd|rd|th)?\b(?!\s*(?:{_UNIT_ANY}|:)))?"
    r"(?:,?\s*(?P<y>(?:19|20)[0-9]{2})\b)?"
)
_SINCE_YEAR = _compile(
    r"\bsince\s+(?:(?P<part>early|mid|late)[\s-]+)?(?P<y>(?:19|20)[0-9]{2})"
    r"(?:-(?P<mo>[0-9]{1,2})(?:-(?P<dd>[0-9]{1,2}))?)?(?![0-9])"
    rf"(?!\s*(?:{_UNIT_ANY})(?![a-z]))(?!\s*(?:am|pm)\b|[.,:][0-9])"
)

_Result = tuple[float, str] | None
_Handler = Callable[[re.Match[str], datetime.date], _Result]


# --- value helpers ---------------------------------------------------------------------------


def _lower(text: str) -> str:
    """``text.lower()`` with the same length, so offsets into it are offsets into ``text``."""
    lowered = text.lower()
    if len(lowered) == len(text):
        return lowered
    # A few characters lower-case to two ("İ" -> "i̇"); keep those as they are.
    return "".join(char if len(char.lower()) != 1 else char.lower() for char in text)


def _number(word: str) -> float:
    """Value of a digit string, number word or fuzzy quantity ("a couple of" -> 2)."""
    if word[0].isdigit():
        return float(word)
    parts = word.lower().replace("-", " ").split()
    if parts[-1] == "of":
        parts.pop()
    if parts[0] == "half":  # "half a day", "half an hour"
        return 0.5
    if parts[0] in {"a", "an"} and len(parts) > 1:  # "a few", "a couple", "a dozen"
        parts.pop(0)
    return float(sum(_WORD_VALUES[part] for part in parts))


def _unit_days(unit: str) -> float:
    return _DAYS_PER_UNIT[unit[0].lower()]


def _quantity_days(match: re.Match[str]) -> float | None:
    """Days in the quantity matched by ``_QUANTITY``, taking the upper end of a range.

    None for a clock time in military style ("since 1400 hours").
    """
    group = match.group
    if group("dlo") is not None:
        low, high, half, unit = (
            group("dlo"),
            group("dhi"),
            group("dhalf"),
            group("dunit"),
        )
        if len(low) == 4 and high is None and unit[0].lower() == "h":
            return None
    else:
        low, high, half, unit = (
            group("wlo"),
            group("whi"),
            group("whalf"),
            group("wunit"),
        )
    value = _number(low)
    if high is not None:
        value = max(value, _number(high))
    if half is not None or group("half2") is not None:
        value += 0.5
    if group("orn") is not None:  # "a day or two"
        value = max(value, _number(group("orn")))
    return value * _unit_days(unit)


def _previous_word(match: re.Match[str]) -> str:
    found = _PREVIOUS_WORD.search(match.string, max(0, match.start() - 40), match.start())
    return found.group(1).lower() if found else ""


def _since_weekday(weekday: int, today: datetime.date) -> float:
    """Days back to the latest past ``weekday``; on that very weekday, a week."""
    return float((today.weekday() - weekday) % 7 or 7)


def _since_date(start: datetime.date, today: datetime.date) -> float | None:
    days = (today - start).days
    return float(days) if days >= 0 else None


def _since_month(month: int, day: int | None, year: int | None, today: datetime.date) -> _Result:
    """Days since ``month`` (its 1st unless ``day``); without a year, the latest such date."""
    if year is not None:
        return _span(_since_date(datetime.date(year, month, day or 1), today))
    start = datetime.date(today.year, month, day or 1)
    if start > today:
        start = datetime.date(today.year - 1, month, day or 1)
    return _span(_since_date(start, today))


def _span(days: float | None) -> _Result:
    return None if days is None else (days, SPAN)


# --- handlers: match -> (days, kind) or None -------------------------------------------------


def _quantity_handler(kind: str) -> _Handler:
    def handle(match: re.Match[str], today: datetime.date) -> _Result:
        days = _quantity_days(match)
        return None if days is None else (days, kind)

    return handle


def _is_about_complaint(match: re.Match[str]) -> bool:
    """Whether a short span in hours is the complaint's: "now" after it, or a complaint word
    before it in its clause."""
    if match.group(0).endswith("now"):
        return True
    before = match.string[max(0, match.start() - _CLAUSE_LOOK_BACK) : match.start()]
    clause = _CLAUSE_BREAK.split(before)[-1]
    return _COMPLAINT_WORD.search(clause) is not None


def _handle_activity_prone(match: re.Match[str], today: datetime.date) -> _Result:
    """A "for X" or "X straight" span; in hours it is usually an activity, not the complaint."""
    days = _quantity_days(match)
    unit = match.group("dunit") or match.group("wunit")
    if days is None or (unit[0] == "h" and days < 1 and not _is_about_complaint(match)):
        return None  # "played tennis for 2 hours", "paddleboarding for 3 hours straight"
    return days, SPAN


def _vague_handler(kind: str) -> _Handler:
    def handle(match: re.Match[str], today: datetime.date) -> _Result:
        return _VAGUE_DAYS[match.group("vague").lower()], kind

    return handle


def _handle_named_ago(match: re.Match[str], today: datetime.date) -> _Result:
    return _NAMED_DAYS[" ".join(match.group("name").lower().split())], AGO


def _handle_since_named(match: re.Match[str], today: datetime.date) -> _Result:
    if match.group("weekend") is not None:
        return _since_weekday(5, today), SPAN
    name = match.group("name") or match.group("unit")
    return _NAMED_DAYS[" ".join(name.lower().split())], SPAN


def _handle_past_unit(match: re.Match[str], today: datetime.date) -> _Result:
    days = _NAMED_DAYS[match.group("unit").lower()]
    if match.group("orn") is not None:
        days *= _number(match.group("orn"))
    # "the past week", "past week", "this past week" last; bare "last week" is when it began.
    is_span = match.group("the") is not None or match.group("which").lower() != "last"
    return days, SPAN if is_span else AGO


def _handle_weekend_ago(match: re.Match[str], today: datetime.date) -> _Result:
    return _since_weekday(5, today), AGO


def _handle_all_period(match: re.Match[str], today: datetime.date) -> _Result:
    return _NAMED_DAYS[match.group("unit").lower()], SPAN


def _day_kind(post: str | None) -> str:
    """Whether "day N <post>" counts the complaint (a span) or the program (see PROGRAM)."""
    words = post.split() if post else []
    if not words:
        return PROGRAM
    if words[0] in _SINCE_EVENT_WORDS or words[-1] in _COMPLAINT_DAY_WORDS:
        return SPAN
    return PROGRAM


def _handle_day_n(match: re.Match[str], today: datetime.date) -> _Result:
    if match.group("pre") is None and match.group("post") is None:
        return None  # "week 2 exercises", "day 2 stretches": ambiguous
    return _number(match.group("n")), _day_kind(match.group("post"))


_ORDINAL_POST = re.compile(_DAY_POST)


def _handle_ordinal_day(match: re.Match[str], today: datetime.date) -> _Result:
    if _previous_word(match) in _FREQUENCY_WORDS:
        return None  # "every second day"
    ordinal = match.group("o").lower()
    value = _ORDINAL_VALUES.get(ordinal)
    after = _ORDINAL_POST.match(match.string, match.end())
    kind = _day_kind(after.group(0)) if after else SPAN
    return (float(value) if value is not None else float(ordinal[:-2])), kind


def _handle_since_weekday(match: re.Match[str], today: datetime.date) -> _Result:
    return _since_weekday(_WEEKDAYS[match.group("wd")[:2].lower()], today), SPAN


def _handle_on_weekday(match: re.Match[str], today: datetime.date) -> _Result:
    return _since_weekday(_WEEKDAYS[match.group("wd")[:2].lower()], today), AGO


def _handle_since_month(match: re.Match[str], today: datetime.date) -> _Result:
    month_word = match.group("m").lower()
    if month_word == "may":
        following = match.string[match.end() : match.end() + 20].split()
        if following and following[0].lower().strip(".,!?") in _MAY_VERB_FOLLOWERS:
            return None  # "since may be", "ever since may I ask"
    day_text = match.group("d1") or match.group("d2")
    year_text = match.group("y")
    day = int(day_text) if day_text else None
    year = int(year_text) if year_text else None
    if year is not None and year < today.year - 100:
        return None
    return _since_month(_MONTHS[month_word[:3]], day, year, today)


def _handle_since_year(match: re.Match[str], today: datetime.date) -> _Result:
    year = int(match.group("y"))
    if year < today.year - 100:
        return None
    part = match.group("part")
    month = int(match.group("mo") or _PART_OF_YEAR_MONTH.get((part or "early").lower(), 1))
    day = int(match.group("dd") or 1)
    return _span(_since_date(datetime.date(year, month, day), today))


# Rules are run near an anchor word, not at every position of the text. Patterns that start
# with their anchor ("for", "since") are tried only where it occurs; the others ("3 weeks ago",
# "the last 2 days") are searched in windows around it, overlapping windows merged.
_LOOK_AHEAD = 80
_BEFORE_QUANTITY = 100  # "about two and a half weeks ago": the quantity precedes the anchor
_BEFORE_PHRASE = 20  # "over the last 2 weeks", "today is day 3": a few words precede it
_TAIL_LOOK_BACK = 24  # how far before an anchor the quantity it needs must end
_ANCHOR_FOR = _compile(r"\bfor\b")
_ANCHOR_SINCE = _compile(r"\bsince\b")
_ANCHOR_FOR_SINCE = _compile(r"\b(?:for|since)\b")
_ANCHOR_BEEN = _compile(r"\bbeen\b")
_ANCHOR_LASTED = _compile(r"\b(?:lasted|lasting|lasts|going)\b")
_ANCHOR_AGO = _compile(r"\bago\b")
_ANCHOR_SUFFIX = _compile(r"\b(?:now|straight|in\s+a\s+row|since)\b")
_ANCHOR_OF = _compile(r"\bof\b")
_ANCHOR_PAST = _compile(r"\b(?:past|last|previous)\b")
_ANCHOR_DAY = _compile(r"\bday\b")
# Every match of a pattern below starts with one of its literals, given as (literal, needed):
# the literal is a candidate start only when ``needed`` (if any) is in the text too. A regex
# scan of a long post steps through every character in Python's engine (a few ten µs per
# pattern); ``str.find`` skips to the literals, and the pattern is then tried only there.
_STARTS: dict[re.Pattern[str], tuple[tuple[str, str | None], ...]] = {
    _ANCHOR_FOR: (("for", None),),
    _ANCHOR_SINCE: (("since", None),),
    _ANCHOR_FOR_SINCE: (("for", None), ("since", None)),
    _ANCHOR_BEEN: (("been", None),),
    _ANCHOR_LASTED: (("last", None), ("going", None)),
    _ANCHOR_AGO: (("ago", None),),
    _ANCHOR_SUFFIX: (("now", None), ("straight", None), ("in", "row"), ("since", None)),
    _ANCHOR_OF: (("of", None),),
    _ANCHOR_PAST: (("past", None), ("last", None), ("previous", None)),
    _ANCHOR_DAY: (("day", None),),
    _NAMED_AGO: (
        ("the", "yesterday"),
        ("yesterday", None),
        ("last", "night"),
        ("this", "morning"),
        ("today", None),
    ),
    _WEEKEND_AGO: (("over", None), ("last", None), ("this", None)),
    _ALL_PERIOD: (
        ("all", None),
        ("the", "whole"),
        ("the", "entire"),
        ("this", "whole"),
        ("this", "entire"),
    ),
    _ON_WEEKDAY: (("on", None), ("last", None), ("this", None)),
}


def _find_starts(text: str, literals: tuple[tuple[str, str | None], ...]) -> list[int]:
    """Sorted offsets in ``text`` where one of ``literals`` occurs (see ``_STARTS``)."""
    found: list[int] = []
    find = text.find
    for literal, needed in literals:
        if needed is not None and needed not in text:
            continue
        at = find(literal)
        while at >= 0:
            found.append(at)
            at = find(literal, at + 1)
    if len(literals) > 1:
        found = sorted(set(found))
    return found


def _scan(pattern: re.Pattern[str], text: str) -> Iterator[re.Match[str]]:
    """``pattern.finditer(text)``, trying the pattern only where one of its literals starts.

    The same matches: finditer takes the leftmost match, then searches on from its end, and no
    match can start elsewhere than at a literal of ``_STARTS[pattern]``.
    """
    resume = 0
    for at in _find_starts(text, _STARTS[pattern]):
        if at < resume:
            continue
        match = pattern.match(text, at)
        if match is not None:
            resume = match.end()
            yield match


_WEEKDAY_GATES = (
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
)


@dataclass(frozen=True, slots=True)
class _Rule:
    """A pattern, what its match means, and where to look for it.

    Attributes
    ----------
    pattern : re.Pattern
        What to match, in the lower-cased text.
    handle : callable
        Turns a match and the reference date into ``(days, kind)``, or None to drop it.
    gates : frozenset of str
        Substrings of the lower-cased text one of which must occur for the rule to run.
    anchor : re.Pattern, optional
        A word every match contains; without it the whole text is searched.
    at_anchor : bool
        Whether matches start where the anchor does; else windows around the anchor are
        searched and only matches that contain an anchor are kept.
    look_back : int
        How far before the anchor a windowed match may start.
    quantity_before : bool
        Whether a quantity ends right before the anchor ("3 days ago"); anchors without one are
        skipped cheaply.
    window_gate : re.Pattern, optional
        A part of ``pattern`` every match holds, with a literal start the regex engine can
        skip to: a window where ``window_gate.search`` finds nothing holds no match. Only the
        compiled scanner (``classifier._dur``) reads it; ``tests/test_duration_scan.py``
        checks that every match holds it.
    """

    pattern: re.Pattern[str]
    handle: _Handler
    gates: frozenset[str]
    anchor: re.Pattern[str] | None = None
    at_anchor: bool = False
    look_back: int = _BEFORE_PHRASE
    quantity_before: bool = False
    window_gate: re.Pattern[str] | None = None

    def matches(
        self, text: str, anchors: dict[re.Pattern[str], list[tuple[int, int]]]
    ) -> Iterator[re.Match[str]]:
        """Yield the rule's matches in ``text``, possibly overlapping other rules' matches.

        Parameters
        ----------
        text : str
            The lower-cased input text.
        anchors : dict
            Cache of the anchors' spans in ``text``, shared by the rules of one call.

        Yields
        ------
        re.Match
            Each match of ``pattern``.
        """
        if self.anchor is None:
            yield from _scan(self.pattern, text)
            return
        spans = anchors.get(self.anchor)
        if spans is None:
            spans = anchors[self.anchor] = [m.span() for m in _scan(self.anchor, text)]
        if self.at_anchor:
            for start, _end in spans:
                match = self.pattern.match(text, start)
                if match is not None:
                    yield match
            return
        windows: list[list[int]] = []
        for start, end in spans:
            if (
                self.quantity_before
                and _QUANTITY_TAIL.search(text, max(0, start - _TAIL_LOOK_BACK), start) is None
            ):
                continue
            low, high = (
                max(0, start - self.look_back),
                min(len(text), end + _LOOK_AHEAD),
            )
            if windows and low <= windows[-1][1]:
                windows[-1][1] = high
            else:
                windows.append([low, high])
        starts = [start for start, _end in spans]
        for low, high in windows:
            for match in self.pattern.finditer(text, low, high):
                index = bisect.bisect_left(starts, match.start())
                if index < len(spans) and spans[index][1] <= match.end():
                    yield match


def _rule(
    pattern: re.Pattern[str],
    handle: _Handler,
    gates: Iterable[str],
    anchor: re.Pattern[str] | None = None,
    *,
    at_anchor: bool = False,
    quantity_first: bool = False,
    window_gate: re.Pattern[str] | None = None,
) -> _Rule:
    """Build a :class:`_Rule`; ``quantity_first`` marks "<quantity> <anchor>" patterns."""
    look_back = _BEFORE_QUANTITY if quantity_first else _BEFORE_PHRASE
    return _Rule(
        pattern,
        handle,
        frozenset(gates),
        anchor,
        at_anchor,
        look_back,
        quantity_first,
        window_gate,
    )


# Window gates (see ``_Rule``): each is a run of its pattern's own parts, so it matches
# wherever those parts matched in a match; the ordinals all end in "st", "nd", "rd" or "th".
_PAST_GATE = _compile(rf"(?:past|last|previous)\s+{_QUALIFIER}{_QUANTITY}")
_PAST_UNIT_GATE = _compile(r"(?:past|last|previous)\s+(?:week|fortnight|month|year)\b")
_OF_PAIN_GATE = _compile(rf"of\s+{_PAIN_WORDS}")
_DAY_N_GATE = _compile(rf"day\s+(?:[0-9]{{1,3}}|{_CARDINAL})\b")
_ORDINAL_DAY_GATE = _compile(r"(?:st|nd|rd|th)\s+day\b")


_RULES: tuple[_Rule, ...] = (
    _rule(_FOR, _handle_activity_prone, ["for"], _ANCHOR_FOR, at_anchor=True),
    _rule(
        _PAST,
        _quantity_handler(SPAN),
        ["past", "last", "previous"],
        _ANCHOR_PAST,
        window_gate=_PAST_GATE,
    ),
    _rule(
        _SINCE_QUANTITY,
        _quantity_handler(SPAN),
        ["since"],
        _ANCHOR_SINCE,
        at_anchor=True,
    ),
    _rule(_BEEN, _quantity_handler(SPAN), ["been"], _ANCHOR_BEEN, at_anchor=True),
    _rule(
        _LASTED,
        _quantity_handler(SPAN),
        ["last", "going"],
        _ANCHOR_LASTED,
        at_anchor=True,
    ),
    _rule(_AGO, _quantity_handler(AGO), ["ago"], _ANCHOR_AGO, quantity_first=True),
    _rule(
        _SUFFIX,
        _handle_activity_prone,
        ["now", "straight", "row", "since"],
        _ANCHOR_SUFFIX,
        quantity_first=True,
    ),
    _rule(
        _OF_PAIN,
        _quantity_handler(SPAN),
        ["of"],
        _ANCHOR_OF,
        quantity_first=True,
        window_gate=_OF_PAIN_GATE,
    ),
    _rule(
        _VAGUE_SPAN,
        _vague_handler(SPAN),
        ["for", "since"],
        _ANCHOR_FOR_SINCE,
        at_anchor=True,
    ),
    _rule(_VAGUE_AGO, _vague_handler(AGO), ["ago"], _ANCHOR_AGO, quantity_first=True),
    _rule(_NAMED_AGO, _handle_named_ago, ["yesterday", "night", "morning", "today"]),
    _rule(_SINCE_NAMED, _handle_since_named, ["since"], _ANCHOR_SINCE, at_anchor=True),
    _rule(
        _PAST_UNIT,
        _handle_past_unit,
        ["past", "last", "previous"],
        _ANCHOR_PAST,
        window_gate=_PAST_UNIT_GATE,
    ),
    _rule(_WEEKEND_AGO, _handle_weekend_ago, ["weekend"]),
    _rule(_ALL_PERIOD, _handle_all_period, ["week", "month"]),
    _rule(_DAY_N, _handle_day_n, ["day"], _ANCHOR_DAY, window_gate=_DAY_N_GATE),
    _rule(_ORDINAL_DAY, _handle_ordinal_day, ["day"], _ANCHOR_DAY, window_gate=_ORDINAL_DAY_GATE),
    _rule(_SINCE_WEEKDAY, _handle_since_weekday, ["since"], _ANCHOR_SINCE, at_anchor=True),
    _rule(_ON_WEEKDAY, _handle_on_weekday, _WEEKDAY_GATES),
    _rule(_SINCE_MONTH, _handle_since_month, ["since"], _ANCHOR_SINCE, at_anchor=True),
    _rule(_SINCE_YEAR, _handle_since_year, ["since"], _ANCHOR_SINCE, at_anchor=True),
)
_ALL_GATES: tuple[str, ...] = tuple(sorted(frozenset().union(*(rule.gates for rule in _RULES))))


# --- describing and the public API ------------------------------------------------------------


def _format_amount(value: float, unit: str) -> str:
    rounded = round(value, 1)
    return f"{rounded:g} {unit}" + ("" if rounded == 1 else "s")


def _is_whole_or_half(value: float) -> bool:
    return abs(value * 2 - round(value * 2)) < 1e-9


def _humanize(days: float) -> str:
    """Short text for a number of days: "3 weeks", "1.5 weeks", "10 days", "6.9 years"."""
    if days <= 0:
        return "0 days"
    if days < 1 / 24:
        return _format_amount(days * 24 * 60, "minute")
    if days < 1:
        return _format_amount(days * 24, "hour")
    # Whole or half units read best ("1.5 weeks"), but not "46 weeks" or "30 months".
    for unit, size, limit in (
        ("year", 365.0, 1e9),
        ("month", 30.0, 24.0),
        ("week", 7.0, 16.0),
    ):
        if size <= days <= size * limit and _is_whole_or_half(days / size):
            return _format_amount(days / size, unit)
    if days < 60:
        return _format_amount(days, "day")
    if days < 365:
        return _format_amount(days / 30, "month")
    return _format_amount(days / 365, "year")


@dataclass(frozen=True, slots=True)
class DurationMention:
    """One duration found in a text.

    Attributes
    ----------
    text : str
        The matched text as written, e.g. ``"for three weeks"``.
    start, end : int
        Character offsets of ``text`` in the input.
    days : float
        The duration in days: how long the complaint has lasted, or how long ago it began.
    kind : str
        ``"span"`` for how-long phrases ("for 3 weeks", "since Monday", "day 3 of the
        pain"), ``"ago"`` for onset points ("2 days ago", "yesterday", "on Monday"),
        ``"program"`` for the day of an exercise program ("day 14 of the plan").
    """

    text: str
    start: int
    end: int
    days: float
    kind: str

    def describe(self) -> str:
        """Short human text for evidence.

        Returns
        -------
        str
            The amount for a counted phrase (``"3 weeks"``, ``"2 days ago"``); the phrase with
            its computed amount otherwise (``"since 2019 (~6.9 years)"``, ``"yesterday (~1 day
            ago)"``, ``"for months (~3 months)"``); just the phrase when that is zero days
            (``"this morning"``).
        """
        if self.kind == PROGRAM:
            return f"{' '.join(self.text.split())} (program day {self.days:g})"
        amount = _humanize(self.days)
        suffix = " ago" if self.kind == AGO else ""
        if _HAS_QUANTITY.search(self.text) is not None:
            return amount + suffix
        label = " ".join(self.text.split())
        label = label[:1].lower() + label[1:]
        if self.days <= 0:
            return label
        return f"{label} (~{amount}{suffix})"


@cache
def _compiled_scanner() -> Any:
    """The rules compiled into ``classifier._dur.Scanner``, or None on the pure-Python path
    (``PAINCLF_PURE_PYTHON=1``) and when the module was not built (with a warning)."""
    if compiled() is None:
        return None
    module = optional_extension(
        "classifier._dur",
        "compiled duration rules are not available ({error}); the pure-Python rules are "
        "used instead (same results). Reinstall with a C compiler (`pip install -e .`).",
        stacklevel=4,
    )
    if module is None:
        return None
    return module.Scanner(
        [
            (
                rule.pattern,
                rule.handle,
                rule.gates,
                rule.anchor,
                rule.at_anchor,
                rule.look_back,
                rule.quantity_before,
                rule.window_gate,
            )
            for rule in _RULES
        ],
        _STARTS,
        _STEMS,
        _QUANTITY_TAIL,
        _LOOK_AHEAD,
        _TAIL_LOOK_BACK,
        _MAX_DAYS,
        AGO,
        _WEAK_ONSETS,
        _lower,
        _find_durations_python,
        DurationMention,
        datetime.date.today,
        datetime.datetime,
    )


def find_durations(text: str, today: datetime.date | None = None) -> list[DurationMention]:
    """Find the duration mentions in ``text``.

    Parameters
    ----------
    text : str
        Free text of any length and language; only English phrases are recognised.
    today : datetime.date, optional
        Reference date for weekdays, months and years ("since Monday", "since March", "since
        2019"). Defaults to ``datetime.date.today()``.

    Returns
    -------
    list of DurationMention
        Non-overlapping mentions in text order; where two candidates overlap, the one that
        starts first (then the longer one) is kept. A bare "today" or "this morning" is
        dropped when the text has other mentions: it then mostly describes the present
        ("hurt it 3 weeks ago and today it's worse"), and would make the onset 0 days.

    Raises
    ------
    TypeError
        If ``text`` is not a ``str``.
    """
    scanner = _compiled_scanner()
    if scanner is not None:
        return scanner.find(text, today)
    return _find_durations_python(text, today)


def _find_durations_python(text: str, today: datetime.date | None = None) -> list[DurationMention]:
    """``find_durations`` in pure Python: the reference the compiled scanner is tested
    against (``classifier._dur`` runs the same rules, regex calls and handlers)."""
    if not isinstance(text, str):
        raise TypeError(f"text must be str, not {type(text).__name__}")
    if not text:
        return []
    lowered = _lower(text)
    if _DIGIT.search(lowered) is None and not any(stem in lowered for stem in _STEMS):
        return []
    if today is None:
        today = datetime.date.today()
    elif isinstance(today, datetime.datetime):
        today = today.date()
    candidates: list[tuple[int, int, int, float, str]] = []
    anchors: dict[re.Pattern[str], list[tuple[int, int]]] = {}
    present = frozenset(gate for gate in _ALL_GATES if gate in lowered)
    for rank, rule in enumerate(_RULES):
        if present.isdisjoint(rule.gates):
            continue
        for match in rule.matches(lowered, anchors):
            try:
                result = rule.handle(match, today)
            except (ValueError, OverflowError, KeyError):
                continue  # an impossible date ("since Feb 30") or number: no mention
            if result is None or not 0.0 <= result[0] <= _MAX_DAYS:
                continue
            candidates.append((match.start(), -match.end(), rank, result[0], result[1]))
    candidates.sort()
    mentions: list[DurationMention] = []
    covered_to = -1
    for start, negative_end, _rank, days, kind in candidates:
        if start < covered_to:
            continue
        covered_to = -negative_end
        mentions.append(DurationMention(text[start:covered_to], start, covered_to, days, kind))
    if len(mentions) > 1:
        # "Hurt it 3 weeks ago and today it's worse": a bare "today" or "this morning" next to
        # other mentions is usually the present, not the onset; it would make the onset 0 days.
        mentions = [m for m in mentions if not _is_weak_today(m, lowered)] or mentions
    return mentions


def _is_weak_today(mention: DurationMention, lowered: str) -> bool:
    phrase = " ".join(lowered[mention.start : mention.end].split())
    return mention.kind == AGO and phrase in _WEAK_ONSETS


def duration_days(mentions: Sequence[DurationMention]) -> float | None:
    """Reduce the mentions of one text to a single duration in days.

    Parameters
    ----------
    mentions : sequence of DurationMention
        Usually the output of :func:`find_durations`.

    Returns
    -------
    float or None
        The longest ``"span"`` if there is any; otherwise the most recent onset (the smallest
        ``"ago"``); None when there are no mentions. Program days (``"program"``) are not
        durations of the complaint and are left out.
    """
    spans = [mention.days for mention in mentions if mention.kind == SPAN]
    if spans:
        return max(spans)
    onsets = [mention.days for mention in mentions if mention.kind == AGO]
    return min(onsets) if onsets else None
