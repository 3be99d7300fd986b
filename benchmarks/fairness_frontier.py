"""The fairness–engagement frontier: one scenario, the re-ranking strength swept.

    .venv/bin/python -m benchmarks.fairness_frontier [--config scenarios/small.yaml] [--strengths 0 0.25 0.5 0.75 1]

For each strength the whole simulation runs (`economy.simulate.run`) on one embedded anvil and
the "ours" arm is read off: payout fairness across communities (Jain, Gini), ranking quality
(NDCG@20), long-tail coverage, streams per session and the Cox hazard ratio of session
abandonment against the unconditioned arm of the same run (strength 0 is the baseline: there
"ours" equals "unconditioned"). Writes benchmarks/results/fairness_frontier.json and
benchmarks/results/fairness_frontier.png.

The recommended strength is the strongest one that costs listeners nothing measurable: NDCG@20 at
least the baseline's, and a 95 % interval of the abandonment hazard ratio that still includes 1
(no significant rise in abandonment). The scenarios' `fair_strength` is set from it.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from benchmarks.plots import labelled_curve
from chain.client import connect
from core.blockstore import open_store
from core.config import Settings
from economy.scenario import load_scenario
from economy.simulate import run

RESULTS = Path(__file__).parent / "results"
COLUMNS = ("Jain (communities)", "Gini (communities)", "ndcg@20", "coverage@100_bottom10", "streams_per_session")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", type=Path, default=Path("scenarios/small.yaml"))
    parser.add_argument("--strengths", type=float, nargs="+", default=[0.0, 0.25, 0.5, 0.75, 1.0],
                        help="re-ranking strengths to run; 0 (the baseline) is added when missing")
    parser.add_argument("--out", type=Path, default=RESULTS / "fairness_frontier.json", help="figures file (a .png beside it)")
    args = parser.parse_args()
    console = Console()
    base = load_scenario(args.config)
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp) / "data", deployments_dir=Path(tmp) / "data" / "deployments")
        chain = connect(settings)
        try:
            for strength in sorted(set([0.0, *args.strengths])):
                scenario = base.model_copy(update={"recommender": base.recommender.model_copy(update={"fair_strength": strength})})
                started = time.perf_counter()
                summary = run(scenario, chain, open_store(settings), Path(tmp) / f"out-{strength}")
                ours = summary["table2"]["ours"]
                cox = summary["cox_abandonment_ours_vs_unconditioned"]
                rows.append({"strength": strength, **{c: ours[c] for c in COLUMNS}, "abandonment_hr": cox["hazard_ratio"],
                             "hr_ci": [cox["ci_low"], cox["ci_high"]], "seconds": round(time.perf_counter() - started, 1)})
                console.print(f"strength {strength:g}: done in {rows[-1]['seconds']} s")
        finally:
            chain.close()
    chosen = recommend(rows)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"scenario": str(args.config), "recommended": chosen, "rows": rows}, indent=2))
    table = Table(title=f"Fairness–engagement frontier, {args.config}")
    for col in ("strength", "Jain", "Gini", "NDCG@20", "cov@100 tail", "streams/session", "abandon HR"):
        table.add_column(col, justify="right")
    for r in rows:
        table.add_row(f"{r['strength']:g}", *(f"{r[c]:.3f}" for c in COLUMNS), f"{r['abandonment_hr']:.2f}")
    console.print(table)
    console.print(f"recommended strength: {chosen:g} (NDCG@20 not below the baseline, abandonment HR interval includes 1)")
    _plot(rows, args.out.with_suffix(".png"))


def recommend(rows: list[dict[str, Any]]) -> float:
    """The strongest re-ranking whose NDCG@20 is at least the baseline's (strength 0) and whose
    abandonment hazard ratio is not significantly above 1 (its 95 % interval includes 1); 0 when
    none is."""
    base = next(r for r in rows if r["strength"] == 0.0)
    fine = [r["strength"] for r in rows if r["ndcg@20"] >= base["ndcg@20"] and r["hr_ci"][0] <= 1.0]
    return max(fine, default=0.0)


def _plot(rows: list[dict[str, Any]], path: Path) -> None:
    labelled_curve(path, [r["ndcg@20"] for r in rows], [r["Jain (communities)"] for r in rows],
                   [f"{r['strength']:g} (HR {r['abandonment_hr']:.2f})" for r in rows],
                   xlabel="NDCG@20 (ranking quality)", ylabel="Jain over community payouts",
                   title="Re-ranking strength: fairness against relevance")


if __name__ == "__main__":
    main()
