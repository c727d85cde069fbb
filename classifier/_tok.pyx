# cython: language_level=3, boundscheck=False, wraparound=False, initializedcheck=False
# distutils: language = c++
"""Compiled tokens and phrases: spaCy's tokens without building a ``Doc``.

- ``ChunkTokenizer``: the per-token array ``Doc.to_array`` would give for spaCy's tokenizer,
  built from a table of the space-separated chunks already seen;
- ``PhraseTable``: the matches spaCy's ``PhraseMatcher`` finds, from that array.

spaCy's tokenizer works in two stages. It cuts the text into chunks at whitespace (in
``Tokenizer._tokenize_affixes``: runs of non-space characters, and runs of whitespace other
than the single space that ends a word) and splits each chunk on its own, with the special
cases, prefixes, suffixes, infixes and the URL pattern, looking at nothing outside it. Then
it applies the special cases a chunk's affixes hid ("(:" in "x(:") with a phrase matcher
over the whole doc. Only that second stage can see across chunks, and only through a pair
of adjacent tokens that are adjacent in some special case ("'" then "s", ")" then ":").

So the tokens of a chunk are a function of the chunk alone, except at such a pair. This
module cuts the text exactly as spaCy does, in C, and looks each chunk up in a table that
holds, for each chunk seen, what spaCy gives for it. A chunk not yet in the table is given
to spaCy's tokenizer alone (a text with many new chunks is given to it whole, and the table
learns the chunks from its answer, except those next to such a pair, which it asks alone),
so Unicode, emoji, URLs and exceptions all go through spaCy the first time a chunk is seen.
The text is then assembled from the table, unless a pair at a chunk boundary sits beside a
chunk in which a special case changed what the affixes gave: then spaCy tokenizes the whole
text (the fallback; ``_pair_at_boundary`` says why that is enough).
"""

from cpython.unicode cimport Py_UNICODE_ISSPACE
from cython.operator cimport dereference as deref
from libc.stdint cimport int64_t, uint8_t, uint64_t
from libcpp.unordered_map cimport unordered_map
from libcpp.unordered_set cimport unordered_set
from libcpp.vector cimport vector

import numpy as np


cdef inline uint64_t _pair_key(uint64_t left, uint64_t right) nogil:
    # Two ORTH hashes as one key; a collision only sends a text to the fallback.
    return left * <uint64_t>0x9E3779B97F4A7C15 + (right ^ (right >> 29))


