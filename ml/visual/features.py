"""What a recording looks like: pure functions of a mono signal, with librosa's manners.

Every function takes the signal `y` (shape (n,), float, full scale ±1, at `sample_rate` Hz) and
keyword-only arguments, and returns a frozen dataclass of numpy arrays whose shapes are stated.
Times are in seconds from the start of the signal, at frame centres.

- `waveform_envelope`: the smallest and largest sample under each of `columns` pixel columns.
- `log_mel`: a mel power spectrogram in dB relative to its loudest bin, floored `top_db` below.
- `pitch_contour` (pYIN), `cents_above` and `TuningGrid.deviations`: f0 in Hz, in cents above a
  tonic, and each frame's signed deviation in cents from the nearest degree of a tuning grid.
- `octave_bands` and `band_amplitudes`: the RMS envelope of the signal in each band of a
  Butterworth filterbank, in dB relative to full scale.
- `katz_fd`, `higuchi_fd` and `fractal_dimension`: the short-time fractal dimension per frame.

Series longer than a display can use are pooled to at most `columns` columns (`pool_columns`);
power-like quantities are averaged as power, never as dB.

Fractal dimension (both computed on frames of `frame_length` samples every `hop_length`, no
padding, so frame t covers samples [t·hop, t·hop + frame_length); defaults 2048 and 512, i.e.
93 ms every 23 ms at 22050 Hz):

- Katz (1988), in the amplitude-difference form of EEG and audio tooling (e.g. antropy): for a
  frame x_0 … x_{N−1}, the curve length L = Σ|x_i − x_{i−1}|, the extent d = max_i |x_i − x_0|,
  the number of steps n = N − 1, and FD = log10(n) / (log10(n) + log10(d / L)). It does not depend
  on the amplitude scale; a straight line gives exactly 1. It is not bounded by 2 (white noise of
  2048 samples gives about 5–6): compare Katz values with each other, not with Higuchi's. A flat
  frame (L = 0), or one with d ≤ L / n (no extent beyond one mean step), has no value (NaN).
- Higuchi (1988): for k = 1 … kmax and each offset m = 0 … k − 1, the sub-series x_m, x_{m+k}, …
  with M = ⌊(N − 1 − m) / k⌋ steps has the normalised length
  L_m(k) = (Σ_{i=1..M} |x_{m+ik} − x_{m+(i−1)k}|) · (N − 1) / (M · k) / k; L(k) is the mean of
  L_m(k) over m, and FD is the least-squares slope of ln L(k) against ln(1 / k). A smooth curve
  gives 1, white noise 2. kmax = 10 by default (frames need N ≥ 2 · kmax). A frame whose L(k) is 0
  for some k (flat) has no value (NaN).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import librosa
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from numpy.typing import ArrayLike, NDArray
from scipy.signal import butter, sosfiltfilt

from core.errors import InputError

F64 = NDArray[np.float64]

FRAME_LENGTH = 2048
"""Samples per analysis frame (93 ms at 22050 Hz)."""
HOP_LENGTH = 512
"""Samples between frames (23 ms at 22050 Hz)."""
KMAX = 10
"""Largest interval k of Higuchi's method."""
DB_FLOOR = -120.0
"""Band levels below this many dB relative to full scale are shown at it (digital silence)."""
TWELVE_NAMES = ("1", "♭2", "2", "♭3", "3", "4", "♯4", "5", "♭6", "6", "♭7", "7")
"""The degrees of 12-TET named as scale degrees above the tonic."""
_CHUNK = 256  # frames per block in the fractal-dimension loops: bounds the temporaries


# ------------------------------------------------------------------------------------ input
def _signal(y: ArrayLike, *, sample_rate: int, at_least: int = 1) -> NDArray[np.float32]:
    audio = np.asarray(y, dtype=np.float32)
    if audio.ndim != 1:
        raise InputError(f"audio must be mono, shape (n,), got shape {audio.shape}: average the channels first")
    if sample_rate <= 0:
        raise InputError(f"sample_rate must be a positive number of Hz, got {sample_rate}")
    if audio.size < at_least:
        raise InputError(f"audio is {audio.size} samples, shorter than one frame ({at_least}): pass a longer signal "
                         f"(at least {at_least / sample_rate * 1000:.0f} ms at {sample_rate} Hz)")
    if not np.all(np.isfinite(audio)):
        raise InputError("audio holds NaN or infinite samples: clean the signal first")
    return audio


