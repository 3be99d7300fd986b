"""Optuna multi-objective studies as both tuning commands run them (`heritage tune economy` and
`heritage tune generation`): stored in SQLite, resumed by name, a first point enqueued, one trial at
a time so the progress bar moves; and a finished study written down: the picture of its front
(`plot_front`) and its files (`write_report`)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from core.sections import replace_section


def run_study(name: str, storage: Path, directions: Sequence[Literal["maximize", "minimize"]], trials: int,
              objective: Callable[[Any], tuple[float, ...]], *, first: Mapping[str, Any], sampler: str = "nsga2",
              seed: int = 0, on_trial: Callable[[int, int], None] | None = None) -> Any:
    """Run (or resume) the study `name` in `storage` until it holds `trials` finished trials; returns
    it. `first` is enqueued when the study holds none (today's default point); each trial records its
    wall time as the user attribute "seconds". sampler: nsga2 (NSGA-II) or tpe (multi-objective TPE)."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage.parent.mkdir(parents=True, exist_ok=True)
    chosen = (optuna.samplers.NSGAIISampler(seed=seed, population_size=min(20, max(4, trials // 3)))
              if sampler == "nsga2" else optuna.samplers.TPESampler(seed=seed, multivariate=True))
    study = optuna.create_study(study_name=name, storage=f"sqlite:///{storage}", sampler=chosen,
                                directions=list(directions), load_if_exists=True)

    def finished() -> int:
        return sum(t.state == optuna.trial.TrialState.COMPLETE for t in study.trials)

    def timed(trial: Any) -> tuple[float, ...]:
        started = time.monotonic()
        values = objective(trial)
        trial.set_user_attr("seconds", round(time.monotonic() - started, 2))
        return values

    done = finished()
    if done == 0:
        study.enqueue_trial(dict(first))
    while done < trials:
        study.optimize(timed, n_trials=1)
        done = finished()
        if on_trial:
            on_trial(done, trials)
    return study


@dataclass(frozen=True)
class Mark:
    """One labelled point drawn over a study's cloud: a baseline, the default, the chosen trial."""

    x: float
    y: float
    label: str
    marker: str
    size: int
    colour: str | None
    """Fill colour; None draws the marker hollow, outlined in `edge`."""
    edge: str | None = None


def plot_front(path: Path, rows: Sequence[Mapping[str, Any]], *, x: str, y: str, colour: Sequence[float],
               colour_label: str, cmap: str, front_label: str, marks: Sequence[Mark], xlabel: str, ylabel: str,
               title: str, limits: tuple[float, float] | None = None,
               legend: Literal["best", "lower left", "lower right", "upper left", "upper right"] = "best") -> None:
    """The picture both tuning reports draw: every trial at (row[x], row[y]) coloured by `colour`, the
    rows `on_front` ringed, then `marks` in order; written to `path` as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.5, 4.6))
    vmin, vmax = limits if limits else (None, None)
    dots = ax.scatter([r[x] for r in rows], [r[y] for r in rows], c=list(colour), cmap=cmap, vmin=vmin, vmax=vmax,
                      s=22, alpha=0.8)
    fig.colorbar(dots, label=colour_label)
    ring = [r for r in rows if r["on_front"]]
    ax.scatter([r[x] for r in ring], [r[y] for r in ring], s=70, facecolors="none", edgecolors="black",
               linewidths=0.8, label=front_label)
    for m in marks:
        if m.colour is None:
            ax.scatter([m.x], [m.y], marker=m.marker, s=m.size, facecolors="none", edgecolors=m.edge, linewidths=1.5,
                       label=m.label)
        else:
            ax.scatter([m.x], [m.y], marker=m.marker, s=m.size, c=m.colour, edgecolors=m.edge, label=m.label)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(fontsize=7, loc=legend)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def write_report(out: Path, stem: str, data: Mapping[str, Any], plot: Callable[[Path], None], section: str) -> dict[str, Path]:
    """A finished study written down in `out`: `stem`.json (`data`), `stem`.png (drawn by `plot`) and
    its own section of tuning.md (`section`, headed by its first line; the other study's section is kept)."""
    out.mkdir(parents=True, exist_ok=True)
    paths = {"json": out / f"{stem}.json", "png": out / f"{stem}.png", "md": out / "tuning.md"}
    paths["json"].write_text(json.dumps(data, indent=1, default=float))
    plot(paths["png"])
    replace_section(paths["md"], section)
    return paths
