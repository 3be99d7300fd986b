"""Leave-one-source-out timbre recognition: the honest figure for recordings from a source no
training clip came from, beside today's single-direction cross-family figure.

Sources here: the two General MIDI soundfont families (FluidR3, TimGM6mb) and the real tabla
recordings of Debian's sonic-pi-samples. A fold trains on every source but one, with waveform
augmentation that imitates other sources (`ml.data.augment.other_source`: EQ, reverb, level,
noise, codec), and tests on the unseen songs of the source left out. The tabla is the only
source of its class, so it cannot be left out without leaving its class untrained: it trains on
its training takes in every fold and is tested on its held-out takes in every fold (split by take,
as `recognition evaluate` does).

Rows, in one run and on one split (`recognition evaluate`'s: the same songs):
- "FluidR3 → TimGM6mb, no augmentation": today's recipe and README figure;
- "leave out <family>": every other source, augmented; tested on <family>;
- the mean over folds: the figure to quote for users' recordings.
With `model_path`, a DNN-HMM trained on *every* source with augmentation is saved there: the model
for users (its preprocessing recorded as always).
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from core.types import Progress
from ml.data.augment import SourceAugmentConfig, other_source
from ml.data.corpora import Piece
from ml.data.render import both_families
from ml.recognition.dataset import SAMPLE_RATE, TRIM_SLACK_S, Clip, clips
from ml.recognition.dnn_hmm import DnnHmmClassifier
from ml.recognition.experiment import HmmRunConfig, choose_pieces, evaluate, featurise
from ml.recognition.gmm_hmm import GmmHmmClassifier
from ml.recognition.tabla import LABEL, tabla_clips, tabla_files
from ml.runtime import DEFAULT_THREADS, report_lines, reproducible, run_record

FAMILIES = ("FluidR3", "TimGM6mb")
BASELINE = "FluidR3 → TimGM6mb, no augmentation (today's recipe)"


@dataclass(frozen=True)
class LosoConfig(HmmRunConfig):
    tabla: bool = True
    augment_copies: int = 1
    """Augmented copies of every training clip, beside the clip itself."""
    augment: SourceAugmentConfig = field(default_factory=SourceAugmentConfig)
    seed: int = 0
    threads: int = DEFAULT_THREADS


def augmented(cl: list[Clip], cfg: LosoConfig) -> list[Clip]:
    """cl and cfg.augment_copies copies of each clip through `other_source`, each seeded by (seed, clip, copy)."""
    out = list(cl)
    for i, c in enumerate(cl):
        for k in range(cfg.augment_copies):
            seed = int.from_bytes(hashlib.sha256(f"{cfg.seed}\0{i}\0{k}".encode()).digest()[:8], "big")
            y = other_source(c.audio, sample_rate=SAMPLE_RATE, rng=np.random.default_rng(seed), cfg=cfg.augment)
            out.append(Clip(c.piece, c.instrument, f"{c.family}+augmented", y))
    return out


def fit_and_score(train: list[Clip], test: list[Clip], cfg: LosoConfig) -> tuple[DnnHmmClassifier, dict[str, Any]]:
    """GMM-HMM and DNN-HMM on MFCC trained on `train`, scored on `test` (segment and clip error)."""
    tr, te = featurise(train), featurise(test)
    t0 = time.perf_counter()
    gmm = GmmHmmClassifier(cfg.gmm).fit(tr.sequences, tr.labels)
    dnn = DnnHmmClassifier(gmm, cfg.dnn).fit(tr.sequences, tr.labels)
    seconds = time.perf_counter() - t0
    scores = {"GMM-HMM": evaluate(gmm.log_likelihoods, gmm.labels, te), "DNN-HMM": evaluate(dnn.scores, gmm.labels, te)}
    return dnn, {"train_clips": len(train), "train_segments": len(tr.sequences), "train_seconds": seconds, **scores}


@dataclass(frozen=True)
class Sources:
    """Every sample source's clips on the recognition experiment's split: each family's training
    and test songs, and the real tabla's training and held-out takes."""

    train_pieces: list[Piece]
    test_pieces: list[Piece]
    split_id: str
    rendered: dict[tuple[str, str], list[Clip]]
    tabla_train: list[Clip]
    tabla_test: list[Clip]

    def train(self, families: tuple[str, ...] = FAMILIES) -> list[Clip]:
        return [c for f in families for c in self.rendered[f, "train"]] + self.tabla_train

    def test(self, families: tuple[str, ...] = FAMILIES) -> list[Clip]:
        return [c for f in families for c in self.rendered[f, "test"]] + self.tabla_test


