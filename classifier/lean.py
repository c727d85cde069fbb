"""The fitted model as plain arrays: probabilities without scikit-learn on the prediction path.

A painclf model is a scikit-learn pipeline (word TF-IDF and cue features joined in a
``FeatureUnion``, a ``LinearSVC`` calibrated by temperature scaling). Predicting with
it through scikit-learn costs about 2 ms a call in input validation alone, and
importing scikit-learn pulls in pandas, pyarrow and SciPy's statistics. ``LeanModel``
holds what that pipeline computes with (the vocabulary, the IDF weights, the cue
columns, the coefficients, the intercepts and the inverse temperature) and computes
the same probabilities with numpy: to 1e-12, tested against the pipeline in
``tests/test_lean.py``.

It is built from a fitted pipeline (``LeanModel.from_pipeline``) or read straight from a
``model.skops`` file (``LeanModel.from_skops``) by ``read_skops``, a reader of the skops
format that only ever builds dicts, lists, strings, numbers and numpy arrays (arrays are
read with ``allow_pickle=False``), so reading a model this way runs no code from it. A
model of another shape (another calibration, another vectoriser setting) is refused
with ``UnsupportedModel`` and the caller uses scikit-learn instead.
"""

from __future__ import annotations

import importlib
import io
import json
import math
import re
import unicodedata
import zipfile
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from classifier.config import LONG_DURATION_DAYS
from classifier.cue_counts import (
    DURATION_BUCKET_BOUNDS,
    DURATION_BUCKET_NAMES,
    column_index,
    cue_counts,
)
from classifier.fastpath import pure_python_forced
from classifier.registry import ModelError, ModelRef, resolve

if TYPE_CHECKING:
    from classifier.analysis import Analysis

_SKOPS_PROTOCOLS = (1, 2)
# Term counts up to this get their tf from a table (see ``LeanModel.term_frequencies``).
_TF_TABLE_SIZE = 256
# scikit-learn's default token pattern: its tokens hold no space, so a vocabulary term
# with one space is a bigram of two terms (what the compiled word block relies on).
_DEFAULT_TOKEN_PATTERN = r"(?u)\b\w\w+\b"


@cache
def post_module() -> Any:
    """The compiled module ``classifier._post``, or None: not built, or
    ``PAINCLF_PURE_PYTHON`` set (then numpy and Python compute the same numbers; the
    analysis warns once when the compiled modules were not built)."""
    if pure_python_forced():
        return None
    try:
        return importlib.import_module("classifier._post")
    except ImportError:
        return None


class UnsupportedModel(ValueError):
    """The model is not of the shape ``LeanModel`` computes; use scikit-learn for it."""


@dataclass(frozen=True, slots=True)
class SkopsObject:
    """An object in a skops file, not constructed: its class name and its attributes."""

    type_name: str
    attrs: dict[str, Any]


# Every object type a painclf pipeline file holds; ``from_skops`` refuses any other, as
# ``registry.load_pipeline`` refuses types off its trusted list.
PIPELINE_TYPES = frozenset(
    {
        "sklearn.pipeline.Pipeline",
        "sklearn.pipeline.FeatureUnion",
        "sklearn.feature_extraction.text.TfidfVectorizer",
        "sklearn.feature_extraction.text.TfidfTransformer",
        "classifier.features.CueFeaturizer",
        "sklearn.calibration.CalibratedClassifierCV",
        "sklearn.calibration._CalibratedClassifier",
        "sklearn.calibration._TemperatureScaling",
        "sklearn.svm._classes.LinearSVC",
        "sklearn.model_selection._split.StratifiedKFold",
    }
)


def read_skops(source: str | Path | bytes, object_types: frozenset[str] | None = None) -> Any:
    """The object tree of a skops file, as plain data; runs no code from the file.

    Objects come back as ``SkopsObject`` (class name and attribute dict), types as their
    dotted names, arrays as numpy arrays (``allow_pickle=False``; object arrays from
    their JSON items), and dicts, lists, tuples, strings and numbers as themselves.

    Raises
    ------
    UnsupportedModel
        The file holds a node this reader does not know (a function, an operator,
        a sparse matrix...), an object whose type is not in ``object_types`` (when
        given), or is not a skops file of a known protocol.
    """
    data = Path(source).read_bytes() if not isinstance(source, bytes) else source
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            schema = json.loads(archive.read("schema.json"))
            if schema.get("protocol") not in _SKOPS_PROTOCOLS:
                raise UnsupportedModel(f"skops protocol {schema.get('protocol')!r}")
            return _SkopsReader(archive, object_types).node(schema)
    except (zipfile.BadZipFile, KeyError, json.JSONDecodeError) as error:
        raise UnsupportedModel(f"not a readable skops file: {error}") from None


