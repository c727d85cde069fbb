"""painclf: tell muscle soreness from pain in free-text complaints, and flag red flags.

Examples
--------
>>> from classifier import predict
>>> predict("Crushing chest pain").urgent
True
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = [
    "Classifier",
    "Prediction",
    "analyze",
    "analyze_many",
    "evaluate_file",
    "label_file",
    "label_frame",
    "predict",
    "predict_many",
    "train",
]

# Public names and the private modules they live in. They are imported on first use,
# so `import classifier.config` (or `painclf --help`) does not load spaCy and scikit-learn.
_EXPORTS = {
    "Classifier": "classifier.predict",
    "Prediction": "classifier.predict",
    "predict": "classifier.predict",
    "predict_many": "classifier.predict",
    "analyze": "classifier.analysis",
    "analyze_many": "classifier.analysis",
    "evaluate_file": "classifier.evaluate",
    "label_file": "classifier.batch",
    "label_frame": "classifier.batch",
    "train": "classifier.train",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'classifier' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    # Importing classifier.predict sets the attribute `predict` to the submodule;
    # the public name is the function, so bind it over the submodule.
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
