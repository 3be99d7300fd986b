"""Saved audio classifiers and `heritage classify` (the API's classification job too): a task's
members written with the preprocessing they learned through, read back as a soft-voting ensemble,
and a recording's label distribution per task. Written by `heritage classification evaluate`
(ml/classification/experiment.py)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ml.classification.audio import AudioModelConfig, Ensemble, Member, Trained, clip_proba
from ml.data.preprocess import SILENCE, Prepared, PreprocessConfig, prepare, prepare_file
from ml.recognition.features import FeatureConfig, segment_patches
from ml.saved import cached, read_saved, write_saved

FORMAT = "heritage-ledger/audio-classifier/1"
SAMPLE_RATE = 22_050


def save(path: Path, task: str, members: Sequence[Trained], *, learned_from: list[str]) -> None:
    """Write a task's neural members to `path` (tensors and plain values: `torch.load(weights_only=True)`
    reads it) with the preprocessing they learned through. `heritage classify` soft-votes them."""
    path.parent.mkdir(parents=True, exist_ok=True)
    write_saved({"format": FORMAT, "task": task, "learned_from": learned_from, "preprocess": FeatureConfig().preprocess().to_json(),
                "members": [{"kind": m.kind, "cfg": m.cfg.to_json(), "labels": m.labels, "mean": m.mean, "std": m.std,
                             "net": m.net.state_dict()} for m in members]}, path)


@dataclass(frozen=True)
class TaskModel:
    task: str
    ensemble: Ensemble
    preprocess: PreprocessConfig
    learned_from: frozenset[str] = frozenset()
    """CIDs of the songs it trained on (an evaluation leaves them out)."""


def load(path: Path) -> TaskModel:
    """A task's soft-voting ensemble of the saved members, with its preprocessing (a file saved
    before the preprocessing path: `PreprocessConfig.legacy()`); a missing or foreign file is an InputError."""
    from ml.classification.audio import _NETS

    d = read_saved(path, what="classifier", formats=(FORMAT,), command="heritage classification evaluate")
    members: list[Member] = []
    for m in d["members"]:
        cfg = AudioModelConfig(**{**m["cfg"], "cnn_channels": tuple(m["cfg"]["cnn_channels"])})
        net = _NETS[m["kind"]](len(m["labels"]), cfg)
        net.load_state_dict(m["net"])
        net.eval()
        members.append(Trained(m["kind"], net, cfg, list(m["labels"]), float(m["mean"]), float(m["std"])))
    return TaskModel(str(d["task"]), Ensemble.soft_vote(members), PreprocessConfig.from_json(d.get("preprocess")),
                     frozenset(str(c) for c in d.get("learned_from", [])))


def prepared_patches(prepared: Prepared) -> np.ndarray:
    """Log-mel patches of a prepared recording's non-silent segments: (k', 128, 128)."""
    return segment_patches(prepared.voiced, cfg=FeatureConfig())


def classify_prepared(model: TaskModel, prepared: Prepared) -> dict[str, float]:
    """The label distribution (most likely first) of a prepared recording: the soft vote of the
    members, averaged over its non-silent 3-s segments; {"silence": 1.0} when every segment is silent."""
    patches = prepared_patches(prepared)
    if not len(patches):
        return {SILENCE: 1.0}
    p = clip_proba(model.ensemble, [patches])[0]
    return {lab: float(v) for lab, v in sorted(zip(model.ensemble.labels, p, strict=True), key=lambda kv: -kv[1])}


def classify(y: np.ndarray, models: Sequence[Path], *, sample_rate: int = SAMPLE_RATE) -> dict[str, dict[str, float]]:
    """Label distribution of audio y ((n,) or (n, channels) at sample_rate Hz) for each saved task
    model, each through its own preprocessing (see `classify_prepared`)."""
    loaded = [cached(p, load) for p in models]  # kept between calls (the API runs many)
    return {m.task: classify_prepared(m, prepare(y, sample_rate=sample_rate, cfg=m.preprocess)) for m in loaded}


def classify_file(path: Path, models: Sequence[Path]) -> dict[str, dict[str, float]]:
    """`classify` of a recording on disk; each model is loaded once, the file decoded once per distinct preprocessing."""
    loaded = [cached(p, load) for p in models]  # kept between calls (the API runs many)
    prepared: dict[PreprocessConfig, Prepared] = {}
    out = {}
    for m in loaded:
        if m.preprocess not in prepared:
            prepared[m.preprocess] = prepare_file(path, cfg=m.preprocess)
        out[m.task] = classify_prepared(m, prepared[m.preprocess])
    return out