def pool_columns(x: ArrayLike, *, columns: int) -> F64:
    """Average x (shape (..., T)) over contiguous groups along its last axis so that at most
    `columns` remain: shape (..., min(T, columns)). Group j covers [⌊jT/c⌋, ⌊(j+1)T/c⌋)."""
    array = np.asarray(x, dtype=np.float64)
    if columns < 1:
        raise InputError(f"columns must be at least 1, got {columns}")
    t = array.shape[-1]
    if t <= columns:
        return array
    edges = np.arange(columns + 1) * t // columns  # (columns + 1,), strictly rising since t > columns
    sums = np.add.reduceat(array, edges[:-1], axis=-1)
    return np.asarray(sums / np.diff(edges), dtype=np.float64)


# ------------------------------------------------------------------------------------ waveform
@dataclass(frozen=True)
class Envelope:
    """times: (C,) s, column centres; minimum, maximum: (C,) the extreme samples (full scale ±1) in each column."""

    times: F64
    minimum: F64
    maximum: F64


def waveform_envelope(y: ArrayLike, *, sample_rate: int, columns: int) -> Envelope:
    """The waveform as a display draws it: min and max of the samples under each pixel column.

    y: (n,) at sample_rate Hz; columns: how many columns (C = min(columns, n)); column j covers
    samples [⌊jn/C⌋, ⌊(j+1)n/C⌋). Returns an `Envelope` of shape (C,) arrays.
    """
    audio = _signal(y, sample_rate=sample_rate)
    if columns < 1:
        raise InputError(f"columns must be at least 1, got {columns}")
    c = min(columns, audio.size)
    edges = np.arange(c + 1) * audio.size // c
    return Envelope(times=(edges[:-1] + edges[1:]) / 2 / sample_rate,
                    minimum=np.minimum.reduceat(audio, edges[:-1]).astype(np.float64),
                    maximum=np.maximum.reduceat(audio, edges[:-1]).astype(np.float64))


# ------------------------------------------------------------------------------------ spectrogram
@dataclass(frozen=True)
class MelSpectrogram:
    """times: (T,) s; mel_hz: (n_mels,) centre frequency of each band in Hz; db: (n_mels, T), dB
    relative to the loudest bin (0 dB), floored at -top_db."""

    times: F64
    mel_hz: F64
    db: F64


def log_mel(y: ArrayLike, *, sample_rate: int, n_fft: int = FRAME_LENGTH, hop_length: int = HOP_LENGTH, n_mels: int = 64,
            fmin: float = 0.0, fmax: float | None = None, top_db: float = 80.0, columns: int | None = None) -> MelSpectrogram:
    """Log-mel spectrogram of y ((n,) at sample_rate Hz): Hann-windowed STFT of n_fft samples every
    hop_length (librosa, frames centred), power mapped to n_mels Slaney mel bands from fmin to fmax
    Hz (default sample_rate / 2), pooled as power to at most `columns` frames when given, then in dB
    relative to the loudest bin. Returns a `MelSpectrogram` with db of shape (n_mels, T)."""
    audio = _signal(y, sample_rate=sample_rate)
    top = sample_rate / 2 if fmax is None else fmax
    if not 0 <= fmin < top <= sample_rate / 2:
        raise InputError(f"need 0 ≤ fmin < fmax ≤ sample_rate/2, got fmin={fmin}, fmax={top}, sample_rate={sample_rate}")
    power = librosa.feature.melspectrogram(y=audio, sr=sample_rate, n_fft=n_fft, hop_length=hop_length, n_mels=n_mels,
                                           fmin=fmin, fmax=top, power=2.0)  # (n_mels, T)
    times = librosa.frames_to_time(np.arange(power.shape[1]), sr=sample_rate, hop_length=hop_length)
    if columns is not None:
        power, times = pool_columns(power, columns=columns), pool_columns(times, columns=columns)
    db = librosa.power_to_db(power, ref=np.max, top_db=top_db)
    centres = librosa.mel_frequencies(n_mels=n_mels + 2, fmin=fmin, fmax=top)[1:-1]  # band edges → centres
    return MelSpectrogram(times=np.asarray(times, dtype=np.float64), mel_hz=np.asarray(centres, dtype=np.float64),
                          db=np.asarray(db, dtype=np.float64))


