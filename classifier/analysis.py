"""Text analysis: clean a raw input, run the spaCy pipeline, and collect cues and durations.

The analysis is what both the model's cue features and the rule layer (urgent
flag, guide rules, evidence) read, so ``predict_many`` computes it once per text.
"""

from __future__ import annotations

import contextlib
import gc
import html
import math
import re
import signal
import threading
import time
from bisect import bisect_right
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from typing import Any

from classifier.config import LONG_DURATION_DAYS, MAX_TEXT_CHARS, ROW_BUDGET_SECONDS
from classifier.context import Cue
from classifier.duration import DurationMention, duration_days, find_durations
from classifier.fastpath import compiled
from classifier.nlp import (
    CUES_ATTR,
    TOKENS_ATTR,
    TokenTable,
    analyse_text,
    get_nlp,
    process_text,
    token_table,
)
from classifier.textnorm import NOTE_SYMBOL_RUN, collapse_symbol_runs, normalize_unicode

# Every quantifier is bounded, and none is nested over a class that can match the same
# characters, so a search costs at most a few hundred steps per "<" (linear in the text).
_TAG = re.compile(r"<[ \t]{0,10}/?[ \t]{0,10}[a-zA-Z][^<>]{0,500}>")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SPACES = re.compile(r"[ \t\u00a0]{2,}")
_ASCII_LETTER = re.compile(r"[A-Za-z]")
FIRST_PERSON = frozenset({"i", "me", "my", "mine", "myself", "im", "ive"})
# "my" is left out here: "my dad had cancer" names a relative, not the writer's own complaint.
SELF_REFERENCE = frozenset({"i", "me", "myself", "im", "ive"})
_QUESTION_START = frozenset(
    [
        "what",
        "which",
        "how",
        "why",
        "when",
        "where",
        "who",
        "whom",
        "whose",
        "is",
        "are",
        "does",
        "do",
        "can",
        "could",
        "should",
        "would",
        "will",
        "may",
        "might",
    ]
)

# "Could this be a stress fracture?" after "My shin hurts": the question points back at the
# writer's complaint, so it is not impersonal. Looked for in a question's first words.
DEICTIC = frozenset({"this", "that", "these", "those"})
DEICTIC_REACH = 4

SEDENTARY = frozenset({"sedentary"})
OWN_QUESTION = frozenset({"own_question"})
PAIN_WORDS = frozenset({"pain_word", "soreness_word", "sharp_quality"})
COMPLAINT_WORDS = PAIN_WORDS | {"injury_event", "spine_complaint", "msk_complaint"}
NOTE_EMPTY = "empty text: nothing to classify"
NOTE_NO_WORDS = "no words to classify"
NOTE_NOT_ENGLISH = "text does not look like English: the model reads English only"
# Frequent function words of the languages support tickets arrive in besides English
# (German, Spanish, French, Italian, Portuguese, Dutch), none of them an English word:
# a text in which they outnumber English function words is not English, even when a
# loan word ("Sciatica", "Physio") or a name matches a cue.
FOREIGN_FUNCTION_WORDS = frozenset(
    {
        "ich", "habe", "hatte", "bin", "ist", "sind", "nicht", "und", "oder", "mit", "mein",
        "meine", "meinen", "meinem", "mir", "mich", "seit", "wegen", "sehr", "auch", "noch",
        "aber", "schon", "kann", "nach", "beim", "einem", "einer", "eine", "ein", "das", "der",
        "dem", "des", "wie", "wird", "wurde", "el", "los", "las", "una", "unos", "del", "por",
        "para", "que", "muy", "pero", "tengo", "tiene", "desde", "hace", "mis", "estoy", "está",
        "duele", "dolor", "espalda", "también", "cuando", "porque", "je", "j'ai", "les", "une",
        "du", "et", "avec", "pour", "dans", "mais", "très", "depuis", "mon", "ma", "mes", "suis",
        "est", "ai", "pas", "ne", "qui", "sur", "au", "aux", "il", "lo", "gli", "della", "delle",
        "sono", "che", "molto", "ho", "anche", "eu", "não", "uma", "com", "muito", "dor", "minha",
        "meu", "estou", "tenho", "também", "ik", "het", "een", "niet", "mijn", "heb", "ook",
        "maar", "voor", "zijn",
    }
)  # fmt: skip
# The start of the note on a text whose analysis ran past the per-row time budget.
NOTE_OVER_BUDGET = "analysis stopped"


