"""Model cards: what a model is for, how it was trained and measured, and where it fails."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from classifier.config import LABELS, MODEL_CARD_NAME
from classifier.evaluate import reliability_table
from classifier.plots import reliability_png
from classifier.rules import load_rules

RELIABILITY_PNG = "reliability.png"
LABEL_ISSUES_CSV = "label_issues.csv"

KNOWN_FAILURE_MODES = """\
- **Vocabulary it has not seen.** Cues come from lexicons (`classifier/resources/lexicons/`);
  an unusual misspelling or a new slang word for a red flag is missed by the rules, and
  the model alone decides the label. Urgent recall is only as good as those lexicons.
- **Soreness in real text.** Real medical Q&A rarely describes ordinary post-exercise
  soreness; the seed data's soreness examples are written by the team, so soreness
  precision on real tickets is less certain than the cross-validated figure suggests.
- **Whose complaint it is.** Family history ("my dad had cancer") is told apart from a
  text about a relative ("my husband fell off the ladder") by phrase rules and pronouns;
  long texts that mix both can be misread.
- **Hyperbole and sarcasm.** "Can barely walk after leg day lol" meets a loss-of-function
  rule and is called pain.
- **Several complaints in one long text.** The most serious one should decide; when it is
  buried deep in a long post, the word features of the rest can dominate.
- **Durations relative to today** ("since Monday") are computed against the date of the
  prediction; a text read weeks later gets a different duration.
- **Non-English text** is marked `needs_review`; the model reads English only.
"""


def _metrics_table(metrics: dict[str, Any]) -> str:
    lines = ["| label | precision | recall | F1 | support |", "| --- | --- | --- | --- | --- |"]
    for label, row in metrics["per_label"].items():
        lines.append(
            f"| {label} | {row['precision']:.3f} | {row['recall']:.3f} | {row['f1']:.3f} "
            f"| {row['support']} |"
        )
    summary = f"macro-F1 **{metrics['macro_f1']:.3f}**, accuracy **{metrics['accuracy']:.3f}**"
    urgent = metrics.get("urgent")
    if urgent and urgent["recall"] is not None:
        summary += f", urgent recall **{urgent['recall']:.3f}** ({urgent['support']} urgent)"
        if urgent["precision"] is not None:
            summary += f", urgent precision {urgent['precision']:.3f}"
    lines += ["", summary]
    return "\n".join(lines)


def label_issues(
    frame: pd.DataFrame, model_probabilities: np.ndarray, limit: int | None = None
) -> pd.DataFrame:
    """Rows whose given label disagrees with out-of-fold predictions, most suspicious first.

    Uses cleanlab's ``find_label_issues`` (confident learning) on the out-of-fold
    probabilities, so that bad labels get fixed rather than learned.
    """
    from cleanlab.filter import find_label_issues

    label_index = {label: i for i, label in enumerate(LABELS)}
    given = frame["label"].map(label_index).to_numpy()
    columns = ["file", "line", "text", "given_label", "suspected_label", "p_given", "p_suspected"]
    if len(frame) < 2 * len(LABELS):
        return pd.DataFrame(columns=columns)
    ranked = find_label_issues(
        labels=given,
        pred_probs=model_probabilities,
        return_indices_ranked_by="self_confidence",
        # No process pool: cleanlab's default forks one worker per CPU, which costs more
        # than it saves on a few thousand rows and inherits the caller's signal handlers
        # (a Ctrl-C or SIGTERM then printed a ForkPoolWorker traceback per worker).
        n_jobs=1,
    )
    ranked = ranked[:limit] if limit else ranked
    suspected = model_probabilities.argmax(axis=1)
    return pd.DataFrame(
        {
            "file": frame["file"].to_numpy()[ranked],
            "line": frame["line"].to_numpy()[ranked],
            "text": frame["text"].to_numpy()[ranked],
            "given_label": frame["label"].to_numpy()[ranked],
            "suspected_label": [LABELS[i] for i in suspected[ranked]],
            "p_given": model_probabilities[ranked, given[ranked]].round(4),
            "p_suspected": model_probabilities[ranked, suspected[ranked]].round(4),
        },
        columns=columns,
    )


def write_card_files(
    manifest: dict[str, Any], frame: pd.DataFrame, cv: Any
) -> dict[str, str | bytes]:
    """The files that go into a model directory beside the model: card, plot, label audit.

    Also records the calibration (reliability table and ECE) and the number of
    suspected label issues in ``manifest``.
    """
    labels = frame["label"].to_numpy()
    confidence = cv.probabilities.max(axis=1)
    correct = np.asarray(cv.predicted) == labels
    calibration = reliability_table(confidence, correct)
    manifest["metrics"]["calibration"] = calibration
    issues = label_issues(frame, cv.model_probabilities)
    manifest["label_issues"] = len(issues)

    rules = load_rules()
    flags = "\n".join(f"- `{flag}`: {reason}" for flag, reason in rules.flag_reasons().items())
    data_rows = "\n".join(
        f"| `{source['path']}` | {source['rows']} | `{source['sha256'][:16]}…` |"
        for source in manifest["training_data"]
    )
    counts = ", ".join(f"{label} {count}" for label, count in manifest["label_counts"].items())
    gold = manifest["metrics"].get("gold", {})
    gold_text = (
        "\n\n".join(f"**{path}**\n\n{_metrics_table(m)}" for path, m in gold.items())
        if gold
        else "No gold file was given at training time (`painclf train --gold FILE`)."
    )
    env = manifest["environment"]
    card = f"""# Model card: painclf {manifest.get("version", "(unsaved)")}

