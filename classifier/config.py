"""Paths, labels and defaults shared by every stage of painclf (no side effects at import)."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
# The project root is the checkout that holds the package (an editable install).
# PAINCLF_ROOT points elsewhere, e.g. for a wheel install next to a copy of data/.
PROJECT_ROOT = Path(os.environ.get("PAINCLF_ROOT", PACKAGE_DIR.parent)).resolve()

DATA_DIR = PROJECT_ROOT / "data"
SEED_DIR = DATA_DIR / "seed"
SAMPLES_DIR = DATA_DIR / "samples"
SAMPLE_TICKETS = SAMPLES_DIR / "tickets.csv"
# What `painclf train` trains on without --data, and what the shipped default model is
# built from (`python -m classifier.ship`): change it here, then rebuild the shipped model.
REAL_DIR = DATA_DIR / "real"
# Written blog- and diary-style posts (data/written/README.md): the long first-person
# narratives the short seed tickets and the mostly-other forum posts lack.
WRITTEN_DIR = DATA_DIR / "written"
DEFAULT_TRAINING_DATA: tuple[Path, ...] = (SEED_DIR, WRITTEN_DIR, REAL_DIR)
# The "today" training analyses its texts against. A labeled text has no date of its own, so
# "since Monday" would otherwise be a different number of days on each day of training, and
# the same data would train a different model (the shipped one was trained on this day).
TRAINING_REFERENCE_DATE = date(2026, 12, 1)
MODELS_DIR = Path(os.environ.get("PAINCLF_MODELS_DIR", PROJECT_ROOT / "models")).resolve()
CURRENT_FILE_NAME = "CURRENT"
REGISTRY_LOG_NAME = "registry.log"

RESOURCES_PACKAGE = "classifier.resources"

LABELS: tuple[str, ...] = ("soreness", "pain", "other")
URGENT_ALLOWED_LABELS: frozenset[str] = frozenset({"pain", "other"})

# Soreness clears within about five days; the guide calls anything lasting more
# than about a week pain ("long_duration", a cue computed from the durations found).
LONG_DURATION_DAYS = 7

RANDOM_SEED = 20261125
CV_FOLDS = 5

# Texts longer than this are classified from their first MAX_TEXT_CHARS characters:
# a ticket's complaint is stated early, and an unbounded text would make one row cost seconds.
MAX_TEXT_CHARS = 20_000
# A row whose analysis takes longer than this is stopped and reported as an error: every
# step is linear in the text's length (a 20,000-character text takes milliseconds), so
# only a pathological input or an overloaded machine gets here, and no row stalls a batch.
ROW_BUDGET_SECONDS = 5.0

# Predictions that nobody reviews should be right at least this often on held-out folds:
# the needs-review threshold is the lowest confidence at which they are.
REVIEW_TARGET_ACCURACY = 0.97
REVIEW_THRESHOLD_BOUNDS = (0.5, 0.9)
# ... but a review queue is read by people: at most this share of real texts is sent to it.
REVIEW_MAX_FLAGGED = 0.2
# When the guide's rules leave a single label, the answer is that label, but not with
# certainty: on real posts grouped by community such rule-decided answers were right only
# 56% of the time (36 of 2,223 posts). The answer's probabilities are this much the rule's
# one-hot answer and the rest the model's own probabilities.
RULE_ALONE_WEIGHT = 0.6
# Labeled rows with a value in this column (real posts: the subreddit) are also
# cross-validated by group, so that a model is judged on communities it has not seen.
GROUP_COLUMN = "subreddit"

MODEL_FILE_NAME = "model.skops"
MANIFEST_FILE_NAME = "manifest.json"
MODEL_CARD_NAME = "MODEL_CARD.md"
# The default model shipped inside the package: used when the registry has no CURRENT.
SHIPPED_MODEL_DIR = PACKAGE_DIR / "resources" / "model"
SHIPPED_MODEL_NAME = "shipped"
MANIFEST_SCHEMA_VERSION = 1
