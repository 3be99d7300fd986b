"""Spectral measurements the audio tests make on rendered signals."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray


def peak_hz(y: NDArray[np.float32], *, sr: int, near_hz: float, cents: float, start_s: float, end_s: float,
            pad: int) -> float:
    """Frequency in Hz of the strongest spectral peak of y[start_s:end_s] within ±`cents` of near_hz.

    y: (n,) samples at `sr` Hz. The Hann-windowed segment is zero-padded to `pad` times its length, and
    the peak bin refined by log-parabolic interpolation over its two neighbours.
    """
    segment = y[int(start_s * sr) : int(end_s * sr)].astype(np.float64)
    n = pad * segment.size
    spectrum = np.abs(np.fft.rfft(segment * np.hanning(segment.size), n))
    freqs = np.fft.rfftfreq(n, 1 / sr)
    band = (freqs > near_hz * 2 ** (-cents / 1200)) & (freqs < near_hz * 2 ** (cents / 1200))
    i = int(np.argmax(np.where(band, spectrum, 0)))
    a, b, c = np.log(spectrum[i - 1 : i + 2])
    return float((i + 0.5 * (a - c) / (a - 2 * b + c)) * sr / n)
