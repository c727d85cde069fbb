# cython: language_level=3, boundscheck=False, wraparound=False, initializedcheck=False
# distutils: language = c++
# distutils: extra_compile_args = -ffp-contract=off
"""Compiled model arithmetic after the analysis: a chunk's decision values in one pass.

``CompiledModel.decisions`` computes, for each analysed text, what
``classifier.lean.LeanModel.decision_function`` computes in Python and numpy: the word
block (the vectoriser's tokens and bigrams, vocabulary columns in order of first
appearance, tf from the model's table, IDF, the row norm), the cue block (the counts of
``classifier.cue_counts.cue_counts``, capped and weighted) and the linear model's sums.
Every float operation is the Python path's, in the same order (products rounded before
they are added, sums from 0.0 left to right, no fused multiply-add), so the numbers are
the same bit for bit: ``tests/test_lean.py`` checks it. ``classifier.lean`` uses this
module when it was built and the model is of the shape it handles; otherwise the Python
path runs.
"""

from libc.math cimport fabs, sqrt
from libc.stdint cimport int64_t
from libc.stdlib cimport free, malloc
from cython.operator cimport dereference as deref
from libcpp.unordered_map cimport unordered_map

from sys import intern as _intern

import numpy as np

# Norms of the word block.
NORM_NONE = 0
NORM_L2 = 1
NORM_L1 = 2


cdef struct Entry:
    int column
    int count


cdef struct Buffers:
    # Where a column sits in the current row's entries; read only after checking that
    # the entry there is that column (a sparse set: nothing to clear between rows).
    int* position
    Entry* entries
    double* values
    Py_ssize_t capacity


cdef void _grow(Buffers* buffers, Py_ssize_t capacity) except *:
    free(buffers.entries)
    free(buffers.values)
    buffers.entries = <Entry*>malloc(capacity * sizeof(Entry))
    buffers.values = <double*>malloc(capacity * sizeof(double))
    buffers.capacity = capacity
    if buffers.entries == NULL or buffers.values == NULL:
        free(buffers.entries)
        free(buffers.values)
        buffers.entries = NULL
        buffers.values = NULL
        buffers.capacity = 0
        raise MemoryError()