@dataclass(frozen=True, slots=True)
class CleanText:
    """A raw input turned into text the pipeline can read, with notes on what was changed."""

    text: str
    notes: tuple[str, ...] = ()


def clean_text(value: Any, max_chars: int = MAX_TEXT_CHARS) -> CleanText:
    """Turn any input into bounded plain text; never raises.

    Parameters
    ----------
    value : object
        The raw input: usually a str; ``None``, NaN, numbers and bytes are accepted.
    max_chars : int
        Longer texts are cut to their first ``max_chars`` characters.

    Returns
    -------
    CleanText
        The text and notes saying what happened to it ("HTML removed",
        "text cut to the first 20000 characters", "invisible format characters
        removed", "empty text ..."). Unicode is normalised first (see
        ``classifier.textnorm``), so every rule sees the letters a reader sees.

    Examples
    --------
    >>> clean_text("<p>My back hurts&nbsp;since Monday</p>")
    CleanText(text='My back hurts since Monday', notes=('HTML markup removed',))
    >>> clean_text(None).notes
    ('empty text: nothing to classify',)
    >>> clean_text("can't control my blad\u00adder").text  # a soft hyphen
    "can't control my bladder"
    """
    notes: list[str] = []
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return CleanText("", (NOTE_EMPTY,))
    if isinstance(value, bytes | bytearray):
        value = bytes(value).decode("utf-8", errors="replace")
        notes.append("bytes decoded as UTF-8")
    elif not isinstance(value, str):
        return CleanText("", (f"input is {type(value).__name__}, not text: nothing to classify",))
    text = value
    if len(text) > max_chars:
        text = text[:max_chars]
        notes.append(f"text cut to its first {max_chars} characters (was {len(value)})")
    # Normalised before anything matches: an invisible or look-alike character must not
    # hide a red flag (and NFKC may turn fullwidth "＜" into a tag's "<").
    text = _normalized(text, notes, max_chars)
    if "<" in text and _TAG.search(text):
        text = _TAG.sub(" ", text)
        notes.append("HTML markup removed")
    if "&" in text:
        text = html.unescape(text)
        text = _normalized(text, notes, max_chars)  # "&#8203;" is an invisible space too
    text = _CONTROL.sub(" ", text).replace("\r\n", "\n").replace("\r", "\n")
    text = _SPACES.sub(" ", text.replace("\u00a0", " ")).strip()
    text, collapsed = collapse_symbol_runs(text)
    if collapsed:
        notes.append(NOTE_SYMBOL_RUN)
    if not text:
        return CleanText("", (*notes, NOTE_EMPTY))
    if text.isascii():
        if not _ASCII_LETTER.search(text):
            notes.append(NOTE_NO_WORDS)
    else:
        letters = [ch for ch in text if ch.isalpha()]
        if not letters:
            notes.append(NOTE_NO_WORDS)
        elif sum(ch.isascii() for ch in letters) < 0.5 * len(letters):
            notes.append(NOTE_NOT_ENGLISH)
    return CleanText(text, tuple(notes))


def _normalized(text: str, notes: list[str], max_chars: int) -> str:
    """``normalize_unicode`` with its notes added once each; NFKC may lengthen a text."""
    text, changes = normalize_unicode(text)
    notes.extend(note for note in changes if note not in notes)
    return text[:max_chars]


