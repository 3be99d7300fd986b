"""How much `heritage recognition evaluate` moves across reruns of the same command.

`spread` reads the reports of several runs (their recognition.json) and, for every model × test
set, gives each run's segment and clip error rates with their minimum, median and maximum, beside a
baseline report (the committed one) when given; it also says whether the runs shared their split
and whether the saved models' CIDs matched. `write_spread` renders reports/recognition_reruns.md
and .json from it: the figures come from the run files, never typed by hand.
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Sequence
from pathlib import Path
from typing import Any

METRICS = ("segment_error_rate", "clip_error_rate")


def _rows(report: dict[str, Any]) -> dict[tuple[str, str], dict[str, float]]:
    return {(variant, test): {m: float(r[m]) for m in METRICS}
            for variant, results in report["results"].items() for test, r in results.items() if isinstance(r, dict)}


def _cid(report: dict[str, Any], key: str) -> str | None:
    return (report.get(key) or {}).get("cid")


def spread(runs: Sequence[dict[str, Any]], *, baseline: dict[str, Any] | None = None) -> dict[str, Any]:
    """Per (model, test set) row present in every run: each run's value of each metric, and min,
    median, max (and the baseline's value when it has the row). Raises ValueError for fewer than
    two runs or runs on different splits (their figures would not measure the same thing)."""
    if len(runs) < 2:
        raise ValueError(f"a spread needs at least two runs, got {len(runs)}")
    splits = {r["split_id"] for r in runs}
    if len(splits) != 1:
        raise ValueError(f"the runs used different splits ({', '.join(sorted(s[:16] for s in splits))}): not reruns of one command")
    per_run = [_rows(r) for r in runs]
    base = _rows(baseline) if baseline else {}
    rows = []
    for key in per_run[0]:
        if not all(key in p for p in per_run):
            continue
        row: dict[str, Any] = {"model": key[0], "test": key[1]}
        for m in METRICS:
            values = [p[key][m] for p in per_run]
            row[m] = {"runs": values, "min": min(values), "median": statistics.median(values), "max": max(values),
                      "baseline": base[key][m] if key in base else None}
        rows.append(row)
    cids = {key: [_cid(r, key) for r in runs] for key in ("model", "cnn_model")}
    return {"runs": len(runs), "split_id": splits.pop(), "rows": rows,
            "cids": {k: {"values": v, "identical": len(set(v)) == 1 and v[0] is not None} for k, v in cids.items()},
            "wall_seconds": [r.get("wall_seconds") for r in runs],
            "train_seconds": {v: [r["results"][v]["train_seconds"] for r in runs] for v in runs[0]["results"]
                              if all(v in r["results"] for r in runs)},
            "baseline_split_matches": None if baseline is None else baseline.get("split_id") == runs[0]["split_id"]}


def write_spread(s: dict[str, Any], out: Path, *, sources: Sequence[str], baseline: str | None = None) -> None:
    """recognition_reruns.json and .md in `out`."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "recognition_reruns.json").write_text(json.dumps({**s, "sources": list(sources), "baseline": baseline}, indent=2))

    def pct(v: float | None) -> str:
        return "–" if v is None else f"{100 * v:.1f}"

    n = s["runs"]
    lines = ["# Reruns of `heritage recognition evaluate`: how much the figures move", "",
             f"{n} runs of the same command on the same split (`{s['split_id'][:16]}`), read from "
             + ", ".join(f"`{p}`" for p in sources)
             + (f"; baseline: `{baseline}`" if baseline else "") + ". Error rates in %; "
             "spread = max − min in points. Written by `heritage recognition spread`.", "",
             "| model | test set | metric | " + " | ".join(f"run {i + 1}" for i in range(n))
             + " | min | median | max | spread | baseline |",
             "|---|---|---|" + "---|" * (n + 5)]
    for row in s["rows"]:
        for m in METRICS:
            v = row[m]
            lines.append(f"| {row['model']} | {row['test']} | {m.split('_')[0]} | " + " | ".join(pct(x) for x in v["runs"])
                         + f" | {pct(v['min'])} | {pct(v['median'])} | {pct(v['max'])} | {100 * (v['max'] - v['min']):.1f} | "
                         f"{pct(v['baseline'])} |")
    lines += ["", "## Saved models", ""]
    for key, name in (("model", "DNN-HMM"), ("cnn_model", "transfer CNN")):
        c = s["cids"][key]
        lines.append(f"- {name}: CIDs {'identical' if c['identical'] else 'differ'} across the runs: "
                     + ", ".join(f"`{v}`" if v else "none" for v in c["values"]) + ".")
    if s.get("baseline_split_matches") is not None:
        lines.append(f"- The baseline's split {'is' if s['baseline_split_matches'] else 'is not'} the runs' split.")
    walls = [w for w in s["wall_seconds"] if w is not None]
    if walls:
        lines += ["", "## Run times", "",
                  "Wall time per run (as each report records it): " + ", ".join(f"{w / 60:.1f} min" for w in walls) + ".",
                  "", "| model | " + " | ".join(f"run {i + 1} training s" for i in range(n)) + " |", "|---|" + "---|" * n]
        lines += [f"| {v} | " + " | ".join(f"{t:.0f}" for t in ts) + " |" for v, ts in s["train_seconds"].items()]
    (out / "recognition_reruns.md").write_text("\n".join(lines) + "\n")
