# cython: language_level=3, boundscheck=False, wraparound=False, initializedcheck=False
# distutils: language = c++
"""Compiled hot path of the analysis, on integer arrays instead of per-token Python objects.

- ``table_columns``: the token table (offsets, sentence starts, punctuation counts);
- ``TokenPattern``: spaCy token patterns, matched as spaCy's ``Matcher`` matches them;
- ``resolve_cues``: the cue spans of the lexicon matches (longest per category, overrides);
- ``apply_context``: ConText trigger selection and scopes, modifiers as bitmasks;
- ``derive_combos``: the derived cues of the combo rules.

``classifier.fastpath`` loads this module when it was built (``pip install -e .`` compiles it)
and falls back to the pure-Python path otherwise; both give the same results
(``tests/test_fastpath.py``). Nothing here knows the rules: ``classifier.nlp`` compiles the
JSON rule files into the objects below at load.
"""

from cython.operator cimport dereference as deref
from libc.stdint cimport int8_t, int64_t, uint8_t, uint64_t
from libcpp.unordered_map cimport unordered_map
from libcpp.unordered_set cimport unordered_set
from libcpp.vector cimport vector

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
        # cache[k * n + i]: -1 not yet known, else whether token i satisfies predicate k.
        cdef vector[int8_t] cache_v = vector[int8_t](n_preds * n, -1)
        cdef vector[uint8_t] here_v = vector[uint8_t](n + 1, 0)
        cdef vector[uint8_t] after_v = vector[uint8_t](n + 1, 0)
        cdef int8_t* cache = cache_v.data()
        cdef uint8_t* here = here_v.data()
        cdef uint8_t* after = after_v.data()
        cdef uint8_t* swap
        cdef Py_ssize_t start, step, pos, count, low, high, p
        cdef Py_ssize_t lo_pos, hi_pos, next_lo, next_hi
        cdef Predicate first = self.predicates[0]
        cdef Predicate predicate
        for start in range(n):
            if self.lows[0] >= 1 and not _holds(first, 0, start, n, rows, strings, cache):
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
                        if not _holds(predicate, step, p, n, rows, strings, cache):
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
    Py_ssize_t n,
    const uint64_t[:, :] rows,
    object strings,
    int8_t* cache,
):
    cdef signed char known = cache[step * n + i]
    if known >= 0:
        return known == 1
    cdef bint result = predicate.test(rows, i, strings)
    cache[step * n + i] = 1 if result else 0
    return result


# ConText categories and directions as the codes ``classifier.nlp`` compiles the rules into.
cdef enum:
    CAT_NEGATED = 0
    CAT_HYPOTHETICAL = 1
    CAT_HISTORICAL = 2
    CAT_OTHER_PERSON = 3
    CAT_PSEUDO = 4
    CAT_TERMINATE = 5
    DIR_FORWARD = 1
    DIR_BACKWARD = 2


cdef class ContextRules:
    """The ConText rules as arrays: per rule its category, directions (a bitmask of forward
    and backward), scope limit in words (-1: none), the modifier categories it terminates
    (bitmask) and, per cue category index, whether it may modify that category."""

    cdef int[:] categories
    cdef int[:] directions
    cdef int[:] max_scopes
    cdef int[:] terminates
    cdef unsigned char[:, :] applies

    def __init__(self, categories, directions, max_scopes, terminates, applies):
        self.categories = np.asarray(categories, dtype=np.intc)
        self.directions = np.asarray(directions, dtype=np.intc)
        self.max_scopes = np.asarray(max_scopes, dtype=np.intc)
        self.terminates = np.asarray(terminates, dtype=np.intc)
        self.applies = np.asarray(applies, dtype=np.uint8)


cdef inline Py_ssize_t _words_between(tuple punct, Py_ssize_t start, Py_ssize_t end):
    return (end - start) - (<Py_ssize_t>punct[end] - <Py_ssize_t>punct[start])


MODIFIERS = ("NEGATED", "HYPOTHETICAL", "HISTORICAL", "OTHER_PERSON")