cdef class ChunkTokenizer:
    """spaCy's tokenizer as a table of chunks, with spaCy as the fallback.

    Parameters
    ----------
    tokenizer : spacy.tokenizer.Tokenizer
        The tokenizer to reproduce (and to fall back on).
    columns : list of int
        spaCy attribute IDs, as for ``Doc.to_array``; must hold ``IDX``, ``LENGTH``,
        ``ORTH`` and ``SPACY``, whose columns this class fills from the positions.
    attr_ids : tuple of int
        The IDs of ``IDX``, ``LENGTH``, ``ORTH`` and ``SPACY``.
    boundary_pairs : iterable of (int, int)
        ORTH hashes of tokens that follow each other in a special case the phrase-matching
        stage could apply (see ``_pair_at_boundary``).
    special_outputs : dict
        The tokens (a tuple of ORTH hashes) made by each of those special cases that change
        what the affixes give (other tokens, or another NORM), to the first and the last
        tokens (sets of ORTH hashes) the affixes give for it.
    max_chunks : int
        The table is emptied when it holds this many chunks (memory stays bounded; the
        answers stay the same).
    alone_limit : int
        A text with at most this many chunks not in the table has them tokenized by spaCy
        one by one (each alone: what the table holds); with more, spaCy tokenizes the
        whole text, and the table learns its chunks from that.
    """

    cdef object tokenizer
    cdef list columns
    cdef Py_ssize_t n_columns
    cdef Py_ssize_t idx_col, length_col, orth_col, spacy_col
    cdef dict index  # chunk text -> entry number
    cdef vector[int64_t] entry_first
    cdef vector[int64_t] entry_count
    cdef vector[uint8_t] entry_risky  # made by a special case inside (see _pair_at_boundary)
    cdef list entry_edges  # per risky entry: the tokens its first and last may stand for
    # Per token of the table: its attribute values (``n_columns`` each, in the order of
    # ``columns``) and its character offset in its chunk.
    cdef vector[uint64_t] piece_values
    cdef vector[int64_t] piece_offset
    cdef unordered_set[uint64_t] pairs
    cdef unordered_set[uint64_t] pair_left  # the first tokens of the pairs
    cdef unordered_set[uint64_t] pair_right  # the second tokens
    cdef dict special_outputs  # tokens made -> (first tokens, last tokens) of the affixes
    cdef frozenset rule_strings
    cdef frozenset output_firsts  # the first tokens of special_outputs
    cdef Py_ssize_t longest_output
    cdef Py_ssize_t max_chunks
    cdef public Py_ssize_t texts
    cdef public Py_ssize_t fallbacks
    cdef public Py_ssize_t boundary_fallbacks
    cdef public Py_ssize_t chunks_alone
    cdef Py_ssize_t generation  # how often the table was emptied
    cdef public Py_ssize_t alone_limit

    def __init__(
        self,
        tokenizer,
        list columns,
        tuple attr_ids,
        boundary_pairs,
        special_outputs,
        max_chunks=100000,
        alone_limit=4,
    ):
        self.tokenizer = tokenizer
        self.columns = list(columns)
        self.n_columns = len(columns)
        idx, length, orth, spacy = attr_ids
        self.idx_col = self.columns.index(idx)
        self.length_col = self.columns.index(length)
        self.orth_col = self.columns.index(orth)
        self.spacy_col = self.columns.index(spacy)
        self.index = {}
        for left, right in boundary_pairs:
            self.pairs.insert(_pair_key(<uint64_t>left, <uint64_t>right))
            self.pair_left.insert(<uint64_t>left)
            self.pair_right.insert(<uint64_t>right)
        self.special_outputs = {
            tuple(output): (frozenset(firsts), frozenset(lasts))
            for output, (firsts, lasts) in special_outputs.items()
        }
        self.entry_edges = []
        self.rule_strings = frozenset(tokenizer.rules or ())
        self.output_firsts = frozenset(output[0] for output in self.special_outputs if output)
        self.longest_output = max((len(output) for output in self.special_outputs), default=0)
        self.max_chunks = max_chunks
        self.texts = 0
        self.fallbacks = 0
        self.boundary_fallbacks = 0
        self.chunks_alone = 0
        self.alone_limit = alone_limit
        self.generation = 0

    def __len__(self):
        return len(self.index)

    def clear(self):
        """Forget every chunk (the answers do not change; the next texts fall back)."""
        self.generation += 1
        self.index.clear()
        self.entry_first.clear()
        self.entry_count.clear()
        self.entry_risky.clear()
        self.entry_edges.clear()
        self.piece_values.clear()
        self.piece_offset.clear()

    def __call__(self, str text):
        """The per-token array of ``text``: what ``tokenizer(text).to_array(columns)`` gives.

        Returns ``(array, fell_back)``: a ``(tokens, columns)`` uint64 array, and whether
        spaCy's tokenizer made it for the whole text (many chunks not yet in the table, or
        a boundary pair). A few new chunks are tokenized by spaCy one by one instead, each
        alone, and the text is then assembled from the table.
        """
        cdef vector[int64_t] chunk_start
        cdef vector[int64_t] chunk_end
        cdef vector[uint8_t] space_after
        cdef Py_ssize_t n = len(text)
        self.texts += 1
        if n == 0:
            return np.zeros((0, self.n_columns), dtype=np.uint64), False
        _cut(text, chunk_start, chunk_end, space_after)
        cdef Py_ssize_t n_chunks = chunk_start.size()
        cdef vector[int64_t] entries = vector[int64_t](n_chunks, -1)
        cdef Py_ssize_t k, total = 0, unknown = 0
        cdef object entry
        for k in range(n_chunks):
            entry = self.index.get(text[chunk_start[k]:chunk_end[k]])
            if entry is None:
                unknown += 1
                if unknown > self.alone_limit:
                    break
            else:
                entries[k] = <int64_t>entry
        if unknown and (
            unknown > self.alone_limit or len(self.index) + unknown > self.max_chunks
        ):
            # Many new chunks (a long post on first sight): one call of spaCy's tokenizer
            # costs less than one per chunk, and the table learns them from its answer.
            self.fallbacks += 1
            array = self._spacy(text)
            self._learn(text, array, chunk_start, chunk_end)
            return array, True
        cdef Py_ssize_t generation = self.generation
        if unknown:
            for k in range(n_chunks):
                if entries[k] < 0:
                    chunk = text[chunk_start[k]:chunk_end[k]]
                    entry = self.index.get(chunk)  # the same chunk may occur twice
                    if entry is None:
                        self.chunks_alone += 1
                        own = self._spacy(chunk)
                        entry = self._add(chunk, own, 0, own.shape[0], 0)
                    entries[k] = <int64_t>entry
            if self.generation != generation:
                # Another thread emptied the table while spaCy ran: the entries found
                # before are gone, so ask spaCy for the whole text.
                self.fallbacks += 1
                return self._spacy(text), True
        for k in range(n_chunks):
            total += self.entry_count[entries[k]]
        if not self._pair_at_boundary(entries):
            return self._assemble(entries, chunk_start, space_after, total), False
        self.fallbacks += 1
        self.boundary_fallbacks += 1
        return self._spacy(text), True

    cdef object _spacy(self, str text):
        array = self.tokenizer(text).to_array(self.columns)
        if array.ndim == 1:  # one column asked for: to_array gives a vector
            array = array.reshape(-1, 1)
        return array

    cdef bint _pair_at_boundary(self, vector[int64_t]& entries):
        """Whether the special-case stage could make this text's tokens differ from its
        chunks' own.

        A match across chunks never applies a rule (its text holds the space, and no
        special case with several tokens has one), but the stage keeps only the longest of
        overlapping matches, so a match across a boundary could hide one inside a chunk
        beside it. A chunk alone whose tokens hold nothing a special case makes (that the
        affixes would not) had no match inside it, and then its tokens in any text are
        its own: a pair at its boundary matters only beside a chunk that did ("risky").
        A risky chunk's first or last token may be one the special case made, not the one
        the stage matched (":3<<" gives ":3" where the stage saw ":" "3"), so that side
        of the pair is each token the affixes could have given there.
        """
        cdef Py_ssize_t k
        cdef int64_t left_entry, right_entry
        cdef uint64_t left, right
        if self.pairs.empty():
            return False
        for k in range(<Py_ssize_t>entries.size() - 1):
            left_entry = entries[k]
            right_entry = entries[k + 1]
            if not (self.entry_risky[left_entry] or self.entry_risky[right_entry]):
                continue
            left = self._value(self.entry_first[left_entry] + self.entry_count[left_entry] - 1)
            right = self._value(self.entry_first[right_entry])
            if self.pairs.count(_pair_key(left, right)):
                return True
            lefts = {left}
            rights = {right}
            if self.entry_risky[left_entry]:
                lefts |= self.entry_edges[left_entry][1]
            if self.entry_risky[right_entry]:
                rights |= self.entry_edges[right_entry][0]
            for left in lefts:
                for right in rights:
                    if self.pairs.count(_pair_key(left, right)):
                        return True
        return False

    cdef inline uint64_t _value(self, int64_t piece):
        return self.piece_values[piece * self.n_columns + self.orth_col]

    cdef object _assemble(
        self,
        vector[int64_t]& entries,
        vector[int64_t]& chunk_start,
        vector[uint8_t]& space_after,
        Py_ssize_t total,
    ):
        array = np.empty((total, self.n_columns), dtype=np.uint64)
        cdef uint64_t[:, ::1] rows = array
        cdef Py_ssize_t k, p, c, row = 0, first, count
        cdef const uint64_t* values
        for k in range(<Py_ssize_t>entries.size()):
            first = self.entry_first[entries[k]]
            count = self.entry_count[entries[k]]
            for p in range(first, first + count):
                values = &self.piece_values[p * self.n_columns]
                for c in range(self.n_columns):
                    rows[row, c] = values[c]
                rows[row, self.idx_col] = <uint64_t>(chunk_start[k] + self.piece_offset[p])
                row += 1
            # Only the chunk's last token can be followed by the space spaCy drops.
            rows[row - 1, self.spacy_col] = space_after[k]
        return array

    cdef void _learn(
        self,
        str text,
        object array,
        vector[int64_t]& chunk_start,
        vector[int64_t]& chunk_end,
    ):
        """Add the chunks of a tokenized text to the table, from spaCy's own tokens."""
        cdef const uint64_t[:, :] rows = array
        cdef Py_ssize_t n = rows.shape[0]
        cdef Py_ssize_t n_chunks = chunk_start.size()
        cdef Py_ssize_t k, t = 0, c
        cdef int64_t start, end, position
        cdef vector[int64_t] bounds = vector[int64_t](n_chunks + 1, 0)
        for k in range(n_chunks):
            start = chunk_start[k]
            end = chunk_end[k]
            bounds[k] = t
            position = start
            # The tokens of one chunk cover it exactly, one after another.
            while t < n and <int64_t>rows[t, self.idx_col] == position and position < end:
                position += <int64_t>rows[t, self.length_col]
                t += 1
            if position != end or t == bounds[k]:
                return  # not what the chunks predict: learn nothing from this text
        if t != n:
            return
        bounds[n_chunks] = n
        # Next to a boundary pair, this text's tokens of a chunk may not be the chunk's
        # own (see _pair_at_boundary): such a chunk is tokenized alone instead.
        cdef vector[uint8_t] alone = vector[uint8_t](n_chunks, 0)
        for k in range(1, n_chunks):
            t = bounds[k]
            if self.pairs.count(_pair_key(rows[t - 1, self.orth_col], rows[t, self.orth_col])):
                alone[k - 1] = 1
                alone[k] = 1
        for k in range(n_chunks):
            chunk = text[chunk_start[k]:chunk_end[k]]
            if chunk in self.index:
                continue
            if alone[k]:
                self.chunks_alone += 1
                own = self._spacy(chunk)
                self._add(chunk, own, 0, own.shape[0], 0)
            else:
                self._add(chunk, array, bounds[k], bounds[k + 1], chunk_start[k])

    cdef int64_t _add(
        self, str chunk, object array, Py_ssize_t first, Py_ssize_t end, int64_t start
    ):
        """Add one chunk: rows ``[first, end)`` of ``array``, whose chunk starts at ``start``;
        returns its entry number."""
        cdef const uint64_t[:, :] rows = array
        cdef Py_ssize_t t, c, length
        cdef bint risky = False
        cdef list orths = [rows[t, self.orth_col] for t in range(first, end)]
        # A chunk that is a special case is made by it before the stage: the stage can only
        # make it again, so that match changes nothing, hidden or not.
        cdef bint whole_rule = chunk in self.rule_strings
        cdef Py_ssize_t count = end - first
        cdef set firsts = set()
        cdef set lasts = set()
        for t in range(count):
            if orths[t] not in self.output_firsts:
                continue
            for length in range(1, min(self.longest_output, count - t) + 1):
                if whole_rule and t == 0 and length == count:
                    continue
                edges = self.special_outputs.get(tuple(orths[t : t + length]))
                if edges is not None:
                    risky = True
                    if t == 0:
                        firsts |= edges[0]
                    if t + length == count:
                        lasts |= edges[1]
        cdef int64_t number
        if len(self.index) >= self.max_chunks:
            self.clear()
        number = <int64_t>self.entry_count.size()
        self.index[chunk] = number
        self.entry_first.push_back(<int64_t>self.piece_offset.size())
        self.entry_count.push_back(end - first)
        for t in range(first, end):
            for c in range(self.n_columns):
                self.piece_values.push_back(rows[t, c])
            self.piece_offset.push_back(<int64_t>rows[t, self.idx_col] - start)
        self.entry_risky.push_back(risky)
        self.entry_edges.append((frozenset(firsts), frozenset(lasts)) if risky else None)
        return number


