"""The one plot the benchmarks draw: a curve of labelled points, saved as a PNG."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path


def labelled_curve(path: Path, xs: Sequence[float], ys: Sequence[float], labels: Sequence[str], *,
                   xlabel: str, ylabel: str, title: str, log_x: bool = False) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.5, 4))
    ax.plot(xs, ys, marker="o")
    for label, x, y in zip(labels, xs, ys, strict=True):
        ax.annotate(label, (x, y), textcoords="offset points", xytext=(4, 4), fontsize=8)
    if log_x:
        ax.set_xscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
