"""A transfer-learned CNN whose mid- and high-level features, fused, feed an SVM (the seed's
emotion model), evaluated here on timbre and open to a user's own labels (emotion, or anything).

- Source task: a small CNN learns to name `SOURCE_INSTRUMENTS` — twelve General MIDI instruments
  none of which is a target class — from 128 × 128 log-mel patches (3-s segments).
- Transfer: the CNN is frozen. Mid-level features: the third convolution block's maps (64
  channels, 16 × 16) pooled by mean and by max over time and frequency (128 values); high-level
  features: the penultimate fully connected layer (128 values). Fused: both, concatenated (256).
- Target task: an SVM (RBF kernel, features standardised on the training set) on the fused
  features of the target labels. A clip's label sums its segments' decision scores.
- A user's labelled CSV (`file,label` rows; audio paths relative to the CSV) is scored by
  cross-validation grouped by file, since emotion labels are not available offline.

The CNN's patches are standardised by the source training set's mean and deviation (one scalar
each), recorded with the weights.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from sklearn.model_selection import StratifiedGroupKFold
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC
from torch import nn

from core.errors import InputError
from ml.data.preprocess import prepare_file
from ml.layers import conv_pool_blocks
from ml.recognition.features import FeatureConfig, segment_patches
from ml.runtime import seeded
from ml.saved import read_saved, write_saved
from ml.training_loop import fit

SOURCE_INSTRUMENTS = ("piano", "violin", "cello", "shakuhachi", "ocarina", "banjo", "trumpet", "clarinet", "oboe", "accordion",
                      "vibraphone", "harmonica")
"""The source task's classes: disjoint from the target instruments, so the transfer is real."""
FORMAT = "heritage-ledger/transfer-cnn/1"
LEVELS = ("mid", "high", "fused")


@dataclass(frozen=True)
class CnnConfig:
    channels: tuple[int, int, int, int] = (16, 32, 64, 128)
    penultimate: int = 128
    epochs: int = 12
    batch: int = 32
    lr: float = 1e-3
    dropout: float = 0.3
    seed: int = 0

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "channels": list(self.channels)}