cdef void _cut(
    str text,
    vector[int64_t]& chunk_start,
    vector[int64_t]& chunk_end,
    vector[uint8_t]& space_after,
):
    """The chunks spaCy's ``Tokenizer._tokenize_affixes`` splits one by one, and for each
    whether a single space after it was dropped (its last token's ``SPACY``)."""
    cdef Py_ssize_t n = len(text)
    cdef Py_ssize_t i, start = 0
    cdef Py_UCS4 ch
    cdef bint in_ws = Py_UNICODE_ISSPACE(text[0])
    for i in range(n):
        ch = text[i]
        if Py_UNICODE_ISSPACE(ch) != in_ws:
            if start < i:
                chunk_start.push_back(start)
                chunk_end.push_back(i)
                space_after.push_back(0)
            if ch == u" " and not space_after.empty():
                space_after[space_after.size() - 1] = 1
                start = i + 1
            else:
                start = i
            in_ws = not in_ws
    if start < n:
        chunk_start.push_back(start)
        chunk_end.push_back(n)
        space_after.push_back(0)


def cut(str text):
    """The ``(start, end, space_after)`` chunks of ``text`` (for tests)."""
    cdef vector[int64_t] starts
    cdef vector[int64_t] ends
    cdef vector[uint8_t] spaces
    if not text:
        return []
    _cut(text, starts, ends, spaces)
    return [(starts[k], ends[k], bool(spaces[k])) for k in range(<Py_ssize_t>starts.size())]


