"""An OMR data set on disk: every line of a set of tunes engraved (`ml.omr.data.render_lines`), clean
and with scanned-looking copies (`ml.omr.augment`), listed in `manifest.jsonl`; tunes that cannot be
covered are listed in `skipped.jsonl` with the reason. A build is resumable."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import verovio
from music21.exceptions21 import Music21Exception
from PIL import Image
from pydantic import BaseModel

from core.errors import InputError
from ml.data.corpora import Piece
from ml.omr.augment import AugmentParams, apply_augment, augment_params
from ml.omr.data import render_lines
from ml.omr.tokens import VOCABULARY

DATASET_VERSION = 1
"""Part of a dataset's settings: a folder made by another version is not resumed."""

class ManifestEntry(BaseModel):
    """One image of a data set: a line of `manifest.jsonl`."""

    image: str
    """Path of the PNG, relative to the data set's folder."""
    tokens: list[str]
    cid: str
    piece_id: str
    line: int
    bars: tuple[int, int]
    augmentation: dict[str, Any] | None
    """AugmentParams of the copy as a dict; None for the clean engraving."""


_M = TypeVar("_M", bound=BaseModel)


class SkippedTune(BaseModel):
    """A tune left out of a data set: a line of `skipped.jsonl`."""

    cid: str
    piece_id: str
    reason: str


def build_dataset(pieces: Sequence[Piece], out_dir: Path, *, augment_copies: int = 2, seed: int = 0, width_px: int = 1024,
                  height_px: int = 128, strength: float = 1.0, progress: Callable[[int, int], None] | None = None) -> Path:
    """Engrave `pieces` line by line into `out_dir` and return the path of its `manifest.jsonl`.

    Per line: the clean engraving and `augment_copies` augmented copies, as PNG under
    `images/<cid>/` (`line03.png`, `line03-aug0.png`, …). A tune that cannot be covered, or whose tokens are not all in VOCABULARY,
    is listed in `skipped.jsonl` with the reason. Resumable: a piece already in either list is
    not made again, so an interrupted build continues where it stopped; each copy's look comes
    from (seed, piece CID, line, copy), so the result does not depend on the order or on
    interruptions. `progress(done, total)` is called after each piece.
    """
    if augment_copies < 0:
        raise InputError(f"augment_copies is {augment_copies}: give 0 (clean images only) or more")
    settings = {"version": DATASET_VERSION, "verovio": verovio.toolkit().getVersion(), "augment_copies": augment_copies,
                "seed": seed, "width_px": width_px, "height_px": height_px, "strength": strength}
    out_dir.mkdir(parents=True, exist_ok=True)
    settings_path = out_dir / "dataset.json"
    if settings_path.exists():
        existing = json.loads(settings_path.read_text(encoding="utf-8"))
        if existing != settings:
            raise InputError(f"{out_dir} holds a data set made with {existing}, not {settings}: choose another folder, "
                             "or delete it to start again")
    else:
        settings_path.write_text(json.dumps(settings, indent=2) + "\n", encoding="utf-8")
    manifest, skipped = out_dir / "manifest.jsonl", out_dir / "skipped.jsonl"
    done = {e.cid for e in _read_jsonl(manifest, ManifestEntry)} | {s.cid for s in _read_jsonl(skipped, SkippedTune)}
    for i, piece in enumerate(pieces):
        if piece.cid not in done:
            entries = _piece_entries(piece, out_dir, settings)
            if isinstance(entries, SkippedTune):
                _append(skipped, [entries.model_dump_json()])
            else:
                _append(manifest, [e.model_dump_json() for e in entries])
            done.add(piece.cid)
        if progress is not None:
            progress(i + 1, len(pieces))
    manifest.touch()
    return manifest


def _piece_entries(piece: Piece, out_dir: Path, settings: dict[str, Any]) -> list[ManifestEntry] | SkippedTune:
    try:
        lines = render_lines(piece.abc, width_px=settings["width_px"], height_px=settings["height_px"])
        VOCABULARY.encode([t for line in lines for t in line.tokens])
    except InputError as exc:
        return SkippedTune(cid=piece.cid, piece_id=piece.piece_id, reason=str(exc))
    except Music21Exception as exc:  # music21 failing on odd notation is the tune's problem, not the build's
        return SkippedTune(cid=piece.cid, piece_id=piece.piece_id, reason=f"music21 failed on it: {type(exc).__name__}: {exc}")
    folder = out_dir / "images" / piece.cid
    folder.mkdir(parents=True, exist_ok=True)
    cid_key = int.from_bytes(hashlib.sha256(piece.cid.encode("utf-8")).digest()[:8], "big")
    entries = []
    for line in lines:
        looks: list[tuple[str, AugmentParams | None]] = [(f"line{line.line:02d}.png", None)]
        for copy_index in range(settings["augment_copies"]):
            rng = np.random.default_rng([settings["seed"], cid_key, line.line, copy_index])
            looks.append((f"line{line.line:02d}-aug{copy_index}.png", augment_params(rng, strength=settings["strength"])))
        for name, look in looks:
            pixels = line.image if look is None else apply_augment(line.image, look)
            with Image.fromarray(pixels) as im:
                im.save(folder / name, format="PNG")
            entries.append(ManifestEntry(image=f"images/{piece.cid}/{name}", tokens=list(line.tokens), cid=piece.cid,
                                         piece_id=piece.piece_id, line=line.line, bars=line.bars,
                                         augmentation=asdict(look) if look is not None else None))
    return entries


def _read_jsonl(path: Path, model: type[_M]) -> list[_M]:
    """The records of a JSONL file; a torn last line (an interrupted write) is cut off the file."""
    if not path.exists():
        return []
    records: list[_M] = []
    good = 0
    raw = path.read_bytes()
    for line in raw.splitlines(keepends=True):
        try:
            records.append(model.model_validate_json(line))
        except ValueError:
            break
        good += len(line)
    if good != len(raw):
        with path.open("r+b") as f:
            f.truncate(good)
    return records


def _append(path: Path, lines: list[str]) -> None:
    with path.open("a", encoding="utf-8") as f:
        f.write("".join(line + "\n" for line in lines))