Created {manifest["created"]} with painclf {env.get("painclf")},
scikit-learn {env.get("scikit-learn")}, spaCy {env.get("spacy")}.

## Intended use and limits
A **triage aid** for the support team of a back-pain exercise program: it reads a ticket
and says whether it describes post-exercise muscle **soreness**, **pain** that suggests
tissue damage or injury, or **other** (no current musculoskeletal complaint), and raises an
**urgent** flag with reasons when a red flag calls for a clinician. It is **not a diagnosis**
and not a substitute for clinical judgement: an urgent ticket goes to a person at once, and
`needs_review` predictions (confidence below {_thresholds(manifest)}) go to a
person before any automatic reply. English text only.

## Labels
Defined by the labeling guide (`LABELING.md`): soreness needs a link to activity plus a
soreness sign and no pain criterion; any pain criterion (injury event, sharp or radiating
pain, nerve signs, a structural diagnosis, lasting more than a week, worsening, loss of
function) makes it pain; a musculoskeletal complaint with no soreness evidence is pain;
everything else is other. An urgent text is never soreness.

## Red flags (urgent)
Decided by rules (`classifier/resources/urgent_rules.json`), not by the model; a flag counts
only when current, about the person written about, and not negated or hypothetical.

{flags}

## Training data
{manifest["training_rows"]} texts after validation ({counts}).

| file | rows | SHA-256 |
| --- | --- | --- |
{data_rows}

## Metrics
Stratified {manifest["params"]["folds"]}-fold cross-validation on the training data, model and
rules together:

{_metrics_table(manifest["metrics"]["cross_validation"])}

### Gold files
{gold_text}

## Calibration
Probabilities come from a logistic regression calibrated by temperature scaling. On the
out-of-fold predictions the top-label expected calibration error is
**{calibration["ece"]:.3f}**.

![reliability diagram]({RELIABILITY_PNG})

## Label audit
{len(issues)} training rows have a given label that the out-of-fold predictions doubt
(cleanlab, confident learning); they are listed in `{LABEL_ISSUES_CSV}` with the suspected
label, to be checked and fixed in the data rather than learned.

## Known failure modes
{KNOWN_FAILURE_MODES}"""
    return {
        MODEL_CARD_NAME: card,
        RELIABILITY_PNG: reliability_png(calibration),
        LABEL_ISSUES_CSV: issues.to_csv(index=False),
    }


def _thresholds(manifest: dict[str, Any]) -> str:
    """The review thresholds in words: "0.88 for soreness, 0.90 for pain, 0.76 for other"."""
    per_label = manifest.get("needs_review_thresholds")
    if not per_label:
        return f"{float(manifest.get('needs_review_threshold', 0.0)):.2f}"
    return ", ".join(f"{float(value):.2f} for {label}" for label, value in per_label.items())