cdef class CompiledModel:
    """The lean model's arrays, held for the compiled loop (see the module docstring).

    Parameters are ``LeanModel``'s, prepared by ``classifier.lean``: ``bigrams`` maps
    ``(unigram column, unigram column)`` of every bigram term to its column;
    ``modifier_columns`` maps a cue category to its ``{modifier: column}``,
    ``current_columns`` a category to its column when current; ``signal_columns`` holds,
    in ``classifier.cue_counts.cue_counts`` order, the columns of the duration buckets
    (none, <=2d, 3-7d, 8-30d, 31-365d, >365d), then of ``cue:long_duration``,
    ``text:question``, ``text:impersonal_question``, ``text:first_person``,
    ``text:no_words``, ``text:short_text`` and ``text:long_text`` (-1 when absent).
    """

    cdef dict vocabulary
    cdef unordered_map[int64_t, int] bigrams
    cdef int64_t n_words
    cdef object findall, strip_accents, tf_of
    cdef bint lowercase, has_bigrams, has_idf
    cdef double[::1] tf_table
    cdef double[::1] idf
    cdef int norm
    cdef double word_weight, cue_weight
    cdef double[:, ::1] coef_t
    cdef double[::1] intercept
    cdef int n_classes, n_features, cap
    cdef dict modifier_columns, current_columns
    cdef int signals[13]
    cdef double long_duration_days
    cdef double bucket_bounds[4]
    cdef int* position
    cdef Entry* entries
    cdef double* values
    cdef Py_ssize_t capacity
    cdef bint busy

    def __init__(
        self,
        dict vocabulary,
        dict bigrams,
        findall,
        bint lowercase,
        strip_accents,
        double[::1] tf_table,
        tf_of,
        idf,
        int norm,
        double word_weight,
        double[:, ::1] coef_t,
        double[::1] intercept,
        dict modifier_columns,
        dict current_columns,
        signal_columns,
        int cap,
        double cue_weight,
        double long_duration_days,
        bucket_bounds,
    ):
        self.vocabulary = vocabulary
        self.n_words = len(vocabulary)
        for (first, second), column in bigrams.items():
            self.bigrams[<int64_t>first * self.n_words + <int64_t>second] = column
        self.has_bigrams = len(bigrams) > 0
        self.findall = findall
        self.lowercase = lowercase
        self.strip_accents = strip_accents
        self.tf_table = tf_table
        self.tf_of = tf_of
        self.has_idf = idf is not None
        self.idf = idf if idf is not None else np.zeros(1)
        self.norm = norm
        self.word_weight = word_weight
        self.coef_t = coef_t
        self.intercept = intercept
        self.n_features = coef_t.shape[0]
        self.n_classes = coef_t.shape[1]
        if self.n_classes > 16:
            raise ValueError("more than 16 classes")
        self.modifier_columns = modifier_columns
        self.current_columns = current_columns
        if len(signal_columns) != 13 or len(bucket_bounds) != 4:
            raise ValueError("13 signal columns and 4 duration bucket bounds expected")
        for i in range(13):
            self.signals[i] = signal_columns[i]
        for i in range(4):
            self.bucket_bounds[i] = bucket_bounds[i]
        self.cap = cap
        self.cue_weight = cue_weight
        self.long_duration_days = long_duration_days
        self.position = <int*>malloc(max(self.n_features, 1) * sizeof(int))
        if self.position == NULL:
            raise MemoryError()

    def __dealloc__(self):
        free(self.position)
        free(self.entries)
        free(self.values)

    def decisions(self, list texts, list analyses):
        """Decision values of the texts (``analysis.text`` of each), ``(n, n_classes)``."""
        cdef Py_ssize_t n = len(analyses)
        if len(texts) != n:
            raise ValueError("one text per analysis")
        out = np.zeros((n, self.n_classes), dtype=np.float64)
        cdef double[:, ::1] result = out
        cdef Buffers buffers
        cdef Py_ssize_t needed, row
        cdef double words[16]
        cdef double cues[16]
        cdef int k
        # The model's own buffers, unless another call (another thread, between two
        # Python calls of the loop) holds them: then this call gets its own. The GIL
        # makes the test and the set one step.
        cdef bint own = not self.busy
        if own:
            self.busy = True
            buffers.position = self.position
            buffers.entries = self.entries
            buffers.values = self.values
            buffers.capacity = self.capacity
        else:
            buffers.position = <int*>malloc(max(self.n_features, 1) * sizeof(int))
            buffers.entries = NULL
            buffers.values = NULL
            buffers.capacity = 0
            if buffers.position == NULL:
                raise MemoryError()
        try:
            for row in range(n):
                tokens = self._tokens(texts[row])
                # A token adds at most a unigram and a bigram entry; a cue at most one
                # per modifier and one when current; the signals at most seven.
                needed = max(2 * len(tokens), 5 * len(analyses[row].cues) + 7) + 1
                if needed > buffers.capacity:
                    _grow(&buffers, max(needed, 2 * buffers.capacity))
                self._word_sums(tokens, buffers.entries, buffers.values, buffers.position, words)
                self._cue_sums(
                    analyses[row], buffers.entries, buffers.values, buffers.position, cues
                )
                for k in range(self.n_classes):
                    result[row, k] = (words[k] + cues[k]) + self.intercept[k]
        finally:
            if own:
                self.entries = buffers.entries
                self.values = buffers.values
                self.capacity = buffers.capacity
                self.busy = False
            else:
                free(buffers.position)
                free(buffers.entries)
                free(buffers.values)
        return out

    cdef list _tokens(self, text):
        if self.lowercase:
            text = text.lower()
        if self.strip_accents is not None and not text.isascii():
            text = self.strip_accents(text)
        return self.findall(text)

    cdef void _word_sums(
        self, list tokens, Entry* entries, double* values, int* position, double* sums
    ) except *:
        cdef Py_ssize_t n_tokens = len(tokens), i
        cdef int n_entries = 0, column, previous = -1, k, pos
        cdef int* ids = <int*>malloc(max(n_tokens, 1) * sizeof(int))
        cdef object found
        cdef unordered_map[int64_t, int].iterator hit
        cdef double total, value, scale
        if ids == NULL:
            raise MemoryError()
        try:
            # Unigrams in text order, then bigrams: the order of scikit-learn's analyzer.
            for i in range(n_tokens):
                found = self.vocabulary.get(tokens[i])
                column = -1 if found is None else <int>found
                ids[i] = column
                if column >= 0:
                    n_entries = _add(entries, position, n_entries, column, 1)
            if self.has_bigrams:
                for i in range(n_tokens - 1):
                    if ids[i] < 0 or ids[i + 1] < 0:
                        continue  # every bigram term's words are terms too (checked at load)
                    hit = self.bigrams.find(<int64_t>ids[i] * self.n_words + ids[i + 1])
                    if hit != self.bigrams.end():
                        n_entries = _add(entries, position, n_entries, deref(hit).second, 1)
        finally:
            free(ids)
        for i in range(n_entries):
            if entries[i].count < self.tf_table.shape[0]:
                value = self.tf_table[entries[i].count]
            else:
                value = float(self.tf_of(np.array([entries[i].count]))[0])
            if self.has_idf:
                value = value * self.idf[entries[i].column]
            values[i] = value
        if self.norm != NORM_NONE and n_entries:
            total = 0.0
            for i in range(n_entries):
                if self.norm == NORM_L2:
                    total += values[i] * values[i]
                else:
                    total += fabs(values[i])
            if total != 0.0:
                scale = sqrt(total) if self.norm == NORM_L2 else total
                for i in range(n_entries):
                    values[i] = values[i] / scale
        if self.word_weight != 1.0:
            for i in range(n_entries):
                values[i] = values[i] * self.word_weight
        _linear_sums(self.coef_t, self.n_classes, entries, values, n_entries, sums)

    cdef void _cue_sums(
        self, analysis, Entry* entries, double* values, int* position, double* sums
    ) except *:
        cdef int n_entries = 0, column, i, cap = self.cap
        cdef double scale = cap
        cdef object columns, found, days
        cdef int n_tokens
        for cue in analysis.cues:
            category = cue.category
            modifiers = cue.modifiers
            if modifiers:
                columns = self.modifier_columns.get(category)
                if columns is not None:
                    # Sorted: a set's order follows PYTHONHASHSEED, and the order of the
                    # sums decides the last bit of a probability.
                    for modifier in (sorted(modifiers) if len(modifiers) > 1 else modifiers):
                        found = (<dict>columns).get(modifier)
                        if found is not None:
                            n_entries = _add(entries, position, n_entries, <int>found, 1)
                if not cue.is_current:
                    continue
            found = self.current_columns.get(category)
            if found is not None:
                n_entries = _add(entries, position, n_entries, <int>found, 1)
        days = analysis.duration_days
        if days is None:
            column = self.signals[0]
        else:
            column = self.signals[5]
            for i in range(4):
                if days <= self.bucket_bounds[i]:
                    column = self.signals[1 + i]
                    break
        n_entries = _at_least(entries, position, n_entries, column, cap)
        if days is not None and days > self.long_duration_days:
            n_entries = _at_least(entries, position, n_entries, self.signals[6], cap)
        first_person = analysis.first_person
        if analysis.is_question:
            n_entries = _at_least(entries, position, n_entries, self.signals[7], cap)
            if not first_person:
                n_entries = _at_least(entries, position, n_entries, self.signals[8], cap)
        if first_person:
            n_entries = _at_least(entries, position, n_entries, self.signals[9], cap)
        if not analysis.has_words:
            n_entries = _at_least(entries, position, n_entries, self.signals[10], cap)
        n_tokens = analysis.n_tokens
        if n_tokens <= 5:
            n_entries = _at_least(entries, position, n_entries, self.signals[11], cap)
        elif n_tokens > 60:
            n_entries = _at_least(entries, position, n_entries, self.signals[12], cap)
        for i in range(n_entries):
            # min(count, float(cap)) / float(cap) * weight, as cue_features computes it.
            values[i] = (<double>entries[i].count if entries[i].count <= cap else scale) / scale
            values[i] = values[i] * self.cue_weight
        _linear_sums(self.coef_t, self.n_classes, entries, values, n_entries, sums)


