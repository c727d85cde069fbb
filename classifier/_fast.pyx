# cython: language_level=3, boundscheck=False, wraparound=False, initializedcheck=False
# distutils: language = c++
"""Compiled hot path of the analysis: token tables and token-pattern matching on integer arrays.

``classifier.fastpath`` loads this module when it was built (``pip install -e .`` compiles it)
and falls back to the pure-Python path otherwise; both give the same results
(``tests/test_fastpath.py``). Nothing here knows the rules: ``classifier.nlp`` compiles the
JSON rule files into the objects below at load.
"""

from libc.stdint cimport int64_t, uint64_t
from libcpp.unordered_map cimport unordered_map
from libcpp.unordered_set cimport unordered_set

import numpy as np

# Columns of the per-token array ``classifier.nlp`` reads with one ``Doc.to_array`` call.
cdef enum:
    COL_NORM = 0
    COL_IDX = 1
    COL_LENGTH = 2
    COL_IS_SPACE = 3
    COL_IS_ALPHA = 4
    COL_IS_STOP = 5
    COL_IS_PUNCT = 6
    COL_ORTH = 7
    COL_LIKE_NUM = 8
    COL_SPACY = 9
N_COLUMNS = 10


def table_columns(object array, object sentence_ends, str text):
    """The fields of a ``TokenTable`` from the per-token array, in one pass over the tokens.

    Returns ``(norms, starts, ends, sentence_starts, punct, words, stop_words)``: NORM
    hashes, character offsets, token offsets where sentences start (after terminal
    punctuation, and after a whitespace token holding a line break), the running count of
    punctuation tokens (``punct[i]`` is the number in ``[0, i)``), and the counts of
    alphabetic tokens and of alphabetic stop words.
    """
    cdef const uint64_t[:, :] rows = array
    cdef Py_ssize_t n = rows.shape[0]
    cdef Py_ssize_t i
    cdef int64_t start, length
    cdef list norms = [None] * n
    cdef list starts = [None] * n
    cdef list ends = [None] * n
    cdef list punct = [0] * (n + 1)
    cdef list sentence_starts = [0]
    cdef Py_ssize_t words = 0, stop_words = 0, punct_count = 0
    cdef bint has_newline = "\n" in text
    cdef bint ends_here, next_ends
    cdef object norm, next_norm
    for i in range(n):
        norms[i] = rows[i, COL_NORM]
    for i in range(n):
        start = <int64_t>rows[i, COL_IDX]
        length = <int64_t>rows[i, COL_LENGTH]
        starts[i] = start
        ends[i] = start + length
        if rows[i, COL_IS_ALPHA]:
            words += 1
            if rows[i, COL_IS_STOP]:
                stop_words += 1
        if rows[i, COL_IS_PUNCT]:
            punct_count += 1
        punct[i + 1] = punct_count
        if i + 1 < n:
            norm = norms[i]
            if norm in sentence_ends and norms[i + 1] not in sentence_ends:
                sentence_starts.append(i + 1)
            elif (
                has_newline
                and rows[i, COL_IS_SPACE]
                and "\n" in text[start : start + length]
            ):
                sentence_starts.append(i + 1)
    return norms, starts, ends, sentence_starts, punct, words, stop_words


# A regex predicate remembers its answer per token text (ORTH hash); texts are few.
cdef size_t MAX_MEMO = 1000000


cdef class Predicate:
    """What one token of a spaCy token pattern must be: the conjunction of its attributes.

    A ``None`` set or pattern means "any"; the flags are -1 (any), 0 (False) or 1 (True).
    """

    cdef bint has_norms
    cdef bint has_orths
    cdef unordered_set[uint64_t] norms
    cdef unordered_set[uint64_t] orths
    cdef object text_regex
    cdef object lower_regex
    cdef object lower_not_in
    cdef int is_punct
    cdef int like_num
    cdef int spacy
    cdef bint needs_text
    cdef unordered_map[uint64_t, bint] text_memo

    def __init__(
        self,
        norms=None,
        orths=None,
        text_regex=None,
        lower_regex=None,
        lower_not_in=None,
        int is_punct=-1,
        int like_num=-1,
        int spacy=-1,
    ):
        self.has_norms = norms is not None
        self.has_orths = orths is not None
        for value in norms or ():
            self.norms.insert(<uint64_t>value)
        for value in orths or ():
            self.orths.insert(<uint64_t>value)
        self.text_regex = text_regex
        self.lower_regex = lower_regex
        self.lower_not_in = lower_not_in
        self.is_punct = is_punct
        self.like_num = like_num
        self.spacy = spacy
        self.needs_text = text_regex is not None or lower_regex is not None or (
            lower_not_in is not None
        )

    cdef bint test(self, const uint64_t[:, :] rows, Py_ssize_t i, object strings):
        if self.is_punct >= 0 and (rows[i, COL_IS_PUNCT] != 0) != (self.is_punct == 1):
            return False
        if self.like_num >= 0 and (rows[i, COL_LIKE_NUM] != 0) != (self.like_num == 1):
            return False
        if self.spacy >= 0 and (rows[i, COL_SPACY] != 0) != (self.spacy == 1):
            return False
        if self.has_norms and self.norms.count(rows[i, COL_NORM]) == 0:
            return False
        if self.has_orths and self.orths.count(rows[i, COL_ORTH]) == 0:
            return False
        if self.needs_text:
            return self.text_test(rows[i, COL_ORTH], strings)
        return True

    cdef bint text_test(self, uint64_t orth_hash, object strings):
        cdef unordered_map[uint64_t, bint].iterator found = self.text_memo.find(orth_hash)
        if found != self.text_memo.end():
            return self.text_memo[orth_hash]
        cdef bint result = True
        cdef str orth = strings[orth_hash]
        cdef str lower
        if self.text_regex is not None and self.text_regex.search(orth) is None:
            result = False
        if result and (self.lower_regex is not None or self.lower_not_in is not None):
            lower = orth.lower()
            if self.lower_regex is not None and self.lower_regex.search(lower) is None:
                result = False
            elif self.lower_not_in is not None and lower in self.lower_not_in:
                result = False
        if self.text_memo.size() >= MAX_MEMO:
            self.text_memo.clear()
        self.text_memo[orth_hash] = result
        return result


