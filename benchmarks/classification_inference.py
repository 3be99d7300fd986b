"""Inference per 30-s clip on CPU for every audio classifier and the soft-vote ensemble.

    .venv/bin/python -m benchmarks.classification_inference [--runs 20]

A 30-s clip is ten 3-s log-mel patches (128 × 128); each model scores all ten and averages
them, as `heritage classify` does. Models have the default sizes of `AudioModelConfig` (the ones
`heritage classification evaluate` trains) with untrained weights: inference time does not
depend on the weights' values. Side by side in one run: the log-mel features of the clip, each
member, and the ensemble of the four neural members (the aim: under 100 ms). Medians of `--runs`.
Writes benchmarks/results/classification_inference.json.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from rich.console import Console
from rich.table import Table

from ml.classification.audio import _NETS, KINDS, AudioModelConfig, Ensemble, Member, Trained, clip_proba
from ml.recognition.features import logmel_patches

RESULTS = Path(__file__).parent / "results"


def _median_ms(fn: Callable[[], Any], runs: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return 1000 * statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=20, help="timed runs per model (median reported)")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    audio = (rng.normal(size=30 * 22_050) * 0.1).astype(np.float32)
    patches = logmel_patches(audio)  # (10, 128, 128)
    cfg = AudioModelConfig()
    labels = [f"class {i}" for i in range(5)]
    torch.manual_seed(0)
    members: list[Member] = []
    for kind in KINDS:
        net = _NETS[kind](len(labels), cfg)
        net.eval()
        members.append(Trained(kind, net, cfg, labels, -60.0, 20.0))
    ensemble = Ensemble.soft_vote(members)
    rows = {"log-mel features of the clip": _median_ms(lambda: logmel_patches(audio), args.runs)}
    for m in members:
        rows[m.name] = _median_ms(lambda m=m: clip_proba(m, [patches]), args.runs)  # type: ignore[misc]
    rows["soft-vote ensemble (4 members)"] = _median_ms(lambda: clip_proba(ensemble, [patches]), args.runs)
    rows["ensemble from audio (features included)"] = _median_ms(lambda: clip_proba(ensemble, [logmel_patches(audio)]),
                                                                 args.runs)
    out = {"machine": f"{platform.machine()}, torch threads {torch.get_num_threads()}", "runs": args.runs,
           "clip_seconds": 30, "patches": len(patches), "median_ms": {k: round(v, 2) for k, v in rows.items()},
           "ensemble_vs_aim_100ms": round(rows["ensemble from audio (features included)"] / 100, 3)}
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "classification_inference.json").write_text(json.dumps(out, indent=2))
    t = Table(title=f"inference per 30-s clip (median of {args.runs})")
    t.add_column("model")
    t.add_column("ms", justify="right")
    for k, v in rows.items():
        t.add_row(k, f"{v:.1f}")
    Console().print(t)


if __name__ == "__main__":
    main()
