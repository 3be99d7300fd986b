"""Rendered clips for timbre recognition: folk melodies played by General MIDI instruments.

Each clip is one piece rendered with one instrument from one soundfont, with its performance
varied deterministically from (piece, instrument): tempo ±15 %, a global detune within ±20
cents, reverb 0–0.3 and white noise at 30–50 dB SNR, so a model cannot key on one rendering.
Clips are cached as 16-bit PCM under `cache_dir`, keyed by everything that made them: the
first render of a set is the slow part (FluidSynth, about 0.1 s a clip), later runs read it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.errors import InputError
from ml.data.corpora import Piece
from ml.data.render import SoundFont, render

INSTRUMENTS_12 = ("sitar", "koto", "shamisen", "shanai", "pan flute", "bagpipe", "kalimba", "erhu", "flute", "acoustic guitar",
                  "harp", "marimba")
"""The task's instruments: the issue's eight (erhu-like bowed strings = GM fiddle) and four more."""
SAMPLE_RATE = 22_050
RENDER_VERSION = 3
"""Part of every cached clip's key: 2 since ABC is read with ABC 2.1 accidentals (`parse_abc`); 3 since
clips keep TRIM_SLACK_S more than `seconds`."""
TRIM_SLACK_S = 0.5
"""Kept beyond `seconds`, so the preprocessing path's trim of a quiet attack (`ml.data.preprocess`)
still leaves whole `seconds` of segments: a 9-s clip gives three 3-s segments, not two."""
BASE_TEMPO = 96.0
"""Quarter notes a minute before the ±15 % variation: the Essen songs carry no tempo marks."""


@dataclass(frozen=True)
class Clip:
    piece: Piece | None
    """The melody played; None for material that is not a rendered score (the tabla's rhythms)."""
    instrument: str
    family: str
    """Soundfont family (FluidR3 or TimGM6mb): train on one, test on the other."""
    audio: np.ndarray
    """Mono float32, shape (n,), at SAMPLE_RATE Hz, at most `seconds` + TRIM_SLACK_S long."""


def performance(piece_cid: str, instrument: str) -> dict[str, float]:
    """The deterministic performance parameters of a (piece, instrument) pair."""
    seed = int.from_bytes(hashlib.sha256(f"{piece_cid}\0{instrument}".encode()).digest()[:8], "big")
    rng = np.random.default_rng(seed)
    return {"tempo_scale": float(rng.uniform(0.85, 1.15)), "tuning_cents": float(rng.uniform(-20, 20)),
            "reverb": float(rng.uniform(0.0, 0.3)), "noise_db": float(rng.uniform(30, 50)), "seed": float(seed % 2**31)}


def clips(pieces: Sequence[Piece], instruments: Sequence[str], soundfont: SoundFont, *, cache_dir: Path, seconds: float = 9.0,
          progress: Callable[[int, int], None] | None = None) -> list[Clip]:
    """Render (or read from the cache) every piece × instrument with `soundfont`; the first
    `seconds` (+ TRIM_SLACK_S) of each. A piece FluidSynth or music21 cannot render is an InputError naming it."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    out = []
    total = len(pieces) * len(instruments)
    for i, piece in enumerate(pieces):
        for j, instrument in enumerate(instruments):
            p = performance(piece.cid, instrument)
            key = hashlib.sha256(json.dumps([piece.cid, instrument, soundfont.name, seconds, SAMPLE_RATE, p,
                                             RENDER_VERSION]).encode()).hexdigest()
            path = cache_dir / f"{key[:32]}.npy"
            if path.exists():
                pcm = np.load(path)
            else:
                try:
                    y = render(piece.abc, program=instrument, soundfont=soundfont.path, tuning_cents=p["tuning_cents"],
                               reverb=p["reverb"], noise_db=p["noise_db"], sample_rate=SAMPLE_RATE, seed=int(p["seed"]),
                               tempo_bpm=BASE_TEMPO * p["tempo_scale"])
                except InputError as err:
                    raise InputError(f"cannot render {piece.piece_id} ({piece.title}) with {instrument}: {err}") from err
                y = y[: int((seconds + TRIM_SLACK_S) * SAMPLE_RATE)]
                peak = float(np.max(np.abs(y))) or 1.0
                pcm = np.round(y / peak * 32000).astype(np.int16)  # normalised: level is not the cue
                tmp = path.with_suffix(".tmp.npy")
                np.save(tmp, pcm)
                tmp.replace(path)
            out.append(Clip(piece, instrument, soundfont.family, pcm.astype(np.float32) / 32768.0))
            if progress is not None:
                progress(i * len(instruments) + j + 1, total)
    return out
