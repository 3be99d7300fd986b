"""A cold `heritage recognize` and `heritage classify` on a 10-s file: earlier trees beside this one, in one run.

    .venv/bin/python -m benchmarks.cold_start [--runs 5] [--width 1024] [--layers 5] [--refs 3e3840c 0d8b66d]

A DNN-HMM of the report's shape (13 classes × 3 states, `--layers` × `--width` hidden units) is
fitted for one epoch on synthetic tones (the time to answer does not depend on the weights), and a
10-s 44.1-kHz stereo WAV is written. Then, each in a fresh Python process (`--runs` rounds, every
path once per round so a busy machine slows them alike; median and first run):

- each of `--refs` (trees extracted with `git archive`: 3e3840c is the code before the
  preprocessing path, 0d8b66d the one before lazy imports) and this tree:
  `python -m cli.main recognize FILE --model M --json`;
- the shipped default models as a user runs them on a fresh clone (`recognize FILE`, `classify
  FILE`, no model option; `HERITAGE_MODELS_DIR` points at an empty folder so no trained model in
  cache/ is picked), for the refs that ship models/ and this tree;
- `recognize --help` of each tree (the command line's own start);
- this tree's in-process breakdown of both commands (command-line import, ML import, model load,
  answer), the shipped models.

The load average (`os.getloadavg`, what `uptime` prints) is recorded before, after and at every
round: the 2 cores are shared; so is each path's CPU time (user + system), which other jobs sway
less than its wall time. Writes benchmarks/results/cold_start.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
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
_SPLIT = """
import json, sys, time
from pathlib import Path
t0 = time.perf_counter()
import cli.main, cli.commands.recognition, cli.commands.classification
t1 = time.perf_counter()
from ml.defaults import FILES, candidates, default_model
if sys.argv[1] == "recognize":
    from ml.recognition.model import load
    t2 = time.perf_counter()
    model = load(default_model("recognition"))
    t3 = time.perf_counter()
    model.recognise_file(Path(sys.argv[2]))
else:
    from ml.classification.saved import classify_prepared, load
    from ml.data.preprocess import prepare_file
    t2 = time.perf_counter()
    models = [load(default_model(k)) for k in FILES if k.startswith("classification/") and any(p.is_file() for p in candidates(k))]
    t3 = time.perf_counter()
    [classify_prepared(m, prepare_file(Path(sys.argv[2]), cfg=m.preprocess)) for m in models]
t4 = time.perf_counter()
print(json.dumps({"cli_import_s": t1 - t0, "ml_import_s": t2 - t1, "load_s": t3 - t2, "answer_s": t4 - t3}))
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


def timed(commands: dict[str, tuple[list[str], Path]], runs: int, env: dict[str, str]) -> tuple[dict[str, dict[str, Any]], list[Any]]:
    """Wall seconds of each (command, tree) in fresh processes, `runs` rounds, every path once per
    round so a busy machine slows them alike: every run, first and median, and the last output;
    and the load average at the start of each round."""
    walls: dict[str, list[float]] = {name: [] for name in commands}
    cpus: dict[str, list[float]] = {name: [] for name in commands}
    last: dict[str, str] = {}
    loads = []
    for _ in range(runs):
        loads.append(os.getloadavg())
        for name, (command, tree) in commands.items():
            t0, c0 = time.perf_counter(), _children_cpu()
            done = subprocess.run(command, cwd=tree, env={**env, "PYTHONPATH": str(tree)}, capture_output=True, text=True,
                                  check=False)
            walls[name].append(time.perf_counter() - t0)
            cpus[name].append(_children_cpu() - c0)
            if done.returncode != 0:
                raise SystemExit(f"{' '.join(command)} failed in {tree}:\n{done.stderr[-2000:]}")
            last[name] = done.stdout
    return ({name: {"walls_s": w, "first_s": w[0], "median_s": statistics.median(w), "cpu_s": cpus[name],
                    "median_cpu_s": statistics.median(cpus[name]), "stdout": last[name]}
             for name, w in walls.items()}, loads)