class _SkopsReader:
    def __init__(self, archive: zipfile.ZipFile, object_types: frozenset[str] | None) -> None:
        self.archive = archive
        self.object_types = object_types
        self.seen: dict[Any, Any] = {}

    def node(self, state: dict[str, Any]) -> Any:
        loader = state.get("__loader__")
        if loader == "CachedNode":
            key = str(state.get("__id__"))
            if key not in self.seen:
                raise UnsupportedModel(f"a cached node refers to an unknown id {key}")
            return self.seen[key]
        value = self._build(loader, state)
        if "__id__" in state:
            self.seen[str(state["__id__"])] = value
        return value

    def _build(self, loader: Any, state: dict[str, Any]) -> Any:
        if loader == "JsonNode":
            return json.loads(state["content"])
        if loader == "ListNode":
            items = state["content"]
            if len(items) > 16 and all(_loader_of(item) == "TypeNode" for item in items):
                # A dict's key types: one per key, 60,000 in a model's vocabulary.
                types = [f"{item['__module__']}.{item['__class__']}" for item in items]
                self._remember(items, types)
                return types
            return [self.node(item) for item in items]
        if loader == "TupleNode":
            return tuple(self.node(item) for item in state["content"])
        if loader == "DictNode":
            key_types = self.node(state["key_types"])
            content = state["content"]
            if len(key_types) != len(content):
                raise UnsupportedModel("a dict whose keys and key types differ in number")
            converters = {"builtins.str": str, "builtins.int": int, "builtins.float": float}
            states = list(content.values())
            if len(states) > 16 and all(_loader_of(item) == "JsonNode" for item in states):
                # A vocabulary (term -> column): its JSON values parsed in one call, not
                # one json.loads each; the same values.
                values = json.loads("[" + ",".join(item["content"] for item in states) + "]")
                self._remember(states, values)
            else:
                values = [self.node(item) for item in states]
            result = {}
            for key_type, key, value in zip(key_types, content, values, strict=True):
                convert = converters.get(key_type)
                if convert is None:
                    raise UnsupportedModel(f"a dict key of type {key_type}")
                result[convert(key)] = value
            return result
        if loader == "TypeNode":
            return f"{state['__module__']}.{state['__class__']}"
        if loader == "NdArrayNode":
            return self._array(state)
        if loader == "ObjectNode":
            type_name = f"{state['__module__']}.{state['__class__']}"
            if self.object_types is not None and type_name not in self.object_types:
                raise UnsupportedModel(f"an object of type {type_name}")
            content = state.get("content")
            attrs = self.node(content) if content is not None else {}
            if not isinstance(attrs, dict):
                raise UnsupportedModel(f"{state['__class__']} has a non-dict state")
            return SkopsObject(type_name, attrs)
        raise UnsupportedModel(f"skops node {loader!r}")

    def _remember(self, states: list[Any], values: list[Any]) -> None:
        """Keep each value by its state's id, as ``node`` does, for later cached nodes."""
        seen = self.seen
        for state, value in zip(states, values, strict=True):
            if "__id__" in state:
                seen[str(state["__id__"])] = value

    def _array(self, state: dict[str, Any]) -> Any:
        if state.get("type") == "numpy":
            array = np.load(io.BytesIO(self.archive.read(state["file"])), allow_pickle=False)
            name = f"{state['__module__']}.{state['__class__']}"
            if name == "numpy.ndarray":
                return array
            if state["__module__"] == "numpy" and array.ndim == 0:
                return array[()]  # a numpy scalar (float64...) stored as a 0-d array
            raise UnsupportedModel(f"an array of type {name}")
        if state.get("type") == "json":
            items = [self.node(item) for item in state["content"]]
            shape = self.node(state["shape"])
            array = np.empty(len(items), dtype=object)
            array[:] = items
            return array.reshape(shape)
        raise UnsupportedModel(f"an array stored as {state.get('type')!r}")