def apply_context(
    ContextRules rules,
    list matches,
    dict rule_index,
    list cues,
    dict category_index,
    tuple sentence_starts,
    Py_ssize_t length,
    tuple punct,
):
    """Add to each cue the ConText modifiers of the triggers whose scope it is in (in place).

    ``matches`` are ``(key, start, end)`` trigger matches in match order, ``rule_index`` maps
    a key to its rule; ``cues`` are ``classifier.context.Cue`` objects, ``category_index``
    maps their categories to the columns of ``rules.applies``. The same resolution as
    ``classifier.context.select_triggers`` then ``apply_context``: longest triggers first
    (ties in match order), a trigger inside a longer cue or a pseudo-trigger dropped, one
    category's triggers never overlapping; each trigger's scope runs to its sentence's end,
    its word limit or the first terminator.
    """
    cdef Py_ssize_t n_matches = len(matches)
    cdef Py_ssize_t n_cues = len(cues)
    cdef vector[int64_t] match_starts_v, match_ends_v, match_rules_v
    cdef vector[int64_t] cue_starts_v, cue_ends_v, cue_categories_v
    cdef vector[int64_t] sentence_starts_v
    cdef tuple match
    for match in matches:
        match_rules_v.push_back(rule_index[match[0]])
        match_starts_v.push_back(match[1])
        match_ends_v.push_back(match[2])
    for cue in cues:
        cue_starts_v.push_back(cue.start)
        cue_ends_v.push_back(cue.end)
        cue_categories_v.push_back(category_index[cue.category])
    for value in sentence_starts:
        sentence_starts_v.push_back(value)
    cdef int64_t* match_starts = match_starts_v.data()
    cdef int64_t* match_ends = match_ends_v.data()
    cdef int64_t* match_rules = match_rules_v.data()
    cdef int64_t* cue_starts = cue_starts_v.data()
    cdef int64_t* cue_ends = cue_ends_v.data()
    cdef int64_t* cue_categories = cue_categories_v.data()
    cdef Py_ssize_t n_sentences = sentence_starts_v.size()
    cdef vector[int] masks_v = vector[int](n_cues, 0)
    cdef int* masks = masks_v.data()
    cdef vector[Py_ssize_t] order_v = vector[Py_ssize_t](n_matches, 0)
    cdef Py_ssize_t* order = order_v.data()
    cdef Py_ssize_t i, j, k, c, m, a, b
    cdef int64_t start, end, t_start, t_end, seg_start, seg_end, scope_start, scope_end
    cdef int category, rule, other_rule, limit
    for i in range(n_matches):
        order[i] = i
    # Stable sort of the matches by (start - end, start): longest first, then leftmost.
    for i in range(1, n_matches):
        m = order[i]
        j = i - 1
        while j >= 0 and _match_after(order[j], m, match_starts, match_ends):
            order[j + 1] = order[j]
            j -= 1
        order[j + 1] = m
    # Kept triggers, in the order they were taken (taken[]), and those that are not pseudo.
    cdef vector[Py_ssize_t] taken_v = vector[Py_ssize_t](n_matches, 0)
    cdef Py_ssize_t* taken = taken_v.data()
    cdef Py_ssize_t n_taken = 0
    cdef bint blocked
    for i in range(n_matches):
        m = order[i]
        start = match_starts[m]
        end = match_ends[m]
        category = rules.categories[match_rules[m]]
        blocked = False
        for c in range(n_cues):
            if (
                cue_ends[c] - cue_starts[c] > 1
                and cue_starts[c] <= start
                and end <= cue_ends[c]
                and cue_ends[c] - cue_starts[c] > end - start
            ):
                blocked = True
                break
        if blocked:
            continue
        if category == CAT_HYPOTHETICAL or category == CAT_OTHER_PERSON:
            for k in range(n_taken):
                a = taken[k]
                if (
                    rules.categories[match_rules[a]] == CAT_HISTORICAL
                    and match_starts[a] <= start
                    and end <= match_ends[a]
                    and match_ends[a] - match_starts[a] > end - start
                ):
                    blocked = True
                    break
            if blocked:
                continue
        if category != CAT_TERMINATE:
            for k in range(n_taken):
                a = taken[k]
                other_rule = rules.categories[match_rules[a]]
                if (
                    start < match_ends[a]
                    and match_starts[a] < end
                    and (other_rule == category or other_rule == CAT_PSEUDO)
                ):
                    blocked = True
                    break
            if blocked:
                continue
        taken[n_taken] = m
        n_taken += 1
    # The triggers: taken and not pseudo, stably sorted by start.
    cdef vector[Py_ssize_t] triggers_v = vector[Py_ssize_t](n_taken, 0)
    cdef Py_ssize_t* triggers = triggers_v.data()
    cdef Py_ssize_t n_triggers = 0
    for k in range(n_taken):
        a = taken[k]
        if rules.categories[match_rules[a]] != CAT_PSEUDO:
            j = n_triggers - 1
            while j >= 0 and match_starts[triggers[j]] > match_starts[a]:
                triggers[j + 1] = triggers[j]
                j -= 1
            triggers[j + 1] = a
            n_triggers += 1
    for i in range(n_triggers):
        m = triggers[i]
        rule = match_rules[m]
        category = rules.categories[rule]
        if category > CAT_OTHER_PERSON:
            continue
        t_start = match_starts[m]
        t_end = match_ends[m]
        for c in range(n_cues):
            if (
                t_start <= cue_starts[c]
                and cue_ends[c] <= t_end
                and rules.applies[rule, cue_categories[c]]
            ):
                masks[c] |= 1 << category
        # The trigger's sentence: the last sentence start at or before it.
        k = 0
        for j in range(n_sentences):
            if sentence_starts_v[j] <= t_start:
                k = j
            else:
                break
        seg_start = sentence_starts_v[k]
        seg_end = sentence_starts_v[k + 1] if k + 1 < n_sentences else length
        limit = rules.max_scopes[rule]
        if rules.directions[rule] & DIR_FORWARD:
            if limit < 0:
                scope_end = seg_end
            else:
                scope_end = min(seg_end, t_end + limit)
                while scope_end < seg_end and _words_between(punct, t_end, scope_end) < limit:
                    scope_end += 1
            for j in range(n_triggers):
                a = triggers[j]
                if (
                    match_starts[a] >= t_end
                    and match_starts[a] < scope_end
                    and _terminates(rules, match_rules[a], category)
                ):
                    scope_end = match_starts[a]
                    break
            _mark(masks, category, rule, rules, t_end, scope_end, cue_starts, cue_ends,
                  cue_categories, n_cues)
        if rules.directions[rule] & DIR_BACKWARD:
            if limit < 0:
                scope_start = seg_start
            else:
                scope_start = max(seg_start, t_start - limit)
                while (
                    scope_start > seg_start
                    and _words_between(punct, scope_start, t_start) < limit
                ):
                    scope_start -= 1
            for j in range(n_triggers - 1, -1, -1):
                a = triggers[j]
                if (
                    match_ends[a] <= t_start
                    and match_ends[a] > scope_start
                    and _terminates(rules, match_rules[a], category)
                ):
                    scope_start = match_ends[a]
                    break
            _mark(masks, category, rule, rules, scope_start, t_start, cue_starts, cue_ends,
                  cue_categories, n_cues)
    for c in range(n_cues):
        if masks[c]:
            modifiers = cues[c].modifiers
            for k in range(4):
                if (masks[c] >> k) & 1:
                    modifiers.add(MODIFIERS[k])


