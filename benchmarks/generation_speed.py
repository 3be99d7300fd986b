"""Generating a 30-s piece on CPU: the conditioned network with every mask against the unconditioned one.

    .venv/bin/python -m benchmarks.generation_speed [--seconds 30] [--bpm 80] [--runs 9]
        [--tradition chinese_pentatonic] [--mode zhi] [--cycle "yiban yiyan"] [--models cache/models]
        [--random-weights] [--out benchmarks/results/generation_speed.json]

Both arms run in the same process, alternating, each from a new seed per run after one warm-up:
**ours** = the conditioned network from its conditioning tokens with the tradition's masks
(`ml.generation.decode`), to exactly the cycles `--seconds` fill at `--bpm`; **unconditioned** = the
unconditioned network from `<bos>`, no masks, until its durations reach the same length. Timed:
sampling alone (model loaded, tradition read), and separately the piece's MIDI file with per-note
pitch bends (`write_microtonal_midi`). Medians and the spread over runs; the aim is under 2 s for
ours. The unconditioned arm may stop early at its own <eos> (no mask holds it to the length): how
often is reported, and its times are for the pieces it made. The models are those `heritage
generation train` saves; `--random-weights` times untrained networks of the experiment's size
instead (their pieces hold more, shorter notes).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import torch
from rich.console import Console
from rich.table import Table

from core.errors import InputError
from ml.generation.experiment import (
    MODEL_FILES,
    GenerationExperimentConfig,
    bars_for,
    generate_ours,
    generate_unconditioned,
    vocabulary,
)
from ml.generation.lattice import TICKS_PER_BEAT, micro_notes
from ml.generation.microtonal import write_microtonal_midi
from ml.generation.model import GptConfig, LatticeGpt
from ml.generation.train import SavedGenerator, TrainedGenerator, load
from ml.tradition import load_tradition

RESULTS = Path(__file__).parent / "results"


def _models(folder: Path, *, random_weights: bool) -> dict[str, SavedGenerator]:
    if random_weights:
        vocab = vocabulary()
        size = GenerationExperimentConfig().size
        cfg = GptConfig(vocab_size=len(vocab), n_layer=size.n_layer, n_head=size.n_head, n_embd=size.n_embd,
                        block_size=size.block_size)
        torch.manual_seed(0)
        return {name: SavedGenerator(TrainedGenerator(LatticeGpt(cfg).eval(), vocab, name == "conditioned"), (), "", {})
                for name in MODEL_FILES}
    paths = {name: folder / f for name, f in MODEL_FILES.items()}
    missing = [str(p) for p in paths.values() if not p.exists()]
    if missing:
        raise InputError(f"no trained models at {', '.join(missing)}: run `heritage generation train`, or pass --random-weights")
    return {name: load(p) for name, p in paths.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=30.0, help="length of each piece (default 30)")
    parser.add_argument("--bpm", type=float, default=80.0, help="beats per minute (default 80)")
    parser.add_argument("--runs", type=int, default=9, help="timed runs per arm after one warm-up (default 9)")
    parser.add_argument("--tradition", default="chinese_pentatonic", help="tradition id (default chinese_pentatonic)")
    parser.add_argument("--mode", default="zhi", help="mode of the tradition (default zhi)")
    parser.add_argument("--cycle", default="yiban yiyan", help="rhythmic cycle of the tradition (default 'yiban yiyan')")
    parser.add_argument("--models", type=Path, default=Path("cache/models"), help="folder of the saved models")
    parser.add_argument("--random-weights", action="store_true", help="untrained networks of the experiment's size")
    parser.add_argument("--out", type=Path, default=RESULTS / "generation_speed.json", help="where the figures go")
    args = parser.parse_args()

    t = load_tradition(args.tradition)
    models = _models(args.models, random_weights=args.random_weights)
    bars = bars_for(args.seconds, bpm=args.bpm, beats=t.cycle(args.cycle).beats)
    facts = models["conditioned"].facts
    own = facts.get("tradition") == t.id and "ornament_rate" in facts
    rate = (float(facts["ornament_rate"][0]), float(facts["ornament_rate"][1])) if own else None
    rows: dict[str, list[dict[str, float]]] = {"ours": [], "unconditioned": []}
    with tempfile.TemporaryDirectory() as tmp:
        for run in range(args.runs + 1):
            for arm in rows:
                t0 = time.perf_counter()
                if arm == "ours":
                    g, _ = generate_ours(models["conditioned"], tradition=t, mode=args.mode, cycle=args.cycle, context=None, bars=bars,
                                         prompt=[], seed=run, ornament_rate=rate)
                else:
                    g = generate_unconditioned(models["unconditioned"], tradition=t, cycle=args.cycle, bars=bars, seed=run)
                t1 = time.perf_counter()
                notes = micro_notes(g.piece, t, bpm=args.bpm)
                if notes:
                    write_microtonal_midi(notes, Path(tmp) / "piece.mid", program="flute", tonic_hz=t.tonic_hz)
                t2 = time.perf_counter()
                if run:  # run 0 warms up
                    rows[arm].append({"generate_s": t1 - t0, "midi_s": t2 - t1, "tokens": len(g.tokens), "notes": len(notes),
                                      "piece_s": g.piece.total_ticks / TICKS_PER_BEAT * 60 / args.bpm})
    summary: dict[str, Any] = {}
    for arm, r in rows.items():
        summary[arm] = {key: statistics.median(x[key] for x in r) for key in r[0]}
        summary[arm]["generate_s_min"] = min(x["generate_s"] for x in r)
        summary[arm]["generate_s_max"] = max(x["generate_s"] for x in r)
        summary[arm]["stopped_early"] = sum(x["piece_s"] < args.seconds - 1e-6 for x in r)  # <eos> before the length (no masks)
    result = {
        "what": f"one {args.seconds:g}-s piece ({bars} cycles of {args.cycle} at {args.bpm:g} bpm) in {t.id}, mode {args.mode}",
        "weights": "random (untrained)" if args.random_weights else "trained (heritage generation train)",
        "model": {name: {"parameters": m.trained.net.n_params(), "config": m.trained.net.cfg.__dict__} for name, m in models.items()},
        "runs": args.runs, "medians": summary, "per_run": rows,
        "machine": {"platform": platform.platform(), "python": platform.python_version(), "torch": torch.__version__,
                    "cpus": os.cpu_count(), "load_average_1min": os.getloadavg()[0], "decode_threads": 1},
        "aim_s": 2.0,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1))
    table = Table(title=result["what"] + f"; median of {args.runs} runs")
    for column in ("arm", "generate s (median)", "min–max s", "tokens", "notes", "piece s", "stopped early", "MIDI s"):
        table.add_column(column, justify="left" if column == "arm" else "right")
    for arm, s in summary.items():
        table.add_row(arm, f"{s['generate_s']:.3f}", f"{s['generate_s_min']:.3f}–{s['generate_s_max']:.3f}", f"{s['tokens']:.0f}",
                      f"{s['notes']:.0f}", f"{s['piece_s']:.1f}", f"{s['stopped_early']}/{args.runs}", f"{s['midi_s']:.4f}")
    Console().print(table)
    Console().print(f"written to {args.out}")


if __name__ == "__main__":
    main()