@dataclass(slots=True)
class Analysis:
    """What the text analysis found in one text.

    ``impersonal_questions`` holds the indexes of sentences that ask a question and
    say nothing of the writer, in question form ("When is back pain with a fever an
    emergency?"; not a symptom list that ends in a question mark);
    ``self_sentences`` those where the writer speaks of themselves (I, me, myself).
    """

    text: str
    cues: list[Cue]
    durations: list[DurationMention]
    duration_days: float | None
    n_tokens: int
    first_person: bool
    self_reference: bool
    is_question: bool
    sentence_starts: tuple[int, ...] = ()
    impersonal_questions: frozenset[int] = frozenset()
    self_sentences: frozenset[int] = frozenset()
    notes: tuple[str, ...] = ()
    _current: frozenset[str] | None = field(default=None, repr=False)

    @property
    def has_words(self) -> bool:
        return bool(self.text) and NOTE_NO_WORDS not in self.notes

    @property
    def current_categories(self) -> frozenset[str]:
        """Categories with at least one cue that is not negated, hypothetical or past.

        Also holds categories computed from the whole text: ``long_duration`` (the
        complaint has lasted more than a week), ``impersonal_question`` (a question
        that says nothing of the writer), ``no_pain`` (pain is denied and none is
        reported) and ``other_person_complaint`` (every complaint is someone else's).
        """
        if self._current is None:
            current = {c.category for c in self.cues if c.is_current}
            if self.duration_days is not None and self.duration_days > LONG_DURATION_DAYS:
                current.add("long_duration")
            if self.is_question and not self.first_person:
                current.add("impersonal_question")
            complaints = [c for c in self.cues if c.category in COMPLAINT_WORDS]
            if any("NEGATED" in c.modifiers for c in complaints) and not any(
                c.is_current and c.category in PAIN_WORDS for c in complaints
            ):
                current.add("no_pain")
            current_complaints = [c for c in complaints if c.is_current]
            if current_complaints and all(
                "OTHER_PERSON" in c.modifiers for c in current_complaints
            ):
                current.add("other_person_complaint")
            self._current = frozenset(current)
        return self._current

    def sentence_of_char(self, char: int) -> int:
        """Index of the sentence that holds character offset ``char``."""
        return max(0, bisect_right(self.sentence_starts, char) - 1)


@cache
def _hashes() -> dict[str, frozenset[int]]:
    """NORM hashes of the word sets the analysis looks for (strings are added once)."""
    strings = get_nlp().vocab.strings
    words = {
        "first_person": FIRST_PERSON,
        "self_reference": SELF_REFERENCE,
        "question_start": _QUESTION_START,
        "question_mark": frozenset({"?"}),
        "foreign": FOREIGN_FUNCTION_WORDS,
        "deictic": DEICTIC,
    }
    return {name: frozenset(strings.add(w) for w in group) for name, group in words.items()}


def _analysis_from_doc(doc: Any, clean: CleanText, today: date | None) -> Analysis:
    cues = doc.user_data.get(CUES_ATTR) or []
    table: TokenTable = doc.user_data.get(TOKENS_ATTR) or token_table(doc)
    return _analysis_from_table(cues, table, clean, today)


def _analyse(clean: CleanText, today: date | None) -> Analysis:
    """One cleaned text's analysis: compiled without a ``Doc`` when it can be, else with
    the spaCy pipeline (the same results either way)."""
    found = analyse_text(clean.text)
    if found is None:
        return _analysis_from_doc(process_text(clean.text), clean, today)
    cues, table = found
    return _analysis_from_table(cues, table, clean, today)


@cache
def _compiled_signals() -> Any:
    """The word sets of ``_hashes`` for ``classifier._fast.text_signals`` (compiled path)."""
    hashes = _hashes()
    return compiled().TextSignals(
        hashes["first_person"],
        hashes["self_reference"],
        hashes["question_start"],
        hashes["question_mark"],
        hashes["foreign"],
        hashes["deictic"],
        DEICTIC_REACH,
    )


