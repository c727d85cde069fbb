"""Training: validate labeled data, cross-validate, fit, and save a new model version."""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.model_selection import GroupKFold, StratifiedKFold

from classifier.analysis import Analysis, analyze_many
from classifier.config import (
    CV_FOLDS,
    DEFAULT_TRAINING_DATA,
    GROUP_COLUMN,
    LABELS,
    RANDOM_SEED,
    REVIEW_MAX_FLAGGED,
    REVIEW_TARGET_ACCURACY,
    REVIEW_THRESHOLD_BOUNDS,
    TRAINING_REFERENCE_DATE,
)
from classifier.dataset import Problem, SourceFile, load_labeled
from classifier.evaluate import compute_metrics, format_metrics, reliability_table
from classifier.model import (
    DEFAULT_C,
    DEFAULT_CUE_WEIGHT,
    build_model,
    decide,
    feature_matrix,
    fit_on_analyses,
)
from classifier.registry import (
    ModelRef,
    current_version,
    environment,
    new_version_name,
    save_version,
    set_current,
)
from classifier.rules import load_rules

# Cross-validation (CV_FOLDS = 5 folds) nests the calibration's own 5-fold split, which
# needs 5 examples of each label in every outer training fold: 7 examples in all.
MIN_EXAMPLES_PER_LABEL = 7


@dataclass
class CrossValidation:
    """Out-of-fold results of the whole system (model and rules) on the training data."""

    model_probabilities: np.ndarray
    probabilities: np.ndarray
    predicted: list[str]
    urgent: list[int]
    metrics: dict[str, Any]
    # The rows the results are for, in order (every row unless splits left some untested).
    index: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=int))


@dataclass
class TrainResult:
    """What ``train`` produced."""

    ref: ModelRef
    cross_validation: CrossValidation
    problems: list[Problem]
    sources: list[SourceFile]
    gold_metrics: dict[str, dict[str, Any]] = field(default_factory=dict)
    made_current: bool = False


def _reorder(probabilities: np.ndarray, classes: Sequence[str]) -> np.ndarray:
    order = [list(classes).index(label) for label in LABELS]
    return probabilities[:, order]