class TransferCnn(nn.Module):
    """Patches (B, 1, 128, 128) → logits over the source classes; `features` gives the pooled
    mid-level maps (B, 2·channels[2]) and the penultimate layer (B, penultimate)."""

    def __init__(self, classes: int, cfg: CnnConfig = CnnConfig()) -> None:
        super().__init__()
        self.blocks = nn.ModuleList(conv_pool_blocks(cfg.channels))
        width = cfg.channels[-1] if cfg.channels else 1
        self.high = nn.Sequential(nn.Flatten(), nn.Dropout(cfg.dropout), nn.Linear(width, cfg.penultimate), nn.ReLU())
        self.out = nn.Sequential(nn.Dropout(cfg.dropout), nn.Linear(cfg.penultimate, classes))

    def features(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mid = x
        for i, block in enumerate(self.blocks):
            x = block(x)
            if i == 2:
                mid = torch.cat([x.mean(dim=(2, 3)), x.amax(dim=(2, 3))], dim=1)  # (B, 2·64)
        pooled = x.mean(dim=(2, 3))[:, :, None, None]  # (B, 128, 1, 1): global average over the last maps
        return mid, self.high(pooled)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(self.features(x)[1])  # type: ignore[no-any-return]


@dataclass
class SourceModel:
    """The frozen CNN with its patch normalisation and source labels."""

    net: TransferCnn
    cfg: CnnConfig
    labels: list[str]
    mean: float
    std: float
    train_seconds: float = 0.0
    losses: tuple[float, ...] = ()

    def features(self, patches: np.ndarray, level: str = "fused", batch: int = 64) -> np.ndarray:
        """patches (k, 128, 128) → features (k, d): d = 128 (mid), 128 (high) or 256 (fused)."""
        if level not in LEVELS:
            raise InputError(f"feature level {level!r}: choose one of {', '.join(LEVELS)}")
        out = []
        with torch.inference_mode():
            for i in range(0, len(patches), batch):
                x = torch.from_numpy((patches[i: i + batch] - self.mean) / self.std).float()[:, None]
                mid, high = self.net.features(x)
                out.append({"mid": mid, "high": high, "fused": torch.cat([mid, high], dim=1)}[level].numpy())
        return np.concatenate(out) if out else np.zeros((0, 1))

    def save(self, path: Path, **extra: Any) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_saved({"format": FORMAT, "cnn": self.cfg.to_json(), "labels": self.labels, "mean": self.mean, "std": self.std,
                    "net": self.net.state_dict(), "preprocess": FeatureConfig().preprocess().to_json(), **extra}, path)


def train_source(patches: np.ndarray, labels: Sequence[str], cfg: CnnConfig = CnnConfig(),
                 progress: Callable[[int, int], None] | None = None) -> SourceModel:
    """Train the CNN on the source task: patches (k, 128, 128), one label each."""
    if len(patches) != len(labels) or not len(patches):
        raise InputError("give one label per patch, and at least one patch")
    names = sorted(set(labels))
    index = {lab: i for i, lab in enumerate(names)}
    mean, std = float(patches.mean()), float(patches.std()) or 1.0
    gen = seeded(cfg.seed)
    net = TransferCnn(len(names), cfg)
    x = torch.from_numpy((patches - mean) / std).float()[:, None]
    y = torch.tensor([index[lab] for lab in labels])
    opt = torch.optim.Adam(net.parameters(), lr=cfg.lr)
    fitted = fit(net, lambda b: (nn.functional.cross_entropy(net(x[b]), y[b]), len(b)), items=len(x), epochs=cfg.epochs,
                 batch_size=cfg.batch, opt=opt, gen=gen, progress=progress)
    return SourceModel(net, cfg, names, mean, std, fitted.seconds, fitted.losses)


def load_source(path: Path) -> SourceModel:
    """Read a CNN `SourceModel.save` wrote; a missing or foreign file is an InputError."""
    d = read_saved(path, what="transfer CNN", formats=(FORMAT,), command="heritage recognition evaluate")
    cfg = CnnConfig(**{**d["cnn"], "channels": tuple(d["cnn"]["channels"])})
    net = TransferCnn(len(d["labels"]), cfg)
    net.load_state_dict(d["net"])
    net.eval()
    return SourceModel(net, cfg, list(d["labels"]), float(d["mean"]), float(d["std"]))


def svm() -> Pipeline:
    """The target classifier: standardised features, RBF SVM (C = 10, scale gamma)."""
    return make_pipeline(StandardScaler(), SVC(C=10.0, kernel="rbf", gamma="scale"))


def csv_dataset(path: Path, source: SourceModel, cfg: FeatureConfig = FeatureConfig(),
                level: str = "fused") -> tuple[np.ndarray, list[str], list[int], list[str]]:
    """Read a `file,label` CSV (a header row `file,label` is allowed; paths relative to the CSV)
    and return (features (segments, d), segment labels, segment file index, files). Each file's
    3-s segments (silent ones left out: `ml.data.preprocess`) are one group. A bad row or file is
    an InputError naming it."""
    if not path.is_file():
        raise InputError(f"no CSV at {path}: write one `file,label` row per recording")
    rows = [r for r in csv.reader(path.read_text().splitlines()) if r and any(c.strip() for c in r)]
    if rows and [c.strip().lower() for c in rows[0]] == ["file", "label"]:
        rows = rows[1:]
    feats: list[np.ndarray] = []
    labels: list[str] = []
    groups: list[int] = []
    files: list[str] = []
    for n, row in enumerate(rows, start=1):
        if len(row) != 2 or not row[0].strip() or not row[1].strip():
            raise InputError(f"{path} row {n}: {row!r} is not `file,label`")
        audio_path = (path.parent / row[0].strip()).resolve()
        try:
            patches = segment_patches(prepare_file(audio_path, cfg=cfg.preprocess()).voiced, cfg=cfg)
        except InputError as err:
            raise InputError(f"{path} row {n} ({row[0].strip()}): {err}") from err
        if not len(patches):
            raise InputError(f"{path} row {n} ({row[0].strip()}): the recording is silence throughout: leave it out")
        feats.append(source.features(patches, level))
        labels += [row[1].strip()] * len(patches)
        groups += [len(files)] * len(patches)
        files.append(str(audio_path))
    if not files:
        raise InputError(f"{path} has no `file,label` rows")
    return np.concatenate(feats), labels, groups, files


def cross_validate(x: np.ndarray, labels: Sequence[str], groups: Sequence[int], folds: int = 5,
                   seed: int = 0) -> dict[str, Any]:
    """Segment and file accuracy of the SVM under stratified k-fold grouped by file (a file's
    segments are never split across training and test). Fewer than two labels, or a label with
    fewer files than folds, is an InputError."""
    y = np.array(labels)
    g = np.array(groups)
    names = sorted(set(labels))
    if len(names) < 2:
        raise InputError(f"the CSV has one label ({names[0] if names else 'none'}): give at least two")
    files_per_label = {lab: len(set(g[y == lab])) for lab in names}
    fewest = min(files_per_label.values())
    if fewest < 2:
        raise InputError(f"each label needs at least two files to cross-validate; counts: {files_per_label}")
    k = min(folds, fewest)
    seg_acc, file_correct, file_total = [], 0, 0
    confusion = np.zeros((len(names), len(names)), dtype=int)
    for train, test in StratifiedGroupKFold(n_splits=k, shuffle=True, random_state=seed).split(x, y, g):
        model = svm().fit(x[train], y[train])
        scores = model.decision_function(x[test])
        scores = scores if scores.ndim == 2 else np.stack([-scores, scores], axis=1)
        classes = list(model.classes_)
        pred = np.array([classes[i] for i in scores.argmax(axis=1)])
        seg_acc.append(float(np.mean(pred == y[test])))
        for f in np.unique(g[test]):
            mine = g[test] == f
            guess = classes[int(scores[mine].sum(axis=0).argmax())]
            truth = y[test][mine][0]
            file_correct += int(guess == truth)
            file_total += 1
            confusion[names.index(truth), names.index(guess)] += 1
    return {"labels": names, "folds": k, "files": file_total, "segments": len(y),
            "segment_accuracy": float(np.mean(seg_acc)), "segment_accuracy_sd": float(np.std(seg_acc)),
            "file_accuracy": file_correct / file_total, "confusion": confusion.tolist()}
