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
    plot_reliability(table, title, ax=axes)
    buffer = io.BytesIO()
    figure.tight_layout()
    figure.savefig(buffer, format="png")
    plt.close(figure)
    return buffer.getvalue()


# --- Axes-level plots for notebooks: they draw on ``ax`` (or a new figure) and return it,
# leaving the backend alone so that a notebook shows them inline.


def _axes(ax: Any = None, figsize: tuple[float, float] = (6.0, 4.0)) -> Any:
    if ax is not None:
        return ax
    from matplotlib import pyplot as plt

    _, ax = plt.subplots(figsize=figsize)
    return ax


def plot_counts(
    counts: Any, title: str = "", ax: Any = None, horizontal: bool = False, color: str = "tab:blue"
) -> Any:
    """A bar chart of a ``pandas.Series`` of counts (index = category), values written on bars.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import pandas as pd
    >>> ax = plot_counts(pd.Series({"soreness": 3, "pain": 5}), "labels")
    >>> [t.get_text() for t in ax.get_xticklabels()]
    ['soreness', 'pain']
    """
    ax = _axes(ax)
    names = [str(name) for name in counts.index]
    values = [float(v) for v in counts.to_numpy()]
    bars = ax.barh(names, values, color=color) if horizontal else ax.bar(names, values, color=color)
    if horizontal:
        ax.invert_yaxis()  # largest first, reading top-down
    ax.bar_label(bars, fmt="%g", fontsize=7, padding=2)
    ax.set_title(title)
    if not horizontal:
        ax.tick_params(axis="x", labelrotation=30)
    return ax


def plot_length_histogram(
    lengths: Any, labels: Any, ax: Any = None, bins: int = 30, unit: str = "words"
) -> Any:
    """Overlaid histograms of text lengths, one per label (log-spaced bins)."""
    import numpy as np

    ax = _axes(ax)
    lengths = np.asarray(lengths, dtype=float)
    labels = np.asarray(labels)
    edges = np.logspace(0, np.log10(max(lengths.max(initial=1.0), 2.0)), bins)
    for label in dict.fromkeys(labels.tolist()):
        ax.hist(lengths[labels == label], bins=edges, alpha=0.5, label=str(label))
    ax.set_xscale("log")
    ax.set_xlabel(f"text length ({unit}, log scale)")
    ax.set_ylabel("texts")
    ax.legend(fontsize=8)
    return ax


def plot_heatmap(
    table: Any, title: str = "", ax: Any = None, fmt: str = "{:.2f}", cmap: str = "Blues"
) -> Any:
    """A ``pandas.DataFrame`` of numbers as a heatmap with the values written in the cells."""
    import numpy as np

    values = table.to_numpy(dtype=float)
    ax = _axes(ax, figsize=(1.2 * values.shape[1] + 3.0, 0.28 * values.shape[0] + 1.5))
    image = ax.imshow(values, cmap=cmap, aspect="auto")
    ax.set_xticks(range(values.shape[1]), [str(c) for c in table.columns])
    ax.set_yticks(range(values.shape[0]), [str(i) for i in table.index])
    high = np.nanmax(values) if values.size else 0.0
    for (row, column), value in np.ndenumerate(values):
        ax.text(
            column,
            row,
            fmt.format(value),
            ha="center",
            va="center",
            fontsize=7,
            color="white" if high and value > 0.6 * high else "black",
        )
    ax.set_title(title)
    ax.figure.colorbar(image, ax=ax, shrink=0.8)
    return ax


def plot_confusion(metrics: dict[str, Any], title: str = "", ax: Any = None) -> Any:
    """The confusion matrix of ``classifier.evaluate.compute_metrics`` output (rows = true)."""
    import pandas as pd

    confusion = metrics["confusion"]
    table = pd.DataFrame(
        confusion["matrix"], index=confusion["labels"], columns=confusion["labels"]
    )
    ax = plot_heatmap(table, title or "confusion (rows = true, columns = predicted)", ax, "{:g}")
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    return ax


def plot_reliability(
    table: dict[str, Any], title: str = "Reliability (top label)", ax: Any = None
) -> Any:
    """A reliability diagram of ``classifier.evaluate.reliability_table`` output."""
    ax = _axes(ax, figsize=(4.8, 4.2))
    bins = table["bins"]
    ax.plot([0, 1], [0, 1], linestyle="--", color="grey", label="perfectly calibrated")
    ax.plot(
        [b["confidence"] for b in bins],
        [b["accuracy"] for b in bins],
        marker="o",
        label=f"model (ECE {table['ece']:.3f})",
    )
    for b in bins:
        ax.annotate(
            str(b["count"]),
            (b["confidence"], b["accuracy"]),
            textcoords="offset points",
            xytext=(0, 6),
            ha="center",
            fontsize=7,
        )
    ax.set_xlabel("confidence of the predicted label")
    ax.set_ylabel("accuracy")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.05)
    ax.set_title(title)
    ax.legend(loc="lower right", fontsize=8)
    return ax