def render_sources(cfg: LosoConfig, *, cache_dir: Path, say: Progress | None = None) -> Sources:
    """Render both families' training and test songs (and arrange the tabla's takes)."""
    tell = say or (lambda stage, done, total: None)
    fonts = both_families("leave-one-source-out")
    train_p, _, test_p, split_id, _ = choose_pieces(cfg.pieces, cfg.seed)
    rendered: dict[tuple[str, str], list[Clip]] = {}
    for family in FAMILIES:
        for part, pieces in (("train", train_p), ("test", test_p)):
            def tick(done: int, total: int, name: str = f"rendering {family} {part}") -> None:
                tell(name, done, total)

            rendered[family, part] = clips(pieces, cfg.instruments, fonts[family], cache_dir=cache_dir, seconds=cfg.seconds,
                                           progress=tick)
    tabla_train: list[Clip] = []
    tabla_test: list[Clip] = []
    if cfg.tabla:
        sp = tabla_files()
        length = cfg.seconds + TRIM_SLACK_S
        tabla_train = [Clip(None, LABEL, "recorded", y) for y in tabla_clips(sp.train, len(train_p), seconds=length, salt="train")]
        tabla_test = [Clip(None, LABEL, "recorded", y) for y in tabla_clips(sp.test, len(test_p), seconds=length, salt="test")]
    return Sources(train_p, test_p, split_id, rendered, tabla_train, tabla_test)


def all_source_model(sources: Sources, cfg: LosoConfig) -> DnnHmmClassifier:
    """The model for users: a DNN-HMM trained on every source's training clips, augmented."""
    tr = featurise(augmented(sources.train(), cfg))
    gmm = GmmHmmClassifier(cfg.gmm).fit(tr.sequences, tr.labels)
    return DnnHmmClassifier(gmm, cfg.dnn).fit(tr.sequences, tr.labels)


def run(cfg: LosoConfig, *, cache_dir: Path, say: Progress | None = None, model_path: Path | None = None) -> dict[str, Any]:
    """Render both families (and arrange the tabla), then the baseline row, one fold per family,
    and with `model_path` the all-source model for users."""
    tell = say or (lambda stage, done, total: None)
    reproducible(threads=cfg.threads)
    started = time.perf_counter()
    src = render_sources(cfg, cache_dir=cache_dir, say=say)
    rows: dict[str, Any] = {}
    tell(BASELINE, 0, 1)
    _, rows[BASELINE] = fit_and_score(src.train(("FluidR3",)), src.test(("TimGM6mb",)), cfg)
    for held in FAMILIES:
        name = f"leave out {held}"
        tell(f"{name}: augmenting", 0, 1)
        train = augmented(src.train(tuple(f for f in FAMILIES if f != held)), cfg)
        tell(f"{name}: training", 0, 1)
        _, rows[name] = fit_and_score(train, src.test((held,)), cfg)
    folds = [rows[f"leave out {f}"] for f in FAMILIES]
    mean = {m: {k: float(np.mean([f[m][k] for f in folds])) for k in ("segment_error_rate", "clip_error_rate")}
            for m in ("GMM-HMM", "DNN-HMM")}
    model: dict[str, str] = {}
    if model_path is not None:
        from core.cid import file_cid
        from ml.recognition.model import save

        tell("the all-source model for users", 0, 1)
        save(all_source_model(src, cfg), model_path, learned_from=sorted(p.cid for p in src.train_pieces))
        model = {"path": str(model_path), "cid": str(file_cid(model_path))}
    return {"split_id": src.split_id, "pieces": {"train": len(src.train_pieces), "test": len(src.test_pieces)}, "rows": rows,
            "mean_over_folds": mean, "model": model, "wall_seconds": time.perf_counter() - started,
            "run": run_record(settings={**asdict(cfg), "augment": cfg.augment.to_json()},
                              seeds={"split": cfg.seed, "gmm": cfg.gmm.seed, "dnn": cfg.dnn.seed, "augment": cfg.seed})}


def write_report(report: dict[str, Any], out: Path) -> None:
    """recognition_loso.md / .json."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "recognition_loso.json").write_text(json.dumps(report, indent=2))
    lines = ["# Leave-one-source-out timbre recognition", "",
             f"{report['pieces']['train']} training and {report['pieces']['test']} test songs (split `{report['split_id'][:16]}`, "
             "the recognition experiment's). Each fold trains on every source but one, with augmentation imitating other "
             "sources (EQ, reverb, level, noise, codec), and tests on the source left out; the real tabla, the only source of "
             "its class, trains on its training takes and is tested on its held-out takes in every fold.", "",
             "| training | test | model | segment error | clip error | training clips | training s |", "|---|---|---|---|---|---|---|"]
    for name, r in report["rows"].items():
        test = "TimGM6mb" if name == BASELINE else name.removeprefix("leave out ")
        lines += [f"| {name} | {test} | {m} | {r[m]['segment_error_rate']:.1%} | {r[m]['clip_error_rate']:.1%} | "
                  f"{r['train_clips']} | {r['train_seconds']:.0f} |" for m in ("GMM-HMM", "DNN-HMM")]
    for m, v in report["mean_over_folds"].items():
        lines.append(f"| **mean over folds** | | {m} | **{v['segment_error_rate']:.1%}** | **{v['clip_error_rate']:.1%}** | | |")
    if report.get("model"):
        lines += ["", f"Model for users (every source, augmented): CID `{report['model']['cid']}` at `{report['model']['path']}`."]
    lines += report_lines(report)
    (out / "recognition_loso.md").write_text("\n".join(lines) + "\n")
