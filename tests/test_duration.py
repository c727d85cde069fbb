"""Tests for classifier.duration: how long a complaint has lasted, in days."""

from __future__ import annotations

import datetime
import itertools

import pytest

from classifier.duration import DurationMention, duration_days, find_durations

# A Wednesday. Weekday and month phrases below are computed from it.
TODAY = datetime.date(2024, 1, 17)


def only_mention(text: str, today: datetime.date = TODAY) -> DurationMention:
    mentions = find_durations(text, today)
    assert len(mentions) == 1, mentions
    return mentions[0]


@pytest.mark.parametrize(
    ("text", "days", "kind"),
    [
        # "for X" with digits, number words and fuzzy quantities
        ("My back has been sore for three weeks now", 21, "span"),
        ("Hurting for 10 days", 10, "span"),
        ("sore for a couple of days", 2, "span"),
        ("sore for a couple days", 2, "span"),
        ("stiff for a few days", 3, "span"),
        ("aching for several weeks", 21, "span"),
        ("tight for half a day", 0.5, "span"),
        ("for twenty-one days straight", 21, "span"),
        ("sore for an hour after the session", 1 / 24, "span"),
        ("Hiccups for an hour now", 1 / 24, "span"),
        ("for 48 hours", 2, "span"),
        ("for a fortnight", 14, "span"),
        ("for about a week or so", 7, "span"),
        ("for a day or two", 2, "span"),
        ("for over a year", 365, "span"),
        ("for ~2 weeks", 14, "span"),
        # fractions, ranges (upper end) and "and a half"
        ("sore for 1.5 weeks", 10.5, "span"),
        ("sore for 2-3 days", 3, "span"),
        ("sore for 2\u20133 days", 3, "span"),  # en dash
        ("sore for 2 to 3 days", 3, "span"),
        ("sore for one or two weeks", 14, "span"),
        ("for a week and a half", 10.5, "span"),
        ("two and a half weeks ago", 17.5, "ago"),
        # abbreviations and typos
        ("for 3 wks", 21, "span"),
        ("for 2 mos", 60, "span"),
        ("for 3 mths", 90, "span"),
        ("for 6 mnths", 180, "span"),
        ("for 2 yrs", 730, "span"),
        ("for 3days", 3, "span"),
        ("pain for 12 hrs", 0.5, "span"),
        ("started 3d ago", 3, "ago"),
        ("for 2 weks", 14, "span"),
        # case and spacing
        ("FOR   THREE    WEEKS", 21, "span"),
        # since X
        ("Since 2 weeks my back hurts", 14, "span"),
        ("since 3 days ago", 3, "span"),
        ("since yesterday", 1, "span"),
        ("since last night", 1, "span"),
        ("since last week", 7, "span"),
        ("since last month", 30, "span"),
        ("since last year", 365, "span"),
        ("since the day before yesterday", 2, "span"),
        # past / last / over the last / for the past
        ("the past 3 days", 3, "span"),
        ("worse over the last two weeks", 14, "span"),
        ("for the past few days", 3, "span"),
        ("in the last 48 hours", 2, "span"),
        ("the last couple of weeks", 14, "span"),
        ("the past week", 7, "span"),
        ("over the last month", 30, "span"),
        # X now, straight, in a row, been, lasted, going on, of pain, since
        ("its been like this 10 days now", 10, "span"),
        ("5 days straight", 5, "span"),
        ("two nights in a row", 2, "span"),
        ("it's been a week", 7, "span"),
        ("it lasted 2 days", 2, "span"),
        ("going on 3 weeks", 21, "span"),
        ("after 3 weeks of constant pain", 21, "span"),
        ("2 weeks since the fall and still sore", 14, "span"),
        # vague plurals
        ("on and off for years", 730, "span"),
        ("for months", 90, "span"),
        ("for weeks", 21, "span"),
        ("for days", 3, "span"),
        ("for ages", 365, "span"),
        ("for many years", 730, "span"),
        ("weeks ago", 21, "ago"),
        # day N of a program, ordinal days, all week
        ("day 3 of the pain and it is no better", 3, "span"),
        ("day 10 after the fall", 10, "span"),
        ("day three of the routine", 3, "program"),
        ("day 14 of the plan and my legs are sore", 14, "program"),
        ("I'm on day 5", 5, "program"),
        ("on my fourth day of the challenge", 4, "program"),
        ("on my third day", 3, "span"),
        ("It's my first day", 1, "span"),
        ("the 2nd day of stretching", 2, "program"),
        ("stiff all week", 7, "span"),
        # onset points
        ("a year ago", 365, "ago"),
        ("about 3 days ago", 3, "ago"),
        ("a few days ago", 3, "ago"),
        ("half an hour ago", 1 / 48, "ago"),
        ("yesterday", 1, "ago"),
        ("the day before yesterday", 2, "ago"),
        ("last night", 1, "ago"),
        ("this morning", 0, "ago"),
        ("today", 0, "ago"),
        ("I hurt it last week", 7, "ago"),
        ("I had surgery last year", 365, "ago"),
        # dates from TODAY (Wednesday 2024-01-17)
        ("since 2019", 1842, "span"),
        ("since 2024", 16, "span"),
        ("since mid 2023", 200, "span"),
        ("since January", 16, "span"),
        ("since Dec 25", 23, "span"),
        ("since the 5th of January", 12, "span"),
        ("since March 2022", 687, "span"),
    ],
)
def test_phrase_days_and_kind(text: str, days: float, kind: str) -> None:
    mention = only_mention(text)
    assert mention.days == pytest.approx(days)
    assert mention.kind == kind
    expected = None if kind == "program" else pytest.approx(days)
    assert duration_days([mention]) == expected


