"""Answers do not depend on the process: the same probabilities, bit for bit, whatever
``PYTHONHASHSEED`` orders a cue's modifier set by (the order of the sums decides the last bit)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
SCRIPT = """
import pandas as pd
from classifier import Classifier
texts = pd.read_csv({path!r}, keep_default_na=False).text.tolist()[:300]
texts += ["No numbness or tingling, but my back was sore for two weeks, not anymore",
          "My dad's knee never hurt before, no swelling, no pain when I walk"]
for p in Classifier.load("shipped").predict_many(texts):
    print(repr(sorted(p.probabilities.items())))
"""


def _answers(seed: str, pure: bool, tmp_path: Path) -> str:
    env = {**os.environ, "PYTHONHASHSEED": seed, "PAINCLF_MODELS_DIR": str(tmp_path)}
    env.pop("PAINCLF_PURE_PYTHON", None)
    if pure:
        env["PAINCLF_PURE_PYTHON"] = "1"
    code = SCRIPT.format(path=str(ROOT / "data" / "real" / "reddit_top_2013.csv"))
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    return done.stdout


@pytest.mark.parametrize("pure", [False, True], ids=["compiled", "pure-python"])
def test_probabilities_are_the_same_whatever_the_hash_seed(pure: bool, tmp_path: Path) -> None:
    first = _answers("1", pure, tmp_path)
    assert first.count("\n") == 302
    assert _answers("3", pure, tmp_path) == first
