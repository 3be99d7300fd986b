"""Optuna multi-objective studies as both tuning commands run them (`heritage tune economy` and
`heritage tune generation`): stored in SQLite, resumed by name, a first point enqueued, one trial at
a time so the progress bar moves."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal


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