def _loader_of(state: Any) -> Any:
    return state.get("__loader__") if type(state) is dict else None


def strip_accents_unicode(text: str) -> str:
    """Accents removed as scikit-learn's ``strip_accents="unicode"`` removes them."""
    if text.isascii():
        return text
    normalized = unicodedata.normalize("NFKD", text)
    # Combining marks are never ASCII: only the runs of other characters are filtered.
    return _NON_ASCII.sub(_without_combining, normalized)


_NON_ASCII = re.compile(r"[^\x00-\x7f]+")


def _without_combining(match: re.Match[str]) -> str:
    return "".join([c for c in match.group() if not unicodedata.combining(c)])


@dataclass(frozen=True)
class WordAnalyzer:
    """scikit-learn's word analyzer (``TfidfVectorizer.build_analyzer()``) for the settings
    painclf uses: lower case, optional accent stripping, a token pattern, word n-grams."""

    lowercase: bool
    strip_accents: str | None
    token_pattern: str
    ngram_range: tuple[int, int]

    def __post_init__(self) -> None:
        pattern = re.compile(self.token_pattern)
        if pattern.groups > 1:
            raise UnsupportedModel("a token pattern with more than one group")
        object.__setattr__(self, "_findall", pattern.findall)

    def __call__(self, text: str) -> list[str]:
        if self.lowercase:
            text = text.lower()
        if self.strip_accents == "unicode":
            text = strip_accents_unicode(text)
        tokens: list[str] = self._findall(text)  # type: ignore[attr-defined]
        min_n, max_n = self.ngram_range
        if max_n == 1:
            return tokens
        grams = list(tokens) if min_n == 1 else []
        count = len(tokens)
        join = " ".join
        for n in range(max(min_n, 2), min(max_n + 1, count + 1)):
            grams.extend(join(tokens[i : i + n]) for i in range(count - n + 1))
        return grams


def _attrs(node: Any, *type_names: str) -> dict[str, Any]:
    type_name = getattr(node, "type_name", None)
    if type_name not in type_names:
        raise UnsupportedModel(f"expected {' or '.join(type_names)}, found {type_name}")
    return node.attrs


_VECTORIZER = "sklearn.feature_extraction.text.TfidfVectorizer"
_CUES = "classifier.features.CueFeaturizer"