cdef inline bint _match_after(Py_ssize_t a, Py_ssize_t b, int64_t* starts, int64_t* ends):
    """Whether match (or span) ``a`` sorts strictly after ``b`` by (start - end, start):
    longest first, then leftmost."""
    cdef int64_t key_a = starts[a] - ends[a]
    cdef int64_t key_b = starts[b] - ends[b]
    if key_a != key_b:
        return key_a > key_b
    return starts[a] > starts[b]


cdef inline bint _terminates(ContextRules rules, int rule, int category):
    return rules.categories[rule] == CAT_TERMINATE and (rules.terminates[rule] >> category) & 1


cdef inline void _mark(
    int* masks,
    int category,
    int rule,
    ContextRules rules,
    int64_t scope_start,
    int64_t scope_end,
    int64_t* cue_starts,
    int64_t* cue_ends,
    int64_t* cue_categories,
    Py_ssize_t n_cues,
):
    cdef Py_ssize_t c
    if scope_end <= scope_start:
        return
    for c in range(n_cues):
        if (
            cue_starts[c] < scope_end
            and scope_start < cue_ends[c]
            and rules.applies[rule, cue_categories[c]]
        ):
            masks[c] |= 1 << category


cdef class CueRules:
    """The lexicons as arrays: per cue category its name, whether it names a body site, and
    which categories its cues override (drop inside them)."""

    cdef list names
    cdef dict key_index
    cdef vector[uint8_t] sites
    cdef vector[uint8_t] overrides
    cdef vector[uint8_t] overriding
    cdef Py_ssize_t n_categories
    cdef dict possessives
    cdef object owner_skip
    cdef object cue_class

    def __init__(
        self, list names, dict key_index, list sites, list overrides, dict possessives,
        object owner_skip, object cue_class,
    ):
        self.names = names
        self.key_index = key_index
        self.n_categories = len(names)
        cdef Py_ssize_t i, j
        cdef uint8_t yes = 1, no = 0
        for i in range(self.n_categories):
            self.sites.push_back(yes if sites[i] else no)
            self.overriding.push_back(yes if overrides[i] else no)
            for j in range(self.n_categories):
                self.overrides.push_back(yes if j in overrides[i] else no)
        self.possessives = possessives
        self.owner_skip = owner_skip
        self.cue_class = cue_class

    cdef object owner(self, list norms, Py_ssize_t start):
        cdef Py_ssize_t index = start
        while index >= 0 and start - index <= 3:
            norm = norms[index]
            found = self.possessives.get(norm)
            if found is not None:
                return found
            if index < start and norm not in self.owner_skip:
                return None
            index -= 1
        return None


