"""Where a user's model is: the one place that answers "which file does `heritage recognize` (or
classify, transcribe, generate, the API's jobs, the Studio) load?".

Two places, in this order:
1. `cache/models/<file>` — a model the user trained with a full-size command (`heritage recognition
   evaluate`, `classification evaluate`, `omr evaluate`, `generation train`, …). It wins: the user
   asked for it.
2. `models/<file>` — the small default models shipped with the project (trained here, weights plus
   a manifest beside them: CID, training-set CIDs, settings, seed, measured metrics), so every ML
   command works on a fresh clone without a training command.

`HERITAGE_MODELS_DIR`, when set, replaces the first place (a shared model store, or a test's
temporary folder). A capability's file name is declared once here (`FILES`).
"""

from __future__ import annotations

import os
from pathlib import Path

from core.paths import REPO_ROOT

TRAINED_DIR = REPO_ROOT / "cache" / "models"
SHIPPED_DIR = REPO_ROOT / "models"

# capability → file name, the same below both places
FILES: dict[str, str] = {
    "recognition": "timbre-dnn-hmm.pt",
    "recognition-cnn": "transfer-cnn.pt",
    "omr": "omr-seed.pt",
    "generation": "generation-conditioned.pt",
    "generation-unconditioned": "generation-unconditioned.pt",
    "multimodal": "multimodal.pt",
    "midigan": "midigan-gan.pt",
    "classification/tradition": "classification/tradition.pt",
    "classification/han_region": "classification/han_region.pt",
    "classification/han_genre": "classification/han_genre.pt",
    "classification/dance": "classification/dance.pt",
}


class NoModel(LookupError):
    """Neither a trained nor a shipped model exists for a capability."""


def trained_dir() -> Path:
    override = os.environ.get("HERITAGE_MODELS_DIR")
    return Path(override) if override else TRAINED_DIR


def candidates(kind: str) -> tuple[Path, Path]:
    """The trained path, then the shipped path, for `kind` (a key of FILES)."""
    try:
        name = FILES[kind]
    except KeyError:
        raise NoModel(f"unknown model kind {kind!r}; known: {', '.join(sorted(FILES))}") from None
    return trained_dir() / name, SHIPPED_DIR / name


def default_model(kind: str) -> Path:
    """The file to load for `kind`: the user's trained model if there is one, else the shipped one.
    Raises NoModel, saying which command trains it, when neither exists."""
    trained, shipped = candidates(kind)
    for path in (trained, shipped):
        if path.is_file():
            return path
    raise NoModel(f"no {kind} model: neither {trained} nor {shipped} exists; train one with the "
                  f"capability's evaluate/train command (see `heritage --help`) or restore models/ from git")


def is_shipped(path: Path) -> bool:
    return path.resolve().is_relative_to(SHIPPED_DIR.resolve())
