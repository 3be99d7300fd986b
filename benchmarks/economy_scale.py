"""The royalty economy at scale: about a million usage events from 10,000 listeners over a
simulated year, settled on the local node in batches.

    .venv/bin/python -m benchmarks.economy_scale [--listeners 10000] [--days 365] [--sessions-per-week 0.72]

One fresh embedded anvil, one run, measured side by side:

- the whole job, stage by stage: the catalogue registered on the node (Essen, 20 communities),
  warm-up and recommender fit, a year of listening for the fairness-aware arm ("ours": ALS +
  exposure re-ranking, refitted monthly), and on-chain settlement of every stream in daily
  batches aggregated per work (the default `OnchainSpec`): usage events settled per second and
  gas per usage event;
- the baseline in the same run: the first `--baseline-days` of those streams settled with one
  payBatch entry per usage event (no aggregation);
- the batch interval trade-off on the same first days: 1 h, 6 h, 24 h and 7-day batches,
  median latency from usage to credit against gas per usage event.

Writes benchmarks/results/economy_scale.json and benchmarks/results/economy_tradeoff.png.
"""

from __future__ import annotations

import argparse
import json
import platform
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from benchmarks.plots import labelled_curve
from chain.client import Chain, connect
from core.blockstore import open_store
from core.config import Settings
from economy.catalogue import SimulatedCatalogue, build
from economy.listeners import DAY, make_world
from economy.scenario import CatalogueSpec, ListenerSpec, OnchainSpec, Scenario
from economy.settlement import settle_onchain
from economy.simulate import listen, tune_als, warm_up

RESULTS = Path(__file__).parent / "results"