def resolve_cues(
    CueRules rules, list matches, list norms, list starts, list ends, str text,
    tuple sentence_starts,
):
    """The cues of one doc from its ``(key, start, end)`` lexicon matches, as
    ``classifier.nlp.CueMatcher`` resolves them: per category (in order of first match) the
    longest of overlapping spans, cues inside an overriding cue dropped, sorted by span."""
    cdef Py_ssize_t n_matches = len(matches)
    cdef Py_ssize_t n_tokens = len(norms)
    cdef Py_ssize_t n_categories = rules.n_categories
    cdef vector[int64_t] m_start, m_end, m_cat
    cdef vector[Py_ssize_t] rank = vector[Py_ssize_t](n_categories, -1)
    cdef vector[Py_ssize_t] rank_count
    cdef Py_ssize_t n_ranks = 0
    cdef Py_ssize_t i, j, k, a, b, cat, r, position
    cdef tuple match
    for match in matches:
        cat = rules.key_index[match[0]]
        m_cat.push_back(cat)
        m_start.push_back(match[1])
        m_end.push_back(match[2])
        if rank[cat] < 0:
            rank[cat] = n_ranks
            n_ranks += 1
            rank_count.push_back(0)
        rank_count[rank[cat]] += 1
    # Matches grouped by category in order of first appearance, match order inside a group.
    cdef vector[Py_ssize_t] group_start = vector[Py_ssize_t](n_ranks + 1, 0)
    for r in range(n_ranks):
        group_start[r + 1] = group_start[r] + rank_count[r]
    cdef vector[Py_ssize_t] fill = vector[Py_ssize_t](n_ranks, 0)
    cdef vector[Py_ssize_t] grouped = vector[Py_ssize_t](n_matches, 0)
    for i in range(n_matches):
        r = rank[m_cat[i]]
        grouped[group_start[r] + fill[r]] = i
        fill[r] += 1
    # Kept spans, in the order CueMatcher builds them; taken[t] == r marks token t used by r.
    cdef vector[Py_ssize_t] kept
    cdef vector[Py_ssize_t] taken = vector[Py_ssize_t](n_tokens, -1)
    cdef bint free
    for r in range(n_ranks):
        a = group_start[r]
        b = group_start[r + 1]
        if b - a == 1:
            kept.push_back(grouped[a])
            continue
        # Stable sort of the group by (start - end, start): longest first, then leftmost.
        for i in range(a + 1, b):
            k = grouped[i]
            j = i - 1
            while j >= a and _match_after(grouped[j], k, m_start.data(), m_end.data()):
                grouped[j + 1] = grouped[j]
                j -= 1
            grouped[j + 1] = k
        for i in range(a, b):
            k = grouped[i]
            free = True
            for position in range(m_start[k], m_end[k]):
                if taken[position] == r:
                    free = False
                    break
            if free:
                kept.push_back(k)
                for position in range(m_start[k], m_end[k]):
                    taken[position] = r
    # Cues inside a cue of a category that overrides theirs are dropped.
    cdef vector[Py_ssize_t] final
    cdef bint dropped
    cdef Py_ssize_t n_kept = kept.size()
    cdef bint any_overriding = False
    for i in range(n_kept):
        if rules.overriding[m_cat[kept[i]]]:
            any_overriding = True
            break
    for i in range(n_kept):
        k = kept[i]
        dropped = False
        if any_overriding:
            for j in range(n_kept):
                b = kept[j]
                if (
                    rules.overriding[m_cat[b]]
                    and rules.overrides[m_cat[b] * n_categories + m_cat[k]]
                    and m_start[b] <= m_start[k]
                    and m_end[k] <= m_end[b]
                ):
                    dropped = True
                    break
        if not dropped:
            final.push_back(k)
    # Stable sort by (start, end).
    cdef Py_ssize_t n_final = final.size()
    for i in range(1, n_final):
        k = final[i]
        j = i - 1
        while j >= 0 and (
            m_start[final[j]] > m_start[k]
            or (m_start[final[j]] == m_start[k] and m_end[final[j]] > m_end[k])
        ):
            final[j + 1] = final[j]
            j -= 1
        final[j + 1] = k
    cdef list cues = []
    cdef Py_ssize_t n_sentences = len(sentence_starts)
    cdef Py_ssize_t lo, hi, mid, start, end, start_char, end_char
    cue_class = rules.cue_class
    for i in range(n_final):
        k = final[i]
        start = m_start[k]
        end = m_end[k]
        cat = m_cat[k]
        start_char = starts[start]
        end_char = ends[end - 1]
        # bisect_right(sentence_starts, start) - 1
        lo = 0
        hi = n_sentences
        while lo < hi:
            mid = (lo + hi) // 2
            if start < <Py_ssize_t>sentence_starts[mid]:
                hi = mid
            else:
                lo = mid + 1
        cues.append(
            _new_cue(
                cue_class,
                rules.names[cat],
                start,
                end,
                start_char,
                end_char,
                text[start_char:end_char],
                lo - 1,
                set(),
                rules.owner(norms, start) if rules.sites[cat] else None,
            )
        )
    return cues


