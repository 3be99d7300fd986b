"""The generator's decoding weights tuned on a Pareto front (`heritage tune generation`).

No training: the shipped (or the user's) conditioned network decodes validation songs' continuations
under each trial's weights, and Table 1's own measures (`evaluation.piece_metrics`, against the
training songs as `Reference`) judge them.

- **Parameters** (`decode.SampleConfig`): `temperature` [0.5, 1.5]; `top_k` [0, 40] (0: no cut);
  `mask_strength` [0.25, 32] logits, log scale (how strongly the tuning and interval masks lower a
  pitch they forbid; the default decoding's hard mask is infinity); `ornament_bias` [−3, 3] logits on
  ornament tokens. The decoder on main has no structure or repetition term, so none is tuned.
- **Objectives** (all minimised), means over the songs: modal error (cents), rhythm DTW, structural
  edit distance (length-fair), and the PPL of the generated continuation under the training songs'
  event bigram — exactly Table 1's columns.
- **Songs**: the first `pieces` validation songs by CID (never the test songs Table 1 reports); each
  prompts with its opening `prompt_bars` cycles and the continuation is measured, one fixed seed per
  song, the same in every trial.
- **The default decoding** (`SampleConfig()`) is measured in the same run, beside the front.

A study is stored in `DATA_DIR/tuning/generation.db` (SQLite) under a name derived from the model
file's hash and the settings, so a rerun with more `--trials` resumes.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

from core import studies
from core.errors import InputError
from ml.generation.decode import SampleConfig
from ml.generation.evaluation import Reference, mean_metrics, piece_metrics, span
from ml.generation.inference import bars_for, generate_ours
from ml.generation.lattice import LatticePiece
from ml.generation.train import SavedGenerator
from ml.tradition import Tradition

OBJECTIVES = ("modal_error_cents", "rhythm_dtw", "structural_distance", "ppl")
DIRECTIONS: tuple[Literal["minimize"], ...] = ("minimize",) * 4
PARAMS = ("temperature", "top_k", "mask_strength", "ornament_bias")


@dataclass(frozen=True)
class Settings:
    pieces: int = 8
    seconds: float = 20.0
    bpm: float = 80.0
    prompt_bars: int = 2
    seed: int = 0


@dataclass(frozen=True)
class Stage:
    """What every trial shares: the network, its tradition, the validation songs and the reference."""

    saved: SavedGenerator
    model_id: str
    tradition: Tradition
    songs: tuple[LatticePiece, ...]
    reference: Reference
    ornament_rate: tuple[float, float]
    settings: Settings


def stage(saved: SavedGenerator, model_id: str, *, tradition: Tradition, train: Sequence[LatticePiece],
          validation: Sequence[LatticePiece], split_id: str, settings: Settings, reference_pieces: int = 150) -> Stage:
    """Check the split is the network's own and fix the songs and the reference."""
    if saved.split_id != split_id:
        raise InputError(f"the model was trained on another split ({saved.split_id[:12]}…, here {split_id[:12]}…): "
                         "pass the --songs it was built with (its manifest's settings.songs)")
    songs = tuple(sorted(validation, key=lambda p: p.cid or "")[: settings.pieces])
    if not songs:
        raise InputError("no validation song to decode from")
    rate = tuple(float(x) for x in saved.facts.get("ornament_rate", (0.0, 0.0)))
    return Stage(saved, model_id, tradition, songs, Reference.build(train, tradition=tradition, limit=reference_pieces),
                 (rate[0], rate[1]), settings)


def evaluate(st: Stage, sample: SampleConfig) -> dict[str, float | None]:
    """Decode every song's continuation with `sample` and average Table 1's measures over them."""
    rows = []
    s = st.settings
    for i, song in enumerate(st.songs):
        bars = bars_for(s.seconds, bpm=s.bpm, beats=st.tradition.cycle(song.cycle).beats)
        lend = min(s.prompt_bars, bars - 1)
        g, _ = generate_ours(st.saved, tradition=st.tradition, mode=song.mode, cycle=song.cycle, context=song.context,
                             bars=bars, prompt=[song.first_bars(lend)] if lend else [], seed=s.seed + i, sample=sample,
                             ornament_rate=st.ornament_rate)
        rows.append(piece_metrics(span(g.piece, skip_bars=lend, bars=bars), tradition=st.tradition, mode=song.mode,
                                  reference=st.reference, bpm=s.bpm))
    return mean_metrics(rows)