@pytest.mark.parametrize(
    ("text", "days"),
    [
        ("My back hurts since Monday", 2),
        ("since monday morning", 2),
        ("since Tues", 1),
        ("ever since Thursday", 6),  # the Thursday before
        ("since Sunday", 3),
        ("since last Sunday", 3),
        ("since Wednesday", 7),  # said on a Wednesday: a week ago
        ("chills since the weekend", 4),  # back to Saturday
    ],
)
def test_since_weekday_counts_back_from_today(text: str, days: float) -> None:
    assert duration_days(find_durations(text, TODAY)) == pytest.approx(days)


@pytest.mark.parametrize(
    ("text", "days"),
    [("I hurt it on Monday", 2), ("on Friday", 5), ("over the weekend", 4)],
)
def test_onset_weekday_is_ago(text: str, days: float) -> None:
    mention = only_mention(text)
    assert (mention.days, mention.kind) == (pytest.approx(days), "ago")


def test_since_month_in_january_means_the_previous_year() -> None:
    assert only_mention("Aching since March").days == (TODAY - datetime.date(2023, 3, 1)).days
    assert only_mention("since Sept").days == (TODAY - datetime.date(2023, 9, 1)).days


def test_same_weekday_and_month_depend_on_today() -> None:
    monday = datetime.date(2024, 1, 15)
    assert only_mention("since Monday", monday).days == 7
    assert only_mention("since March", datetime.date(2024, 3, 20)).days == 19


@pytest.mark.parametrize(
    "text",
    [
        "I have 2 kids",
        "3 sets of 10 reps",
        "I lift 5 kg now",
        "week 2 exercises are hard",
        "day 2 stretches",
        "I get up at 7 am",
        "in 2019 I hurt my back",
        "I sat for 3 hours and now my back aches",
        "I work out for 3 days a week",
        "I'm 45 years old",
        "my 2 year old jumped on me",
        "every second day",
        "It happens every 2 days",
        "since 2000 hours",
        "since 10 am",
        "since I was a teenager",
        "since may be",
        "since Feb 30",
        "since 2030",
        "for a while",
        "for a long time",
        "video for day 6 wont play on my ipad",
        "the last day of the program",
        "Please cancel my subscription",
    ],
)
def test_no_duration(text: str) -> None:
    assert find_durations(text, TODAY) == []


def test_aggregation_prefers_longest_span_over_onsets() -> None:
    text = "I hurt it 2 weeks ago, sore for 3 days, worse over the last 5 days"
    mentions = find_durations(text, TODAY)
    assert [(m.days, m.kind) for m in mentions] == [
        (14, "ago"),
        (3, "span"),
        (5, "span"),
    ]
    assert duration_days(mentions) == 5


def test_aggregation_without_spans_takes_most_recent_onset() -> None:
    mentions = find_durations("Started 3 weeks ago, then hurt it again 2 days ago", TODAY)
    assert [m.kind for m in mentions] == ["ago", "ago"]
    assert duration_days(mentions) == 2


def test_activity_hours_are_not_the_complaint() -> None:
    mentions = find_durations("Played tennis for two hours yesterday, shoulder is sore", TODAY)
    assert [(m.text, m.kind) for m in mentions] == [("yesterday", "ago")]
    assert find_durations("Paddleboarding for 3 hours straight, shoulders sore", TODAY) == []
    mention = only_mention("My back has been stiff for 2 hours")
    assert mention.days == pytest.approx(2 / 24)