class LeanModel:
    """A fitted painclf pipeline as arrays; ``predict_proba`` is the pipeline's.

    Parameters
    ----------
    analyzer : WordAnalyzer
        The word vectoriser's analyzer.
    vocabulary : dict of str to int
        Term -> column of the word block.
    idf : ndarray or None
        IDF weight of each word column (None: ``use_idf=False``).
    sublinear_tf, binary : bool
        The word vectoriser's settings.
    norm : {"l2", "l1", None}
        Row normalisation of the word block.
    cue_names : sequence of str
        Names of the cue block's columns (``CueFeaturizer.feature_names_``).
    max_count : int
        The cue featurizer's count cap.
    weights : (float, float)
        ``FeatureUnion`` weights of the word block and the cue block.
    coef : ndarray of shape (n_classes, n_features)
        The linear model's coefficients.
    intercept : ndarray of shape (n_classes,)
        Its intercepts.
    beta : float
        The temperature scaling's inverse temperature.
    classes : sequence of str
        Class order of the probability columns.
    """

    def __init__(
        self,
        *,
        analyzer: WordAnalyzer,
        vocabulary: dict[str, int],
        idf: np.ndarray | None,
        sublinear_tf: bool,
        binary: bool,
        norm: str | None,
        cue_names: Sequence[str],
        max_count: int,
        weights: tuple[float, float],
        coef: np.ndarray,
        intercept: np.ndarray,
        beta: float,
        classes: Sequence[str],
    ) -> None:
        if norm not in ("l2", "l1", None):
            raise UnsupportedModel(f"word norm {norm!r}")
        n_words, n_cues = len(vocabulary), len(cue_names)
        coef = np.asarray(coef, dtype=np.float64)
        if coef.shape != (len(classes), n_words + n_cues) or len(intercept) != len(classes):
            raise UnsupportedModel(
                f"coefficients of shape {coef.shape} for {len(classes)} classes and "
                f"{n_words} + {n_cues} features"
            )
        self.analyzer = analyzer
        self.vocabulary = vocabulary
        self.idf = None if idf is None else np.asarray(idf, dtype=np.float64)
        self.sublinear_tf = sublinear_tf
        self.binary = binary
        self.norm = norm
        self.max_count = int(max_count)
        self._tf_table = self._tf_of(np.arange(_TF_TABLE_SIZE))
        self.word_weight, self.cue_weight = float(weights[0]), float(weights[1])
        # One row per feature, so a row of features is one fancy-indexed sum.
        self.coef_t = np.ascontiguousarray(coef.T)
        self.intercept = np.asarray(intercept, dtype=np.float64)
        self.beta = float(beta)
        self.classes = [str(c) for c in classes]
        self.cue_names = [str(n) for n in cue_names]
        # Built once (the featurizer builds them on every call): column of each
        # (category, modifier or None) and of each signal, offset past the word block.
        self.cue_columns, self.signal_columns = column_index(self.cue_names, start=n_words)
        self._compiled = self._compile()

    def __getstate__(self) -> dict[str, Any]:
        # The compiled form holds C arrays: rebuilt from the rest when unpickled (a
        # Classifier sent to ``--jobs`` workers).
        return {key: value for key, value in vars(self).items() if key != "_compiled"}

    def __setstate__(self, state: dict[str, Any]) -> None:
        vars(self).update(state)
        self._compiled = self._compile()

    @property
    def compiled(self) -> bool:
        """Whether decision values are computed by the compiled loop (``classifier._post``)."""
        return self._compiled is not None

    def _compile(self) -> Any:
        """The compiled form of this model (``classifier._post.CompiledModel``), or None
        when the module was not built, ``PAINCLF_PURE_PYTHON`` is set, or the model is of
        a shape it does not handle; then numpy computes the same numbers."""
        _post = post_module()
        if _post is None:
            return None
        analyzer = self.analyzer
        if analyzer.token_pattern != _DEFAULT_TOKEN_PATTERN or analyzer.ngram_range not in (
            (1, 1),
            (1, 2),
        ):
            return None
        if len(self.classes) > 16 or analyzer.strip_accents not in (None, "unicode"):
            return None
        bigrams: dict[tuple[int, int], int] = {}
        vocabulary = self.vocabulary
        for term, column in vocabulary.items():
            if " " not in term:
                continue
            parts = term.split(" ")
            first, second = (vocabulary.get(part) for part in parts) if len(parts) == 2 else (0, 0)
            if len(parts) != 2 or first is None or second is None:
                return None  # a bigram whose words are not terms: left to the Python path
            bigrams[(first, second)] = column
        modifier_columns: dict[str, dict[str, int]] = {}
        current_columns: dict[str, int] = {}
        for (category, modifier), column in self.cue_columns.items():
            if modifier is None:
                current_columns[category] = column
            else:
                modifier_columns.setdefault(category, {})[modifier] = column
        names = [f"duration:{bucket}" for bucket in DURATION_BUCKET_NAMES] + [
            "cue:long_duration",
            "text:question",
            "text:impersonal_question",
            "text:first_person",
            "text:no_words",
            "text:short_text",
            "text:long_text",
        ]
        return _post.CompiledModel(
            vocabulary=vocabulary,
            bigrams=bigrams,
            findall=re.compile(analyzer.token_pattern).findall,
            lowercase=analyzer.lowercase,
            strip_accents=strip_accents_unicode if analyzer.strip_accents else None,
            tf_table=np.ascontiguousarray(self._tf_table),
            tf_of=self._tf_of,
            idf=None if self.idf is None else np.ascontiguousarray(self.idf),
            norm={None: _post.NORM_NONE, "l2": _post.NORM_L2, "l1": _post.NORM_L1}[self.norm],
            word_weight=self.word_weight,
            coef_t=self.coef_t,
            intercept=np.ascontiguousarray(self.intercept),
            modifier_columns=modifier_columns,
            current_columns=current_columns,
            signal_columns=[self.signal_columns.get(name, -1) for name in names],
            cap=self.max_count,
            cue_weight=self.cue_weight,
            long_duration_days=float(LONG_DURATION_DAYS),
            bucket_bounds=[float(upper) for upper in DURATION_BUCKET_BOUNDS],
        )

    # --- building -----------------------------------------------------------------------------

    @classmethod
    def from_skops(cls, source: str | Path | bytes) -> LeanModel:
        """Read a ``model.skops`` file without scikit-learn (see ``read_skops``); a file
        holding an object of a type a painclf pipeline does not is refused."""
        return cls.from_tree(read_skops(source, PIPELINE_TYPES))

    @classmethod
    def from_tree(cls, tree: Any) -> LeanModel:
        """From ``read_skops``'s tree of a painclf pipeline."""
        steps = dict(_attrs(tree, "sklearn.pipeline.Pipeline")["steps"])
        union = _attrs(steps.get("features"), "sklearn.pipeline.FeatureUnion")
        calibrated = _attrs(steps.get("classifier"), "sklearn.calibration.CalibratedClassifierCV")
        blocks = dict(union["transformer_list"])
        weights = union.get("transformer_weights") or {}
        if list(blocks) != ["words", "cues"]:
            raise UnsupportedModel(f"feature blocks {list(blocks)}")
        words = _attrs(blocks["words"], _VECTORIZER)
        tfidf = _attrs(words["_tfidf"], "sklearn.feature_extraction.text.TfidfTransformer")
        cues = _attrs(blocks["cues"], _CUES)
        svc, beta = cls._calibration(calibrated["calibrated_classifiers_"], calibrated)
        settings = {
            "sublinear_tf": bool(tfidf["sublinear_tf"]),
            "norm": tfidf["norm"],
            "use_idf": bool(tfidf["use_idf"]),
        }
        cls._check_vectorizer(words)
        return cls(
            analyzer=WordAnalyzer(
                lowercase=bool(words["lowercase"]),
                strip_accents=words["strip_accents"],
                token_pattern=words["token_pattern"],
                ngram_range=tuple(words["ngram_range"]),
            ),
            vocabulary=dict(words["vocabulary_"]),
            idf=np.asarray(tfidf["idf_"]) if settings["use_idf"] else None,
            sublinear_tf=settings["sublinear_tf"],
            binary=bool(words["binary"]),
            norm=settings["norm"],
            cue_names=list(cues["feature_names_"]),
            max_count=int(cues["max_count"]),
            weights=(float(weights.get("words", 1.0)), float(weights.get("cues", 1.0))),
            coef=np.asarray(svc["coef_"]),
            intercept=np.asarray(svc["intercept_"]),
            beta=beta,
            classes=list(calibrated["classes_"]),
        )

    @staticmethod
    def _calibration(members: Any, calibrated: dict[str, Any]) -> tuple[dict[str, Any], float]:
        if not isinstance(members, list) or len(members) != 1:
            raise UnsupportedModel("a calibration ensemble (ensemble=True)")
        member = _attrs(members[0], "sklearn.calibration._CalibratedClassifier")
        if member["method"] != "temperature" or len(member["calibrators"]) != 1:
            raise UnsupportedModel(f"calibration method {member['method']!r}")
        scaling = _attrs(member["calibrators"][0], "sklearn.calibration._TemperatureScaling")
        svc = _attrs(member["estimator"], "sklearn.svm._classes.LinearSVC")
        classes = [str(c) for c in calibrated["classes_"]]
        if len(classes) < 3 or [str(c) for c in member["classes"]] != classes:
            raise UnsupportedModel(f"classes {classes} (three or more, the same in each part)")
        # The linear model is fitted on the encoded labels (0, 1, 2: sorted classes).
        encoded = [c.item() if hasattr(c, "item") else c for c in svc["classes_"]]
        if encoded != list(range(len(classes))) and [str(c) for c in encoded] != classes:
            raise UnsupportedModel("the linear model's classes are not the calibrated ones")
        return svc, float(scaling["beta_"])

    @staticmethod
    def _check_vectorizer(words: dict[str, Any]) -> None:
        defaults = {
            "analyzer": "word",
            "input": "content",
            "preprocessor": None,
            "tokenizer": None,
            "stop_words": None,
        }
        for key, expected in defaults.items():
            if words.get(key) != expected:
                raise UnsupportedModel(f"word vectoriser {key}={words.get(key)!r}")
        if words.get("strip_accents") not in (None, "unicode"):
            raise UnsupportedModel(f"strip_accents={words.get('strip_accents')!r}")
        if words.get("dtype") not in ("numpy.float64", None):
            raise UnsupportedModel(f"word vectoriser dtype {words.get('dtype')}")

    @classmethod
    def from_pipeline(cls, pipeline: Any) -> LeanModel:
        """From a fitted painclf pipeline object (the same parameters as ``from_skops``)."""
        from sklearn.feature_extraction.text import TfidfVectorizer

        from classifier.features import CueFeaturizer

        union = pipeline.named_steps["features"]
        blocks = dict(union.transformer_list)
        if list(blocks) != ["words", "cues"]:
            raise UnsupportedModel(f"feature blocks {list(blocks)}")
        words, cues = blocks["words"], blocks["cues"]
        if not isinstance(words, TfidfVectorizer) or not isinstance(cues, CueFeaturizer):
            raise UnsupportedModel("feature blocks of other types")
        calibrated = pipeline.named_steps["classifier"]

        def as_node(obj: Any) -> SkopsObject:
            kind = type(obj)
            return SkopsObject(f"{kind.__module__}.{kind.__qualname__}", vars(obj))

        def dtype_name(dtype: Any) -> str:
            return f"{np.dtype(dtype).type.__module__}.{np.dtype(dtype).type.__name__}"

        word_attrs = {**vars(words), "dtype": dtype_name(words.dtype)}
        word_attrs["_tfidf"] = as_node(words._tfidf)
        members = []
        for member in getattr(calibrated, "calibrated_classifiers_", []):
            attrs = dict(vars(member))
            attrs["estimator"] = as_node(member.estimator)
            attrs["calibrators"] = [as_node(c) for c in member.calibrators]
            members.append(SkopsObject(as_node(member).type_name, attrs))
        tree = SkopsObject(
            "sklearn.pipeline.Pipeline",
            {
                "steps": [
                    (
                        "features",
                        SkopsObject(
                            "sklearn.pipeline.FeatureUnion",
                            {
                                "transformer_list": [
                                    ("words", SkopsObject(_VECTORIZER, word_attrs)),
                                    ("cues", as_node(cues)),
                                ],
                                "transformer_weights": union.transformer_weights,
                            },
                        ),
                    ),
                    (
                        "classifier",
                        SkopsObject(
                            "sklearn.calibration.CalibratedClassifierCV",
                            {**vars(calibrated), "calibrated_classifiers_": members},
                        ),
                    ),
                ]
            },
        )
        return cls.from_tree(tree)

    # --- features -----------------------------------------------------------------------------

    def word_counts(self, text: str) -> dict[int, int]:
        """Column -> count of the vocabulary terms in one text, in order of appearance.

        (scikit-learn sorts a row's columns; the sums over them differ in the last bits
        at most, and a text gets the same order alone and in a batch.)
        """
        counts = Counter(map(self.vocabulary.get, self.analyzer(text)))
        counts.pop(None, None)
        return counts

    def term_frequencies(self, counts: Sequence[int]) -> np.ndarray:
        """The tf of each count: 1, ``1 + log(count)`` (sublinear) or the count itself.

        Looked up in a table computed once with numpy, so one text scored alone and the
        same text in a batch get the very same floats.
        """
        counts = np.asarray(counts, dtype=np.intp)
        if counts.size and counts.max() >= len(self._tf_table):
            return self._tf_of(counts)
        return self._tf_table[counts]

    def _tf_of(self, counts: np.ndarray) -> np.ndarray:
        values = counts.astype(np.float64)
        if self.binary:
            values[:] = 1.0
        elif self.sublinear_tf:
            with np.errstate(divide="ignore"):
                np.log(values, out=values)
            values += 1.0
        return values

    def _word_block(self, counts: np.ndarray, columns: np.ndarray, lengths: np.ndarray) -> Any:
        """TF-IDF values of many rows' counts (concatenated), as the vectoriser computes
        them: sublinear tf, idf, then each row scaled to unit norm."""
        values = self.term_frequencies(counts)
        if self.idf is not None:
            values = values * self.idf[columns]
        if self.norm is not None and values.size:
            sizes = values * values if self.norm == "l2" else np.abs(values)
            # Added up in order, as scikit-learn's row normalisation does.
            totals = _row_sums(sizes, lengths)
            if self.norm == "l2":
                np.sqrt(totals, out=totals)
            totals[totals == 0.0] = 1.0
            values /= np.repeat(totals, lengths)
        if self.word_weight != 1.0:
            values *= self.word_weight
        return values

    def _word_values_one(self, columns: list[int], counts: list[int]) -> list[float]:
        """``_word_block`` for one row, in plain floats (the same operations in the same
        order: a few numpy calls cost more than the arithmetic of one short text)."""
        if not columns:
            return []
        values = self.term_frequencies(counts)
        if self.idf is not None:
            values = values * self.idf[columns]
        row: list[float] = values.tolist()
        if self.norm is not None:
            total = 0.0
            for value in row:
                total += value * value if self.norm == "l2" else abs(value)
            if total != 0.0:
                scale = math.sqrt(total) if self.norm == "l2" else total
                row = [value / scale for value in row]
        if self.word_weight != 1.0:
            row = [value * self.word_weight for value in row]
        return row

    def cue_features(self, analysis: Analysis) -> dict[int, float]:
        """Column -> value of the cue block, as ``CueFeaturizer.transform_analyses``."""
        cap = self.max_count
        counts = cue_counts(analysis, self.cue_columns, self.signal_columns, cap)
        scale = float(cap)
        weight = self.cue_weight
        return {column: min(count, scale) / scale * weight for column, count in counts.items()}

    # --- probabilities ------------------------------------------------------------------------

    def decision_function(self, texts: Sequence[str], analyses: Sequence[Analysis]) -> np.ndarray:
        """The linear model's decision values, shape ``(n_texts, n_classes)``.

        One text or many, each row is computed the same way, so a text gets the same
        numbers alone as in any batch: by the compiled loop when it is there, else by
        ``decision_function_numpy`` (the same numbers, bit for bit).
        """
        if self._compiled is not None:
            return self._compiled.decisions(list(texts), list(analyses))
        return self.decision_function_numpy(texts, analyses)

    def decision_function_numpy(
        self, texts: Sequence[str], analyses: Sequence[Analysis]
    ) -> np.ndarray:
        """``decision_function`` in Python and numpy, without the compiled loop."""
        n = len(analyses)
        if n == 1:
            return self._decision_one(texts[0], analyses[0])
        word_columns: list[int] = []
        word_counts: list[int] = []
        word_lengths = np.empty(n, dtype=np.intp)
        cue_columns: list[int] = []
        cue_values: list[float] = []
        cue_lengths = np.empty(n, dtype=np.intp)
        for row, (text, analysis) in enumerate(zip(texts, analyses, strict=True)):
            counts = self.word_counts(text)
            word_columns += counts
            word_counts += counts.values()
            word_lengths[row] = len(counts)
            cues = self.cue_features(analysis)
            cue_columns += cues
            cue_values += cues.values()
            cue_lengths[row] = len(cues)
        words = np.asarray(word_columns, dtype=np.intp)
        word_values = self._word_block(np.asarray(word_counts), words, word_lengths)
        decision = _row_sums(self.coef_t[words] * word_values[:, None], word_lengths)
        cues = np.asarray(cue_columns, dtype=np.intp)
        cue_products = self.coef_t[cues] * np.asarray(cue_values, dtype=np.float64)[:, None]
        decision += _row_sums(cue_products, cue_lengths)
        return decision + self.intercept

    def _decision_one(self, text: str, analysis: Analysis) -> np.ndarray:
        """``decision_function`` for one text: the same sums in the same order, in floats."""
        n_classes = len(self.classes)
        sums = []
        counts = self.word_counts(text)
        word_columns = list(counts)
        cues = self.cue_features(analysis)
        blocks = (
            (word_columns, self._word_values_one(word_columns, list(counts.values()))),
            (list(cues), list(cues.values())),
        )
        for columns, values in blocks:
            total = [0.0] * n_classes
            if columns:
                for weights, value in zip(self.coef_t[columns].tolist(), values, strict=True):
                    for k in range(n_classes):
                        total[k] += weights[k] * value
            sums.append(total)
        decision = [w + c for w, c in zip(*sums, strict=True)]
        return (np.asarray(decision, dtype=np.float64) + self.intercept).reshape(1, -1)

    def calibrate(self, decision: np.ndarray) -> np.ndarray:
        """Temperature-scaled probabilities of decision values, as scikit-learn computes them.

        scikit-learn reads decision values that all lie in [0, 1] and sum to 1 in every
        row as probabilities and takes their logarithm first; so does this.
        """
        logits = decision
        if (
            decision.size
            and decision.min() >= 0
            and decision.max() <= 1
            and bool(np.all(np.isclose(decision.sum(axis=1), 1.0)))
        ):
            logits = np.log(decision + 1e-12)
        scaled = self.beta * logits
        scaled -= scaled.max(axis=1, keepdims=True)
        np.exp(scaled, out=scaled)
        scaled /= scaled.sum(axis=1, keepdims=True)
        # scikit-learn sets values in (1, 1 + 1e-5] to 1; a softmax holds nothing larger
        # (NaN stays NaN), so a minimum does the same in one call instead of four.
        np.minimum(scaled, 1.0, out=scaled)
        return scaled

    def _calibrate_one(self, decision: np.ndarray) -> np.ndarray:
        """``calibrate`` for one row of a few classes, in floats but for the ``np.exp``:
        the same values bit for bit (a product, a subtraction and a division are the
        same IEEE operations; numpy adds a row of fewer than 8 values left to right), at
        a third of the cost of eight numpy calls on a 1 x 3 array."""
        row: list[float] = decision[0].tolist()
        if any(value != value for value in row) or (min(row) >= 0 and max(row) <= 1):
            return self.calibrate(decision)  # NaN, or probabilities given: numpy's path
        beta = self.beta
        scaled = [beta * value for value in row]
        top = max(scaled)
        exps: list[float] = np.exp(np.array([value - top for value in scaled])).tolist()
        total = 0.0
        for value in exps:
            total += value
        return np.array([[min(value / total, 1.0) for value in exps]])

    def predict_proba(self, texts: Sequence[str], analyses: Sequence[Analysis]) -> np.ndarray:
        """Calibrated probabilities, columns in ``classes`` order (the pipeline's
        ``predict_proba`` on the same analysed texts)."""
        if not len(analyses):
            return np.zeros((0, len(self.classes)))
        decision = self.decision_function(texts, analyses)
        if len(decision) == 1 and decision.shape[1] < 8:
            return self._calibrate_one(decision)
        return self.calibrate(decision)