def _signals_python(
    table: TokenTable, hashes: dict[str, frozenset[int]]
) -> tuple[bool, bool, bool, frozenset[int], frozenset[int], int]:
    """What ``classifier._fast.text_signals`` computes, in Python."""
    n_tokens = len(table.norms)
    norm_set = table.norm_set
    is_question = bool(
        norm_set & hashes["question_mark"]
        or (table.norms and table.norms[0] in hashes["question_start"])
    )
    segments = table.segments
    impersonal: set[int] = set()
    self_sentences: set[int] = set()
    first_person = not norm_set.isdisjoint(hashes["first_person"])
    self_reference = not norm_set.isdisjoint(hashes["self_reference"])
    if n_tokens and (self_reference or is_question):
        spoken_of_self = False  # a first-person word in an earlier sentence
        for index in range(len(segments.starts)):
            start, end = segments.bounds(index)
            here = set(table.norms[start:end])
            if not here.isdisjoint(hashes["self_reference"]):
                self_sentences.add(index)
            own = not here.isdisjoint(hashes["first_person"])
            opening = table.norms[start : min(end, start + DEICTIC_REACH)]
            points_back = spoken_of_self and not hashes["deictic"].isdisjoint(opening)
            if (
                not here.isdisjoint(hashes["question_mark"])
                and table.norms[start] in hashes["question_start"]
                and not own
                and not points_back
            ):
                impersonal.add(index)
            spoken_of_self = spoken_of_self or own
    # Most texts hold no foreign function word: the set test skips the count for them.
    foreign = (
        0
        if norm_set.isdisjoint(hashes["foreign"])
        else sum(norm in hashes["foreign"] for norm in table.norms)
    )
    return (
        is_question,
        first_person,
        self_reference,
        frozenset(impersonal),
        frozenset(self_sentences),
        foreign,
    )


def complaint_durations(
    durations: Sequence[DurationMention], cues: Sequence[Cue], sentence_starts: Sequence[int]
) -> list[DurationMention]:
    """The durations that can date the complaint: not those in a sentence of a current
    sedentary cue ("couch potato for months": the rest before an activity)."""
    if not durations or not any(c.category in SEDENTARY for c in cues):
        return list(durations)
    sedentary = {c.sentence for c in cues if c.category in SEDENTARY and c.is_current}
    return [m for m in durations if bisect_right(sentence_starts, m.start) - 1 not in sedentary]


def _analysis_from_table(
    cues: list[Cue], table: TokenTable, clean: CleanText, today: date | None
) -> Analysis:
    n_tokens = len(table.norms)
    durations = find_durations(clean.text, today=today) if clean.text else []
    segments = table.segments
    if table.attrs is not None and n_tokens:
        is_question, first_person, self_reference, impersonal, self_sentences, foreign = (
            compiled().text_signals(
                _compiled_signals(), table.norms, segments.starts, segments.length
            )
        )
    else:
        is_question, first_person, self_reference, impersonal, self_sentences, foreign = (
            _signals_python(table, _hashes())
        )
    sentence_starts = (
        tuple([table.starts[start] for start in segments.starts]) if n_tokens else (0,)
    )
    # "Is it normal to be sore after day one?" asks about the writer's own soreness.
    first_person = first_person or any(c.category in OWN_QUESTION for c in cues)
    notes = clean.notes
    # Latin-script text in another language ("me duele la espalda") passes the script
    # check; almost no English function words and no cue at all give it away.
    if NOTE_NOT_ENGLISH not in notes and table.words >= 3:
        few_english = table.stop_words < 0.15 * table.words and not cues
        if few_english or (foreign >= 2 and foreign >= table.stop_words):
            notes = (*notes, NOTE_NOT_ENGLISH)
    return Analysis(
        text=clean.text,
        cues=cues,
        durations=durations,
        duration_days=duration_days(complaint_durations(durations, cues, sentence_starts)),
        n_tokens=n_tokens,
        first_person=first_person,
        self_reference=self_reference,
        is_question=is_question,
        sentence_starts=sentence_starts,
        impersonal_questions=impersonal,
        self_sentences=self_sentences,
        notes=notes,
    )


class _RowOverBudget(BaseException):
    """Raised by the timer inside one row's analysis when it runs past its budget.

    A ``BaseException``, as ``KeyboardInterrupt`` is: an ``except Exception`` in the code
    it interrupts (ours, spaCy's) must not swallow it and carry on past the budget.
    """