def sample_of(params: dict[str, Any]) -> SampleConfig:
    k = int(params.get("top_k", 0))
    return SampleConfig(temperature=float(params["temperature"]), top_k=k or None,
                        mask_strength=float(params["mask_strength"]), ornament_bias=float(params["ornament_bias"]))


def suggest(trial: Any) -> dict[str, Any]:
    return {"temperature": trial.suggest_float("temperature", 0.5, 1.5),
            "top_k": trial.suggest_int("top_k", 0, 40, step=5),
            "mask_strength": trial.suggest_float("mask_strength", 0.25, 32.0, log=True),
            "ornament_bias": trial.suggest_float("ornament_bias", -3.0, 3.0)}


def study_name(st: Stage) -> str:
    key = json.dumps({"model": st.model_id, **asdict(st.settings)}, sort_keys=True)
    return f"generation-{hashlib.sha256(key.encode()).hexdigest()[:12]}"


def _values(figures: Mapping[str, float | None]) -> tuple[float, ...]:
    return tuple(math.inf if figures[o] is None else float(figures[o] or 0.0) for o in OBJECTIVES)


def run_study(st: Stage, trials: int, storage: Path, *, sampler: str = "nsga2", seed: int = 0,
              on_trial: Callable[[int, int], None] | None = None) -> Any:
    """Run (or resume) the study until it holds `trials` finished trials; returns the study. The first
    trial is the default decoding with the strongest soft mask in range (the nearest point to it)."""
    def objective(trial: Any) -> tuple[float, ...]:
        figures = evaluate(st, sample_of(suggest(trial)))
        trial.set_user_attr("figures", figures)
        return _values(figures)

    first = {"temperature": 1.0, "top_k": 0, "mask_strength": 32.0, "ornament_bias": 0.0}
    return studies.run_study(study_name(st), storage, DIRECTIONS, trials, objective, first=first, sampler=sampler, seed=seed,
                             on_trial=on_trial)


RULE = ("among front points whose modal error is at most the default decoding's + 5 cents, the one with the lowest "
        "mean ratio to the default's value over rhythm DTW, structural distance and PPL")


@dataclass(frozen=True)
class Front:
    rows: list[dict[str, Any]]  # every finished trial: number, params, figures, on_front, seconds
    default: dict[str, float | None]  # SampleConfig() measured on the same songs
    chosen: dict[str, Any] | None
    rule: str
    beats_default: list[int]  # trials no worse than the default on every objective and better on one
    strictly_better: list[int]  # trials better than the default on every objective


def _ratio(row: dict[str, Any], default: Mapping[str, float | None]) -> float:
    names = OBJECTIVES[1:]
    return float(sum(row[n] / d if (d := default[n]) else row[n] for n in names)) / len(names)


def front(study: Any, default: Mapping[str, float | None]) -> Front:
    """The Pareto front, every trial's figures, the point the rule picks, and which trials beat the default."""
    import optuna

    on_front = {t.number for t in study.best_trials}
    rows = [{"trial": t.number, **t.params, "on_front": t.number in on_front, "seconds": t.user_attrs.get("seconds"),
             **{o: v for o, v in zip(OBJECTIVES, t.values, strict=True)}}
            for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    base = [math.inf if default[o] is None else float(default[o] or 0.0) for o in OBJECTIVES]
    ok = [r for r in rows if r["on_front"] and r[OBJECTIVES[0]] <= base[0] + 5.0]
    chosen = min(ok, key=lambda r: _ratio(r, default)) if ok else None
    no_worse = [r for r in rows if all(r[o] <= b for o, b in zip(OBJECTIVES, base, strict=True))]
    beats = [r["trial"] for r in no_worse if any(r[o] < b for o, b in zip(OBJECTIVES, base, strict=True))]
    strictly = [r["trial"] for r in rows if all(r[o] < b for o, b in zip(OBJECTIVES, base, strict=True))]
    return Front(rows, dict(default), chosen, RULE, beats, strictly)