cdef inline int _add(Entry* entries, int* position, int n, int column, int count) noexcept:
    """Add ``count`` to ``column`` in the row's entries (appended when new); the new size."""
    cdef int pos = position[column]
    if 0 <= pos < n and entries[pos].column == column:
        entries[pos].count += count
        return n
    position[column] = n
    entries[n].column = column
    entries[n].count = count
    return n + 1


cdef inline int _at_least(Entry* entries, int* position, int n, int column, int cap) noexcept:
    """``counts[column] = max(counts.get(column, 0), cap)``; the new size."""
    if column < 0:
        return n
    cdef int pos = position[column]
    if 0 <= pos < n and entries[pos].column == column:
        if entries[pos].count < cap:
            entries[pos].count = cap
        return n
    position[column] = n
    entries[n].column = column
    entries[n].count = cap
    return n + 1


cdef inline void _linear_sums(
    double[:, ::1] coef_t, int n_classes, Entry* entries, double* values, int n, double* sums
) noexcept:
    """``sums[k] = sum(coef_t[column, k] * value)`` from 0.0, entries in order."""
    cdef int i, k
    cdef double product
    for k in range(n_classes):
        sums[k] = 0.0
    for i in range(n):
        for k in range(n_classes):
            product = coef_t[entries[i].column, k] * values[i]
            sums[k] = sums[k] + product