class _RowTimer:
    """A per-row deadline: a SIGALRM timer that interrupts the row's analysis.

    Only the main thread can receive signals, and a caller may already use SIGALRM;
    then the timer cannot interrupt, and a row is judged by its time once it is done.
    """

    def __init__(self, seconds: float | None) -> None:
        self.seconds = seconds
        self.armed = False
        self.preempts = False

    @contextlib.contextmanager
    def installed(self) -> Iterator[_RowTimer]:
        usable = (
            self.seconds is not None
            and hasattr(signal, "setitimer")
            and threading.current_thread() is threading.main_thread()
            and signal.getsignal(signal.SIGALRM) in (signal.SIG_DFL, signal.SIG_IGN, None)
            and signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
        )
        if not usable:
            yield self
            return
        previous = signal.signal(signal.SIGALRM, self._on_alarm)
        self.preempts = True
        try:
            yield self
        finally:
            self.armed = False
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
            self.preempts = False

    def _on_alarm(self, signum: int, frame: Any) -> None:
        # A late alarm (the row finished, the timer not yet cleared) is ignored.
        if self.armed:
            self.armed = False
            raise _RowOverBudget

    def run(self, clean: CleanText, today: date | None) -> Analysis:
        """``_analyse(clean, today)`` within the budget (a plain call, not a context
        manager: this runs once per row)."""
        seconds = self.seconds
        if seconds is None:
            return _analyse(clean, today)
        started = time.perf_counter()
        if self.preempts:
            self.armed = True
            signal.setitimer(signal.ITIMER_REAL, seconds)
        try:
            analysis = _analyse(clean, today)
        finally:
            if self.preempts:
                self.armed = False
                signal.setitimer(signal.ITIMER_REAL, 0)
        if time.perf_counter() - started > seconds:
            raise _RowOverBudget
        return analysis


_WARM_UP_TEXT = "No numbness, but my back is sore for 3 weeks since Monday\u200b!"
_warmed: list[bool] = []


def _warm_up(today: date | None) -> None:
    """Analyse one text untimed, once per process: building the pipeline, loading the
    lexicons and compiling the duration patterns (a second or more) is no row's cost."""
    if not _warmed:
        clean = clean_text(_WARM_UP_TEXT)
        _analyse(clean, today)
        _warmed.append(True)


def _over_budget(clean: CleanText, seconds: float) -> Analysis:
    note = (
        f"{NOTE_OVER_BUDGET}: the text took longer than the {seconds:g} s budget per row "
        f"({len(clean.text):,} characters); not classified"
    )
    return Analysis(
        text="",
        cues=[],
        durations=[],
        duration_days=None,
        n_tokens=0,
        first_person=False,
        self_reference=False,
        is_question=False,
        notes=(*clean.notes, note),
    )


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector: the analysis makes many short-lived objects and
    no reference cycles (``tests/test_fastpath.py`` checks), so collections during it find
    nothing to free and cost about a tenth of the time; reference counting still frees
    every object as soon as it is unused."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def analyze_many(
    texts: Sequence[Any],
    today: date | None = None,
    batch_size: int = 512,
    budget_seconds: float | None = ROW_BUDGET_SECONDS,
) -> list[Analysis]:
    """Analyse many texts with the shared spaCy pipeline, each within a time budget.

    Parameters
    ----------
    texts : sequence
        Raw inputs; anything ``clean_text`` accepts.
    today : date, optional
        Reference date for durations such as "since Monday"; default today.
    batch_size : int
        Kept for callers of the former ``nlp.pipe`` pass; texts are analysed one by one.
    budget_seconds : float or None
        A text whose analysis takes longer is stopped (interrupted when this runs in
        the main thread) and comes back with no words and a note starting
        ``NOTE_OVER_BUDGET``, so one hostile text cannot stall a batch. ``None``: no
        budget. Every step is linear in the text's length, so only an overloaded
        machine or a pathological input reaches the default.

    Returns
    -------
    list of Analysis
        One per input, in order.

    Examples
    --------
    >>> [a.duration_days for a in analyze_many(["sore for three weeks", ""])]
    [21.0, None]
    """
    cleaned = [clean_text(text) for text in texts]
    if budget_seconds is not None:
        _warm_up(today)
    analyses: list[Analysis] = []
    timer = _RowTimer(budget_seconds)
    with timer.installed(), collector_paused():
        for clean in cleaned:
            try:
                analysis = timer.run(clean, today)
            except _RowOverBudget:
                analysis = _over_budget(clean, float(budget_seconds or 0))
            analyses.append(analysis)
    return analyses


def analyze(text: Any, today: date | None = None) -> Analysis:
    """Analyse one text (see ``analyze_many``)."""
    return analyze_many([text], today=today)[0]
