"""Waveform augmentation that imitates *another sample source*: a different instrument body and
microphone (equalisation), a different room (reverb), a different recording chain (level, noise,
lossy codec). Used to train models for users, whose recordings come from sources no training
clip came from.

Each call draws one chain from `rng`, in this order:
- EQ: a tilt of ±`tilt_db` dB across the spectrum (a first-order shelf around 1 kHz) and one
  peaking band (centre log-uniform 200 Hz–6 kHz, Q 0.7–2, gain ±`peak_db` dB), RBJ biquads;
- reverb, with probability `reverb_p`: convolution with exponentially decaying noise (RT60
  log-uniform in `rt60_s`), mixed in at a wet level of −12 to −3 dB;
- level: ±`level_db` dB (the preprocessing path normalises it away: kept so a model trained
  without that path would also see it);
- noise: white, at an SNR uniform in `snr_db`;
- codec, with probability `codec_p`: an MP3 or OGG Vorbis round trip through libsndfile.
"""

from __future__ import annotations

import math
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from ml.config import JsonConfig
from ml.data.audio import add_noise


@dataclass(frozen=True)
class SourceAugmentConfig(JsonConfig):
    tilt_db: float = 6.0
    peak_db: float = 9.0
    reverb_p: float = 0.5
    rt60_s: tuple[float, float] = (0.2, 1.5)
    level_db: float = 20.0
    snr_db: tuple[float, float] = (15.0, 45.0)
    codec_p: float = 0.3



def _biquad(y: NDArray[np.float64], b: NDArray[np.float64], a: NDArray[np.float64]) -> NDArray[np.float64]:
    from scipy.signal import lfilter

    return np.asarray(lfilter(b / a[0], a / a[0], y), dtype=np.float64)


def peaking(y: NDArray[np.float64], *, sample_rate: int, hz: float, q: float, gain_db: float) -> NDArray[np.float64]:
    """RBJ peaking EQ: gain_db at hz, bandwidth set by q."""
    big_a = 10 ** (gain_db / 40)
    w = 2 * math.pi * hz / sample_rate
    alpha = math.sin(w) / (2 * q)
    b = np.array([1 + alpha * big_a, -2 * math.cos(w), 1 - alpha * big_a])
    a = np.array([1 + alpha / big_a, -2 * math.cos(w), 1 - alpha / big_a])
    return _biquad(y, b, a)


def tilt(y: NDArray[np.float64], *, sample_rate: int, gain_db: float) -> NDArray[np.float64]:
    """RBJ high shelf at 1 kHz (slope 1) by gain_db, then −gain_db/2 overall: a spectral tilt around 1 kHz."""
    big_a = 10 ** (gain_db / 40)
    w = 2 * math.pi * 1000 / sample_rate
    alpha = math.sin(w) / 2 * math.sqrt(2)
    c = math.cos(w)
    sa = 2 * math.sqrt(big_a) * alpha
    b = big_a * np.array([(big_a + 1) + (big_a - 1) * c + sa, -2 * ((big_a - 1) + (big_a + 1) * c), (big_a + 1) + (big_a - 1) * c - sa])
    a = np.array([(big_a + 1) - (big_a - 1) * c + sa, 2 * ((big_a - 1) - (big_a + 1) * c), (big_a + 1) - (big_a - 1) * c - sa])
    return _biquad(y, b, a) * 10 ** (-gain_db / 40)


def reverb(y: NDArray[np.float64], *, sample_rate: int, rt60_s: float, wet_db: float, rng: np.random.Generator) -> NDArray[np.float64]:
    """y plus its convolution with decaying noise (−60 dB after rt60_s), the wet part at wet_db relative to y's power."""
    from scipy.signal import fftconvolve

    n = max(1, int(rt60_s * sample_rate))
    ir = rng.standard_normal(n) * np.exp(-6.9 * np.arange(n) / n)  # e^-6.9 ≈ −60 dB
    wet = fftconvolve(y, ir)[: len(y)]
    scale = math.sqrt(float(np.mean(y**2)) / max(float(np.mean(wet**2)), 1e-20)) * 10 ** (wet_db / 20)
    return np.asarray(y + scale * wet, dtype=np.float64)


def codec_round_trip(y: NDArray[np.floating], *, sample_rate: int, fmt: str) -> NDArray[np.float32]:
    """y through an `fmt` ("MP3" or "OGG") encoder and decoder (libsndfile), cut or padded to len(y)."""
    import soundfile as sf  # type: ignore[import-untyped]

    peak = max(float(np.max(np.abs(y))), 1e-12)
    with tempfile.TemporaryDirectory(prefix="heritage-augment-") as tmp:
        path = Path(tmp) / f"x.{fmt.lower()}"
        sf.write(path, np.asarray(y, dtype=np.float32) / peak * 0.9, sample_rate, format=fmt)
        z, _ = sf.read(path, dtype="float32")
    z = z[: len(y)]
    return np.asarray(np.pad(z, (0, len(y) - len(z))) * peak / 0.9, dtype=np.float32)


def other_source(y: NDArray[np.floating], *, sample_rate: int, rng: np.random.Generator,
                 cfg: SourceAugmentConfig = SourceAugmentConfig()) -> NDArray[np.float32]:
    """One augmented copy of y ((n,) mono float at sample_rate Hz): see the module text. Same shape, float32."""
    x = np.asarray(y, dtype=np.float64)
    x = tilt(x, sample_rate=sample_rate, gain_db=rng.uniform(-cfg.tilt_db, cfg.tilt_db))
    x = peaking(x, sample_rate=sample_rate, hz=math.exp(rng.uniform(math.log(200), math.log(6000))), q=rng.uniform(0.7, 2.0),
                gain_db=rng.uniform(-cfg.peak_db, cfg.peak_db))
    if rng.random() < cfg.reverb_p:
        x = reverb(x, sample_rate=sample_rate, rt60_s=math.exp(rng.uniform(math.log(cfg.rt60_s[0]), math.log(cfg.rt60_s[1]))),
                   wet_db=rng.uniform(-12, -3), rng=rng)
    x = x * 10 ** (rng.uniform(-cfg.level_db, cfg.level_db) / 20)
    out = add_noise(x.astype(np.float32), snr_db=rng.uniform(cfg.snr_db[0], cfg.snr_db[1]), seed=int(rng.integers(2**31)))
    if rng.random() < cfg.codec_p:
        out = codec_round_trip(out, sample_rate=sample_rate, fmt=str(rng.choice(["MP3", "OGG"])))
    return np.asarray(out, dtype=np.float32)