# Described durations, by mention (frozen, compared by all its fields); cleared when full.
cdef dict _mention_texts = {}
cdef Py_ssize_t _MAX_CACHED = 50_000


def evidence(cues, mentions, hidden, Py_ssize_t max_evidence):
    """``classifier.predict.evidence_of`` for one analysis: the same strings, in order.

    The cues not in a ``hidden`` category and not inside a duration mention, one per
    span (a cue inside a kept longer one is dropped; a longer one replaces those it
    holds), in text order, then the durations; each text once, interned, at most
    ``max_evidence`` with a count of the rest.
    """
    cdef Py_ssize_t n_mentions = len(mentions), i, j, kept_start, kept_end
    cdef Py_ssize_t start, end, start_char, end_char
    cdef Py_ssize_t* ranges = NULL
    cdef bint inside
    cdef list spans = []
    cdef list bounds = []  # (start, end) of each kept span, as spans
    if not cues and not mentions:
        return ()
    if type(mentions) is not list:
        mentions = list(mentions)
    if n_mentions:
        ranges = <Py_ssize_t*>malloc(2 * n_mentions * sizeof(Py_ssize_t))
        if ranges == NULL:
            raise MemoryError()
    try:
        for i in range(n_mentions):
            ranges[2 * i] = mentions[i].start
            ranges[2 * i + 1] = mentions[i].end
        for cue in cues:
            if cue.category in hidden:
                continue
            if n_mentions:
                start_char = cue.start_char
                end_char = cue.end_char
                inside = False
                for i in range(n_mentions):
                    if ranges[2 * i] <= start_char and end_char <= ranges[2 * i + 1]:
                        inside = True
                        break
                if inside:
                    continue  # shown with its duration
            start = cue.start
            end = cue.end
            inside = False
            for j in range(len(bounds)):
                kept_start, kept_end = bounds[j]
                if start >= kept_start and end <= kept_end:
                    inside = True
                    break
            if inside:
                continue
            j = 0
            while j < len(bounds):
                kept_start, kept_end = bounds[j]
                if kept_start >= start and kept_end <= end:
                    del bounds[j]
                    del spans[j]
                else:
                    j += 1
            spans.append(cue)
            bounds.append((start, end))
    finally:
        free(ranges)
    if len(spans) > 1:
        order = sorted(range(len(spans)), key=lambda k: bounds[k][0])
        spans = [spans[k] for k in order]
    cdef list shown = []
    cdef set seen = set()
    for cue in spans:
        text = cue.describe()
        if text not in seen:
            seen.add(text)
            shown.append(_intern(text))
    for mention in mentions:
        # A duration's text is worth keeping: the same few phrases ("3 days", "since
        # Monday") recur in every batch, and describing one costs more than a lookup.
        text = _mention_texts.get(mention)
        if text is None:
            text = mention.describe()
            if len(_mention_texts) >= _MAX_CACHED:
                _mention_texts.clear()
            _mention_texts[mention] = text
        if text not in seen:
            seen.add(text)
            shown.append(_intern(text))
    if len(shown) > max_evidence:
        shown = [*shown[:max_evidence], f"... and {len(shown) - max_evidence} more"]
    return tuple(shown)



