"""Features for timbre recognition: MFCC with context, and log-mel patches of 3-s segments.

Both at 22,050 Hz with an FFT of 1,024 samples (46 ms) and a hop of 512 (23 ms), as in the seed
study; computed by `ml.data.spectral` (librosa's values, without librosa's slow first call).
`FeatureConfig` holds every constant, so a model's manifest can record them.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np
from threadpoolctl import ThreadpoolController

from core.errors import InputError
from ml.config import JsonConfig
from ml.data import spectral
from ml.data.preprocess import PreprocessConfig


@dataclass(frozen=True)
class FeatureConfig(JsonConfig):
    sample_rate: int = 22_050
    n_fft: int = 1_024
    hop: int = 512
    n_mfcc: int = 13
    context: int = 5
    """Frames either side stacked onto each MFCC frame: 13 × (2·5 + 1) = 143 dimensions."""
    n_mels: int = 128
    segment_s: float = 3.0
    patch_frames: int = 128
    """Frames per log-mel patch: 128 hops of 512 samples ≈ 2.97 s of a 3-s segment."""


    def preprocess(self) -> PreprocessConfig:
        """The preprocessing path at these features' rate and segment length (`ml.data.preprocess`)."""
        return PreprocessConfig(sample_rate=self.sample_rate, segment_s=self.segment_s)


def segments(y: np.ndarray, *, cfg: FeatureConfig = FeatureConfig()) -> np.ndarray:
    """Cut mono audio `y` (shape (n,), at cfg.sample_rate) into whole non-overlapping segments of
    cfg.segment_s seconds: shape (k, segment samples). A tail shorter than a segment is dropped;
    audio shorter than one segment raises InputError."""
    size = round(cfg.segment_s * cfg.sample_rate)
    k = len(y) // size
    if k == 0:
        raise InputError(f"the audio lasts {len(y) / cfg.sample_rate:.2f} s, shorter than one {cfg.segment_s:g}-s segment; "
                         "give a longer recording")
    return np.asarray(y[: k * size], dtype=np.float32).reshape(k, size)


def mfcc_context(y: np.ndarray, *, cfg: FeatureConfig = FeatureConfig()) -> np.ndarray:
    """MFCCs of mono `y` (shape (n,), at cfg.sample_rate), each frame stacked with its
    cfg.context neighbours either side (edges repeat the first/last frame).

    Returns shape (frames, n_mfcc · (2·context + 1)) = (T, 143) by default, float32; row t is
    [c(t−5), …, c(t), …, c(t+5)], each c a 13-vector.
    """
    c = spectral.mfcc(np.asarray(y, dtype=np.float32), sample_rate=cfg.sample_rate, n_mfcc=cfg.n_mfcc, n_fft=cfg.n_fft,
                      hop=cfg.hop, n_mels=cfg.n_mels).T  # (T, 13): librosa.feature.mfcc's values, without importing librosa
    padded = np.pad(c, ((cfg.context, cfg.context), (0, 0)), mode="edge")  # (T + 2·context, 13)
    t = c.shape[0]
    stacked = np.concatenate([padded[i: i + t] for i in range(2 * cfg.context + 1)], axis=1)  # (T, 143)
    return stacked.astype(np.float32)


def logmel(y: np.ndarray, *, cfg: FeatureConfig = FeatureConfig()) -> np.ndarray:
    """Log-mel spectrogram of mono `y`: shape (n_mels, frames), power in dB (10·log10, Slaney-
    normalised mel filters, reference: a full-scale sine's power in its FFT bin), floored at −100 dB.
    Level differences are exact: a signal 40 dB quieter is 40 dB lower in every band."""
    power = spectral.melspectrogram(np.asarray(y, dtype=np.float32), sample_rate=cfg.sample_rate, n_fft=cfg.n_fft, hop=cfg.hop,
                                    n_mels=cfg.n_mels)  # (128, T)
    reference = (cfg.n_fft / 4) ** 2  # a full-scale sine's power in its bin under a Hann window
    db = 10 * np.log10(np.maximum(power.astype(np.float64), 1e-10)) - 10 * np.log10(reference)
    return np.asarray(db.clip(-100, None), dtype=np.float32)


def logmel_patches(y: np.ndarray, *, cfg: FeatureConfig = FeatureConfig()) -> np.ndarray:
    """One log-mel patch per 3-s segment of `y`: shape (k, n_mels, patch_frames) = (k, 128, 128).

    BLAS runs on one thread here: the mel projection is small, and OpenBLAS's second thread,
    spinning after it, took a core from the torch model that scores the patches next — end to end
    a 30-s clip through the ensemble took about twice features plus models measured apart
    (benchmarks/classification_inference.py)."""
    return segment_patches(segments(y, cfg=cfg), cfg=cfg)


def segment_patches(segs: np.ndarray, *, cfg: FeatureConfig = FeatureConfig()) -> np.ndarray:
    """One log-mel patch per segment of segs (k, segment samples) → (k, n_mels, patch_frames); (0, …) for k = 0."""
    if len(segs) == 0:
        return np.zeros((0, cfg.n_mels, cfg.patch_frames), dtype=np.float32)
    with _blas().limit(limits=1, user_api="blas"):
        return np.stack([logmel(s, cfg=cfg)[:, : cfg.patch_frames] for s in segs])


@cache
def _blas() -> ThreadpoolController:
    return ThreadpoolController()
