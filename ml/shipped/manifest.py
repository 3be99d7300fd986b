"""The manifest beside every shipped model (`models/<file>.json` beside `models/<file>.pt`): the
weights' CID (`core.cid.file_cid`, what `ipfs add --cid-version=1` prints), the content CIDs of its
training set, its settings and seeds, the library versions and thread counts of the run, the
metrics measured on its held-out split, its training and load times, and the command that rebuilds it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.cid import file_cid
from core.errors import InputError
from ml.defaults import FILES, SHIPPED_DIR
from ml.runtime import run_record

FORMAT = "heritage-ledger/shipped-model/1"
ARCHITECTURES = {"recognition": "recognition/timbre-dnn-hmm", "recognition-cnn": "recognition/transfer-cnn-svm",
                 "omr": "omr/seed", "generation": "generation/lattice-transformer",
                 "generation-unconditioned": "generation/lattice-transformer-unconditioned",
                 "multimodal": "representation/multimodal", "midigan": "generation/midi-gan",
                 **{k: "classification/audio-cnn" for k in FILES if k.startswith("classification/")}}
"""The architecture each kind is registered under (the derivative manifest's `maker.architecture`)."""


@dataclass(frozen=True)
class Built:
    """One trained file and what its manifest says about it."""

    kind: str
    """A key of `ml.defaults.FILES`."""
    path: Path
    settings: dict[str, Any]
    seeds: dict[str, int]
    metrics: dict[str, float]
    held_out: str
    """What the metrics were measured on."""
    train_seconds: float


def manifest_path(weights: Path) -> Path:
    return weights.with_suffix(".json")


def training_set(path: Path) -> list[str]:
    """The content CIDs a saved model learned from (every model file records them as `learned_from`)."""
    import torch

    d = torch.load(path, weights_only=True)
    if not isinstance(d, dict) or "learned_from" not in d:
        raise InputError(f"{path} does not record what it learned from: rebuild it with `heritage models build`")
    return sorted(str(c) for c in d["learned_from"])


def write(built: Built, *, recipe: str, build_seconds: float, load_seconds: float) -> Path:
    """Write the manifest of `built` beside its weights (`load_seconds`: reading it with its command's
    loader); the manifest's path."""
    record = run_record(settings=built.settings, seeds=built.seeds)
    doc = {"format": FORMAT, "kind": built.kind, "file": FILES[built.kind], "architecture": ARCHITECTURES[built.kind],
           "cid": str(file_cid(built.path)), "bytes": built.path.stat().st_size, "training_set": training_set(built.path),
           "metrics": built.metrics, "held_out": built.held_out, "train_seconds": round(built.train_seconds, 1),
           "build_seconds": round(build_seconds, 1), "load_seconds": round(load_seconds, 3),
           "command": f"heritage models build --only {recipe}", **record}
    path = manifest_path(built.path)
    path.write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n")
    return path


@dataclass(frozen=True)
class Shipped:
    """A shipped model: its weights, its manifest, and whether the weights are the ones the manifest names."""

    kind: str
    weights: Path
    manifest: dict[str, Any]

    @property
    def cid_matches(self) -> bool:
        return str(file_cid(self.weights)) == str(self.manifest["cid"])


def read(kind: str, folder: Path = SHIPPED_DIR) -> Shipped:
    """The shipped model of `kind` in `folder`; InputError when the weights or the manifest are missing."""
    weights = folder / FILES[kind]
    m = manifest_path(weights)
    if not weights.is_file() or not m.is_file():
        raise InputError(f"no shipped {kind} model in {folder} (weights {weights.name} and {m.name}): "
                         "`heritage models build` rebuilds it, or restore models/ from git")
    doc = json.loads(m.read_text())
    if doc.get("format") != FORMAT:
        raise InputError(f"{m} is not a shipped-model manifest ({FORMAT})")
    return Shipped(kind, weights, doc)


def shipped(folder: Path = SHIPPED_DIR) -> Iterator[Shipped]:
    """Every model in `folder` that has a manifest, in FILES order."""
    for kind, name in FILES.items():
        if manifest_path(folder / name).is_file() and (folder / name).is_file():
            yield read(kind, folder)



TRAINED_FORMAT = "heritage-ledger/trained-model/1"


class Unrecorded(InputError):
    """A model file that does not record its training set, so it cannot be registered."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


def registrable(folder: Path) -> Iterator[Shipped | Unrecorded]:
    """Every model file in `folder` named as ml/defaults.py names them: a shipped one with its
    manifest, or one the user trained (`cache/models/`), described from the file itself (its CID
    and the training set it records); `Unrecorded` for a file that records no training set."""
    for kind, name in FILES.items():
        weights = folder / name
        if not weights.is_file():
            continue
        if manifest_path(weights).is_file():
            yield read(kind, folder)
            continue
        try:
            learned = training_set(weights)
        except Exception as err:  # not a model file this platform wrote, or one without its training set
            yield Unrecorded(kind, f"{weights} does not record what it learned from ({err}): retrain it with its "
                             "command, which records the training set, then register it")
            continue
        yield Shipped(kind, weights, {"format": TRAINED_FORMAT, "kind": kind, "file": name, "architecture": ARCHITECTURES[kind],
                                      "cid": str(file_cid(weights)), "bytes": weights.stat().st_size, "training_set": learned,
                                      "settings": {}, "seeds": {}, "metrics": {}, "command": f"trained by the user ({name})"})