cdef enum:
    MAX_CLASSES = 16
    MAX_RULES = 64


cdef inline int _argmax(double* values, int n) noexcept:
    """``classifier.model._argmax``: the first largest value, NaN counting as largest."""
    cdef int best = 0, index
    cdef double value
    for index in range(1, n):
        value = values[index]
        if value > values[best] or (value != value and values[best] == values[best]):
            best = index
    return best


cdef class Decider:
    """``classifier.model.decide_rows`` for one class order and one tuple of label rules.

    The label rules read a text's current categories as a bit mask (one bit per category a
    rule names) instead of a frozenset per text, and the probabilities are C doubles: the
    same IEEE operations in the same order as the Python loop, so the same numbers to the
    last bit. Red flags are looked for (in Python, ``find_red_flags``) only in a text with
    a cue of a flag category, as ``find_red_flags`` itself checks first.
    """

    cdef list classes, label_columns, excludes, reasons
    cdef dict bits
    cdef int n_classes, other, n_rules
    cdef unsigned long long if_mask[MAX_RULES]
    cdef unsigned long long unless_mask[MAX_RULES]
    cdef bint has_if[MAX_RULES]
    cdef bint has_max[MAX_RULES]
    cdef long long max_tokens[MAX_RULES]
    cdef unsigned long long long_duration, impersonal_question, no_pain, other_person
    cdef double long_days, rule_alone_weight
    cdef object complaint_words, pain_words, analysis_type
    cdef list no_words_labels, no_words_reasons
    cdef object urgent_label, urgent_reason

    def __init__(
        self,
        classes,
        label_columns,
        int other,
        rules,
        double long_days,
        double rule_alone_weight,
        complaint_words,
        pain_words,
        analysis_type,
        no_words,
        urgent,
    ):
        """``rules`` are ``classifier.model._label_rules`` rows; ``no_words`` the
        ``(label, reason)`` pairs ruled out in a text without words, ``urgent`` the one ruled
        out in an urgent text. The caller checks ``Decider.fits`` first."""
        self.classes = list(classes)
        self.n_classes = len(self.classes)
        self.label_columns = list(label_columns)
        self.other = other
        self.long_days = long_days
        self.rule_alone_weight = rule_alone_weight
        self.complaint_words = complaint_words
        self.pain_words = pain_words
        self.analysis_type = analysis_type
        self.no_words_labels = [label for label, _ in no_words]
        self.no_words_reasons = [reason for _, reason in no_words]
        self.urgent_label, self.urgent_reason = urgent
        self.bits = {}
        self.excludes = []
        self.reasons = []
        self.n_rules = len(rules)
        cdef int index
        for index, (excludes, reason, if_any, unless_any, max_tokens) in enumerate(rules):
            self.excludes.append(excludes)
            self.reasons.append(reason)
            self.has_if[index] = if_any is not None
            self.if_mask[index] = self._mask_of(if_any or ())
            self.unless_mask[index] = self._mask_of(unless_any)
            self.has_max[index] = max_tokens is not None
            self.max_tokens[index] = max_tokens if max_tokens is not None else 0
        self.long_duration = self.bits.get("long_duration", 0)
        self.impersonal_question = self.bits.get("impersonal_question", 0)
        self.no_pain = self.bits.get("no_pain", 0)
        self.other_person = self.bits.get("other_person_complaint", 0)

    @staticmethod
    def fits(classes, rules):
        """Whether a class order and label rules are of the size this class handles."""
        categories = set()
        for _, _, if_any, unless_any, _ in rules:
            categories.update(if_any or ())
            categories.update(unless_any)
        return (
            len(set(classes)) == len(classes) <= MAX_CLASSES
            and len(rules) <= MAX_RULES
            and len(categories) <= 64
        )

    cdef unsigned long long _mask_of(self, categories) except? 0:
        cdef unsigned long long mask = 0
        for category in sorted(categories):
            if category not in self.bits:
                self.bits[category] = 1ULL << len(self.bits)
            mask |= <unsigned long long>self.bits[category]
        return mask

    cdef unsigned long long _current_mask(self, analysis) except? 0:
        """``analysis.current_categories`` as bits (only the categories a rule names)."""
        cdef unsigned long long mask = 0
        cdef dict bits = self.bits
        cdef bint negated_complaint = False, current_pain = False
        cdef bint any_current_complaint = False, all_other_person = True, is_current
        current = analysis._current if type(analysis) is self.analysis_type else None
        if current is not None or type(analysis) is not self.analysis_type:
            for category in analysis.current_categories:
                bit = bits.get(category)
                if bit is not None:
                    mask |= <unsigned long long>bit
            return mask
        for cue in analysis.cues:
            modifiers = cue.modifiers
            category = cue.category
            is_current = not modifiers or not (
                "NEGATED" in modifiers or "HYPOTHETICAL" in modifiers or "HISTORICAL" in modifiers
            )
            if is_current:
                bit = bits.get(category)
                if bit is not None:
                    mask |= <unsigned long long>bit
            if category in self.complaint_words:
                if modifiers and "NEGATED" in modifiers:
                    negated_complaint = True
                if is_current:
                    any_current_complaint = True
                    if category in self.pain_words:
                        current_pain = True
                    if not modifiers or "OTHER_PERSON" not in modifiers:
                        all_other_person = False
        days = analysis.duration_days
        if days is not None and days > self.long_days:
            mask |= self.long_duration
        if analysis.is_question and not analysis.first_person:
            mask |= self.impersonal_question
        if negated_complaint and not current_pain:
            mask |= self.no_pain
        if any_current_complaint and all_other_person:
            mask |= self.other_person
        return mask

    def decide(self, probabilities, list analyses, rules, flag_categories, find_red_flags):
        """The rows of ``decide_rows``: ``(label column, probabilities by label, red-flag
        findings, notes)`` per text."""
        cdef double[:, ::1] values = np.ascontiguousarray(probabilities, dtype=np.float64)
        cdef Py_ssize_t n_rows = values.shape[0], row
        cdef int n = self.n_classes, i, k, rule, n_excluded, n_definitional, n_allowed, index
        cdef double proba[MAX_CLASSES]
        cdef double model[MAX_CLASSES]
        cdef bint allowed[MAX_CLASSES]
        cdef double total, removed, share, weight = self.rule_alone_weight
        cdef unsigned long long current
        cdef bint definitional
        cdef list decisions = []
        cdef list notes
        cdef tuple no_notes = ()
        if values.shape[1] != n:
            raise ValueError(f"probabilities have {values.shape[1]} columns, classes {n}")
        if len(analyses) != n_rows:
            raise ValueError("probabilities and analyses differ in length")
        for row in range(n_rows):
            analysis = analyses[row]
            cues = analysis.cues
            findings = ()
            if cues:
                for cue in cues:
                    if cue.category in flag_categories:
                        findings = tuple(find_red_flags(analysis, rules))
                        break
            excluded_labels = []
            excluded_reasons = []
            if not analysis.has_words:
                excluded_labels += self.no_words_labels
                excluded_reasons += self.no_words_reasons
            if findings and self.urgent_label not in excluded_labels:
                excluded_labels.append(self.urgent_label)
                excluded_reasons.append(self.urgent_reason)
            n_definitional = len(excluded_labels)
            current = self._current_mask(analysis)
            n_tokens = analysis.n_tokens
            for rule in range(self.n_rules):
                if (
                    (not self.has_max[rule] or n_tokens <= self.max_tokens[rule])
                    and (not self.has_if[rule] or current & self.if_mask[rule])
                    and not (current & self.unless_mask[rule])
                    and self.excludes[rule] not in excluded_labels
                ):
                    excluded_labels.append(self.excludes[rule])
                    excluded_reasons.append(self.reasons[rule])
            for i in range(n):
                proba[i] = values[row, i]
            if not excluded_labels:
                total = 0.0
                for i in range(n):
                    total += proba[i]
                for i in range(n):
                    proba[i] = proba[i] / total
                decisions.append(
                    (_argmax(proba, n), self._by_label(proba), findings, no_notes)
                )
                continue
            n_excluded = len(excluded_labels)
            notes = []
            removed = 0.0
            for k in range(n_excluded):
                label = excluded_labels[k]
                index = self.classes.index(label) if label in self.classes else -1
                if index < 0 or proba[index] == 0.0:
                    continue
                if _argmax(proba, n) == index:
                    notes.append(f"not {label}: {excluded_reasons[k]}")
                removed += proba[index]
                proba[index] = 0.0
            n_allowed = 0
            for i in range(n):
                allowed[i] = self.classes[i] not in excluded_labels
                n_allowed += allowed[i]
            if removed > 0 and n_allowed:
                share = removed / n_allowed
                for i in range(n):
                    if allowed[i]:
                        proba[i] += share
            if not n_allowed:
                for i in range(n):
                    proba[i] = 0.0
                proba[self.other] = 1.0
            total = 0.0
            for i in range(n):
                total += proba[i]
            for i in range(n):
                proba[i] = proba[i] / total
            if removed > 0 and n_allowed == 1 and n_excluded > n_definitional:
                # A label rule decided the label alone: keep the model's doubt, among the
                # labels not ruled out by definition.
                total = 0.0
                for i in range(n):
                    definitional = False
                    for k in range(n_definitional):
                        if self.classes[i] == excluded_labels[k]:
                            definitional = True
                    model[i] = 0.0 if definitional else values[row, i]
                    total += model[i]
                if total > 0:
                    for i in range(n):
                        proba[i] = weight * proba[i] + (1.0 - weight) * (model[i] / total)
            decisions.append((_argmax(proba, n), self._by_label(proba), findings, tuple(notes)))
        return decisions

    cdef dict _by_label(self, double* proba):
        cdef dict shown = {}
        for label, index in self.label_columns:
            shown[label] = proba[<int>index]
        return shown