cdef class TokenPattern:
    """A spaCy token pattern as steps: a predicate, how often it may repeat (min, max)."""

    cdef list predicates
    cdef int[:] lows
    cdef int[:] highs
    cdef Py_ssize_t n_steps

    def __init__(self, list predicates, list lows, list highs):
        if not (len(predicates) == len(lows) == len(highs)) or not predicates:
            raise ValueError("a pattern needs one (low, high) per predicate, and a predicate")
        self.predicates = predicates
        self.lows = np.asarray(lows, dtype=np.intc)
        self.highs = np.asarray(highs, dtype=np.intc)
        self.n_steps = len(predicates)

    def matches(self, object array, object strings):
        """Every ``(start, end)`` span the pattern matches, as spaCy's ``Matcher`` finds them
        without ``greedy``: all lengths at every start, each span once, no empty span.
        """
        cdef const uint64_t[:, :] rows = array
        cdef Py_ssize_t n = rows.shape[0]
        cdef list found = []
        if n == 0:
            return found
        cdef Py_ssize_t n_preds = self.n_steps
        # cache[k, i]: -1 not yet known, else whether token i satisfies predicate k.
        cdef signed char[:, :] cache = np.full((n_preds, n), -1, dtype=np.int8)
        cdef unsigned char[:] here = np.zeros(n + 1, dtype=np.uint8)
        cdef unsigned char[:] after = np.zeros(n + 1, dtype=np.uint8)
        cdef unsigned char[:] swap
        cdef Py_ssize_t start, step, pos, count, low, high, p
        cdef Py_ssize_t lo_pos, hi_pos, next_lo, next_hi
        cdef Predicate first = self.predicates[0]
        cdef Predicate predicate
        for start in range(n):
            if self.lows[0] >= 1 and not _holds(first, 0, start, rows, strings, cache):
                continue
            # States are token offsets in [lo_pos, hi_pos]; only that range is ever dirty.
            here[start] = 1
            lo_pos = start
            hi_pos = start
            for step in range(n_preds):
                predicate = self.predicates[step]
                low = self.lows[step]
                high = self.highs[step]
                next_lo = n + 1
                next_hi = -1
                for pos in range(lo_pos, hi_pos + 1):
                    if not here[pos]:
                        continue
                    here[pos] = 0
                    count = 0
                    p = pos
                    while True:
                        if count >= low:
                            after[p] = 1
                            if p < next_lo:
                                next_lo = p
                            if p > next_hi:
                                next_hi = p
                        if (high >= 0 and count >= high) or p >= n:
                            break
                        if not _holds(predicate, step, p, rows, strings, cache):
                            break
                        count += 1
                        p += 1
                swap = here
                here = after
                after = swap
                lo_pos = next_lo
                hi_pos = next_hi
                if hi_pos < 0:
                    break
            for pos in range(lo_pos, hi_pos + 1):
                if here[pos]:
                    here[pos] = 0
                    if pos > start:
                        found.append((start, pos))
        return found


cdef inline bint _holds(
    Predicate predicate,
    Py_ssize_t step,
    Py_ssize_t i,
    const uint64_t[:, :] rows,
    object strings,
    signed char[:, :] cache,
):
    cdef signed char known = cache[step, i]
    if known >= 0:
        return known == 1
    cdef bint result = predicate.test(rows, i, strings)
    cache[step, i] = 1 if result else 0
    return result

