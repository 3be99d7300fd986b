"""Mel spectrograms and MFCCs in numpy alone, equal to librosa's defaults (tested to float rounding).

Why not librosa at inference: its first `feature.mfcc` call imports librosa's submodules and numba
lazily — measured at over a second of a cold `heritage recognize`, longer than the recognition. The
same functions serve training, so the two cannot drift apart.

Conventions, librosa 0.11's: STFT frames centred (the signal zero-padded by n_fft // 2 both sides),
periodic Hann window, power spectrum |X|²; Slaney mel scale (linear below 1 kHz, logarithmic above)
with Slaney area normalisation; MFCC = orthonormal DCT-II of the power in dB
(10·log10(max(S, 1e-10)), floored 80 dB below the spectrogram's maximum).
"""

from __future__ import annotations

from functools import cache

import numpy as np
from numpy.typing import NDArray

_F_SP = 200.0 / 3  # Slaney: Hz per mel below 1 kHz
_MIN_LOG_HZ = 1000.0
_LOGSTEP = np.log(6.4) / 27.0


def hz_to_mel(f: NDArray[np.float64]) -> NDArray[np.float64]:
    f = np.asarray(f, dtype=np.float64)
    return np.where(f >= _MIN_LOG_HZ, _MIN_LOG_HZ / _F_SP + np.log(np.maximum(f, 1e-10) / _MIN_LOG_HZ) / _LOGSTEP, f / _F_SP)


def mel_to_hz(m: NDArray[np.float64]) -> NDArray[np.float64]:
    m = np.asarray(m, dtype=np.float64)
    return np.where(m >= _MIN_LOG_HZ / _F_SP, _MIN_LOG_HZ * np.exp(_LOGSTEP * (m - _MIN_LOG_HZ / _F_SP)), _F_SP * m)


@cache
def mel_filters(*, sample_rate: int, n_fft: int, n_mels: int) -> NDArray[np.float32]:
    """Slaney-normalised triangular filters from 0 Hz to sample_rate / 2: shape (n_mels, n_fft // 2 + 1)."""
    fft_hz = np.linspace(0, sample_rate / 2, n_fft // 2 + 1)
    edges = mel_to_hz(np.linspace(hz_to_mel(np.array(0.0)), hz_to_mel(np.array(sample_rate / 2)), n_mels + 2))
    widths = np.diff(edges)  # (n_mels + 1,)
    ramps = edges[:, None] - fft_hz[None, :]  # (n_mels + 2, bins)
    lower = -ramps[:-2] / widths[:-1, None]
    upper = ramps[2:] / widths[1:, None]
    weights = np.maximum(0, np.minimum(lower, upper)) * (2.0 / (edges[2:] - edges[:-2]))[:, None]
    return weights.astype(np.float32)


@cache
def _hann(n_fft: int) -> NDArray[np.float64]:
    return 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n_fft) / n_fft)  # periodic


def power_spectrogram(y: NDArray[np.floating], *, n_fft: int, hop: int) -> NDArray[np.float64]:
    """|STFT|² of y ((n,)), frames centred: shape (n_fft // 2 + 1, 1 + n // hop)."""
    padded = np.pad(np.asarray(y, dtype=np.float64), n_fft // 2)
    frames = np.lib.stride_tricks.sliding_window_view(padded, n_fft)[::hop]  # (T, n_fft)
    return np.asarray(np.abs(np.fft.rfft(frames * _hann(n_fft), axis=1)).T ** 2, dtype=np.float64)


def melspectrogram(y: NDArray[np.floating], *, sample_rate: int, n_fft: int, hop: int, n_mels: int) -> NDArray[np.float32]:
    """Mel power spectrogram of y ((n,) at sample_rate Hz): shape (n_mels, frames), float32."""
    spec = power_spectrogram(y, n_fft=n_fft, hop=hop).astype(np.float32)
    return np.asarray(mel_filters(sample_rate=sample_rate, n_fft=n_fft, n_mels=n_mels) @ spec, dtype=np.float32)


@cache
def _dct(n_mels: int, n_mfcc: int) -> NDArray[np.float64]:
    """Orthonormal DCT-II rows: (n_mfcc, n_mels)."""
    k = np.arange(n_mfcc)[:, None]
    n = np.arange(n_mels)[None, :]
    basis = np.cos(np.pi * k * (2 * n + 1) / (2 * n_mels)) * np.sqrt(2.0 / n_mels)
    basis[0] /= np.sqrt(2.0)
    return np.asarray(basis, dtype=np.float64)


def mfcc(y: NDArray[np.floating], *, sample_rate: int, n_mfcc: int, n_fft: int, hop: int, n_mels: int = 128) -> NDArray[np.float32]:
    """MFCCs of y: shape (n_mfcc, frames), as librosa.feature.mfcc with the same arguments."""
    s = melspectrogram(y, sample_rate=sample_rate, n_fft=n_fft, hop=hop, n_mels=n_mels)
    db = 10 * np.log10(np.maximum(s.astype(np.float64), 1e-10))
    db = np.maximum(db, db.max() - 80.0)
    return np.asarray(_dct(n_mels, n_mfcc) @ db, dtype=np.float32)