def predictions(
    list analyses,
    list rows,
    list classes,
    dict thresholds,
    version,
    hidden,
    Py_ssize_t max_evidence,
    knows_no_word,
    Py_ssize_t unknown_max_tokens,
    note_not_english,
    note_unknown_words,
    prediction_type,
    tuple setters,
):
    """``classifier.predict.Classifier.predict_analyses`` after ``decide_rows``: one
    ``Prediction`` per analysis and decided row, the same fields in the same order, built
    through its slots' setters."""
    cdef list built = []
    cdef Py_ssize_t row, n = len(analyses)
    cdef bint unusable, unsure
    if len(rows) != n:
        raise ValueError("one decided row per analysis")
    new = object.__new__
    for row in range(n):
        analysis = analyses[row]
        column, probabilities, findings, decision_notes = rows[row]
        label = classes[column]
        confidence = probabilities[label]
        notes = analysis.notes
        unusable = not analysis.has_words or note_not_english in notes
        if (
            not unusable
            and not analysis.cues
            and analysis.n_tokens <= unknown_max_tokens
            and knows_no_word(analysis.text)
        ):
            # No cue and no word the model has seen: its answer is its prior alone.
            unusable = True
            notes = (*notes, note_unknown_words)
        threshold = thresholds[label]
        unsure = confidence < threshold
        if unsure:
            notes = (
                *notes,
                *decision_notes,
                f"confidence {confidence:.2f} is below the review threshold for "
                f"{label} ({threshold:.2f})",
            )
        elif decision_notes or type(notes) is not tuple:
            notes = (*notes, *decision_notes)
        cues = analysis.cues
        mentions = analysis.durations
        values = (
            label,
            probabilities,
            confidence,
            bool(findings),
            tuple([f.describe() for f in findings]) if findings else (),
            tuple([f.flag for f in findings]) if findings else (),
            evidence(cues, mentions, hidden, max_evidence) if cues or mentions else (),
            analysis.duration_days,
            unsure or unusable,
            notes,
            version,
        )
        if len(values) != len(setters):
            raise ValueError("one value per Prediction field")
        prediction = new(prediction_type)
        for k in range(len(setters)):
            setters[k](prediction, values[k])
        built.append(prediction)
    return built
