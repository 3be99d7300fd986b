"""The generation study's front written down: its section of `reports/tuning.md`,
`tuning_generation.json` and `tuning_generation.png` (structural distance against rhythm DTW,
coloured by PPL; the front, the default decoding and the chosen point marked)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from core.studies import Mark, plot_front, write_report
from ml.generation.tuning import OBJECTIVES, PARAMS, Front

HEADING = "# Tuning the generator: decoding weights on a Pareto front"


def as_json(fr: Front, meta: dict[str, Any]) -> dict[str, Any]:
    return {"meta": meta, "objectives": list(OBJECTIVES), "params": list(PARAMS), "rule": fr.rule, "default": fr.default,
            "chosen": fr.chosen, "beats_default": fr.beats_default, "strictly_better": fr.strictly_better,
            "trials": fr.rows}


def plot(fr: Front, path: Path) -> None:
    d, marks = fr.default, []
    if d["rhythm_dtw"] is not None and d["structural_distance"] is not None:
        marks.append(Mark(d["rhythm_dtw"], d["structural_distance"], "default decoding", "*", 180, "red"))
    if fr.chosen is not None:
        marks.append(Mark(fr.chosen["rhythm_dtw"], fr.chosen["structural_distance"],
                          f"chosen (trial {fr.chosen['trial']})", "D", 70, "gold", "black"))
    plot_front(path, fr.rows, x="rhythm_dtw", y="structural_distance", colour=[min(r["ppl"], 1e6) for r in fr.rows],
               colour_label="PPL of the continuation (training bigram)", cmap="viridis",
               front_label="Pareto front (4 objectives)", marks=marks,
               xlabel="rhythm DTW (lower is closer to the training songs)",
               ylabel="structural edit distance (length-fair)",
               title="Decoding weights: rhythm against form (colour: PPL)")


def fmt(v: Any) -> str:
    return "—" if v is None else f"{v:.3g}" if isinstance(v, float) else str(v)


def _row(name: str, r: dict[str, Any]) -> str:
    return "| " + " | ".join([name, *(fmt(r.get(p)) for p in PARAMS), *(fmt(r.get(o)) for o in OBJECTIVES)]) + " |"


HEAD = ("| point | temperature | top-k (0: none) | mask strength | ornament bias | modal error (cents) | rhythm DTW | "
        "structural distance | PPL |\n|---|---|---|---|---|---|---|---|---|")
DEFAULT = {"temperature": 1.0, "top_k": 0, "mask_strength": "∞ (hard)", "ornament_bias": 0.0}


def markdown(fr: Front, meta: dict[str, Any]) -> str:
    front = sorted((r for r in fr.rows if r["on_front"]), key=lambda r: r["rhythm_dtw"])
    lines = [
        HEADING,
        "",
        f"Command: `{meta['command']}` · {meta['trials']} trials ({meta['sampler']}, seed {meta['seed']}) · model "
        f"`{meta['model']}` · {meta['pieces']} validation songs, {meta['seconds_per_piece']:g} s each at {meta['bpm']:g} bpm, "
        f"{meta['prompt_bars']} prompt cycles · {meta['seconds']:.0f} s in all ({meta['seconds_per_trial']:.1f} s per trial, "
        f"median) · {meta['when']} · Optuna {meta['optuna']}.",
        "",
        "Each trial decodes the continuation of every validation song (prompted with its opening cycles, one fixed",
        "seed per song) with the trial's weights and measures it with Table 1's functions against the training",
        "songs. All four objectives are minimised. The decoder has no structure or repetition term on main, so",
        "none is tuned; the ornament bias only acts where the model's ornament cap allows ornaments.",
        "",
        f"## The front ({len(front)} of {len(fr.rows)} trials) beside the default decoding",
        "",
        HEAD,
        _row("default (same run)", {**fr.default, **DEFAULT}),
        *(_row(f"trial {r['trial']}", r) for r in front),
        "",
        "## The chosen point",
        "",
        f"Rule: {fr.rule}.",
        "",
    ]
    lines += [HEAD, _row(f"trial {fr.chosen['trial']}", fr.chosen)] if fr.chosen else ["No front point meets the rule."]
    lines += ["", "## Better than the default on every objective?", ""]
    if fr.strictly_better:
        lines.append(f"Yes: trials {', '.join(map(str, fr.strictly_better))} are lower on all four objectives.")
    elif fr.beats_default:
        lines.append(f"Not strictly: no trial is lower on all four, but trials {', '.join(map(str, fr.beats_default[:20]))} "
                     "are no worse on any and lower on at least one (the modal error of the hard mask, 0, can only be tied).")
    else:
        lines.append("No: every trial is worse than the default decoding on at least one objective; the front shows the trade.")
    lines += ["", "![generation front](tuning_generation.png)", ""]
    return "\n".join(lines)


def write(fr: Front, meta: dict[str, Any], out: Path) -> dict[str, Path]:
    return write_report(out, "tuning_generation", as_json(fr, meta), lambda path: plot(fr, path), markdown(fr, meta))
