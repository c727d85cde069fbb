"""Tests for the ``painclf`` spaCy component, found through its entry point."""

from __future__ import annotations

import subprocess
import sys

import pytest
import spacy

from classifier.config import LABELS


@pytest.fixture(scope="module")
def nlp() -> spacy.language.Language:
    pipeline = spacy.blank("en")
    pipeline.add_pipe("sentencizer")  # a user's own component before ours
    pipeline.add_pipe("painclf")
    return pipeline


def test_entry_point_registers_the_factory_without_an_import() -> None:
    code = (
        "import sys, spacy\n"
        "nlp = spacy.blank('en'); nlp.add_pipe('painclf')\n"
        "assert 'classifier.spacy_component' in sys.modules\n"
        "print(nlp.pipe_names)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert "painclf" in result.stdout


def test_sets_cats_urgent_and_spans(nlp: spacy.language.Language) -> None:
    doc = nlp("My legs are sore from squats and now I can't control my bladder since yesterday")
    assert set(doc.cats) == set(LABELS)
    assert sum(doc.cats.values()) == pytest.approx(1.0)
    assert max(doc.cats, key=doc.cats.get) == "pain"
    assert doc._.painclf_urgent is True
    assert any("bladder" in reason for reason in doc._.painclf_urgent_reasons)
    spans = {(span.text, span.label_) for span in doc.spans["painclf"]}
    assert ("sore", "soreness_word") in spans
    assert ("can't control my bladder", "rf_bladder_bowel") in spans
    assert all(span.doc is doc for span in doc.spans["painclf"])


def test_soreness_is_not_urgent(nlp: spacy.language.Language) -> None:
    doc = nlp("my calves are sore two days after the hill run")
    assert max(doc.cats, key=doc.cats.get) == "soreness"
    assert doc._.painclf_urgent is False
    assert doc._.painclf_urgent_reasons == []
    assert doc._.painclf_evidence


def test_pipe_matches_single_calls(nlp: spacy.language.Language) -> None:
    texts = ["sharp pain down my leg after I fell", "how do I cancel my plan?", ""]
    piped = [doc.cats for doc in nlp.pipe(texts, batch_size=2)]
    assert piped == [nlp(text).cats for text in texts]
    assert max(piped[1], key=piped[1].get) == "other"


def test_html_input_still_gets_spans(nlp: spacy.language.Language) -> None:
    doc = nlp("<p>my back is <b>sore</b> after deadlifts</p>")
    assert max(doc.cats, key=doc.cats.get) == "soreness"
    assert any("sore" in span.text for span in doc.spans["painclf"])


def test_config_names_the_model() -> None:
    pipeline = spacy.blank("en")
    pipeline.add_pipe("painclf", config={"model": "shipped"})
    assert pipeline.get_pipe_config("painclf")["model"] == "shipped"
    doc = pipeline("my neck hurts")
    assert set(doc.cats) == set(LABELS)
