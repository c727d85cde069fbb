"""What a labeling run did: counts, problems, the urgent tickets, and the printed summary."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from classifier.batch.common import (
    CONFIDENCE_BINS,
    MAX_PROBLEMS_KEPT,
    MAX_URGENT_LISTED,
    STATUS_OK,
    URGENT_TEXT_CHARS,
)
from classifier.batch.frame import is_missing, row_texts
from classifier.config import LABELS

if TYPE_CHECKING:
    pass


@dataclass
class LabelSummary:
    """What a run did: counts per label, urgent, needs review, errors, speed, and problems.

    ``labels`` counts the rows given each label (rows with an empty text are
    ``other`` and also counted in ``errors``); ``unlabeled`` rows could not be read.
    ``problems`` keeps the first 1,000 line-numbered problems, ``problem_count`` all.
    """

    input: str
    output: str
    text_columns: list[str] = field(default_factory=list)
    fallback_columns: list[str] = field(default_factory=list)
    model_version: str = ""
    rows: int = 0
    labels: dict[str, int] = field(default_factory=lambda: dict.fromkeys(LABELS, 0))
    urgent: int = 0
    needs_review: int = 0
    errors: int = 0
    noted: int = 0
    resumed_rows: int = 0
    elapsed_seconds: float = 0.0
    problems: list[str] = field(default_factory=list)
    problem_count: int = 0
    notes: list[str] = field(default_factory=list)
    confidence_histogram: list[int] = field(default_factory=lambda: [0] * CONFIDENCE_BINS)
    urgent_tickets: list[dict[str, Any]] = field(default_factory=list)
    split_files: list[str] = field(default_factory=list)
    report: str | None = None

    @property
    def labeled(self) -> int:
        """Rows whose text was classified (status ``ok``)."""
        return self.rows - self.errors

    @property
    def unlabeled(self) -> int:
        """Rows that could not be read at all (no label)."""
        return self.rows - sum(self.labels.values())

    @property
    def rows_per_second(self) -> float:
        done = self.rows - self.resumed_rows
        return done / self.elapsed_seconds if self.elapsed_seconds > 0 else 0.0

    def share(self, count: int) -> float:
        return count / self.rows if self.rows else 0.0

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict, with the derived figures."""
        data = asdict(self)
        data["labeled"] = self.labeled
        data["unlabeled"] = self.unlabeled
        data["rows_per_second"] = round(self.rows_per_second, 1)
        data["shares"] = {label: round(self.share(n), 4) for label, n in self.labels.items()}
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LabelSummary:
        names = {f.name for f in cls.__dataclass_fields__.values()}
        return cls(**{k: v for k, v in data.items() if k in names})

    def format(self) -> str:
        """The summary printed on stderr at the end of ``painclf label``."""
        resumed = f" ({self.resumed_rows:,} done by an earlier run)" if self.resumed_rows else ""
        lines = [
            f"labeled {self.rows:,} rows{resumed} from {self.input} into {self.output} "
            f"in {self.elapsed_seconds:.1f} s ({self.rows_per_second:,.0f} rows/s)"
        ]
        if self.text_columns:
            plural = "s" if len(self.text_columns) > 1 else ""
            line = f"text column{plural}: {', '.join(self.text_columns)}"
            if self.fallback_columns:
                line += f" (when empty: {', '.join(self.fallback_columns)})"
            lines.append(line)
        if self.model_version:
            lines.append(f"model: {self.model_version}")
        counts = [*self.labels.items()]
        if self.unlabeled:
            counts.append(("(unread)", self.unlabeled))
        counts += [
            ("urgent", self.urgent),
            ("needs review", self.needs_review),
            ("errors", self.errors),
        ]
        width = max(len(name) for name, _ in counts)
        lines += [
            f"  {name:<{width}}  {count:>9,}  {100 * self.share(count):5.1f}%"
            for name, count in counts
        ]
        if self.noted:
            lines.append(f"  {self.noted:,} labeled row(s) carry a note in the error column")
        for note in self.notes:
            lines.append(f"note: {note}")
        for path in self.split_files:
            lines.append(f"wrote {path}")
        if self.report:
            lines.append(f"report: {self.report}")
        return "\n".join(lines)

    def add(
        self,
        inputs: pd.DataFrame,
        outputs: pd.DataFrame,
        text_columns: Sequence[Any],
        id_column: Any | None,
        problems: Sequence[str],
    ) -> None:
        """Count one labeled chunk."""
        self.rows += len(outputs)
        counts = outputs["label"].value_counts()
        for label in self.labels:
            self.labels[label] += int(counts.get(label, 0))
        ok = (outputs["status"] == STATUS_OK).to_numpy()
        urgent = outputs["urgent"].to_numpy(dtype=bool)
        self.urgent += int(urgent.sum())
        self.needs_review += int(outputs["needs_review"].sum())
        self.errors += int((~ok).sum())
        self.noted += int((ok & (outputs["error"] != "").to_numpy()).sum())
        histogram, _ = np.histogram(
            outputs["confidence"].to_numpy()[ok], bins=CONFIDENCE_BINS, range=(0.0, 1.0)
        )
        self.confidence_histogram = [
            a + int(b) for a, b in zip(self.confidence_histogram, histogram, strict=True)
        ]
        room = MAX_URGENT_LISTED - len(self.urgent_tickets)
        if room > 0 and urgent.any():
            rows = np.flatnonzero(urgent)[:room]
            subset = inputs.iloc[rows]
            texts, _, _ = row_texts(subset, text_columns, URGENT_TEXT_CHARS, self.fallback_columns)
            for position, text in zip(rows, texts, strict=True):
                ident = inputs[id_column].iat[position] if id_column is not None else None
                self.urgent_tickets.append(
                    {
                        "row": int(inputs.index[position]) + 1,
                        "id": None if is_missing(ident) else str(ident),
                        "text": text,
                        "reasons": _joined(outputs["urgent_reasons"].iat[position]),
                    }
                )
        self.problem_count += len(problems)
        self.problems.extend(problems[: max(0, MAX_PROBLEMS_KEPT - len(self.problems))])


def _joined(value: Any) -> str:
    """A list of reasons (JSON Lines, Parquet output) or a joined string, as one string."""
    return "; ".join(map(str, value)) if isinstance(value, list | tuple) else str(value)
