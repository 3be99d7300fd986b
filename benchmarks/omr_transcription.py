"""Transcription time per staff line on CPU: the seed's reader against the plain CRNN, page to MusicXML.

    .venv/bin/python -m benchmarks.omr_transcription [--pages 20] [--models cache/models]

Pages are engraved here from Essen songs (verovio, as the training lines are: every line of a
tune stacked on one page, scaled 1.5×, rotated 1°, with the scanned look of `ml.omr.data.augment`).
For each reader (the saved `omr-seed.pt` / `omr-crnn.pt` of `heritage omr evaluate` when present,
else the same architecture untrained — the time does not depend on the weights' values), each
page goes through the whole of `heritage transcribe` but the chain: finding and cutting the
staves (`find_staves`), reading them in one batch, building the score and writing MusicXML and
MIDI. Reported: the median over pages of (page time / staff lines on it), and each stage's share.
Writes benchmarks/results/omr_transcription.json.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from rich.console import Console
from rich.progress import track
from rich.table import Table

from core.errors import InputError
from ml.data.corpora import essen
from ml.omr.data import VOCABULARY, augment, render_lines
from ml.omr.model import _NETS, KINDS, Kind, OmrConfig, TrainedOmr
from ml.omr.saved import load
from ml.omr.transcribe import find_staves, midi_bytes, musicxml_bytes, to_score

RESULTS = Path(__file__).parent / "results"


def pages(n: int, seed: int = 0) -> list[tuple[np.ndarray, int]]:
    """n scanned-looking pages (uint8 (H, W)) with their staff-line counts, from the last Essen songs by CID
    (the experiment trains on the first ones)."""
    rng = np.random.default_rng(seed)
    out = []
    for piece in sorted(essen(), key=lambda p: p.cid, reverse=True):
        try:
            lines = render_lines(piece.abc)
        except InputError:
            continue
        width = max(line.image.shape[1] for line in lines) + 160
        page = np.full((sum(line.image.shape[0] + 10 for line in lines) + 120, width), 255, dtype=np.uint8)
        y = 60
        for line in lines:
            page[y: y + line.image.shape[0], 80: 80 + line.image.shape[1]] = line.image
            y += line.image.shape[0] + 10
        with Image.fromarray(page) as im:
            turned = im.rotate(1.0, resample=Image.Resampling.BILINEAR, expand=True, fillcolor=255)
            page = np.asarray(turned.resize((round(turned.width * 1.5), round(turned.height * 1.5))), dtype=np.uint8)
        out.append((augment(page, rng, strength=0.5), len(lines)))
        if len(out) == n:
            break
    return out


def reader(kind: Kind, models: Path) -> tuple[str, TrainedOmr]:
    path = models / f"omr-{kind}.pt"
    if path.exists():
        return f"{kind} (trained, {path.name})", load(path).trained
    cfg = OmrConfig()
    torch.manual_seed(0)
    net = _NETS[kind](cfg)
    net.eval()
    return f"{kind} (untrained, default size)", TrainedOmr(kind, net, cfg)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, default=20, help="engraved pages to transcribe")
    parser.add_argument("--models", type=Path, default=Path("cache/models"), help="where omr-seed.pt / omr-crnn.pt are")
    args = parser.parse_args()
    book = pages(args.pages)
    results: dict[str, dict[str, float]] = {}
    for kind in KINDS:
        name, model = reader(kind, args.models)
        per_line, stages = [], {"find staves": 0.0, "read": 0.0, "score + files": 0.0}
        find_staves(book[0][0])  # warm-up
        for page, n in track(book, description=f"transcribing with {name}"):
            t0 = time.perf_counter()
            staves = find_staves(page, height_px=model.cfg.height)
            t1 = time.perf_counter()
            tokens = [VOCABULARY.decode(ids) for ids in model.predict([s.image for s in staves])]
            t2 = time.perf_counter()
            try:
                score, _ = to_score(tokens)
                musicxml_bytes(score)
                midi_bytes(score)
            except InputError:  # an untrained reader may read no notes: the score stage is then not timed
                pass
            t3 = time.perf_counter()
            per_line.append((t3 - t0) / n)
            for stage, dt in zip(stages, (t1 - t0, t2 - t1, t3 - t2), strict=True):
                stages[stage] += dt
        total = sum(stages.values())
        results[name] = {"median_ms_per_line": round(1000 * statistics.median(per_line), 2),
                         **{f"share {k}": round(v / total, 3) for k, v in stages.items()}}
    lines = sum(n for _, n in book)
    out = {"machine": f"{platform.machine()}, torch threads {torch.get_num_threads()}", "pages": len(book), "staff_lines": lines,
           "results": results}
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "omr_transcription.json").write_text(json.dumps(out, indent=2))
    table = Table(title=f"transcription per staff line ({len(book)} pages, {lines} lines; median over pages)")
    for col in ("reader", "ms per line", "find staves", "read", "score + files"):
        table.add_column(col, justify="left" if col == "reader" else "right")
    for name, r in results.items():
        table.add_row(name, f"{r['median_ms_per_line']:.1f}", *(f"{r[f'share {k}']:.0%}" for k in ("find staves", "read",
                                                                                                   "score + files")))
    Console().print(table)


if __name__ == "__main__":
    main()
