"""Plots for model cards and reports, rendered to PNG bytes without a display."""

from __future__ import annotations

import io
from typing import Any


def _figure() -> tuple[Any, Any]:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    return plt.subplots(figsize=(4.8, 4.2), dpi=100)


def reliability_png(table: dict[str, Any], title: str = "Reliability (top label)") -> bytes:
    """A reliability diagram of ``classifier.evaluate.reliability_table`` output as PNG bytes."""
    from matplotlib import pyplot as plt

    figure, axes = _figure()
    bins = table["bins"]
    axes.plot([0, 1], [0, 1], linestyle="--", color="grey", label="perfectly calibrated")
    axes.plot(
        [b["confidence"] for b in bins],
        [b["accuracy"] for b in bins],
        marker="o",
        color="tab:blue",
        label=f"model (ECE {table['ece']:.3f})",
    )
    for b in bins:
        axes.annotate(
            str(b["count"]),
            (b["confidence"], b["accuracy"]),
            textcoords="offset points",
            xytext=(0, 6),
            ha="center",
            fontsize=7,
        )
    axes.set_xlabel("confidence of the predicted label")
    axes.set_ylabel("accuracy")
    axes.set_xlim(0, 1)
    axes.set_ylim(0, 1.05)
    axes.set_title(title)
    axes.legend(loc="lower right", fontsize=8)
    buffer = io.BytesIO()
    figure.tight_layout()
    figure.savefig(buffer, format="png")
    plt.close(figure)
    return buffer.getvalue()
