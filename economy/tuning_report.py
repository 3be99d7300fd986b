"""The economy study's front written down: `reports/tuning.md`, `tuning_economy.json` and
`tuning_economy.png` (NDCG@20 against Jain on the held-out listeners, coloured by the abandonment
hazard ratio; the front, the unconditioned arm, the scenario's default and the chosen point marked)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from core.paths import REPO_ROOT
from core.studies import Mark, plot_front, write_report
from economy.tuning import OBJECTIVES, RULE, Front

SHIPPED = REPO_ROOT / "reports" / "tuning_economy.json"

PARAMS = ("fair_strength", "candidates", "tail_candidates", "popularity_blend", "familiarity_tilt")


def as_json(fr: Front, meta: dict[str, Any]) -> dict[str, Any]:
    return {"meta": meta, "objectives": list(OBJECTIVES), "rule": fr.rule, "baseline": fr.baseline,
            "chosen": fr.chosen, "both_better": fr.both_better, "trials": fr.rows}


def plot(fr: Front, path: Path) -> None:
    base = fr.baseline["heldout"]
    marks = [Mark(base["ndcg@20"], base["jain"], "unconditioned (no re-ranking)", "*", 180, "black")]
    first = next((r for r in fr.rows if r["trial"] == 0), None)
    if first is not None:
        marks.append(Mark(first["heldout ndcg@20"], first["heldout jain"], "scenario's default", "s", 60, None, "tab:green"))
    if fr.chosen is not None:
        marks.append(Mark(fr.chosen["heldout ndcg@20"], fr.chosen["heldout jain"], f"chosen (trial {fr.chosen['trial']})",
                          "D", 70, "gold", "black"))
    plot_front(path, fr.rows, x="heldout ndcg@20", y="heldout jain", colour=[r["heldout abandonment_hr"] for r in fr.rows],
               colour_label="abandonment hazard ratio (held-out)", cmap="coolwarm", limits=(0.5, 1.5),
               front_label="Pareto front (tuning half)", marks=marks, xlabel="NDCG@20 (held-out listeners)",
               ylabel="Jain's index of community payouts (held-out)",
               title="Re-ranking settings: fairness against listeners", legend="lower left")


def _row(r: dict[str, Any], half: str) -> str:
    return (f"| {r['trial']} | {r['fair_strength']:.2f} | {r['candidates']} | {r['tail_candidates']} | "
            f"{r['popularity_blend']:.2f} | {r['familiarity_tilt']:+.2f} | {r[f'{half} jain']:.3f} | "
            f"{r[f'{half} theil_t']:.3f} | {r[f'{half} ndcg@20']:.3f} | {r[f'{half} abandonment_hr']:.2f} "
            f"[{r[f'{half} hr_ci_low']:.2f}, {r[f'{half} hr_ci_high']:.2f}] |")


def markdown(fr: Front, meta: dict[str, Any]) -> str:
    base = fr.baseline["heldout"]
    head = ("| trial | strength | candidates | tail cand. | pop. blend | fam. tilt | Jain | Theil T | NDCG@20 | "
            "abandonment HR [95 % CI] |\n|---|---|---|---|---|---|---|---|---|---|")
    front = sorted((r for r in fr.rows if r["on_front"]), key=lambda r: r["heldout ndcg@20"])
    lines = [
        "# Tuning the value chain: the recommender's Pareto front",
        "",
        f"Command: `{meta['command']}` · {meta['trials']} trials ({meta['sampler']}, seed {meta['seed']}) on scenario "
        f"`{meta['scenario']}` · {meta['seconds']:.0f} s in all ({meta['seconds_per_trial']:.1f} s per trial, median) · "
        f"{meta['when']} · Optuna {meta['optuna']}.",
        "",
        "Each trial runs the simulation's \"ours\" arm with its settings on one seed-fixed world (catalogue, listeners,",
        "warm-up and the unconditioned arm built once). The search sees only the tuning half of the listeners;",
        "the tables below are the **held-out half** (the other listeners, never seen by the search).",
        "Objectives: Jain's index of community payouts (max), NDCG@20 against the hidden taste (max), Cox hazard",
        "ratio of session abandonment against the unconditioned arm (min).",
        "",
        f"Unconditioned arm (no re-ranking), held-out: Jain {base['jain']:.3f}, Theil T {base['theil_t']:.3f}, "
        f"NDCG@20 {base['ndcg@20']:.3f}, hazard ratio 1 by definition.",
        "",
        f"## The front ({len(front)} of {len(fr.rows)} trials; held-out figures)",
        "",
        head,
        *(_row(r, "heldout") for r in front),
        "",
        "## The chosen point",
        "",
        f"Rule: {RULE}.",
        "",
    ]
    if fr.chosen is None:
        lines.append("No front point meets the rule: every point that keeps NDCG@20 raises abandonment significantly.")
    else:
        c = fr.chosen
        lines += [head, _row(c, "heldout"), "", "Settings for a scenario's `recommender:` block: " +
                  ", ".join(f"`{p}: {c[p]:.3g}`" if isinstance(c[p], float) else f"`{p}: {c[p]}`" for p in PARAMS) + "."]
    lines += ["", "## Fairness and abandonment at once?", ""]
    if fr.both_better:
        lines.append(f"Yes: {len(fr.both_better)} trial(s) raise held-out Jain above the unconditioned arm's while the "
                     f"abandonment hazard ratio's 95 % interval lies below 1: trials {', '.join(map(str, fr.both_better[:20]))}.")
    else:
        lines.append("No trial lowers abandonment significantly (a hazard ratio interval wholly below 1) while raising "
                     "fairness: on this simulated population fairness is bought with listeners or, at best, costs "
                     "nothing measurable. The seed's claim (HR 0.74 with higher NDCG) is not reproduced here; the "
                     "front shows the trade.")
    lines += ["", "![front](tuning_economy.png)", ""]
    return "\n".join(lines)


def write(fr: Front, meta: dict[str, Any], out: Path) -> dict[str, Path]:
    return write_report(out, "tuning_economy", as_json(fr, meta), lambda path: plot(fr, path), markdown(fr, meta))


def remember(fr: Front, meta: dict[str, Any], data_dir: Path) -> None:
    saved_in(data_dir).parent.mkdir(parents=True, exist_ok=True)
    saved_in(data_dir).write_text(json.dumps(as_json(fr, meta), default=float))


def saved_in(data_dir: Path) -> Path:
    """Where the latest study of a data directory keeps its front (beside its Optuna database)."""
    return data_dir / "tuning" / "economy.json"


def latest(data_dir: Path) -> dict[str, Any] | None:
    """The front of this data directory's latest study, else the one shipped in reports/, else None."""
    for path in (saved_in(data_dir), SHIPPED):
        if path.is_file():
            data: dict[str, Any] = json.loads(path.read_text())
            data["source"] = "this data directory" if path != SHIPPED else "reports/tuning_economy.json (shipped)"
            return data
    return None
