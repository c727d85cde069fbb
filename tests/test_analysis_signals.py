"""The compiled per-text signals (``classifier._fast.text_signals``) equal the Python ones:
questions, first person, self reference, impersonal questions, self sentences and the foreign
function word count."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from classifier import analysis
from classifier.fastpath import compiled
from classifier.nlp import analyse_text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT / "tests"))

TEXTS = [
    "Is it normal to be sore after day one?",
    "When is back pain with a fever an emergency? My dad asked me.",
    "What should I do? I hurt my back. Why? How?",
    "me duele la espalda desde hace tres semanas y no puedo dormir",
    "Ich habe seit einer Woche Rückenschmerzen und kann nicht schlafen.",
    "?",
    "my back\nhurts? yes\n\nwhy is that",
    "My heel hurts when I land. Could this be a bone bruise? Is that common?",
    "Could this be serious? My knee swelled up. Is this normal?",
    "I run a lot. Which of these shoes, is that the one?",
    "",
]


@pytest.mark.skipif(compiled() is None, reason="classifier._fast is not built")
def test_compiled_signals_equal_the_python_ones() -> None:
    from fuzz_texts import fuzz_texts
    from generate import generate_tickets

    from classifier.config import SEED_DIR
    from classifier.dataset import load_labeled

    frame, _, _ = load_labeled([SEED_DIR])
    texts = TEXTS + frame["text"].tolist() + generate_tickets(500, seed=3) + fuzz_texts(500, 4)
    signals = analysis._compiled_signals()
    hashes = analysis._hashes()
    asked = foreign = 0
    for text in texts:
        found = analyse_text(analysis.clean_text(text).text)
        assert found is not None
        table = found[1]
        if not table.norms:
            continue
        segments = table.segments
        result = compiled().text_signals(signals, table.norms, segments.starts, segments.length)
        assert result == analysis._signals_python(table, hashes), text
        asked += bool(result[3])
        foreign += result[5] > 0
    assert asked > 20 and foreign >= 2