def _children_cpu() -> float:
    """User + system CPU seconds of every finished child process: less swayed by other jobs than wall time."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def paths(trees: dict[str, Path], py: str, model: Path, wav: Path) -> dict[str, tuple[list[str], Path]]:
    """Every timed path: name → (command, tree)."""
    cli = [py, "-m", "cli.main"]
    out: dict[str, tuple[list[str], Path]] = {}
    for name, tree in trees.items():
        out[f"{name}: recognize FILE --model M"] = ([*cli, "recognize", str(wav), "--model", str(model), "--json"], tree)
    for name, tree in trees.items():
        if (tree / "models" / "timbre-dnn-hmm.pt").is_file():
            out[f"{name}: recognize FILE (shipped model)"] = ([*cli, "recognize", str(wav), "--json"], tree)
        if (tree / "models" / "classification").is_dir():
            out[f"{name}: classify FILE (shipped models)"] = ([*cli, "classify", str(wav), "--json"], tree)
    for name, tree in trees.items():
        out[f"{name}: recognize --help"] = ([*cli, "recognize", "--help"], tree)
    for command in ("recognize", "classify"):
        out[f"current, in-process breakdown: {command}"] = ([py, "-c", _SPLIT, command, str(wav)], trees["current"])
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=3, help="fresh processes per path")
    ap.add_argument("--width", type=int, default=1024, help="hidden units per layer (the report's model: 1024)")
    ap.add_argument("--layers", type=int, default=5, help="hidden layers (the report's model: 5)")
    ap.add_argument("--refs", nargs="*", default=["3e3840c", "0d8b66d"], help="git commits to time beside this tree")
    args = ap.parse_args()
    py = sys.executable
    with tempfile.TemporaryDirectory(prefix="heritage-cold-") as tmp:
        model, wav = Path(tmp) / "model.pt", Path(tmp) / "ten-seconds.wav"
        make_model(model, width=args.width, layers=args.layers)
        write_wav(wav)
        trees = {ref: extract(ref, Path(tmp) / ref) for ref in args.refs} | {"current": ROOT}
        (Path(tmp) / "no-trained-models").mkdir()
        env = {**os.environ, "HERITAGE_MODELS_DIR": str(Path(tmp) / "no-trained-models")}
        load_before = os.getloadavg()
        rows, loads = timed(paths(trees, py, model, wav), args.runs, env)
        load_after = os.getloadavg()
    splits = {k.rsplit(": ", 1)[1]: json.loads(v["stdout"]) for k, v in rows.items() if "in-process" in k}
    table = Table(title=f"cold commands on a 10-s file, {args.runs} fresh processes each (load average "
                        f"{load_before[0]:.1f} before, {load_after[0]:.1f} after, on {os.cpu_count()} cores)")
    for col in ("path", "first s", "median s", "median CPU s"):
        table.add_column(col)
    for name, r in rows.items():
        table.add_row(name, f"{r['first_s']:.2f}", f"{r['median_s']:.2f}", f"{r['median_cpu_s']:.2f}")
    console = Console()
    console.print(table)
    for command, split in splits.items():
        console.print(f"{command}, inside the process (last run): " + ", ".join(f"{k.removesuffix('_s')} {v:.2f} s"
                                                                              for k, v in split.items()))
    RESULTS.mkdir(exist_ok=True)
    out = {"width": args.width, "layers": args.layers, "runs": args.runs, "refs": args.refs,
           "cpus": os.cpu_count(), "platform": platform.platform(), "load_average_before": load_before,
           "load_average_after": load_after, "load_average_per_round": loads, "in_process_split": splits,
           "paths": {k: {kk: vv for kk, vv in v.items() if kk != "stdout"} for k, v in rows.items()}}
    (RESULTS / "cold_start.json").write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