cdef object _new_cue(
    object cue_class,
    object category,
    Py_ssize_t start,
    Py_ssize_t end,
    Py_ssize_t start_char,
    Py_ssize_t end_char,
    object text,
    Py_ssize_t sentence,
    object modifiers,
    object owner,
):
    """``cue_class(category, start, ..., modifiers, owner=owner)`` without running the
    dataclass's ``__init__`` in the interpreter: the same fields set in the same order
    (``classifier.context.Cue`` has no ``__post_init__``)."""
    cue = cue_class.__new__(cue_class)
    cue.category = category
    cue.start = start
    cue.end = end
    cue.start_char = start_char
    cue.end_char = end_char
    cue.text = text
    cue.sentence = sentence
    cue.modifiers = modifiers
    cue.owner = owner
    return cue


_NOT_CURRENT = frozenset({"NEGATED", "HYPOTHETICAL", "HISTORICAL"})


cdef inline Py_ssize_t _gap(Py_ssize_t a_start, Py_ssize_t a_end, object b):
    cdef Py_ssize_t b_start = b.start, b_end = b.end
    cdef Py_ssize_t gap = b_start - a_end
    if a_start - b_end > gap:
        gap = a_start - b_end
    return gap if gap > 0 else 0


def derive_combos(list cues, list combos, str text, object cue_class):
    """The derived cues of ``classifier.nlp.ComboComponent``, added to ``cues`` (in place).

    ``combos`` holds per combo rule ``(category, first, first_set, groups, window)``: the
    anchor categories in the iteration order of the pure path's frozenset, that frozenset,
    the further groups (tuples of categories) and the window in tokens (-1: none).
    """
    cdef dict by_category = {}
    cdef list bucket, anchors, candidates, parts, derived = []
    cdef set seen
    cdef Py_ssize_t window, a_start, a_end, best_gap, gap, start, end, start_char, end_char
    cdef Py_ssize_t a_sentence
    cdef bint best_current, current, complete
    for cue in cues:
        bucket = by_category.get(cue.category)
        if bucket is None:
            by_category[cue.category] = [cue]
        else:
            bucket.append(cue)
    for category, first, first_set, groups, window in combos:
        if first_set.isdisjoint(by_category):
            continue
        complete = True
        for group in groups:
            if by_category.keys().isdisjoint(group):
                complete = False
                break
        if not complete:
            continue
        seen = set()
        anchors = []
        for name in first:
            bucket = by_category.get(name)
            if bucket is not None:
                anchors.extend(bucket)
        for anchor in anchors:
            parts = [anchor]
            a_start = anchor.start
            a_end = anchor.end
            a_sentence = anchor.sentence
            complete = True
            for group in groups:
                best = None
                best_current = False
                best_gap = 0
                for name in group:
                    bucket = by_category.get(name)
                    if bucket is None:
                        continue
                    for candidate in bucket:
                        if candidate.sentence != a_sentence:
                            continue
                        gap = _gap(a_start, a_end, candidate)
                        if window >= 0 and gap > window:
                            continue
                        current = not (candidate.modifiers & _NOT_CURRENT)
                        # min() by (not current, gap): the first of the smallest keys wins.
                        if (
                            best is None
                            or (current and not best_current)
                            or (current == best_current and gap < best_gap)
                        ):
                            best = candidate
                            best_current = current
                            best_gap = gap
                if best is None:
                    complete = False
                    break
                parts.append(best)
            if not complete:
                continue
            start = a_start
            end = a_end
            start_char = anchor.start_char
            end_char = anchor.end_char
            for part in parts:
                if part.start < start:
                    start = part.start
                if part.end > end:
                    end = part.end
                if part.start_char < start_char:
                    start_char = part.start_char
                if part.end_char > end_char:
                    end_char = part.end_char
            key = (start, end)
            if key in seen:
                continue
            seen.add(key)
            modifiers = set()
            owner = None
            for part in parts:
                modifiers |= part.modifiers
                if owner is None and part.owner:
                    owner = part.owner
            cue = _new_cue(
                cue_class,
                category,
                start,
                end,
                start_char,
                end_char,
                text[start_char:end_char],
                a_sentence,
                modifiers,
                owner,
            )
            derived.append(cue)
            bucket = by_category.get(category)
            if bucket is None:
                by_category[category] = [cue]
            else:
                bucket.append(cue)
    if derived:
        cues.extend(derived)
        cues.sort(key=_cue_order)
    return derived


