"""The ``painclf`` spaCy component: ``nlp.add_pipe("painclf")`` on any English pipeline.

Registered through the ``spacy_factories`` entry point (see ``pyproject.toml``), so spaCy
finds it without an import. It sets

- ``doc.cats``: the probability of ``soreness``, ``pain`` and ``other``;
- ``doc._.painclf_urgent`` (bool) and ``doc._.painclf_urgent_reasons`` (list of str);
- ``doc._.painclf_needs_review`` (bool) and ``doc._.painclf_evidence`` (list of str);
- ``doc.spans["painclf"]``: the cues behind the decision (label = cue category, e.g.
  ``soreness_word``, ``numbness``; ``duration`` for durations).

painclf analyses the text with its own tokenizer and rules, so the component works after
any tokenizer and does not depend on the user's pipeline having a tagger or parser.

Examples
--------
>>> import spacy
>>> nlp = spacy.blank("en")
>>> _ = nlp.add_pipe("painclf")
>>> doc = nlp("My legs are sore from squats and now I can't control my bladder")
>>> max(doc.cats, key=doc.cats.get), doc._.painclf_urgent
('pain', True)
>>> [(span.text, span.label_) for span in doc.spans["painclf"]][:2]
[('sore', 'soreness_word'), ('squats', 'activity')]
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from spacy.language import Language
from spacy.tokens import Doc, Span

SPANS_KEY = "painclf"
EXTENSIONS = {
    "painclf_urgent": False,
    "painclf_urgent_reasons": None,
    "painclf_needs_review": False,
    "painclf_evidence": None,
}
BATCH_SIZE = 256


def _register_extensions() -> None:
    for name, default in EXTENSIONS.items():
        if not Doc.has_extension(name):
            Doc.set_extension(name, default=default)


class PainclfComponent:
    """Classifies each doc with a painclf model (loaded on first use)."""

    def __init__(self, nlp: Language, name: str, model: str | None) -> None:
        _register_extensions()
        self.name = name
        self.model = model
        self._classifier: Any = None

    @property
    def classifier(self) -> Any:
        if self._classifier is None:
            from classifier.predict import get_classifier

            self._classifier = get_classifier(self.model)
        return self._classifier

    def __call__(self, doc: Doc) -> Doc:
        return next(iter(self.pipe([doc])))

    def pipe(self, stream: Iterable[Doc], batch_size: int = BATCH_SIZE) -> Iterator[Doc]:
        from spacy.util import minibatch

        for batch in minibatch(stream, size=batch_size):
            yield from self._annotate(list(batch))

    def _annotate(self, docs: list[Doc]) -> list[Doc]:
        from classifier.analysis import analyze_many
        from classifier.config import LABELS

        analyses = analyze_many([doc.text for doc in docs])
        predictions = self.classifier.predict_analyses(analyses)
        for doc, analysis, prediction in zip(docs, analyses, predictions, strict=True):
            doc.cats = {label: float(prediction.probabilities[label]) for label in LABELS}
            doc._.painclf_urgent = prediction.urgent
            doc._.painclf_urgent_reasons = list(prediction.urgent_reasons)
            doc._.painclf_needs_review = prediction.needs_review
            doc._.painclf_evidence = list(prediction.evidence)
            doc.spans[SPANS_KEY] = self._spans(doc, analysis)
        return docs

    def _spans(self, doc: Doc, analysis: Any) -> list[Span]:
        """Cue and duration spans, aligned to the doc's own tokens."""
        from classifier.predict import evidence_spans

        found = [
            (start, end, analysis.text[start:end], label)
            for start, end, label in evidence_spans(analysis, self.classifier.rules)
        ]
        spans: list[Span] = []
        same_text = analysis.text == doc.text
        search_from = 0
        for start, end, text, label in sorted(found):
            if not same_text:
                # painclf cleaned the text (HTML, entities): find the words in the original.
                start = doc.text.lower().find(text.lower(), search_from)
                if start < 0:
                    continue
                end, search_from = start + len(text), start
            span = doc.char_span(start, end, label=label, alignment_mode="expand")
            if span is not None:
                spans.append(span)
        return spans


@Language.factory(
    "painclf",
    default_config={"model": None},
    requires=[],
    assigns=[
        "doc.cats",
        "doc.spans",
        "doc._.painclf_urgent",
        "doc._.painclf_urgent_reasons",
        "doc._.painclf_needs_review",
        "doc._.painclf_evidence",
    ],
)
def make_painclf(nlp: Language, name: str, model: str | None) -> PainclfComponent:
    """The painclf component; ``model`` is a version, directory or file (default: CURRENT,
    else the model shipped with painclf)."""
    return PainclfComponent(nlp, name, model)
