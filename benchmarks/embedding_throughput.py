"""Embedding 1,000 clips on CPU: each embedder of the map, side by side with the MFCC-statistics baseline.

    .venv/bin/python -m benchmarks.embedding_throughput [--clips 1000] [--seconds 10]

A clip is what `heritage embedding map` embeds: `--seconds` of mono audio at 16 kHz (10 s by
default), one vector per clip (the mean over its frames or patches). The clips are synthetic
(a few harmonic tones in noise, different per clip): the time does not depend on the content.
Embedders: MFCC statistics (the baseline: mean and SD of 20 MFCCs), the VGGish-architecture
embedder trained here (the map's width, 0.25, and with `--published-width` the published
width, 1.0; untrained weights, whose values do not change the time), and musicnn MSD (the pretrained port when converted,
`cache/models/musicnn-msd.pt`, else the same architecture untrained). Then the 2-D t-SNE of the
1,000 VGGish embeddings, which the map also draws. Each embedder takes the clips one by one, as the
map does, features included. Writes benchmarks/results/embedding_throughput.json.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from ml.representation import musicnn
from ml.representation.maps import mfcc_stats
from ml.representation.vggish import SAMPLE_RATE, TrainedVggish, Vggish, VggishConfig, tsne, vggish_patches

RESULTS = Path(__file__).parent / "results"


def clips(n: int, seconds: float, seed: int = 0) -> list[np.ndarray]:
    """n mono clips (seconds × 16 kHz) float32: three harmonic tones of random pitch in noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    out = []
    for _ in range(n):
        y = 0.05 * rng.normal(size=t.size)
        for f in rng.uniform(110, 880, size=3):
            y += sum(0.2 / h * np.sin(2 * np.pi * f * h * t) for h in (1, 2, 3))
        out.append((y / np.abs(y).max()).astype(np.float32))
    return out


def _vggish(width: float) -> Callable[[np.ndarray, int], np.ndarray]:
    cfg = VggishConfig(width=width)
    torch.manual_seed(0)
    model = TrainedVggish(Vggish(2, cfg).eval(), cfg, ["a", "b"], 0.0, 1.0, 0.0)
    return lambda y, sr: model.embed(vggish_patches(y, sr)).mean(axis=0)


def _musicnn() -> tuple[str, Callable[[np.ndarray, int], np.ndarray]]:
    path = musicnn.weights_path("MSD")
    if path.exists():
        model, name = musicnn.load("MSD"), "musicnn MSD (pretrained port)"
    else:
        model, name = musicnn.Musicnn(tuple(f"tag {i}" for i in range(50))).eval(), "musicnn MSD architecture (untrained)"
    return name, lambda y, sr: musicnn.embed(model, y, sr=sr).mean(axis=0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clips", type=int, default=1000, help="clips to embed")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of a clip, s")
    parser.add_argument("--published-width", action="store_true",
                        help="also time VGGish at the published width (1.0; about 3× the map's width)")
    args = parser.parse_args()
    audio = clips(args.clips, args.seconds)
    name, music = _musicnn()
    embedders: dict[str, Callable[[np.ndarray, int], np.ndarray]] = {
        "MFCC statistics (baseline)": mfcc_stats, "VGGish here, width 0.25 (the map's)": _vggish(0.25), name: music}
    if args.published_width:
        embedders["VGGish here, width 1.0 (published size)"] = _vggish(1.0)
    seconds: dict[str, float] = {}
    vectors: dict[str, np.ndarray] = {}
    with Progress() as progress:
        for label, embed in embedders.items():
            task = progress.add_task(label, total=len(audio))
            embed(audio[0], SAMPLE_RATE)  # warm-up
            t0 = time.perf_counter()
            rows = []
            for y in audio:
                rows.append(embed(y, SAMPLE_RATE))
                progress.advance(task)
            seconds[label] = time.perf_counter() - t0
            vectors[label] = np.stack(rows)
    t0 = time.perf_counter()
    tsne(vectors["VGGish here, width 0.25 (the map's)"], dims=2, perplexity=min(30.0, (args.clips - 1) / 3))
    seconds[f"t-SNE 2-D of the {args.clips} VGGish embeddings"] = time.perf_counter() - t0
    base = seconds["MFCC statistics (baseline)"]
    out = {"machine": f"{platform.machine()}, torch threads {torch.get_num_threads()}", "clips": args.clips,
           "clip_seconds": args.seconds, "sample_rate": SAMPLE_RATE,
           "seconds": {k: round(v, 2) for k, v in seconds.items()},
           "ms_per_clip": {k: round(1000 * v / args.clips, 2) for k, v in seconds.items()},
           "vs_baseline": {k: round(v / base, 2) for k, v in seconds.items()}}
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "embedding_throughput.json").write_text(json.dumps(out, indent=2))
    table = Table(title=f"embedding {args.clips} clips of {args.seconds:g} s (one after another, features included)")
    for col in ("", "total s", "ms per clip", "× baseline"):
        table.add_column(col, justify="right" if col else "left")
    for k, v in seconds.items():
        table.add_row(k, f"{v:.1f}", f"{1000 * v / args.clips:.1f}", f"{v / base:.2f}")
    Console().print(table)


if __name__ == "__main__":
    main()