# ------------------------------------------------------------------------------------ pitch
@dataclass(frozen=True)
class PitchContour:
    """times: (T,) s, frame centres; f0_hz: (T,) Hz, NaN where unvoiced; voiced_probability: (T,) in [0, 1]."""

    times: F64
    f0_hz: F64
    voiced_probability: F64


def pitch_contour(y: ArrayLike, *, sample_rate: int, fmin: float = 65.0, fmax: float = 2093.0,
                  frame_length: int = FRAME_LENGTH, hop_length: int = HOP_LENGTH) -> PitchContour:
    """The f0 of y ((n,) at sample_rate Hz) by pYIN (librosa.pyin, frames centred), searched from
    fmin to fmax Hz (default C2–C7) on frames of frame_length samples every hop_length. pYIN's
    values lie on its grid of 10-cent bins, so deviations finer than that are not resolved.
    Returns a `PitchContour` of shape (T,) arrays, T = 1 + ⌊n / hop_length⌋."""
    audio = _signal(y, sample_rate=sample_rate, at_least=frame_length)
    if not 0 < fmin < fmax <= sample_rate / 2:
        raise InputError(f"need 0 < fmin < fmax ≤ sample_rate/2, got fmin={fmin}, fmax={fmax}, sample_rate={sample_rate}")
    f0, voiced, probability = librosa.pyin(audio, fmin=fmin, fmax=fmax, sr=sample_rate, frame_length=frame_length,
                                           hop_length=hop_length)
    times = librosa.times_like(f0, sr=sample_rate, hop_length=hop_length)
    return PitchContour(times=np.asarray(times, dtype=np.float64), f0_hz=np.where(voiced, f0, np.nan).astype(np.float64),
                        voiced_probability=np.nan_to_num(np.asarray(probability, dtype=np.float64)))


