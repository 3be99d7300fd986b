"""Audio from a community's archive (WAV, FLAC, OGG, MP3, AIFF) and the small signal steps around it.

`load_audio` reads, mixes to mono and resamples a recording, and says plainly what is wrong with a
bad one. The helpers (`to_mono`, `downmix`, `resample`, `trim_trailing_silence`, `add_noise`) are shared
with the renderer. Audio arrays are float32 in [-1, 1] (full scale is 1.0, 0 dBFS).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import soundfile as sf  # type: ignore[import-untyped]
from numpy.typing import NDArray

from core.errors import InputError
from ml.data import dsp
from ml.data.files import readable

AUDIO_FORMATS: dict[str, str] = {
    ".wav": "WAV",
    ".flac": "FLAC",
    ".ogg": "OGG",
    ".oga": "OGG",
    ".opus": "OGG",
    ".mp3": "MP3",
    ".aif": "AIFF",
    ".aiff": "AIFF",
}
"""Audio file extensions read by `load_audio` (libsndfile ≥ 1.1, bundled in the soundfile wheel)."""

SILENCE_DBFS = -60.0
"""A recording whose peak is below this level (dB relative to full scale) is refused as silent."""


def load_audio(path: Path, *, sample_rate: int | None = 22050) -> tuple[NDArray[np.float32], int]:
    """Read a WAV, FLAC, OGG (Vorbis or Opus), MP3 or AIFF file as mono float32.

    Parameters: path, the file; sample_rate, the rate in Hz to resample to (None keeps the file's).
    Returns (y, sr): y has shape (n,), float32 full scale ±1, channels averaged; sr in Hz.

    Raises InputError for a missing, empty, undecodable, sample-less or silent (peak below
    −60 dBFS) file, or an extension other than those in AUDIO_FORMATS. Models read recordings
    through `ml.data.preprocess.prepare_file` instead, which also normalises and marks silence.
    """
    if sample_rate is not None and sample_rate <= 0:
        raise InputError(f"sample_rate must be a positive number of Hz, got {sample_rate}")
    data, rate = decode(path)
    y = to_mono(data)
    peak = float(np.max(np.abs(y)))
    if not math.isfinite(peak):
        raise InputError(f"audio {path} contains NaN or infinite samples: export it again as 16- or 24-bit PCM")
    peak_dbfs = 20 * math.log10(peak) if peak > 0 else -math.inf
    if peak_dbfs < SILENCE_DBFS:
        raise InputError(
            f"audio {path} is silent (peak {peak_dbfs:.1f} dBFS, below {SILENCE_DBFS:.0f} dBFS): "
            "check the recording level, or that the right file or channel was exported"
        )
    if sample_rate is None or sample_rate == rate:
        return y, rate
    return resample(y, orig_rate=rate, target_rate=sample_rate), sample_rate


def decode(path: Path) -> tuple[NDArray[np.float32], int]:
    """The samples of an audio file as they are: (data of shape (n, channels), float32 full scale ±1,
    rate in Hz). InputError for a missing, empty, undecodable or sample-less file, or an extension
    other than those in AUDIO_FORMATS; a silent file is returned, not refused."""
    fmt = readable(path, AUDIO_FORMATS, what="audio", again="copy or export the recording again",
                   convert=f"convert it to FLAC or WAV (e.g. `ffmpeg -i {path.name} {path.stem}.flac`); readable: "
                           f"{', '.join(sorted(AUDIO_FORMATS))}")
    try:
        data, native_rate = sf.read(path, dtype="float32", always_2d=True)
    except (sf.SoundFileError, RuntimeError, ValueError) as exc:  # libsndfile errors, and soundfile's own on a bad header
        raise InputError(
            f"audio {path} could not be decoded as {fmt} ({exc}): the file is damaged or not really {fmt}; "
            "check it plays in an audio player and export it again as FLAC or WAV"
        ) from exc
    if data.shape[0] == 0:
        raise InputError(f"audio {path} holds no samples: export the recording again")
    return np.asarray(data, dtype=np.float32), int(native_rate)


def to_mono(data: NDArray[np.floating]) -> NDArray[np.float32]:
    """Average the channels: data of shape (n, channels) or (n,) → float32 of shape (n,)."""
    if data.ndim == 1:
        return data.astype(np.float32)
    return np.asarray(data.mean(axis=1), dtype=np.float32)


ALIGN_LAG = 512
"""Largest inter-channel delay `downmix` corrects, in samples (11.6 ms at 44.1 kHz: a spaced pair's
microphones up to about 4 m apart)."""
ALIGN_WINDOW = 1 << 20
"""Samples (the middle of a longer recording) the delay is estimated on."""


def downmix(data: NDArray[np.floating]) -> NDArray[np.float32]:
    """Mix channels to one after aligning them: each channel after the first is shifted by the lag
    (|lag| ≤ ALIGN_LAG samples) and turned by the polarity of its strongest cross-correlation with the
    first, then the channels are averaged. Why: a spaced microphone pair hears a source a fraction of
    a millisecond apart, and averaging such channels as they are comb-filters the spectrum (the right
    channel 0.5 ms late: notches at 1, 3, 5… kHz), which a timbre model hears as another instrument.
    Channels already aligned (equal ones, a duplicated mono) give exactly `to_mono`'s average; so do
    non-finite samples (refused later by whoever checks them). (n, channels) or (n,) → (n,) float32."""
    if data.ndim == 1 or data.shape[1] == 1 or not np.isfinite(data).all():
        return to_mono(data)
    ref = np.asarray(data[:, 0], dtype=np.float64)
    moved = [(c, *_alignment(ref, np.asarray(data[:, c], dtype=np.float64))) for c in range(1, data.shape[1])]
    if all(lag == 0 and sign > 0 for _, lag, sign in moved):
        return to_mono(data)
    out = np.array(data, dtype=np.float32)
    for c, lag, sign in moved:
        column = np.zeros(out.shape[0], dtype=np.float32)
        if lag >= 0:  # the channel is late by lag samples: bring it forward
            column[: out.shape[0] - lag] = data[lag:, c]
        else:
            column[-lag:] = data[: out.shape[0] + lag, c]
        out[:, c] = np.float32(sign) * column
    return np.asarray(out.mean(axis=1), dtype=np.float32)


def _alignment(ref: NDArray[np.float64], other: NDArray[np.float64]) -> tuple[int, int]:
    """(lag, sign): `other` is `ref` delayed by lag samples (negative: early), times sign, as far as the
    peak of |cross-correlation| over |lag| ≤ ALIGN_LAG on the middle ALIGN_WINDOW samples says."""
    n = ref.size
    start = max(0, (n - ALIGN_WINDOW) // 2)
    a, b = ref[start: start + ALIGN_WINDOW], other[start: start + ALIGN_WINDOW]
    size = 1 << int(np.ceil(np.log2(a.size + ALIGN_LAG + 1)))
    corr = np.fft.irfft(np.conj(np.fft.rfft(a, size)) * np.fft.rfft(b, size), size)  # corr[k] = Σ a[t] b[t + k]
    lags = np.arange(-min(ALIGN_LAG, a.size - 1), min(ALIGN_LAG, a.size - 1) + 1)
    values = corr[lags % size]
    best = int(np.argmax(np.abs(values)))
    if values[best] == 0:
        return 0, 1
    zero = len(lags) // 2  # lags run symmetrically around 0
    if abs(values[zero]) >= abs(values[best]) * (1 - 1e-9):  # ties and near-ties stay where they are
        best = zero
    return int(lags[best]), 1 if values[best] > 0 else -1


def resample(y: NDArray[np.floating], *, orig_rate: int, target_rate: int) -> NDArray[np.float32]:
    """Polyphase resampling (`ml.data.dsp.resample`: Kaiser-windowed sinc, scipy's resample_poly design)
    of y, shape (n,), from orig_rate to target_rate Hz.

    Returns float32 of shape (ceil(n · target_rate / orig_rate),).
    """
    if orig_rate == target_rate:
        return y.astype(np.float32)
    g = math.gcd(orig_rate, target_rate)
    return np.asarray(dsp.resample(y, up=target_rate // g, down=orig_rate // g), dtype=np.float32)


def trim_trailing_silence(y: NDArray[np.float32], *, top_db: float = 60.0) -> NDArray[np.float32]:
    """Cut y, shape (n,), after its last sample within top_db dB of its peak; all-zero y gives shape (0,)."""
    peak = float(np.max(np.abs(y))) if y.size else 0.0
    if peak == 0.0:
        return y[:0]
    loud = np.flatnonzero(np.abs(y) >= peak * 10 ** (-top_db / 20))
    return y[: int(loud[-1]) + 1]


def add_noise(y: NDArray[np.float32], *, snr_db: float, seed: int) -> NDArray[np.float32]:
    """y, shape (n,), plus white Gaussian noise at exactly snr_db dB below y's mean power.

    The signal power is averaged over the whole of y (rests included); the noise is drawn from
    numpy's PCG64 seeded with seed and scaled so its mean power is exactly P_y / 10^(snr_db/10).
    """
    if not math.isfinite(snr_db):
        raise InputError(f"noise SNR must be a finite number of dB, got {snr_db}")
    signal_power = float(np.mean(np.square(y, dtype=np.float64))) if y.size else 0.0
    if signal_power == 0.0:
        raise InputError("cannot add noise at an SNR to a silent signal: its power is 0")
    noise = np.random.default_rng(seed).standard_normal(y.size)
    noise *= math.sqrt(signal_power / 10 ** (snr_db / 10) / float(np.mean(np.square(noise))))
    return np.asarray(y + noise, dtype=np.float32)