def _settle(chain: Chain, cat: SimulatedCatalogue, streams: pd.DataFrame, t0: float, spec: OnchainSpec, price: int,
            bar: Progress, label: str) -> dict[str, float]:
    """Settle `streams` (times relative to `t0`) from the node's current time on; timed."""
    now = float(chain.w3.eth.get_block("latest")["timestamp"]) + 3600
    shifted = streams.assign(time=streams["time"] - t0 + now)
    task = bar.add_task(label, total=len(shifted))
    started = time.perf_counter()
    settled = settle_onchain(shifted, cat, chain, spec, price, t0=now, epoch_days=30,
                             progress=lambda n: bar.advance(task, n))
    seconds = time.perf_counter() - started
    return {
        "events": settled.events, "unsettled": settled.unsettled, "seconds": round(seconds, 2),
        "events_per_s": round(settled.events / seconds, 1), "transactions": settled.extra["transactions"],
        "gas_per_event": round(settled.extra["gas_per_event"], 1),
        "median_latency_days": round(float(np.median(settled.latency_days)), 4),
        "p90_latency_days": round(float(np.percentile(settled.latency_days, 90)), 4),
        "failure_rate": settled.extra["failure_rate"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--listeners", type=int, default=10_000)
    parser.add_argument("--days", type=float, default=365)
    parser.add_argument("--sessions-per-week", type=float, default=0.72,
                        help="Tuned so that the year holds about a million streams.")
    parser.add_argument("--baseline-days", type=float, default=30)
    args = parser.parse_args()
    console = Console()
    scenario = Scenario(
        name="scale", seed=5,
        catalogue=CatalogueSpec(communities=20, max_works_per_community=40, derivative_share=0.3),
        listeners=ListenerSpec(count=args.listeners, days=args.days, warmup_days=30,
                               sessions_per_week=args.sessions_per_week),
    )
    stages: dict[str, float] = {}
    result: dict[str, Any] = {"machine": f"{platform.machine()}, {platform.python_version()}", "when": time.strftime("%Y-%m-%d")}
    with tempfile.TemporaryDirectory() as tmp, Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console,
    ) as bar:
        settings = Settings(data_dir=Path(tmp), deployments_dir=Path(tmp) / "deployments")
        tasks: dict[str, Any] = {}

        def say(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=total)
            bar.update(tasks[stage], completed=done, total=total)

        clock = time.perf_counter()
        chain = connect(settings)
        try:
            cat = build(chain, open_store(settings), scenario.catalogue, scenario.seed)
            stages["catalogue on chain"] = time.perf_counter() - clock
            group = cat.item_group
            k = min(scenario.listeners.list_length, group.size)
            world = make_world(scenario.listeners, group, cat.is_heritage, scenario.seed)
            t0 = float(chain.w3.eth.get_block("latest")["timestamp"]) + 3600
            clock = time.perf_counter()
            history, x0, long_tail = warm_up(world, scenario, group.size, k, t0, say)
            als, _ = tune_als(history, scenario.listeners.count, group.size, scenario.seed)
            result["als"] = als
            stages["warm-up and ALS tuning"] = time.perf_counter() - clock
            clock = time.perf_counter()
            arm = listen("ours", world, scenario, history, x0, long_tail, group, k, t0, say, als)
            streams = arm.log.frames()[2]
            stages["a year of listening (ours)"] = time.perf_counter() - clock
            clock = time.perf_counter()
            result["system"] = _settle(chain, cat, streams, t0, scenario.onchain, scenario.price_wei, bar,
                                       "settling: daily batches, aggregated")
            stages["settlement on chain"] = time.perf_counter() - clock
            first = streams[streams["time"] < t0 + args.baseline_days * DAY]
            result["baseline_per_event"] = _settle(
                chain, cat, first, t0, scenario.onchain.model_copy(update={"aggregate": False}), scenario.price_wei, bar,
                f"baseline: first {args.baseline_days:g} days, one entry per event")
            result["system_same_days"] = _settle(chain, cat, first, t0, scenario.onchain, scenario.price_wei, bar,
                                                 f"system: first {args.baseline_days:g} days, aggregated")
            result["tradeoff"] = {
                f"{hours:g} h": _settle(chain, cat, first, t0, scenario.onchain.model_copy(update={"batch_hours": hours}),
                                        scenario.price_wei, bar, f"trade-off: {hours:g} h batches")
                for hours in (1, 6, 24, 168)
            }
        finally:
            chain.close()
    result["scenario"] = scenario.model_dump(mode="json")
    result["catalogue"] = {"communities": len(cat.communities), "works": len(cat.items)}
    result["stages_s"] = {k: round(v, 1) for k, v in stages.items()}
    result["total_s"] = round(sum(stages.values()), 1)
    result["ratio_gas_per_event_baseline_over_system"] = round(
        result["baseline_per_event"]["gas_per_event"] / result["system_same_days"]["gas_per_event"], 2)
    result["ratio_events_per_s_system_over_baseline"] = round(
        result["system_same_days"]["events_per_s"] / result["baseline_per_event"]["events_per_s"], 2)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "economy_scale.json").write_text(json.dumps(result, indent=2))
    _plot(result["tradeoff"])
    console.print_json(json.dumps({k: result[k] for k in ("stages_s", "total_s", "system", "baseline_per_event",
                                                           "system_same_days", "ratio_gas_per_event_baseline_over_system",
                                                           "ratio_events_per_s_system_over_baseline")}))
    console.print("trade-off (batch interval → median latency days, gas per event):")
    for label, r in result["tradeoff"].items():
        console.print(f"  {label:>6}: {r['median_latency_days']:.3f} d, {r['gas_per_event']:,.0f} gas")


def _plot(tradeoff: dict[str, dict[str, float]]) -> None:
    labelled_curve(RESULTS / "economy_tradeoff.png", [r["median_latency_days"] for r in tradeoff.values()],
                   [r["gas_per_event"] for r in tradeoff.values()], list(tradeoff), log_x=True,
                   xlabel="median days from usage to credit", ylabel="gas per usage event",
                   title="Batch interval: latency against gas")


if __name__ == "__main__":
    main()