def _row_sums(values: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Sum ``values`` (rows laid end to end, ``lengths[i]`` of them for row ``i``) per row.

    ``np.bincount`` adds its weights one after another, from zero, in order: the sums a
    plain loop over one row gives (``np.add.reduceat`` adds pairwise, which differs in
    the last bits), so a text scores the same alone and in a batch.
    """
    rows = np.repeat(np.arange(len(lengths)), lengths)
    if values.ndim == 1:
        return np.bincount(rows, weights=values, minlength=len(lengths))
    sums = np.empty((len(lengths), values.shape[1]))
    for k in range(values.shape[1]):
        sums[:, k] = np.bincount(rows, weights=values[:, k], minlength=len(lengths))
    return sums


def ensure_model(model: str | Path | None = None, root: Path | None = None) -> ModelRef:
    """Find ``model`` without loading it: a version, directory or file; by default the
    registry's ``CURRENT`` version, or the default model shipped inside the package when
    the registry has none (a fresh install never trains first). ``"shipped"`` names the
    shipped model explicitly. A registry that holds versions but no ``CURRENT`` is an
    error naming the fix, never a silent switch that would bypass the promotion gate.

    (Here rather than in ``classifier.predict``, which imports spaCy: ``painclf label
    --jobs N`` resolves the model in its main process, which predicts nothing.)
    """
    from classifier.config import SHIPPED_MODEL_NAME
    from classifier.ship import shipped_ref

    if model is not None and str(model) == SHIPPED_MODEL_NAME:
        shipped = shipped_ref()
        if shipped is None:
            raise ModelError("this installation of painclf has no shipped model")
        return shipped
    try:
        return resolve(model, root)
    except ModelError:
        from classifier.registry import current_version, has_versions

        if model is not None or current_version(root) is not None or has_versions(root):
            raise
        shipped = shipped_ref()
        if shipped is None:
            raise
        return shipped
