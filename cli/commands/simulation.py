"""`heritage simulate`: a royalty economy, three arms, manual vs on-chain settlement."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.table import Table

from cli.common import DataOpt, JsonOpt, connected, console, errors, stages
from core.blockstore import open_store


def simulate(config: Path | None = typer.Option(None, "--config", help="Scenario YAML (economy/scenario.py has every "
                                                "field and its range); omit for the defaults."),
             out: Path = typer.Option(Path("results/simulation"), "--out", help="Results folder (created)."),
             data_dir: Path = DataOpt, as_json: bool = JsonOpt) -> None:
    """Simulate a royalty economy: listeners, recommendation (archive, unconditioned, fairness-aware)
    and settlement (manual vs on-chain on the node); writes tables, plots, table2.csv and summary.json."""
    from economy.scenario import load_scenario
    from economy.simulate import run as run_simulation

    with errors():
        scenario = load_scenario(config)
    with connected(data_dir) as c, stages(quiet=as_json) as progress:
        summary = run_simulation(scenario, c, open_store(c.settings), out, progress)
    if as_json:
        print(json.dumps(summary, default=float))
        return
    t = Table(title=f"Table 2 (our runs): scenario {scenario.name!r}, results in {out}")
    t.add_column("measure")
    for arm in summary["table2"]:
        t.add_column(arm, justify="right")
    measures = list(next(iter(summary["table2"].values())))
    for m in measures:
        t.add_row(m, *(f"{summary['table2'][arm][m]:.4g}" for arm in summary["table2"]))
    console.print(t)
    cox = summary["cox_abandonment_ours_vs_unconditioned"]
    console.print(f"Session abandonment, ours vs unconditioned (Cox): HR {cox['hazard_ratio']:.3f} "
                  f"[{cox['ci_low']:.3f}, {cox['ci_high']:.3f}], p = {cox['p']:.3g}")