def _cue_order(cue):
    return (cue.start, cue.end)


cdef enum:
    SIGNAL_FIRST_PERSON = 1
    SIGNAL_SELF_REFERENCE = 2
    SIGNAL_QUESTION_START = 4
    SIGNAL_QUESTION_MARK = 8
    SIGNAL_FOREIGN = 16
    SIGNAL_DEICTIC = 32


cdef class TextSignals:
    """The word sets ``classifier.analysis`` reads per text (NORM hashes): first-person
    words, self-reference words, question words, the question mark and the foreign function
    words and the deictic words, as one map from a hash to the bits of the sets that hold it."""

    cdef unordered_map[uint64_t, int] flags

    cdef Py_ssize_t deictic_reach

    def __init__(
        self, first_person, self_reference, question_start, question_mark, foreign, deictic,
        Py_ssize_t deictic_reach,
    ):
        self.deictic_reach = deictic_reach
        for bit, words in (
            (SIGNAL_FIRST_PERSON, first_person),
            (SIGNAL_SELF_REFERENCE, self_reference),
            (SIGNAL_QUESTION_START, question_start),
            (SIGNAL_QUESTION_MARK, question_mark),
            (SIGNAL_FOREIGN, foreign),
            (SIGNAL_DEICTIC, deictic),
        ):
            for value in words:
                self.flags[<uint64_t>value] |= bit

    cdef inline int of(self, uint64_t norm):
        cdef unordered_map[uint64_t, int].iterator found = self.flags.find(norm)
        if found == self.flags.end():
            return 0
        return deref(found).second


