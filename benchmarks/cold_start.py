"""A cold `heritage recognize` on a 10-s file: today's path beside the current one, in one run.

    .venv/bin/python -m benchmarks.cold_start [--runs 3] [--width 1024] [--layers 5] [--baseline-ref 3e3840c]

A DNN-HMM of the report's shape (13 classes × 3 states, `--layers` × `--width` hidden units) is
fitted for one epoch on synthetic tones (the time to answer does not depend on the weights), and a
10-s 44.1-kHz stereo WAV is written. Then, each in a fresh Python process (`--runs` rounds, the paths
interleaved in each round so a busy machine slows them alike; median and first run):

- baseline: `python -m cli.main recognize FILE --model M --json` in the tree of `--baseline-ref`
  (extracted with `git archive`: the code before the preprocessing path and lazy loading);
- current: the same command in this tree;
- ML only: the import, model load and recognition of this tree's `ml.recognition.model`, timed
  inside the process (what the command costs once the CLI stops importing the chain client at start);
- `recognize --help` of both trees (the command line's own import).

Writes benchmarks/results/cold_start.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from io import BytesIO
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
SR = 22_050
_ML_ONLY = """
import json, sys, time
t0 = time.perf_counter()
from pathlib import Path
from ml.recognition.model import load
t1 = time.perf_counter()
r = load(Path(sys.argv[1]))
t2 = time.perf_counter()
out = r.recognise_file(Path(sys.argv[2]))
t3 = time.perf_counter()
print(json.dumps({"import_s": t1 - t0, "load_s": t2 - t1, "recognise_s": t3 - t2, "segments": len(out)}))
"""


def make_model(path: Path, *, width: int, layers: int) -> None:
    """A DNN-HMM of the report's shape, fitted briefly on synthetic tones (13 spectra)."""
    from ml.data.preprocess import prepare
    from ml.recognition.dnn_hmm import DnnHmmClassifier, DnnHmmConfig
    from ml.recognition.features import FeatureConfig, mfcc_context
    from ml.recognition.gmm_hmm import GmmHmmClassifier, GmmHmmConfig
    from ml.recognition.model import save

    cfg = FeatureConfig()
    seqs, labels = [], []
    t = np.arange(round(9.5 * SR)) / SR
    for c in range(13):
        y = sum(np.sin(2 * np.pi * 110 * (1 + c / 13) * h * t) / h ** (0.5 + c / 13) for h in range(1, 8))
        for seg in prepare(np.asarray(y, np.float32), sample_rate=SR, cfg=cfg.preprocess()).voiced:
            seqs.append(mfcc_context(seg, cfg=cfg))
            labels.append(f"class{c:02d}")
    gmm = GmmHmmClassifier(GmmHmmConfig(n_iter=2)).fit(seqs, labels)
    save(DnnHmmClassifier(gmm, DnnHmmConfig(hidden=(width,) * layers, epochs=1)).fit(seqs, labels), path, learned_from=[])


def write_wav(path: Path, seconds: float = 10.0, sr: int = 44_100) -> None:
    import soundfile as sf  # type: ignore[import-untyped]

    t = np.arange(round(seconds * sr)) / sr
    y = 0.3 * np.sin(2 * np.pi * 220 * t) * (0.6 + 0.4 * np.sin(2 * np.pi * 2 * t))
    sf.write(path, np.stack([y, y], axis=1), sr, subtype="PCM_16")


def extract(ref: str, dest: Path) -> Path:
    """The tree of git `ref` in dest (git archive), for running today's code beside this one."""
    data = subprocess.run(["git", "-C", str(ROOT), "archive", ref], capture_output=True, check=True).stdout
    with tarfile.open(fileobj=BytesIO(data)) as tar:
        tar.extractall(dest, filter="data")
    return dest


def timed(commands: dict[str, tuple[list[str], Path]], runs: int) -> dict[str, dict[str, Any]]:
    """Wall seconds of each (command, tree) in fresh processes, `runs` rounds, the paths interleaved in
    every round so a busy machine slows them alike: every run, first and median, and the last output."""
    walls: dict[str, list[float]] = {name: [] for name in commands}
    last: dict[str, str] = {}
    for _ in range(runs):
        for name, (command, tree) in commands.items():
            t0 = time.perf_counter()
            done = subprocess.run(command, cwd=tree, env={**os.environ, "PYTHONPATH": str(tree)}, capture_output=True, text=True,
                                  check=False)
            walls[name].append(time.perf_counter() - t0)
            if done.returncode != 0:
                raise SystemExit(f"{' '.join(command)} failed in {tree}:\n{done.stderr[-2000:]}")
            last[name] = done.stdout
    return {name: {"walls_s": w, "first_s": w[0], "median_s": statistics.median(w), "stdout": last[name]}
            for name, w in walls.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=3, help="fresh processes per path")
    ap.add_argument("--width", type=int, default=1024, help="hidden units per layer (the report's model: 1024)")
    ap.add_argument("--layers", type=int, default=5, help="hidden layers (the report's model: 5)")
    ap.add_argument("--baseline-ref", default="3e3840c", help="git commit of today's path")
    args = ap.parse_args()
    py = sys.executable
    with tempfile.TemporaryDirectory(prefix="heritage-cold-") as tmp:
        model, wav = Path(tmp) / "model.pt", Path(tmp) / "ten-seconds.wav"
        make_model(model, width=args.width, layers=args.layers)
        write_wav(wav)
        base = extract(args.baseline_ref, Path(tmp) / "baseline")
        command = [py, "-m", "cli.main", "recognize", str(wav), "--model", str(model), "--json"]
        help_command = [py, "-m", "cli.main", "recognize", "--help"]
        load_before = os.getloadavg()
        rows = timed({
            f"baseline ({args.baseline_ref}): recognize FILE": (command, base),
            "current: recognize FILE": (command, ROOT),
            "current, ML only (import + load + recognise)": ([py, "-c", _ML_ONLY, str(model), str(wav)], ROOT),
            f"baseline ({args.baseline_ref}): recognize --help": (help_command, base),
            "current: recognize --help": (help_command, ROOT),
        }, args.runs)
    split = json.loads(rows["current, ML only (import + load + recognise)"]["stdout"])
    table = Table(title=f"cold `recognize` on a 10-s file, DNN-HMM {args.layers} × {args.width}, {args.runs} fresh processes each")
    for col in ("path", "first s", "median s"):
        table.add_column(col)
    for name, r in rows.items():
        table.add_row(name, f"{r['first_s']:.2f}", f"{r['median_s']:.2f}")
    console = Console()
    console.print(table)
    console.print(f"ML only, inside the process (last run): import {split['import_s']:.2f} s, model load {split['load_s']:.2f} s, "
                  f"recognition {split['recognise_s']:.2f} s ({split['segments']} segments)")
    RESULTS.mkdir(exist_ok=True)
    out = {"width": args.width, "layers": args.layers, "runs": args.runs, "baseline_ref": args.baseline_ref,
           "cpus": os.cpu_count(), "platform": platform.platform(), "load_average_before": load_before,
           "load_average_after": os.getloadavg(), "ml_only_split": split,
           "paths": {k: {kk: vv for kk, vv in v.items() if kk != "stdout"} for k, v in rows.items()}}
    (RESULTS / "cold_start.json").write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
