"""painclf: tell muscle soreness from pain in free-text complaints, and flag red flags.

The public names are imported on first use, so that ``import classifier`` (and every
``painclf`` command, ``--help`` included) does not pay for spaCy, scikit-learn and pandas
until it needs them.

Examples
--------
>>> from classifier import predict
>>> predict("Crushing chest pain").urgent
True
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# public name -> the module that defines it
_EXPORTS = {
    "Classifier": "classifier.predict",
    "PainClassifier": "classifier.estimator",
    "Prediction": "classifier.predict",
    "analyze": "classifier.analysis",
    "analyze_many": "classifier.analysis",
    "evaluate_file": "classifier.evaluate",
    "label_file": "classifier.batch",
    "label_frame": "classifier.batch",
    "predict": "classifier.predict",
    "predict_iter": "classifier.predict",
    "predict_many": "classifier.predict",
    "train": "classifier.train",
}

__all__ = [
    "Classifier",
    "PainClassifier",
    "Prediction",
    "__version__",
    "analyze",
    "analyze_many",
    "evaluate_file",
    "label_file",
    "label_frame",
    "predict",
    "predict_iter",
    "predict_many",
    "train",
]

if TYPE_CHECKING:
    from classifier.analysis import analyze, analyze_many
    from classifier.batch import label_file, label_frame
    from classifier.estimator import PainClassifier
    from classifier.evaluate import evaluate_file
    from classifier.predict import Classifier, Prediction, predict, predict_iter, predict_many
    from classifier.train import train


class _Package(types.ModuleType):
    """The package module: exported functions win over same-named submodules.

    ``predict`` and ``train`` are both functions exported here and modules of this
    package; importing a submodule makes Python set it as an attribute of the package,
    which would hide the function. Such bindings are refused, so ``classifier.predict``
    stays the function (the module is in ``sys.modules``, where imports find it).
    """

    def __setattr__(self, name: str, value: Any) -> None:
        if name in _EXPORTS and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'classifier' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})


sys.modules[__name__].__class__ = _Package