def text_signals(TextSignals signals, list norms, tuple segment_starts, Py_ssize_t length):
    """What ``classifier.analysis._analysis_from_table`` reads off the tokens, in one pass.

    ``norms`` are the tokens' NORM hashes (``TokenTable.norms``), ``segment_starts`` and
    ``length`` the sentences (``Segments``). Returns ``(is_question, first_person,
    self_reference, impersonal_questions, self_sentences, foreign)``: whether a question
    mark is in the text or its first word asks, whether a first-person or self-reference
    word is in it, the indexes of the sentences that ask without a first-person word (with
    a question mark, starting with a question word; not one whose first words point back,
    "could this be...", after a first-person sentence) and of those with a self-reference
    word (both frozensets, filled only when the text refers to the writer or asks), and the
    number of foreign function words.
    """
    cdef Py_ssize_t n = len(norms)
    cdef vector[int] token_flags = vector[int](n)
    cdef Py_ssize_t i, k, start, end
    cdef Py_ssize_t n_segments = len(segment_starts)
    cdef int seen = 0, here, flag, opening
    cdef bint spoken_of_self = False
    cdef Py_ssize_t foreign = 0
    for i in range(n):
        flag = signals.of(<uint64_t>norms[i])
        token_flags[i] = flag
        seen |= flag
        if flag & SIGNAL_FOREIGN:
            foreign += 1
    cdef bint is_question = (seen & SIGNAL_QUESTION_MARK) != 0 or (
        n > 0 and (token_flags[0] & SIGNAL_QUESTION_START) != 0
    )
    cdef bint self_reference = (seen & SIGNAL_SELF_REFERENCE) != 0
    impersonal = []
    self_sentences = []
    if n and (self_reference or is_question):
        for k in range(n_segments):
            start = segment_starts[k]
            end = segment_starts[k + 1] if k + 1 < n_segments else length
            here = 0
            opening = 0
            for i in range(start, end):
                here |= token_flags[i]
                if i - start < signals.deictic_reach:
                    opening |= token_flags[i]
            if here & SIGNAL_SELF_REFERENCE:
                self_sentences.append(k)
            if (
                here & SIGNAL_QUESTION_MARK
                and not (here & SIGNAL_FIRST_PERSON)
                and token_flags[start] & SIGNAL_QUESTION_START
                and not (spoken_of_self and opening & SIGNAL_DEICTIC)
            ):
                impersonal.append(k)
            if here & SIGNAL_FIRST_PERSON:
                spoken_of_self = True
    return (
        is_question,
        (seen & SIGNAL_FIRST_PERSON) != 0,
        self_reference,
        frozenset(impersonal),
        frozenset(self_sentences),
        foreign,
    )