def grouped_splits(
    groups: Sequence[str | None], folds: int = CV_FOLDS
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Folds that hold out whole groups (subreddits) of the rows that have one.

    Rows without a group (the hand-written seed data) are always trained on; each
    fold tests on the rows of the groups it holds out, so every score is on a
    community the model has not seen.

    Examples
    --------
    >>> splits = grouped_splits(["a", "a", "b", "c", None], folds=3)
    >>> sorted(len(test) for _, test in splits), all(4 in train for train, _ in splits)
    ([1, 1, 2], True)
    """
    group_array = np.asarray([g if isinstance(g, str) else "" for g in groups], dtype=object)
    grouped = np.flatnonzero(group_array != "")
    if len(set(group_array[grouped])) < folds:
        return []
    everything = np.arange(len(group_array))
    splits = []
    for _, test in GroupKFold(n_splits=folds).split(grouped, groups=group_array[grouped]):
        test_index = grouped[test]
        splits.append((np.setdiff1d(everything, test_index), test_index))
    return splits


def cross_validate(
    texts: Sequence[str],
    labels: Sequence[str],
    urgent: Sequence[int],
    analyses: Sequence[Analysis] | None = None,
    folds: int = CV_FOLDS,
    c: float = DEFAULT_C,
    cue_weight: float = DEFAULT_CUE_WEIGHT,
    splits: Sequence[tuple[np.ndarray, np.ndarray]] | None = None,
) -> CrossValidation:
    """Cross-validation of the model with the guide's rules on top.

    Stratified k-fold unless ``splits`` (train and test indices) are given, e.g.
    ``grouped_splits``; rows that no split tests are left out of the metrics.
    Returns out-of-fold probabilities (before and after the rules), labels and
    urgent flags, and their metrics.
    """
    rules = load_rules()
    analyses = (
        list(analyses)
        if analyses is not None
        else analyze_many(texts, today=TRAINING_REFERENCE_DATE)
    )
    texts = [a.text for a in analyses]
    y = np.asarray(labels)
    model_proba = np.zeros((len(texts), len(LABELS)))
    final_proba = np.zeros((len(texts), len(LABELS)))
    predicted = [""] * len(texts)
    urgent_pred = [0] * len(texts)
    if splits is None:
        splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=RANDOM_SEED)
        splits = list(splitter.split(np.zeros(len(y)), y))
    tested = np.zeros(len(y), dtype=bool)
    for train_index, test_index in splits:
        tested[test_index] = True
        model = fit_on_analyses(
            build_model(c, cue_weight),
            [texts[i] for i in train_index],
            [analyses[i] for i in train_index],
            y[train_index],
        )
        test_analyses = [analyses[i] for i in test_index]
        matrix = feature_matrix(model, [texts[i] for i in test_index], test_analyses)
        proba = model.named_steps["classifier"].predict_proba(matrix)
        classes = [str(c_) for c_ in model.classes_]
        model_proba[test_index] = _reorder(proba, classes)
        for i, decision in zip(
            test_index, decide(proba, classes, test_analyses, rules), strict=True
        ):
            final_proba[i] = [decision.probabilities[label] for label in LABELS]
            predicted[i] = decision.label
            urgent_pred[i] = int(bool(decision.urgent))
    keep = np.flatnonzero(tested)
    if not tested.all():
        model_proba, final_proba = model_proba[keep], final_proba[keep]
        predicted = [predicted[i] for i in keep]
        urgent_pred = [urgent_pred[i] for i in keep]
        y, urgent = y[keep], [urgent[i] for i in keep]
    metrics = compute_metrics(y, predicted, urgent, urgent_pred)
    return CrossValidation(model_proba, final_proba, predicted, urgent_pred, metrics, keep)


def choose_review_thresholds(
    confidence: Sequence[float],
    correct: Sequence[bool],
    predicted: Sequence[str],
    target: float = REVIEW_TARGET_ACCURACY,
    bounds: tuple[float, float] = REVIEW_THRESHOLD_BOUNDS,
    max_flagged: float = REVIEW_MAX_FLAGGED,
    step: float = 0.02,
) -> dict[str, float]:
    """A needs-review threshold for each predicted label, chosen on out-of-fold predictions.

    A text goes to review when its confidence is below the threshold of the label it
    was given. One threshold for all labels spends the review queue badly: a
    ``soreness`` answer at 0.8 is wrong far more often than an ``other`` answer at 0.8
    (on real posts grouped by community, one threshold caught 46% of the wrong answers
    in a queue of 19% of the texts; thresholds per label caught 51% in the same
    queue, and 2 to 5 points more on communities the thresholds were not chosen on).

    Among the threshold sets (each within ``bounds``, in steps of ``step``) that flag at
    most ``max_flagged`` of the texts: the one that flags fewest texts while the
    unflagged answers reach ``target`` accuracy, or, when none does, the one that
    catches most wrong answers (fewest flagged on ties). ``bounds`` keeps a near-perfect
    fit from switching reviewing off.

    Examples
    --------
    >>> conf = [0.95, 0.9, 0.85, 0.6, 0.55, 0.8]
    >>> right = [True, True, True, True, False, False]
    >>> pred = ["other", "other", "pain", "other", "pain", "soreness"]
    >>> choose_review_thresholds(conf, right, pred, target=0.99, max_flagged=0.34)
    {'other': 0.5, 'pain': 0.56, 'soreness': 0.82}
    """
    confidence = np.asarray(confidence, dtype=float)
    wrong = ~np.asarray(correct, dtype=bool)
    predicted = np.asarray(predicted, dtype=object)
    labels = sorted({str(label) for label in predicted})
    grid = np.round(np.arange(bounds[0], bounds[1] + 1e-9, step), 2)
    n = max(len(confidence), 1)
    # Per label and threshold: how many texts it flags and how many wrong ones.
    flagged = []
    caught = []
    for label in labels:
        mine = predicted == label
        below = confidence[mine][None, :] < grid[:, None]
        flagged.append(below.sum(axis=1))
        caught.append((below & wrong[mine][None, :]).sum(axis=1))
    total_flagged = np.zeros((1,), dtype=int)
    total_caught = np.zeros((1,), dtype=int)
    for f, c in zip(flagged, caught, strict=True):
        total_flagged = (total_flagged[:, None] + f[None, :]).ravel()
        total_caught = (total_caught[:, None] + c[None, :]).ravel()
    allowed = total_flagged <= max_flagged * n
    if not allowed.any():
        return {label: float(grid[0]) for label in labels}
    kept = n - total_flagged
    wrong_kept = int(wrong.sum()) - total_caught
    with np.errstate(divide="ignore", invalid="ignore"):
        accuracy_kept = np.where(kept > 0, 1.0 - wrong_kept / np.maximum(kept, 1), 1.0)
    reaching = allowed & (accuracy_kept >= target)
    if reaching.any():
        order = np.lexsort((-total_caught, total_flagged))
        best = next(i for i in order if reaching[i])
    else:
        order = np.lexsort((total_flagged, -total_caught))
        best = next(i for i in order if allowed[i])
    index = np.unravel_index(best, tuple(len(grid) for _ in labels))
    return {label: float(grid[i]) for label, i in zip(labels, index, strict=True)}


def review_flags(
    confidence: Sequence[float], predicted: Sequence[str], thresholds: Mapping[str, float]
) -> np.ndarray:
    """Which answers go to review: confidence below the threshold of the label given."""
    default = min(thresholds.values()) if thresholds else 0.0
    limit = np.array([thresholds.get(str(label), default) for label in predicted], dtype=float)
    return np.asarray(confidence, dtype=float) < limit


def review_figures(
    confidence: Sequence[float],
    correct: Sequence[bool],
    predicted: Sequence[str],
    thresholds: Mapping[str, float],
) -> dict:
    """What the needs-review thresholds do on out-of-fold predictions.

    Examples
    --------
    >>> figures = review_figures([0.9, 0.6, 0.55], [True, False, True], ["pain"] * 3, {"pain": 0.7})
    >>> figures["flagged_share"], figures["wrong_caught"], figures["accuracy_unflagged"]
    (0.667, 1.0, 1.0)
    """
    correct = np.asarray(correct, dtype=bool)
    flagged = review_flags(confidence, predicted, thresholds)
    wrong = ~correct
    return {
        "thresholds": dict(thresholds),
        "flagged_share": round(float(flagged.mean()), 3) if len(flagged) else 0.0,
        "wrong_caught": round(float(flagged[wrong].mean()), 3) if wrong.any() else 0.0,
        "accuracy_unflagged": round(float(correct[~flagged].mean()), 3)
        if (~flagged).any()
        else 0.0,
    }


def data_fingerprint(sources: Iterable[SourceFile]) -> str:
    """SHA-256 over the training files' hashes, in order."""
    digest = hashlib.sha256()
    for source in sources:
        digest.update(source.sha256.encode())
    return digest.hexdigest()


def _say(quiet: bool, text: str = "") -> None:
    if not quiet:
        print(text, file=sys.stderr)


def train(
    data: Sequence[str | Path] = DEFAULT_TRAINING_DATA,
    gold: Sequence[str | Path] = (),
    root: Path | None = None,
    c: float = DEFAULT_C,
    cue_weight: float = DEFAULT_CUE_WEIGHT,
    quiet: bool = False,
) -> TrainResult:
    """Train a new model version from labeled files and save it to the registry.

    Parameters
    ----------
    data : sequence of str or Path
        Labeled files or directories; validated first (``painclf validate``).
    gold : sequence of str or Path
        Fixed labeled files to report metrics on (never trained on).
    root : Path, optional
        The models directory; default ``models/``.
    c, cue_weight : float
        Model hyperparameters (``classifier.model.build_model``).
    quiet : bool
        Print nothing.

    Returns
    -------
    TrainResult
        The saved model and its metrics. The first model trained becomes
        ``CURRENT``; later ones wait for ``painclf promote``.

    Raises
    ------
    DataError
        If the labeled data has errors (nothing is saved).
    """
    from classifier.card import write_card_files
    from classifier.evaluate import evaluate_file
    from classifier.predict import Classifier

    frame, problems, sources = load_labeled(data, keep=(GROUP_COLUMN,))
    for problem in problems:
        _say(quiet, str(problem))
    missing = [label for label in LABELS if label not in set(frame["label"])]
    counts = frame["label"].value_counts()
    too_few = {
        label: int(counts[label])
        for label in LABELS
        if label not in missing and counts[label] < MIN_EXAMPLES_PER_LABEL
    }
    if len(frame) == 0 or missing or too_few:
        from classifier.dataset import DataError

        if len(frame) == 0:
            message = "no valid rows"
        elif missing:
            message = f"no examples of label(s) {missing}"
        else:
            message = (
                f"too few examples of label(s) {too_few}: training needs at least "
                f"{MIN_EXAMPLES_PER_LABEL} of each label"
            )
        raise DataError([Problem(", ".join(s.path for s in sources) or "data", None, message)])
    _say(quiet, f"training on {len(frame)} texts from {len(sources)} file(s)")
    analyses = analyze_many(frame["text"].tolist(), today=TRAINING_REFERENCE_DATE)
    labels = frame["label"].tolist()
    urgent = frame["urgent"].astype(int).tolist()
    cv = cross_validate(
        frame["text"].tolist(), labels, urgent, analyses, c=c, cue_weight=cue_weight
    )
    _say(quiet, format_metrics(cv.metrics, f"stratified {CV_FOLDS}-fold cross-validation"))
    metrics: dict[str, Any] = {"cross_validation": cv.metrics}
    # Real posts are also judged on communities the model has not seen; the review
    # threshold is chosen on them, since they are what the model will read.
    groups = frame[GROUP_COLUMN].tolist()
    splits = grouped_splits(groups)
    review_cv = cv
    review_labels = labels
    if splits:
        grouped = cross_validate(
            frame["text"].tolist(),
            labels,
            urgent,
            analyses,
            c=c,
            cue_weight=cue_weight,
            splits=splits,
        )
        n_groups = len({groups[i] for i in grouped.index})
        title = (
            f"cross-validation grouped by {GROUP_COLUMN} "
            f"({n_groups} groups, {len(grouped.index)} texts)"
        )
        _say(quiet, format_metrics(grouped.metrics, title))
        metrics["grouped_cross_validation"] = grouped.metrics
        review_cv, review_labels = grouped, [labels[i] for i in grouped.index]

    confidence = review_cv.probabilities.max(axis=1)
    predicted = np.asarray(review_cv.predicted)
    correct = predicted == np.asarray(review_labels)
    thresholds = choose_review_thresholds(confidence, correct, predicted)
    metrics["review"] = review_figures(confidence, correct, predicted, thresholds)
    metrics["calibration_error"] = round(reliability_table(confidence, correct)["ece"], 4)
    below = ", ".join(f"{label} {value:.2f}" for label, value in thresholds.items())
    _say(
        quiet,
        f"needs review below {below}: flags {metrics['review']['flagged_share']:.1%} "
        f"of texts and catches {metrics['review']['wrong_caught']:.1%} of wrong answers "
        f"(calibration error {metrics['calibration_error']:.3f})",
    )
    texts = [a.text for a in analyses]
    model = fit_on_analyses(build_model(c, cue_weight), texts, analyses, labels)

    manifest: dict[str, Any] = {
        "version": new_version_name(root),
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "environment": environment(),
        "rules_fingerprint": load_rules().fingerprint,
        "classes": [str(label) for label in model.classes_],
        "params": {"c": c, "cue_weight": cue_weight, "seed": RANDOM_SEED, "folds": CV_FOLDS},
        "training_data": [asdict(source) for source in sources],
        "training_data_sha256": data_fingerprint(sources),
        "training_rows": len(frame),
        "label_counts": {label: int((frame["label"] == label).sum()) for label in LABELS},
        "needs_review_thresholds": thresholds,
        "metrics": metrics,
    }
    gold_metrics: dict[str, dict[str, Any]] = {}
    if gold:
        unsaved = Classifier(model, {**manifest, "version": "new"})
        for path in gold:
            report = evaluate_file(path, unsaved)
            gold_metrics[str(path)] = report.metrics
            _say(quiet, format_metrics(report.metrics, f"gold file {path}"))
        manifest["metrics"]["gold"] = gold_metrics
    files = write_card_files(manifest, frame, cv)
    ref = save_version(model, manifest, files=files, root=root)
    made_current = current_version(root) is None
    if made_current:
        set_current(ref.version, root, note="first model")
    _say(
        quiet,
        f"saved model {ref.version} to {ref.path}"
        + (
            " (now current)"
            if made_current
            else f"; make it current: painclf promote {ref.version}"
        ),
    )
    return TrainResult(ref, cv, problems, sources, gold_metrics, made_current)


if __name__ == "__main__":  # python -m classifier.train [--data ...] is painclf train
    from classifier.cli import app

    app(args=["train", *sys.argv[1:]], prog_name="python -m classifier.train")
