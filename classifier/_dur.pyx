# cython: language_level=3, boundscheck=False, wraparound=False, initializedcheck=False
# distutils: language = c++
"""Compiled driver of the duration rules: ``classifier.duration.find_durations`` without the
Python bookkeeping around its ``re`` calls.

``Scanner`` runs the rules of ``classifier.duration`` (``_RULES``, ``_STARTS``: passed in, not
copied) as the pure-Python ``_find_durations_python`` does: the same gates, the same regex
calls at the same offsets, the same handlers on the same matches, the same overlap
resolution. What it saves is the interpreter's work between them: the gates and each
literal's offsets are found once per text for every rule, the anchors' spans and their
windows once for all the rules that share them, and there are no generators, sets or
per-rule objects. Two exact shortcuts skip ``re`` calls that cannot match: a literal start
right after a word character (every pattern of ``_STARTS`` begins with ``\\b``), and
today's date is read only when a match needs it. Two more skip the costliest regex work:
a window is not searched when its rule's ``window_gate`` (a part of the pattern the engine
can skip to) is not in it, and the quantity before an anchor is tried only where it can
start (``quantity_before``).

``tests/test_duration_compiled.py`` compares it with the pure-Python function.
"""

from cpython.unicode cimport Py_UNICODE_ISALNUM, Py_UNICODE_ISSPACE, PyUnicode_Find
from libc.stdint cimport uint64_t
from libcpp.algorithm cimport sort, unique
from libcpp.vector cimport vector


cdef inline bint _is_word(Py_UCS4 char):
    """Whether ``re``'s ``\\w`` matches ``char`` in a str pattern (SRE_UNI_IS_WORD)."""
    return char == u"_" or Py_UNICODE_ISALNUM(char)


cdef inline bint _has_ascii_digit(str text):
    cdef Py_UCS4 char
    for char in text:
        if u"0" <= char <= u"9":
            return True
    return False


cdef class _Offsets:
    """Sorted offsets (a literal's starts), or spans (an anchor's matches)."""

    cdef vector[Py_ssize_t] starts
    cdef vector[Py_ssize_t] ends


