"""Real tabla for timbre recognition: the stroke recordings in Debian's `sonic-pi-samples`.

The package (`apt-get install sonic-pi-samples`) ships 26 one-shot tabla strokes recorded from a
real instrument (`tabla_ghe1.flac` … `tabla_tun3.flac`: bayan and dayan strokes — ghe, ke, na,
tas, te, tun, dhec, re) and one performed loop (`loop_tabla.flac`, 10.7 s). A clip is a
rhythm played with the strokes: a tempo of 70–140 beats a minute, four pulses a beat, each pulse
a stroke (three in four) or a rest, each stroke drawn from the clip's set of files at a gain of
−8 to 0 dB, ringing on under the next; then white noise at 30–50 dB SNR, as the rendered clips get.

The split is by sample file, so no recording is heard in training and test: for every stroke
name with two or more takes (ghe1–8, ke1–3, tas1–3, te1–2, tun1–3) the last take is held out;
single takes train. The loop, a real performance, is held out too and tested on its own.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

from core.errors import InputError
from ml.data.audio import add_noise, load_audio

SAMPLES_DIR = Path("/usr/share/sonic-pi/samples")
PACKAGE = "`apt-get install sonic-pi-samples`"
LABEL = "tabla"


@dataclass(frozen=True)
class TablaSplit:
    train: tuple[Path, ...]
    test: tuple[Path, ...]
    loop: Path


def tabla_files(directory: Path = SAMPLES_DIR) -> TablaSplit:
    """The stroke files split by take (see the module text), and the loop. InputError when the
    package is not installed."""
    strokes = sorted(directory.glob("tabla_*.flac"))
    loop = directory / "loop_tabla.flac"
    if not strokes or not loop.is_file():
        raise InputError(f"no tabla recordings in {directory}: install them with {PACKAGE}")
    by_name: dict[str, list[Path]] = {}
    for f in strokes:
        by_name.setdefault(re.sub(r"\d+$", "", f.stem), []).append(f)
    test = [takes[-1] for takes in by_name.values() if len(takes) > 1]
    train = [f for f in strokes if f not in test]
    return TablaSplit(tuple(train), tuple(test), loop)


@cache
def _stroke(path: Path, sample_rate: int) -> np.ndarray:
    y, _ = load_audio(path, sample_rate=sample_rate)
    return y


def tabla_clip(files: Sequence[Path], *, seed: int, seconds: float, sample_rate: int = 22_050) -> np.ndarray:
    """One rhythm of `seconds` played with strokes from `files`, deterministic in `seed`:
    float32 of shape (round(seconds · sample_rate),), peak-normalised."""
    if not files:
        raise InputError("a tabla clip needs at least one stroke file")
    rng = np.random.default_rng(seed)
    n = round(seconds * sample_rate)
    out = np.zeros(n + 4 * sample_rate, dtype=np.float32)
    pulse = 60.0 / rng.uniform(70, 140) / 4 * sample_rate  # samples per sixteenth
    t = 0.0
    while t < n:
        if rng.random() < 0.75:
            s = _stroke(files[int(rng.integers(len(files)))], sample_rate)
            start = int(t)
            out[start: start + len(s)] += s * 10 ** (rng.uniform(-8, 0) / 20)
        t += pulse
    y = out[:n]
    y = add_noise(y, snr_db=float(rng.uniform(30, 50)), seed=seed)
    return np.asarray(y / (float(np.max(np.abs(y))) or 1.0), dtype=np.float32)


def tabla_clips(files: Sequence[Path], count: int, *, seconds: float, salt: str, sample_rate: int = 22_050) -> list[np.ndarray]:
    """`count` clips, each seeded from (salt, index): training and test sets differ by salt and files."""
    seeds = [int.from_bytes(hashlib.sha256(f"tabla\0{salt}\0{i}".encode()).digest()[:4], "big") for i in range(count)]
    return [tabla_clip(files, seed=s, seconds=seconds, sample_rate=sample_rate) for s in seeds]


def tabla_loop(split: TablaSplit, *, sample_rate: int = 22_050) -> np.ndarray:
    """The performed loop, mono at `sample_rate`, peak-normalised."""
    y = _stroke(split.loop, sample_rate)
    return np.asarray(y / float(np.max(np.abs(y))), dtype=np.float32)