def test_today_alongside_an_earlier_onset_is_not_the_onset() -> None:
    mentions = find_durations("I hurt it 3 weeks ago and today it's worse", TODAY)
    assert [m.text for m in mentions] == ["3 weeks ago"]
    assert duration_days(mentions) == 21
    assert duration_days(find_durations("Hurt my back this morning lifting a box", TODAY)) == 0


def test_aggregation_of_nothing_is_none() -> None:
    assert duration_days([]) is None
    assert duration_days(find_durations("Where is my invoice?", TODAY)) is None


def test_mentions_point_into_the_text_and_do_not_overlap() -> None:
    text = "Been sore for three weeks now, ever since Monday; hurt it again yesterday."
    mentions = find_durations(text, TODAY)
    assert [m.text for m in mentions] == [
        "for three weeks now",
        "since Monday",
        "yesterday",
    ]
    for mention in mentions:
        assert text[mention.start : mention.end] == mention.text
    assert all(a.end <= b.start for a, b in itertools.pairwise(mentions))


@pytest.mark.parametrize(
    ("text", "today", "expected"),
    [
        ("for three weeks", TODAY, "3 weeks"),
        ("2 days ago", TODAY, "2 days ago"),
        ("a year ago", TODAY, "1 year ago"),
        ("for 1.5 weeks", TODAY, "1.5 weeks"),
        ("for 10 days", TODAY, "10 days"),
        ("sore for 2 hours", TODAY, "2 hours"),
        ("since 2019", datetime.date(2025, 11, 25), "since 2019 (~6.9 years)"),
        ("Since Monday", TODAY, "since Monday (~2 days)"),
        ("Yesterday", TODAY, "yesterday (~1 day ago)"),
        ("for months", TODAY, "for months (~3 months)"),
        ("this morning", TODAY, "this morning"),
        ("day 3 of the program", TODAY, "day 3 of the program (program day 3)"),
        ("day 3 of the pain", TODAY, "day 3 of the pain (~3 days)"),
    ],
)
def test_describe(text: str, today: datetime.date, expected: str) -> None:
    assert only_mention(text, today).describe() == expected


def test_empty_and_whitespace_text() -> None:
    assert find_durations("", TODAY) == []
    assert find_durations("   \n\t ", TODAY) == []


def test_very_long_text() -> None:
    text = "blah " * 200_000 + "my back has been sore for 3 weeks" + " ok" * 1000
    mentions = find_durations(text, TODAY)
    assert [m.text for m in mentions] == ["for 3 weeks"]
    assert mentions[0].start == 1_000_000 + len("my back has been sore ")


@pytest.mark.parametrize(
    "text",
    [
        "😭😭 since 3 weeks 😭",
        "Rückenschmerzen seit 3 Wochen, since 3 weeks",
        "İİİ since 3 weeks",  # characters that lower-case to two characters
    ],
)
def test_unicode_text(text: str) -> None:
    mention = only_mention(text)
    assert mention.text == "since 3 weeks"
    assert text[mention.start : mention.end] == "since 3 weeks"


@pytest.mark.parametrize(
    "text",
    [
        "腰痛が3週間続いています",
        "ago ago ago " * 1000,
        "3 3 3 days days " * 500,
        "\x00\ufffd\n" * 50,
    ],
)
def test_odd_text_never_raises(text: str) -> None:
    assert isinstance(find_durations(text, TODAY), list)


def test_non_str_raises_type_error() -> None:
    with pytest.raises(TypeError):
        find_durations(None)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        find_durations(b"for 3 weeks")  # type: ignore[arg-type]


def test_default_today_and_datetime_today() -> None:
    assert find_durations("since Monday")[0].kind == "span"
    now = datetime.datetime(2024, 1, 17, 9, 30)
    assert only_mention("since Monday", now).days == 2  # type: ignore[arg-type]


def test_mention_is_frozen() -> None:
    mention = only_mention("for 3 weeks")
    with pytest.raises(AttributeError):
        mention.days = 1.0  # type: ignore[misc]


@pytest.mark.parametrize(
    "text",
    [
        "Day 14 of the plan, my hamstrings are sore from yesterday's session",
        "I'm on day 21 and my glutes ache after the bridges",
        "Sore calves on my twelfth day of the program",
    ],
)
def test_a_program_day_is_not_how_long_the_complaint_has_lasted(text: str) -> None:
    mentions = find_durations(text, TODAY)
    assert any(m.kind == "program" for m in mentions)
    days = duration_days(mentions)
    assert days is None or days <= 2