cdef inline uint64_t _extend(uint64_t hashed, uint64_t norm) nogil:
    # A hash of a token sequence, one token at a time; sequences are compared in full
    # on a hit, so a collision costs a comparison, never a wrong match.
    return (hashed ^ (norm + <uint64_t>0x9E3779B97F4A7C15 + (hashed << 6) + (hashed >> 2))) * <uint64_t>0xFF51AFD7ED558CCD


cdef class PhraseTable:
    """Token phrases found as spaCy's ``PhraseMatcher`` finds them, by a hash of n-grams.

    Parameters
    ----------
    phrases : list of (tuple of int, list of int)
        Each distinct phrase (its tokens' attribute values, e.g. NORM hashes) and the match
        keys that phrase was added under, in the order the ``PhraseMatcher`` gives them
        for one span (``classifier.nlp`` asks the matcher itself).
    column : int
        The column of the per-token array to match on.
    """

    cdef unordered_map[uint64_t, int64_t] entries
    cdef unordered_set[uint64_t] prefixes
    cdef vector[vector[uint64_t]] sequences
    cdef list keys
    cdef Py_ssize_t longest
    cdef Py_ssize_t column

    def __init__(self, list phrases, Py_ssize_t column):
        cdef uint64_t hashed
        cdef vector[uint64_t] sequence
        self.keys = []
        self.longest = 0
        self.column = column
        for tokens, keys in phrases:
            if not tokens or not keys:
                continue
            sequence.clear()
            hashed = 0
            for value in tokens:
                hashed = _extend(hashed, <uint64_t>value)
                sequence.push_back(<uint64_t>value)
                self.prefixes.insert(hashed)
            if self.entries.count(hashed):
                if self.sequences[self.entries[hashed]] == sequence:
                    raise ValueError(f"phrase {tokens} given twice")
                raise ValueError(f"two phrases share a hash: {tokens}")
            self.entries[hashed] = <int64_t>self.sequences.size()
            self.sequences.push_back(sequence)
            self.keys.append(list(keys))
            if len(tokens) > self.longest:
                self.longest = len(tokens)

    def __len__(self):
        return self.sequences.size()

    def matches(self, object array):
        """Every ``(key, start, end)`` in the order of ``PhraseMatcher.__call__``: by start,
        then by length, then the keys of one phrase in the matcher's order."""
        cdef const uint64_t[:, :] rows = array
        cdef Py_ssize_t n = rows.shape[0]
        cdef Py_ssize_t start, end, t, entry
        cdef uint64_t hashed
        cdef list found = []
        cdef unordered_map[uint64_t, int64_t].iterator hit
        cdef bint same
        if rows.shape[1] <= self.column:
            raise ValueError("the array has no such column")
        for start in range(n):
            hashed = 0
            for end in range(start + 1, min(n, start + self.longest) + 1):
                hashed = _extend(hashed, rows[end - 1, self.column])
                if not self.prefixes.count(hashed):
                    break
                hit = self.entries.find(hashed)
                if hit == self.entries.end():
                    continue
                entry = deref(hit).second
                if <Py_ssize_t>self.sequences[entry].size() != end - start:
                    continue
                same = True
                for t in range(end - start):
                    if self.sequences[entry][t] != rows[start + t, self.column]:
                        same = False
                        break
                if same:
                    for key in self.keys[entry]:
                        found.append((key, start, end))
        return found
