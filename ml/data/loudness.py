"""Integrated loudness after ITU-R BS.1770-4 (EBU R128), written from the standard.

K-weighting is two biquads: a high shelf (+4 dB above ~1.7 kHz, the head's effect) and a
high-pass at ~38 Hz (RLB). BS.1770 tabulates their coefficients at 48 kHz only; here they are
derived at any rate from the analog parameters those coefficients come from (bilinear transform
with pre-warping), which reproduces the 48-kHz table to 1e-8 (tested). Gating: 400-ms blocks
every 100 ms (75 % overlap); blocks at or below the absolute gate (−70 LUFS) are dropped, then
those 10 LU or more below the mean of the rest; the integrated loudness is the mean power of what
remains, as −0.691 + 10·log10(power) LUFS.

Everything here is computed in the power domain (mean squares), so a gain of 2^k, which floats
multiply exactly, moves every power by exactly 4^k: `normalise_gain` then gives back exactly the
same samples.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from ml.data.dsp import iir

ABSOLUTE_GATE_LUFS = -70.0
RELATIVE_GATE_LU = -10.0
BLOCK_S = 0.4
STEP_S = 0.1
_OFFSET = -0.691  # BS.1770: a full-scale 1-kHz sine reads −3.01 LUFS with this offset

# Analog parameters of the two K-weighting stages (the 48-kHz table of BS.1770-4 follows from them).
_SHELF_HZ, _SHELF_DB, _SHELF_Q = 1681.974450955533, 3.999843853973347, 0.7071752369554196
_SHELF_VB_EXPONENT = 0.4996667741545416
_HIGHPASS_HZ, _HIGHPASS_Q = 38.13547087602444, 0.5003270373238773


def power_of_lufs(lufs: float) -> float:
    """The K-weighted mean square that reads `lufs` LUFS."""
    return float(10 ** ((lufs - _OFFSET) / 10))


def lufs_of_power(power: float) -> float:
    """LUFS of a K-weighted mean square (−inf for 0)."""
    return _OFFSET + 10 * math.log10(power) if power > 0 else -math.inf


def k_weighting(*, sample_rate: int) -> tuple[tuple[NDArray[np.float64], NDArray[np.float64]], ...]:
    """The two K-weighting biquads at sample_rate Hz: ((b, a) of the shelf, (b, a) of the high-pass),
    each b and a of shape (3,), a[0] = 1."""
    k = math.tan(math.pi * _SHELF_HZ / sample_rate)
    vh = 10 ** (_SHELF_DB / 20)
    vb = vh**_SHELF_VB_EXPONENT
    a0 = 1 + k / _SHELF_Q + k * k
    shelf_b = np.array([vh + vb * k / _SHELF_Q + k * k, 2 * (k * k - vh), vh - vb * k / _SHELF_Q + k * k]) / a0
    shelf_a = np.array([a0, 2 * (k * k - 1), 1 - k / _SHELF_Q + k * k]) / a0
    k = math.tan(math.pi * _HIGHPASS_HZ / sample_rate)
    a0 = 1 + k / _HIGHPASS_Q + k * k
    hp_b = np.array([1.0, -2.0, 1.0])
    hp_a = np.array([a0, 2 * (k * k - 1), 1 - k / _HIGHPASS_Q + k * k]) / a0
    return (shelf_b, shelf_a), (hp_b, hp_a)


def k_weighted(y: NDArray[np.floating], *, sample_rate: int) -> NDArray[np.float64]:
    """y, shape (n,), K-weighted (float64, shape (n,))."""
    return iir(k_weighting(sample_rate=sample_rate), y)


def block_powers(y: NDArray[np.floating], *, sample_rate: int, block_s: float = BLOCK_S,
                 step_s: float = STEP_S) -> NDArray[np.float64]:
    """K-weighted mean square of each block_s-second block of y ((n,) at sample_rate Hz), one every
    step_s seconds: shape (blocks,). A signal shorter than one block is one block of its length."""
    z = np.square(k_weighted(y, sample_rate=sample_rate))
    size, step = round(block_s * sample_rate), round(step_s * sample_rate)
    if len(z) <= size:
        return np.array([float(z.mean())]) if len(z) else np.zeros(0)
    sums = np.concatenate([[0.0], np.cumsum(z)])  # (n + 1,)
    starts = np.arange(0, len(z) - size + 1, step)
    # The window sums from the cumulative sum: fast, and linear, so a 2^k gain scales them exactly.
    return np.asarray((sums[starts + size] - sums[starts]) / size, dtype=np.float64)


def gated_power(powers: NDArray[np.float64]) -> float:
    """BS.1770's gated mean of block powers (absolute gate, then relative gate); 0.0 when no block
    passes the absolute gate (the signal is silence by the standard's measure)."""
    kept = powers[powers > power_of_lufs(ABSOLUTE_GATE_LUFS)]
    if not kept.size:
        return 0.0
    kept = kept[kept > float(kept.mean()) * 10 ** (RELATIVE_GATE_LU / 10)]
    return float(kept.mean())


def integrated_loudness(y: NDArray[np.floating], *, sample_rate: int) -> float:
    """Integrated loudness of mono y ((n,) at sample_rate Hz, full scale ±1), LUFS; −inf for silence."""
    return lufs_of_power(gated_power(block_powers(y, sample_rate=sample_rate)))