def cents_above(f0_hz: ArrayLike, *, tonic_hz: float) -> F64:
    """1200 · log2(f0 / tonic): f0 (shape (T,), Hz, NaN where unvoiced) in cents above the tonic; NaN stays NaN."""
    if not (math.isfinite(tonic_hz) and tonic_hz > 0):
        raise InputError(f"tonic_hz must be a positive number of Hz, got {tonic_hz}")
    f0 = np.asarray(f0_hz, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.asarray(1200.0 * np.log2(np.where(f0 > 0, f0, np.nan) / tonic_hz), dtype=np.float64)


class DegreeLike(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def cents(self) -> float: ...


class TraditionLike(Protocol):
    """What `TuningGrid.from_tradition` reads of a tradition (`ml.tradition.Tradition`)."""

    @property
    def id(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def tonic_hz(self) -> float: ...
    @property
    def period_cents(self) -> float: ...
    @property
    def degrees(self) -> Sequence[DegreeLike]: ...


@dataclass(frozen=True)
class GridDeviation:
    """Per frame: degree, the index of the nearest grid degree (-1 where the pitch is NaN);
    canonical_cents, that degree's pitch in cents above the tonic (periods included); deviation_cents,
    pitch − canonical (NaN where unvoiced). All shape (T,)."""

    degree: NDArray[np.int64]
    canonical_cents: F64
    deviation_cents: F64


@dataclass(frozen=True)
class GridLine:
    """One horizontal line of a pitch plot: a degree's pitch in cents above the tonic, its name and period."""

    cents: float
    name: str
    octave: int


@dataclass(frozen=True)
class TuningGrid:
    """A tuning as degrees in cents above the tonic, repeating every `period_cents` (1200, or a
    stretched octave). cents: rising, 0 ≤ cents < period; names: one per degree."""

    cents: tuple[float, ...]
    names: tuple[str, ...]
    period_cents: float = 1200.0
    tonic_hz: float = 440.0
    tradition_id: str | None = None
    title: str = "12-tone equal temperament"

    def __post_init__(self) -> None:
        if not self.cents or len(self.names) != len(self.cents):
            raise InputError(f"a tuning grid needs at least one degree and one name per degree; got {len(self.cents)} "
                             f"degrees and {len(self.names)} names")
        if not (math.isfinite(self.period_cents) and self.period_cents > 0):
            raise InputError(f"period_cents must be a positive number of cents, got {self.period_cents}")
        if any(not 0 <= c < self.period_cents for c in self.cents) or any(b <= a for a, b in itertools.pairwise(self.cents)):
            raise InputError(f"grid degrees must rise strictly within [0, {self.period_cents}) cents, got {list(self.cents)}")
        if not (math.isfinite(self.tonic_hz) and self.tonic_hz > 0):
            raise InputError(f"tonic_hz must be a positive number of Hz, got {self.tonic_hz}")

    @classmethod
    def equal_temperament(cls, *, steps: int = 12, tonic_hz: float = 440.0) -> TuningGrid:
        """`steps` equal divisions of the octave above `tonic_hz` (default: 12-TET from A4 = 440 Hz); for 12
        steps the degrees are named as scale degrees above the tonic (1, ♭2, 2 … 7)."""
        if steps < 1:
            raise InputError(f"steps must be at least 1, got {steps}")
        names = TWELVE_NAMES if steps == 12 else tuple(str(i) for i in range(steps))
        title = "12-tone equal temperament" if steps == 12 else f"{steps}-tone equal temperament"
        return cls(tuple(1200.0 * i / steps for i in range(steps)), names, 1200.0, tonic_hz, None, title)

    @classmethod
    def from_tradition(cls, tradition: TraditionLike, *, tonic_hz: float | None = None) -> TuningGrid:
        """The grid of a tradition (`ml.tradition.load_tradition(id)`): its degrees, its
        period and its reference tonic (or `tonic_hz`)."""
        return cls(tuple(float(d.cents) for d in tradition.degrees), tuple(d.name for d in tradition.degrees),
                   float(tradition.period_cents), float(tradition.tonic_hz if tonic_hz is None else tonic_hz),
                   tradition.id, tradition.name)

    def with_tonic(self, tonic_hz: float) -> TuningGrid:
        return TuningGrid(self.cents, self.names, self.period_cents, tonic_hz, self.tradition_id, self.title)

    def deviations(self, cents: ArrayLike) -> GridDeviation:
        """The nearest degree of each pitch (cents above the tonic, shape (T,), NaN where unvoiced),
        folded over the period (the octave below and above are candidates too; ties go to the lower
        degree), and the signed deviation from it in cents, within ±period/2."""
        c = np.asarray(cents, dtype=np.float64).reshape(-1)  # (T,)
        grid = np.asarray(self.cents, dtype=np.float64)  # (k,)
        voiced = np.isfinite(c)
        safe = np.where(voiced, c, 0.0)
        period = self.period_cents
        octave = np.floor(safe / period)  # (T,)
        candidates = np.concatenate([grid - period, grid, grid + period])  # (3k,), rising
        diff = (safe - octave * period)[:, None] - candidates[None, :]  # (T, 3k)
        best = np.argmin(np.abs(diff), axis=1)  # (T,)
        deviation = np.where(voiced, diff[np.arange(c.size), best], np.nan)
        return GridDeviation(degree=np.where(voiced, best % grid.size, -1).astype(np.int64),
                             canonical_cents=np.where(voiced, safe - deviation, np.nan), deviation_cents=deviation)

    def lines(self, *, low_cents: float, high_cents: float) -> tuple[GridLine, ...]:
        """Every degree, in every period, whose pitch lies in [low_cents, high_cents], lowest first."""
        if not (math.isfinite(low_cents) and math.isfinite(high_cents)) or high_cents < low_cents:
            raise InputError(f"need finite low_cents ≤ high_cents, got {low_cents}, {high_cents}")
        first, last = math.floor(low_cents / self.period_cents) - 1, math.floor(high_cents / self.period_cents) + 1
        return tuple(GridLine(c + p * self.period_cents, name, p) for p in range(first, last + 1)
                     for c, name in zip(self.cents, self.names, strict=True)
                     if low_cents <= c + p * self.period_cents <= high_cents)


# ------------------------------------------------------------------------------------ bands
@dataclass(frozen=True)
class Band:
    """A band of the filterbank: [low_hz, high_hz], its nominal centre and a label; high-pass when
    high_hz is the Nyquist frequency."""

    low_hz: float
    high_hz: float
    centre_hz: float
    label: str


@dataclass(frozen=True)
class BandAmplitudes:
    """times: (T,) s; bands: (k,) `Band`s; rms: (k, T) RMS of each band's signal (full scale 1.0);
    db: (k, T) that RMS in dB relative to full scale, floored at DB_FLOOR. A full-scale sine inside
    a band reads about −3 dB."""

    times: F64
    bands: tuple[Band, ...]
    rms: F64
    db: F64


def _hz(f: float) -> str:
    return f"{f / 1000:g} kHz" if f >= 1000 else f"{f:g} Hz"


def octave_bands(*, sample_rate: int, lowest_centre_hz: float = 62.5) -> tuple[Band, ...]:
    """Octave bands with base-2 centres f_c = 1000 · 2^j Hz (IEC 61260 style: 62.5, 125, 250, 500,
    1k, 2k, 4k, 8k, 16k …) from `lowest_centre_hz`, each from f_c/√2 to f_c·√2, for every band whose
    upper edge lies below 0.95 × Nyquist; above the last of them one high-pass band from its upper
    edge to Nyquist. At 22050 Hz: seven band-passes 44 Hz–5.66 kHz and a high-pass ≥ 5.66 kHz."""
    nyquist = sample_rate / 2
    if not 0 < lowest_centre_hz * math.sqrt(2) < 0.95 * nyquist:
        raise InputError(f"lowest_centre_hz {lowest_centre_hz} leaves no octave band below 0.95 × Nyquist ({nyquist} Hz)")
    bands, centre = [], lowest_centre_hz
    while centre * math.sqrt(2) < 0.95 * nyquist:
        bands.append(Band(centre / math.sqrt(2), centre * math.sqrt(2), centre, _hz(centre)))
        centre *= 2
    top = bands[-1].high_hz
    bands.append(Band(top, nyquist, centre, f"≥ {_hz(round(top))}"))
    return tuple(bands)


def band_amplitudes(y: ArrayLike, *, sample_rate: int, bands: Sequence[Band] | None = None, order: int = 4,
                    frame_length: int = FRAME_LENGTH, hop_length: int = HOP_LENGTH, columns: int | None = None) -> BandAmplitudes:
    """The RMS envelope of y ((n,) at sample_rate Hz) in each band (default `octave_bands`).

    Each band is a Butterworth filter of `order` (band-pass, or high-pass for a band ending at
    Nyquist; scipy, second-order sections) applied forwards and backwards (sosfiltfilt: zero
    phase, so the envelope is not delayed; the magnitude response is squared). The RMS is taken on
    frames of frame_length samples every hop_length (librosa.feature.rms, frames centred), pooled
    as power to at most `columns` frames when given. Returns `BandAmplitudes` with (k, T) arrays.
    """
    audio = _signal(y, sample_rate=sample_rate)
    chosen = tuple(octave_bands(sample_rate=sample_rate) if bands is None else bands)
    nyquist = sample_rate / 2
    rows = []
    for b in chosen:
        if not 0 < b.low_hz < b.high_hz <= nyquist:
            raise InputError(f"band {b.label}: need 0 < low_hz < high_hz ≤ Nyquist ({nyquist} Hz), got {b.low_hz}, {b.high_hz}")
        if b.high_hz >= nyquist:
            sos = butter(order, b.low_hz, btype="highpass", fs=sample_rate, output="sos")
        else:
            sos = butter(order, [b.low_hz, b.high_hz], btype="bandpass", fs=sample_rate, output="sos")
        filtered = sosfiltfilt(sos, audio.astype(np.float64)) if audio.size > 3 * (2 * len(sos) + 1) else audio * 0.0
        rows.append(librosa.feature.rms(y=filtered, frame_length=frame_length, hop_length=hop_length)[0])
    power = np.square(np.asarray(rows, dtype=np.float64))  # (k, T)
    times = librosa.frames_to_time(np.arange(power.shape[1]), sr=sample_rate, hop_length=hop_length)
    if columns is not None:
        power, times = pool_columns(power, columns=columns), pool_columns(times, columns=columns)
    rms = np.sqrt(power)
    with np.errstate(divide="ignore"):
        db = np.maximum(20 * np.log10(rms), DB_FLOOR)
    return BandAmplitudes(times=np.asarray(times, dtype=np.float64), bands=chosen, rms=rms, db=db)


# ------------------------------------------------------------------------------------ fractal dimension
def _rows(x: ArrayLike) -> F64:
    array = np.asarray(x, dtype=np.float64)
    if array.ndim not in (1, 2):
        raise InputError(f"a series has shape (N,) or a stack of frames (T, N); got shape {array.shape}")
    if not np.all(np.isfinite(array)):
        raise InputError("the series holds NaN or infinite values: clean it first")
    return np.atleast_2d(array)


def katz_fd(x: ArrayLike) -> F64:
    """Katz's fractal dimension (module docstring) of a series, shape (N,), N ≥ 2 → shape (); or of
    each row of frames, shape (T, N) → shape (T,). NaN for a flat row or one without extent."""
    rows = _rows(x)
    n = rows.shape[-1] - 1
    if n < 1:
        raise InputError(f"Katz's dimension needs at least 2 samples per series, got {n + 1}")
    out = np.empty(rows.shape[0])
    for start in range(0, rows.shape[0], _CHUNK):
        block = rows[start: start + _CHUNK]  # (B, N)
        length = np.abs(np.diff(block, axis=1)).sum(axis=1)  # (B,)
        extent = np.abs(block[:, 1:] - block[:, :1]).max(axis=1)  # (B,)
        with np.errstate(divide="ignore", invalid="ignore"):
            denominator = math.log10(n) + np.log10(extent / length)
            out[start: start + _CHUNK] = np.where((length > 0) & (denominator > 1e-12), math.log10(n) / denominator, np.nan)
    return out.reshape(np.shape(x)[:-1])


def higuchi_fd(x: ArrayLike, *, kmax: int = KMAX) -> F64:
    """Higuchi's fractal dimension (module docstring) with intervals k = 1 … kmax of a series, shape
    (N,) with N ≥ 2 · kmax → shape (); or of each row of frames, shape (T, N) → shape (T,). NaN for a flat row."""
    rows = _rows(x)
    n = rows.shape[-1]
    if kmax < 2:
        raise InputError(f"kmax must be at least 2 (a slope needs two points), got {kmax}")
    if n < 2 * kmax:
        raise InputError(f"Higuchi's dimension with kmax={kmax} needs at least {2 * kmax} samples per series, got {n}")
    ks = np.arange(1, kmax + 1)
    xs = np.log(1.0 / ks)
    xc = xs - xs.mean()  # (kmax,)
    out = np.empty(rows.shape[0])
    for start in range(0, rows.shape[0], _CHUNK):
        block = rows[start: start + _CHUNK]  # (B, N)
        lengths = np.zeros((block.shape[0], kmax))  # (B, kmax): L(k)
        for j, k in enumerate(ks):
            for m in range(k):
                sub = block[:, m::k]  # (B, M + 1)
                steps = sub.shape[1] - 1
                lengths[:, j] += np.abs(np.diff(sub, axis=1)).sum(axis=1) * (n - 1) / (steps * k) / k
            lengths[:, j] /= k
        with np.errstate(divide="ignore", invalid="ignore"):
            logs = np.log(lengths)  # (B, kmax)
            slope = (logs - logs.mean(axis=1, keepdims=True)) @ xc / (xc @ xc)
        out[start: start + _CHUNK] = np.where(np.all(lengths > 0, axis=1), slope, np.nan)
    return out.reshape(np.shape(x)[:-1])


@dataclass(frozen=True)
class FractalDimension:
    """times: (T,) s, frame centres; katz, higuchi: (T,) per frame (NaN where undefined); and the framing used."""

    times: F64
    katz: F64
    higuchi: F64
    frame_length: int
    hop_length: int
    kmax: int


def fractal_dimension(y: ArrayLike, *, sample_rate: int, frame_length: int = FRAME_LENGTH, hop_length: int = HOP_LENGTH,
                      kmax: int = KMAX) -> FractalDimension:
    """Katz's and Higuchi's fractal dimension of y ((n,) at sample_rate Hz) on frames of
    frame_length samples every hop_length, unpadded (T = 1 + ⌊(n − frame_length) / hop_length⌋).
    Returns a `FractalDimension` of shape (T,) arrays."""
    audio = _signal(y, sample_rate=sample_rate, at_least=frame_length)
    if hop_length < 1:
        raise InputError(f"hop_length must be at least 1 sample, got {hop_length}")
    frames = sliding_window_view(audio.astype(np.float64), frame_length)[::hop_length]  # (T, frame_length), a view
    times = (np.arange(frames.shape[0]) * hop_length + frame_length / 2) / sample_rate
    return FractalDimension(times=times, katz=katz_fd(frames), higuchi=higuchi_fd(frames, kmax=kmax),
                            frame_length=frame_length, hop_length=hop_length, kmax=kmax)
