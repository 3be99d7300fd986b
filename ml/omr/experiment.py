"""Score recognition, the seed's reader against a plain CRNN, on staff lines engraved here.

`pieces` Essen songs (the first by CID: a fixed, content-defined choice) are split 70/15/15 by
piece, engraved line by line (`dataset.build_dataset`: a clean image and `copies` scanned-looking
copies of every line) and both models are trained on the training pieces' lines, clean and
scanned. Test: the unseen pieces' lines, clean and scanned, scored separately. Metrics: symbol
error rate (edit distance over true length, summed over lines) and note-level precision, recall
and F1 (`model.note_scores`), greedy CTC decoding.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from core.errors import InputError
from core.types import Progress
from ml.data.corpora import essen
from ml.data.splits import split
from ml.omr.dataset import build_dataset
from ml.omr.model import KINDS, Kind, OmrConfig, note_scores, symbol_error_rate, train
from ml.omr.saved import save
from ml.omr.tokens import VOCABULARY

SEED_MODEL = "seed (Haar + contour refinement + SRU, focal CTC)"
NAMES = {"seed": SEED_MODEL, "crnn": "plain CRNN (max-pool + BiLSTM, CTC)"}


@dataclass(frozen=True)
class OmrExperimentConfig:
    pieces: int = 120
    copies: int = 1
    width_px: int = 1024
    model: OmrConfig = field(default_factory=lambda: OmrConfig(epochs=10))
    seed: int = 0
    kinds: tuple[Kind, ...] = KINDS
    """The readers to train (the shipped default trains the seed's alone)."""


def _lines(manifest: Path, cids: set[str]) -> tuple[list[np.ndarray], list[list[str]], list[bool]]:
    """Images, tokens and whether each is a scanned-looking copy, for the lines of the given pieces."""
    images, tokens, scanned = [], [], []
    for row in manifest.read_text().splitlines():
        e = json.loads(row)
        if e["cid"] in cids:
            images.append(np.asarray(Image.open(manifest.parent / e["image"]).convert("L"), dtype=np.uint8))
            tokens.append(list(e["tokens"]))
            scanned.append(e["augmentation"] is not None)
    return images, tokens, scanned


def run(cfg: OmrExperimentConfig, *, cache_dir: Path, say: Progress | None = None, save_dir: Path | None = None,
        ) -> dict[str, Any]:
    """Train both readers and score them (module doc); with `save_dir`, each is written there as
    `omr-<kind>.pt` (`ml.omr.saved`) with the training pieces' CIDs and its clean-line figures."""
    tell = say or (lambda stage, done, total: None)
    han = sorted(essen(), key=lambda p: p.cid)[: cfg.pieces]
    s = split(han, label=lambda p: p.tradition, group=lambda p: p.cid, cid=lambda p: p.cid, seed=cfg.seed)
    manifest = build_dataset(han, cache_dir / f"lines-{cfg.width_px}-{cfg.copies}-{cfg.seed}", augment_copies=cfg.copies,
                             seed=cfg.seed, width_px=cfg.width_px, progress=lambda d, t: tell("engraving staff lines", d, t))
    x_train, y_train, _ = _lines(manifest, {p.cid for p in s.train})
    x_test, y_test, scanned = _lines(manifest, {p.cid for p in s.test})
    if not x_train or not x_test:
        raise InputError(f"no engraved lines for training or test from {cfg.pieces} pieces: choose more pieces")
    ids = [VOCABULARY.encode(t) for t in y_train]
    results: dict[str, Any] = {}
    for kind in cfg.kinds:
        def epoch(done: int, total: int, kind: str = kind) -> None:
            tell(f"training {NAMES[kind]}", done, total)

        trained = train(kind, x_train, ids, cfg.model, progress=epoch)
        pred = [VOCABULARY.decode(p) for p in trained.predict(x_test)]
        r: dict[str, Any] = {"train_seconds": trained.train_seconds, "losses": list(trained.losses)}
        for name, keep in (("clean", False), ("scanned", True)):
            sel = [i for i, sc in enumerate(scanned) if sc == keep]
            if not sel:  # copies=0: no scanned-looking lines to score
                continue
            p, t = [pred[i] for i in sel], [y_test[i] for i in sel]
            notes = note_scores(p, t)
            r[name] = {"lines": len(sel), "symbol_error_rate": symbol_error_rate(p, t), "note_precision": notes.precision,
                       "note_recall": notes.recall, "note_f1": notes.f1}
        results[NAMES[kind]] = r
        if save_dir is not None:
            figures = {f"{name}_{k}": v for name in ("clean", "scanned") if name in r for k, v in r[name].items()}
            save(save_dir / f"omr-{kind}.pt", trained, learned_from=[p.cid for p in s.train], metrics=figures)
    return {"config": {**asdict(cfg), "model": {**asdict(cfg.model), "channels": list(cfg.model.channels)}},
            "split_id": s.split_id, "pieces": {"train": len(s.train), "test": len(s.test)},
            "lines": {"train": len(x_train), "test": len(x_test)}, "results": results}


def write_report(report: dict[str, Any], out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "omr.json").write_text(json.dumps(report, indent=2))
    lines = ["# Score recognition: the seed's reader against a plain CRNN", "",
             f"{report['pieces']['train']} training and {report['pieces']['test']} test pieces (Essen, split by piece, "
             f"`{report['split_id'][:12]}`), engraved here line by line with verovio; {report['lines']['train']} training and "
             f"{report['lines']['test']} test line images (clean and scanned-looking). Greedy CTC decoding. Produced by "
             "`heritage omr evaluate`.", "",
             "| model | test images | symbol error rate | note precision | note recall | note F1 | training s |",
             "|---|---|---|---|---|---|---|"]
    for name, r in report["results"].items():
        for kind in ("clean", "scanned"):
            if kind not in r:
                continue
            m = r[kind]
            lines.append(f"| {name} | {kind} ({m['lines']}) | {m['symbol_error_rate']:.1%} | {m['note_precision']:.3f} | "
                         f"{m['note_recall']:.3f} | {m['note_f1']:.3f} | {r['train_seconds']:.0f} |")
    lines += ["", "The seed study reads printed traditional scores with its model; these are engravings of the Essen songs, "
              "so the levels are ours alone. F1 = 2PR/(P + R) over notes matched as the longest common subsequence per line."]
    (out / "omr.md").write_text("\n".join(lines) + "\n")
