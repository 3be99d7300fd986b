"""OMR model files: the trained reader, its settings, vocabulary and what it learned from.

Written by `heritage omr evaluate` (`cache/models/omr-seed.pt`, `omr-crnn.pt`), read by
`heritage transcribe`. Tensors and plain values only (`torch.load(weights_only=True)`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch

from core.errors import InputError
from ml.omr.model import _NETS, KINDS, Kind, OmrConfig, TrainedOmr
from ml.omr.tokens import VOCABULARY
from ml.saved import read_saved

FORMAT = "heritage-omr-1"
COMMAND = "heritage omr evaluate --save DIR"


@dataclass(frozen=True)
class SavedOmr:
    """A loaded reader: the model, the pieces it learned from (content CIDs) and its test figures."""

    trained: TrainedOmr
    learned_from: tuple[str, ...]
    metrics: Mapping[str, float]


def save(path: Path, trained: TrainedOmr, *, learned_from: Sequence[str], metrics: Mapping[str, float]) -> None:
    """Write `trained` to `path`, with the vocabulary it decodes to (loading checks it is ours)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"format": FORMAT, "kind": trained.kind, "cfg": {**asdict(trained.cfg), "channels": list(trained.cfg.channels)},
                "vocabulary": list(VOCABULARY.tokens), "learned_from": sorted(learned_from),
                "metrics": {k: float(v) for k, v in metrics.items()}, "net": trained.net.state_dict(),
                "losses": list(trained.losses), "train_seconds": trained.train_seconds}, path)


def load(path: Path) -> SavedOmr:
    """The reader saved at `path`. A missing or foreign file, or one made with another vocabulary,
    is an InputError that says to train again."""
    d: dict[str, Any] = read_saved(path, what="score reader", formats=(FORMAT,), command=COMMAND)
    if tuple(d["vocabulary"]) != VOCABULARY.tokens:
        raise InputError(f"{path} decodes to another token vocabulary than this version's: train it again with `{COMMAND}`")
    kind = d["kind"]
    if kind not in KINDS:
        raise InputError(f"{path} holds an OMR model of kind {kind!r}, not one of {', '.join(KINDS)}: train it again")
    cfg = OmrConfig(**{**d["cfg"], "channels": tuple(d["cfg"]["channels"])})
    k: Kind = kind
    net = _NETS[k](cfg)
    net.load_state_dict(d["net"])
    net.eval()
    trained = TrainedOmr(k, net, cfg, tuple(d["losses"]), float(d["train_seconds"]))
    return SavedOmr(trained, tuple(d["learned_from"]), dict(d["metrics"]))
