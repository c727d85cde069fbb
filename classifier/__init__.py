"""painclf: tell muscle soreness from pain in free-text complaints, and flag red flags.

Examples
--------
>>> from classifier import predict
>>> predict("Crushing chest pain").urgent
True
"""

from __future__ import annotations

# Imported eagerly: a name such as `predict` is both a function and a module of this
# package, and importing the module later would bind the module over a lazy export.
from classifier.analysis import analyze, analyze_many
from classifier.batch import label_file, label_frame
from classifier.evaluate import evaluate_file
from classifier.predict import Classifier, Prediction, predict, predict_many
from classifier.train import train

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