cdef class Scanner:
    """The rules of ``classifier.duration`` and what ``find`` needs to run them.

    Parameters
    ----------
    rules : list of tuple
        Per rule, in rank order: ``(pattern, handle, gates, anchor, at_anchor, look_back,
        quantity_before, window_gate)`` as in ``classifier.duration._Rule``.
    starts : dict
        ``classifier.duration._STARTS``: per scanned pattern its ``(literal, needed)`` starts.
    stems : tuple of str
        A text with no ASCII digit and none of these holds no duration.
    quantity_tail : re.Pattern
        What a quantity ends with (``_QUANTITY_TAIL``): alternatives of ASCII letters and
        digits, then whitespace to the end (see ``quantity_before``).
    look_ahead, tail_look_back : int
        How far after an anchor a window reaches, and how far before an anchor the quantity
        tail is searched.
    max_days : float
        Mentions above it are dropped.
    ago_kind : str
        The kind of an onset; ``weak_onsets`` are the onset phrases dropped next to others.
    lower : callable
        ``classifier.duration._lower``, for a text whose lower-casing changes its length.
    reference : callable
        ``classifier.duration._find_durations_python``, for what is not exactly a ``str``.
    mention_class : type
        ``DurationMention``, built through its slots' setters (it is a frozen dataclass).
    today : callable
        ``datetime.date.today``; ``datetime_class`` is ``datetime.datetime``.
    """

    cdef list patterns
    cdef list handles
    cdef list window_gates
    cdef vector[uint64_t] rule_gates
    cdef vector[int] rule_scan  # the _STARTS entry scanned: the anchor's, or the pattern's
    cdef vector[int] rule_windows  # id of the (anchor, look-back, quantity gate) windows; -1
    cdef vector[bint] rule_anchored
    cdef vector[bint] rule_at_anchor
    cdef vector[Py_ssize_t] window_look_back
    cdef vector[bint] window_quantity
    cdef vector[int] window_scan
    cdef list gates
    cdef list scan_patterns
    cdef list scan_literals  # per _STARTS entry: list of (literal id, needed or None)
    cdef vector[bint] scan_boundary
    cdef list literals
    cdef tuple stems
    cdef object quantity_tail
    cdef Py_ssize_t look_ahead
    cdef Py_ssize_t tail_look_back
    cdef object max_days
    cdef str ago_kind
    cdef object weak_onsets
    cdef object lower
    cdef object reference
    cdef object mention_class
    cdef object new_object
    cdef tuple setters
    cdef object today
    cdef object datetime_class

    def __init__(
        self,
        list rules,
        dict starts,
        tuple stems,
        object quantity_tail,
        Py_ssize_t look_ahead,
        Py_ssize_t tail_look_back,
        object max_days,
        str ago_kind,
        object weak_onsets,
        object lower,
        object reference,
        object mention_class,
        object today,
        object datetime_class,
    ):
        cdef dict scan_index = {}
        cdef dict literal_index = {}
        cdef dict gate_index = {}
        cdef dict window_index = {}
        cdef uint64_t mask
        cdef bint boundary
        self.scan_patterns = []
        self.scan_literals = []
        self.literals = []
        for pattern, entries in starts.items():
            scan_index[pattern] = len(self.scan_patterns)
            self.scan_patterns.append(pattern)
            literal_ids = []
            for literal, needed in entries:
                if literal not in literal_index:
                    literal_index[literal] = len(self.literals)
                    self.literals.append(literal)
                literal_ids.append((literal_index[literal], needed))
            self.scan_literals.append(literal_ids)
            # A match of a pattern that begins with \b cannot start right after a word
            # character when the literal it starts with begins with one.
            boundary = pattern.pattern.startswith("\\b") and all(
                literal[:1].isalnum() for literal, _ in entries
            )
            self.scan_boundary.push_back(boundary)
        self.patterns = []
        self.handles = []
        self.gates = []
        self.window_gates = []
        for (
            pattern, handle, gates, anchor, at_anchor, look_back, quantity_before, window_gate
        ) in rules:
            self.patterns.append(pattern)
            self.handles.append(handle)
            self.window_gates.append(window_gate)
            mask = 0
            for gate in sorted(gates):
                if gate not in gate_index:
                    if len(self.gates) == 64:
                        raise ValueError("the duration rules have more than 64 gates")
                    gate_index[gate] = len(self.gates)
                    self.gates.append(gate)
                mask |= (<uint64_t>1) << <int>gate_index[gate]
            self.rule_gates.push_back(mask)
            self.rule_anchored.push_back(anchor is not None)
            self.rule_at_anchor.push_back(bool(at_anchor))
            self.rule_scan.push_back(scan_index[pattern if anchor is None else anchor])
            if anchor is None or at_anchor:
                self.rule_windows.push_back(-1)
                continue
            key = (anchor, look_back, bool(quantity_before))
            if key not in window_index:
                window_index[key] = self.window_scan.size()
                self.window_scan.push_back(scan_index[anchor])
                self.window_look_back.push_back(look_back)
                self.window_quantity.push_back(bool(quantity_before))
            self.rule_windows.push_back(window_index[key])
        self.stems = stems
        self.quantity_tail = quantity_tail
        self.look_ahead = look_ahead
        self.tail_look_back = tail_look_back
        self.max_days = max_days
        self.ago_kind = ago_kind
        self.weak_onsets = weak_onsets
        self.lower = lower
        self.reference = reference
        self.mention_class = mention_class
        self.new_object = object.__new__
        self.setters = tuple(getattr(mention_class, name).__set__ for name in mention_class.__slots__)
        self.today = today
        self.datetime_class = datetime_class

    cdef _Offsets _literal_offsets(self, int literal_id, bint boundary, str text, list cache):
        """Every offset of a literal in ``text`` (after a non-word character if
        ``boundary``), found once per text."""
        cdef Py_ssize_t slot = 2 * literal_id + (1 if boundary else 0)
        cdef _Offsets found = cache[slot]
        if found is not None:
            return found
        found = _Offsets()
        cdef str literal = self.literals[literal_id]
        cdef Py_ssize_t length = len(text)
        cdef Py_ssize_t at = PyUnicode_Find(text, literal, 0, length, 1)
        while at >= 0:
            if not boundary or at == 0 or not _is_word(text[at - 1]):
                found.starts.push_back(at)
            at = PyUnicode_Find(text, literal, at + 1, length, 1)
        cache[slot] = found
        return found

    cdef list _scan(self, int scan_id, str text, list literal_cache):
        """``classifier.duration._scan``: the pattern's matches, tried at its literals."""
        cdef list entries = self.scan_literals[scan_id]
        cdef bint boundary = self.scan_boundary[scan_id]
        cdef vector[Py_ssize_t] offsets
        cdef _Offsets found
        cdef int literal_id
        for literal_id, needed in entries:
            if needed is not None and needed not in text:
                continue
            found = self._literal_offsets(literal_id, boundary, text, literal_cache)
            offsets.insert(offsets.end(), found.starts.begin(), found.starts.end())
        if len(entries) > 1:
            sort(offsets.begin(), offsets.end())
            offsets.erase(unique(offsets.begin(), offsets.end()), offsets.end())
        cdef list matches = []
        cdef object pattern = self.scan_patterns[scan_id]
        cdef object match_at = pattern.match
        cdef Py_ssize_t resume = 0, at
        for at in offsets:
            if at < resume:
                continue
            match = match_at(text, at)
            if match is not None:
                resume = match.end()
                matches.append(match)
        return matches

    cdef _Offsets _anchor_spans(self, int scan_id, str text, list literal_cache, list spans_cache):
        cdef _Offsets spans = spans_cache[scan_id]
        if spans is not None:
            return spans
        spans = _Offsets()
        for match in self._scan(scan_id, text, literal_cache):
            start, end = match.span()
            spans.starts.push_back(start)
            spans.ends.push_back(end)
        spans_cache[scan_id] = spans
        return spans

    cdef _Offsets _windows(
        self, int window_id, str text, list literal_cache, list spans_cache, list windows_cache
    ):
        """The merged windows around an anchor's spans that a windowed rule searches."""
        cdef _Offsets windows = windows_cache[window_id]
        if windows is not None:
            return windows
        windows = _Offsets()
        cdef _Offsets spans = self._anchor_spans(
            self.window_scan[window_id], text, literal_cache, spans_cache
        )
        cdef Py_ssize_t look_back = self.window_look_back[window_id]
        cdef bint quantity = self.window_quantity[window_id]
        cdef Py_ssize_t length = len(text), i, start, low, high
        for i in range(<Py_ssize_t>spans.starts.size()):
            start = spans.starts[i]
            if quantity and not self._quantity_before(text, start):
                continue
            low = max(0, start - look_back)
            high = min(length, spans.ends[i] + self.look_ahead)
            if windows.starts.size() and low <= windows.ends.back():
                windows.ends[windows.ends.size() - 1] = high
            else:
                windows.starts.push_back(low)
                windows.ends.push_back(high)
        windows_cache[window_id] = windows
        return windows

    cdef bint _quantity_before(self, str text, Py_ssize_t start) except -1:
        """``quantity_tail.search(text, max(0, start - tail_look_back), start) is not None``.

        The tail is a word of ASCII letters and digits not preceded by a letter, then
        whitespace to ``start``: so it can only start in the run of letters and digits right
        before that whitespace, at its first character or after a digit; it is tried only
        there instead of at every offset of the range.
        """
        cdef Py_ssize_t low = max(0, start - self.tail_look_back)
        cdef Py_ssize_t word_end = start, at
        cdef Py_UCS4 char
        while word_end > low and Py_UNICODE_ISSPACE(text[word_end - 1]):
            word_end -= 1
        if word_end == start:
            return False
        at = word_end
        while at > low:
            char = text[at - 1]
            if not (u"a" <= char <= u"z" or u"0" <= char <= u"9"):
                break
            at -= 1
        match_at = self.quantity_tail.match
        while at < word_end:
            char = text[at - 1] if at > 0 else u" "
            if not (u"a" <= char <= u"z") and match_at(text, at, start) is not None:
                return True
            at += 1
        return False

    def quantity_before(self, str text, Py_ssize_t start):
        """Whether a quantity ends right before offset ``start`` (for the tests)."""
        return self._quantity_before(text, start)

    cdef list _rule_matches(
        self, int rank, str text, list literal_cache, list spans_cache, list windows_cache
    ):
        """``classifier.duration._Rule.matches``, as a list."""
        cdef int scan_id = self.rule_scan[rank]
        if not self.rule_anchored[rank]:
            return self._scan(scan_id, text, literal_cache)
        cdef _Offsets spans = self._anchor_spans(scan_id, text, literal_cache, spans_cache)
        cdef list matches = []
        cdef object pattern = self.patterns[rank]
        cdef Py_ssize_t i, n_spans = spans.starts.size(), low, high, mid, match_start, match_end
        if self.rule_at_anchor[rank]:
            match_at = pattern.match
            for i in range(n_spans):
                match = match_at(text, spans.starts[i])
                if match is not None:
                    matches.append(match)
            return matches
        cdef _Offsets windows = self._windows(
            self.rule_windows[rank], text, literal_cache, spans_cache, windows_cache
        )
        finditer = pattern.finditer
        window_gate = self.window_gates[rank]
        for i in range(<Py_ssize_t>windows.starts.size()):
            if (
                window_gate is not None
                and window_gate.search(text, windows.starts[i], windows.ends[i]) is None
            ):
                continue
            for match in finditer(text, windows.starts[i], windows.ends[i]):
                # Kept when it holds an anchor: the first anchor at or after its start.
                match_start, match_end = match.span()
                low = 0
                high = n_spans
                while low < high:
                    mid = (low + high) // 2
                    if spans.starts[mid] < match_start:
                        low = mid + 1
                    else:
                        high = mid
                if low < n_spans and spans.ends[low] <= match_end:
                    matches.append(match)
        return matches

    def find(self, text, today=None):
        """``classifier.duration.find_durations(text, today)``: the same mentions."""
        if type(text) is not str:
            # A str subclass may lower-case or slice its own way; not a str at all raises.
            return self.reference(text, today)
        cdef str original = text
        if not original:
            return []
        cdef str lowered = original.lower()
        if len(lowered) != len(original):
            lowered = self.lower(original)
        if not _has_ascii_digit(lowered):
            for stem in self.stems:
                if stem in lowered:
                    break
            else:
                return []
        cdef bint today_known = today is not None
        if today_known and isinstance(today, self.datetime_class):
            today = today.date()
        cdef uint64_t known = 0, present = 0, mask, bit
        cdef Py_ssize_t n_rules = len(self.patterns)
        cdef Py_ssize_t n_gates = len(self.gates)
        cdef int rank, gate
        cdef bint runs
        cdef list literal_cache = [None] * (2 * len(self.literals))
        cdef list spans_cache = [None] * len(self.scan_patterns)
        cdef list windows_cache = [None] * <Py_ssize_t>self.window_scan.size()
        cdef list candidates = []
        for rank in range(n_rules):
            mask = self.rule_gates[rank]
            runs = (mask & present) != 0
            if not runs:
                # The rule's gates not yet looked for, each once per text.
                for gate in range(n_gates):
                    bit = (<uint64_t>1) << gate
                    if not (mask & bit) or (known & bit):
                        continue
                    known |= bit
                    if self.gates[gate] in lowered:
                        present |= bit
                        runs = True
                        break
            if not runs:
                continue
            handle = self.handles[rank]
            for match in self._rule_matches(rank, lowered, literal_cache, spans_cache, windows_cache):
                if not today_known:
                    today = self.today()
                    today_known = True
                try:
                    result = handle(match, today)
                except (ValueError, OverflowError, KeyError):
                    continue  # an impossible date ("since Feb 30") or number: no mention
                if result is None or not 0.0 <= result[0] <= self.max_days:
                    continue
                start, end = match.span()
                candidates.append((start, -end, rank, result[0], result[1]))
        if not candidates:
            return []
        candidates.sort()
        cdef list mentions = []
        cdef list weak = []
        cdef Py_ssize_t covered_to = -1, start_at, end_at
        cdef bint any_weak = False, is_weak
        new_object = self.new_object
        mention_class = self.mention_class
        set_text, set_start, set_end, set_days, set_kind = self.setters
        for start, negative_end, _rank, days, kind in candidates:
            start_at = start
            if start_at < covered_to:
                continue
            end_at = -negative_end
            covered_to = end_at
            end = end_at
            mention = new_object(mention_class)
            set_text(mention, original[start_at:end_at])
            set_start(mention, start)
            set_end(mention, end)
            set_days(mention, days)
            set_kind(mention, kind)
            mentions.append(mention)
            is_weak = kind == self.ago_kind and (
                " ".join(lowered[start_at:end_at].split()) in self.weak_onsets
            )
            weak.append(is_weak)
            any_weak = any_weak or is_weak
        if any_weak and len(mentions) > 1:
            # A bare "today" or "this morning" next to other mentions is usually the present.
            kept = [mention for mention, dropped in zip(mentions, weak) if not dropped]
            if kept:
                return kept
        return mentions
