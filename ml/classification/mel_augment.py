"""Augmentations of log-mel spectrograms (dB) for the audio classifiers: overlay of two examples of a
class, time stretch, a mel-axis shift standing in for a pitch shift, band emphasis (`AugmentConfig`
documents each). `augment` adds one augmented copy of every example per kind."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from core.errors import InputError
from ml.classification.audio import check_labels
from ml.config import JsonConfig

AUGMENTATIONS = ("overlay", "stretch", "shift", "band")
FLOOR_DB = -100.0
"""`logmel`'s floor: augmented spectrograms are clipped to it."""


@dataclass(frozen=True)
class AugmentConfig(JsonConfig):
    """Ranges of the log-mel augmentations.

    overlay: α·S₁ + (1 − α)·S₂ in the power domain (10^(dB/10)) of two different examples of one
        class, α ~ U(alpha); back to dB, clipped at −100 dB. An example alone in its class is skipped.
    stretch: the frame axis resampled (linear interpolation in dB) by a rate r, log-uniform in
        `stretch` (r > 1 faster: fewer frames), then cut to T at a random offset, or looped to T.
        Each frame's spectrum is kept, as a phase-vocoder stretch keeps it to first order.
    shift: a cheap stand-in for librosa's pitch shift on the waveform: the mel axis shifted by k bands,
        1 ≤ |k| ≤ `shift_bands`, the vacated edge filled with the edge band (not a circular roll,
        which would wrap treble into bass). Above 1 kHz the Slaney mel bands of a 128-band, 22,050-Hz
        set are about 2.15 to a semitone, so 4 bands ≈ 2 semitones; below 1 kHz bands are ~26 Hz
        apart, so there the shift is a frequency offset, not a transposition.
    band: a random band emphasised: a triangular window of half-width U{band_width} bands at a random
        centre, scaled to a gain of ±U(band_gain_db) dB, added to the dB values (an equaliser boost/cut).
    """

    alpha: tuple[float, float] = (0.3, 0.7)
    stretch: tuple[float, float] = (0.8, 1.25)
    shift_bands: int = 4
    band_width: tuple[int, int] = (2, 8)
    band_gain_db: tuple[float, float] = (3.0, 6.0)



def augment(x: np.ndarray, y: Sequence[str], rng: np.random.Generator, kinds: Sequence[str] = AUGMENTATIONS, *,
            cfg: AugmentConfig = AugmentConfig()) -> tuple[np.ndarray, list[str]]:
    """Augmented copies of log-mel x (N, n_mels, T) in dB with labels y: for each kind in `kinds`
    (`AUGMENTATIONS`), one copy of every example (overlay: of every example with a same-class
    partner), in kind order. Returns (x′ (N′, n_mels, T) float32, labels (N′,)); the originals are
    not included, so train on both. See AugmentConfig for what each kind does."""
    if np.ndim(x) != 3 or len(x) == 0:
        raise InputError(f"log-mel input of shape {np.shape(x)}: give (examples ≥ 1, n_mels, frames)")
    labels = check_labels(y, len(x))
    if unknown := [k for k in kinds if k not in AUGMENTATIONS]:
        raise InputError(f"unknown augmentation {unknown}; choose from {', '.join(AUGMENTATIONS)}")
    xs: list[np.ndarray] = []
    ys: list[str] = []
    for kind in kinds:
        if kind == "overlay":
            pairs = _overlay_pairs(labels, rng)
            if pairs:
                i, j = np.array(pairs).T
                alpha = rng.uniform(*cfg.alpha, size=len(i))[:, None, None]
                power = alpha * 10 ** (x[i] / 10) + (1 - alpha) * 10 ** (x[j] / 10)
                xs.append(np.maximum(10 * np.log10(np.maximum(power, 1e-30)), FLOOR_DB))
                ys += [labels[k] for k in i]
            continue
        xs.append(np.stack([{"stretch": _stretch, "shift": _shift, "band": _band}[kind](s, rng, cfg) for s in x]))
        ys += labels
    n_mels, frames = x.shape[1:]
    out = np.concatenate(xs).astype(np.float32) if xs else np.zeros((0, n_mels, frames), dtype=np.float32)
    return out, ys


def _overlay_pairs(labels: list[str], rng: np.random.Generator) -> list[tuple[int, int]]:
    by_class: dict[str, list[int]] = {}
    for i, lab in enumerate(labels):
        by_class.setdefault(lab, []).append(i)
    pairs = []
    for i, lab in enumerate(labels):
        partners = [j for j in by_class[lab] if j != i]
        if partners:
            pairs.append((i, int(rng.choice(partners))))
    return pairs


def _stretch(s: np.ndarray, rng: np.random.Generator, cfg: AugmentConfig) -> np.ndarray:
    frames = s.shape[1]
    rate = math.exp(rng.uniform(math.log(cfg.stretch[0]), math.log(cfg.stretch[1])))
    length = max(1, round(frames / rate))
    pos = np.linspace(0, frames - 1, length)  # (length,) source frame of each new frame
    lo = np.floor(pos).astype(int)
    hi = np.minimum(lo + 1, frames - 1)
    resampled = s[:, lo] + (s[:, hi] - s[:, lo]) * (pos - lo)  # (n_mels, length)
    if length >= frames:
        start = int(rng.integers(0, length - frames + 1))
        return np.asarray(resampled[:, start: start + frames])
    return np.pad(resampled, ((0, 0), (0, frames - length)), mode="wrap")


def _shift(s: np.ndarray, rng: np.random.Generator, cfg: AugmentConfig) -> np.ndarray:
    k = int(rng.integers(1, cfg.shift_bands + 1)) * int(rng.choice([-1, 1]))
    out = np.empty_like(s)
    if k > 0:
        out[k:], out[:k] = s[:-k], s[:1]
    else:
        out[:k], out[k:] = s[-k:], s[-1:]
    return out


def _band(s: np.ndarray, rng: np.random.Generator, cfg: AugmentConfig) -> np.ndarray:
    n_mels = s.shape[0]
    centre = int(rng.integers(0, n_mels))
    half = int(rng.integers(cfg.band_width[0], cfg.band_width[1] + 1))
    gain = rng.uniform(*cfg.band_gain_db) * rng.choice([-1.0, 1.0])
    window = np.clip(1 - np.abs(np.arange(n_mels) - centre) / (half + 1), 0, None)  # (n_mels,), 1 at the centre
    return np.asarray(np.maximum(s + gain * window[:, None], FLOOR_DB))
