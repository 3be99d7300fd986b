"""The two filters the preprocessing path runs, in numpy alone: importing scipy.signal costs about
0.6 s (it loads scipy.stats, interpolate and optimize), more than a cold `heritage recognize`
spends on the recording itself.

- `iir`: a cascade of stable IIR filters (b, a), from its frequency response on an FFT grid long enough that
  the impulse response has decayed below 1e-20 of its peak before it wraps around: equal to
  direct-form filtering from rest up to float64 rounding. Linear in the input, so a gain of 2^k
  scales every output sample exactly by 2^k.
- `resample`: polyphase resampling by up/down with a Kaiser-windowed (β = 5) sinc low-pass of
  half-length 10 · max(up, down) taps at the lower Nyquist rate, unity gain at DC, zero phase:
  output sample m is Σ_i x[i] · h(m · down − i · up). These are the design values of scipy's
  `resample_poly`, which this matches to float64 rounding (tested).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from numpy.typing import NDArray

KAISER_BETA = 5.0
HALF_LENGTH_PER_RATE = 10
_DECAYED = 1e-20
_CHUNK = 1 << 15


def iir(sections: Sequence[tuple[NDArray[np.float64], NDArray[np.float64]]], x: NDArray[np.floating]) -> NDArray[np.float64]:
    """x, shape (n,), through the cascade of filters b/a in `sections` (each a[0] ≠ 0, every pole
    inside the unit circle), starting from rest: float64 of shape (n,)."""
    if len(x) == 0:
        return np.zeros(0)
    poles = [r for _, a in sections if len(a) > 1 for r in np.roots(a)]
    radius = float(np.max(np.abs(poles))) if poles else 0.0
    if radius >= 1.0:
        raise ValueError(f"the filter is not stable: a pole lies at radius {radius}")
    # A pole of multiplicity j decays as t^(j-1) · r^t: count the samples until it is below _DECAYED.
    tail = 1 if radius == 0.0 else math.ceil((-math.log(_DECAYED) + len(poles) * math.log(1e6)) / -math.log(radius))
    size = 1 << math.ceil(math.log2(len(x) + tail + sum(len(b) for b, _ in sections)))
    z = np.exp(-2j * np.pi * np.arange(size // 2 + 1) / size)  # (size // 2 + 1,) the FFT grid's e^(−iω)
    spectrum = np.fft.rfft(np.asarray(x, dtype=np.float64), size)  # (size // 2 + 1,)
    for b, a in sections:
        spectrum *= np.polyval(np.asarray(b)[::-1], z) / np.polyval(np.asarray(a)[::-1], z)  # b(z) / a(z) in powers of e^(−iω)
    return np.fft.irfft(spectrum, size)[: len(x)]


def lowpass(*, up: int, down: int) -> NDArray[np.float64]:
    """The resampling filter for up/down: shape (2 · half + 1,), half = 10 · max(up, down), gain `up` at DC."""
    rate = max(up, down)
    half = HALF_LENGTH_PER_RATE * rate
    t = np.arange(-half, half + 1, dtype=np.float64)  # (2·half + 1,) taps around the centre
    h = np.sinc(t / rate) / rate * np.kaiser(2 * half + 1, KAISER_BETA)
    return np.asarray(h / h.sum() * up, dtype=np.float64)


def resample(x: NDArray[np.floating], *, up: int, down: int) -> NDArray[np.float64]:
    """x, shape (n,), at up/down times its rate: float64 of shape (ceil(n · up / down),)."""
    h = lowpass(up=up, down=down)
    half = (len(h) - 1) // 2
    n_out = -(-len(x) * up // down)
    taps = -(-(2 * half + 1) // up) + 1  # inputs that reach one output
    padded = np.concatenate([np.zeros(taps), np.asarray(x, dtype=np.float64), np.zeros(2 * taps + down)])  # outside x is silence
    windows = sliding_window_view(padded, taps)  # (len(padded) − taps + 1, taps), a view
    out = np.empty(n_out)
    for phase in range(min(up, n_out)):  # outputs phase, phase + up, …: the same taps, inputs `down` apart
        first = -((half - phase * down) // up)  # the first input i with phase·down − i·up ≤ half
        k = phase * down - (first + np.arange(taps)) * up + half  # (taps,) filter tap of each input
        w = np.where(k >= 0, h[np.clip(k, 0, 2 * half)], 0.0)
        rows = windows[first + taps::down]  # row j: the inputs of output phase + j·up
        outputs = range(phase, n_out, up)
        for j in range(0, len(outputs), _CHUNK):
            out[outputs[j:j + _CHUNK]] = rows[j:j + min(_CHUNK, len(outputs) - j)] @ w
    return out
