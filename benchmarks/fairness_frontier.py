"""The fairness–engagement frontier: one scenario, the re-ranking strength swept.

    .venv/bin/python -m benchmarks.fairness_frontier [--config scenarios/small.yaml] [--strengths 0 0.25 0.5 0.75 1]

For each strength the whole simulation runs (`economy.simulate.run`) on one embedded anvil and
the "ours" arm is read off: payout fairness across communities (Jain, Gini), ranking quality
(NDCG@20), long-tail coverage, streams per session and the Cox hazard ratio of session
abandonment against the unconditioned arm of the same run (strength 0 is the baseline: there
"ours" equals "unconditioned"). Writes benchmarks/results/fairness_frontier.json and
benchmarks/results/fairness_frontier.png.
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
    parser.add_argument("--strengths", type=float, nargs="+", default=[0.0, 0.25, 0.5, 0.75, 1.0])
    args = parser.parse_args()
    console = Console()
    base = load_scenario(args.config)
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp) / "data", deployments_dir=Path(tmp) / "data" / "deployments")
        chain = connect(settings)
        try:
            for strength in args.strengths:
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
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "fairness_frontier.json").write_text(json.dumps({"scenario": str(args.config), "rows": rows}, indent=2))
    table = Table(title=f"Fairness–engagement frontier, {args.config}")
    for col in ("strength", "Jain", "Gini", "NDCG@20", "cov@100 tail", "streams/session", "abandon HR"):
        table.add_column(col, justify="right")
    for r in rows:
        table.add_row(f"{r['strength']:g}", *(f"{r[c]:.3f}" for c in COLUMNS), f"{r['abandonment_hr']:.2f}")
    console.print(table)
    _plot(rows)


def _plot(rows: list[dict[str, Any]]) -> None:
    labelled_curve(RESULTS / "fairness_frontier.png", [r["ndcg@20"] for r in rows], [r["Jain (communities)"] for r in rows],
                   [f"{r['strength']:g} (HR {r['abandonment_hr']:.2f})" for r in rows],
                   xlabel="NDCG@20 (ranking quality)", ylabel="Jain over community payouts",
                   title="Re-ranking strength: fairness against relevance")


if __name__ == "__main__":
    main()
