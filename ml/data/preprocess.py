"""The one way audio reaches a model: training, evaluation, the CLI and the API all call `prepare`.

Steps, in this order (each one's reason beside it):

1. Decode (`decode`: WAV, FLAC, OGG, MP3, AIFF via libsndfile) and mix to mono (`audio.downmix`):
   channels aligned by their cross-correlation's lag and polarity, then averaged — a spaced pair's
   delay would comb-filter a plain average; a stereo file of two equal channels gives exactly the
   mono samples.
2. Trim leading and trailing near-silence *at the file's own rate*: everything before the first and
   after the last sample within `trim_db` (60 dB) of the peak, the rule the renderer has always used
   for its tails. Trimming before resampling makes added digital silence vanish exactly.
3. Resample to `sample_rate` (a polyphase filter: `ml.data.dsp`).
4. Loudness-normalise to `target_lufs` (−23 LUFS, EBU R128) by ITU-R BS.1770-4 integrated loudness
   (`ml.data.loudness`). Chosen over peak normalisation because one transient (a tabla stroke, a
   click, a plosive) sets the peak, so two takes at the same perceived level get different gains;
   the gated loudness follows what a listener hears, ignores silence by its gates, and is the
   broadcast standard. Samples may exceed ±1 afterwards; nothing is clipped (features are computed
   in floating point). The gain is computed in the power domain, so a level change by 2^k gives
   bit-identical output, any other level change identical to float rounding.
5. Cut into non-overlapping segments of `segment_s` (3 s: the hop equals the segment, as in
   training); a tail shorter than a segment is dropped.
6. Mark silence: a segment whose K-weighted loudness is more than `silence_lu` (20 LU) below the
   recording's integrated loudness is silent — EBU Tech 3342's relative gate for 3-s short-term
   loudness, which keeps fades and pauses out of a programme's loudness range. A recording with no
   400-ms block above BS.1770's absolute gate (−70 LUFS) is silence throughout. Silent segments
   answer "silence" (`SILENCE`) and are never fed to a model, in training or at inference.

`PreprocessConfig.legacy()` is the path the first saved models were trained with (peak
normalisation, no marking): a model file that does not record its preprocessing is read with it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from core.errors import InputError
from ml.config import JsonConfig
from ml.data import loudness
from ml.data.audio import decode, downmix, resample

SILENCE = "silence"
"""The answer for a silent segment, in place of a label."""


@dataclass(frozen=True)
class PreprocessConfig(JsonConfig):
    """Every constant of the path; recorded in each saved model so inference repeats training."""

    sample_rate: int = 22_050
    """Hz the models see."""
    normalise: Literal["loudness", "peak"] = "loudness"
    target_lufs: float = -23.0
    """Loudness after normalisation (EBU R128's programme level), LUFS."""
    trim_db: float = 60.0
    """Leading/trailing samples quieter than peak − trim_db dB are cut."""
    silence_lu: float | None = 20.0
    """A segment this many LU below the integrated loudness is silent; None marks nothing."""
    segment_s: float = 3.0
    """Segment length = hop, seconds."""


    @classmethod
    def legacy(cls, *, sample_rate: int = 22_050, segment_s: float = 3.0) -> PreprocessConfig:
        """The preprocessing of models saved before this path existed: peak-normalised, no silence marks."""
        return cls(sample_rate=sample_rate, normalise="peak", trim_db=60.0, silence_lu=None, segment_s=segment_s)

    @classmethod
    def from_json(cls, d: dict[str, Any] | None, *, sample_rate: int = 22_050, segment_s: float = 3.0) -> PreprocessConfig:
        """The config a model file records, or `legacy()` for a file that records none."""
        return cls.legacy(sample_rate=sample_rate, segment_s=segment_s) if d is None else cls(**d)


@dataclass(frozen=True)
class Prepared:
    """A recording ready for a model."""

    audio: NDArray[np.float32]
    """(n,) mono, trimmed, normalised, at sample_rate Hz."""
    sample_rate: int
    segments: NDArray[np.float32]
    """(k, segment samples): audio cut into non-overlapping segments."""
    silent: NDArray[np.bool_]
    """(k,): True where the segment is silence."""
    loudness_lufs: float
    """Integrated loudness of the input before normalisation (−inf when it is silence)."""
    gain_db: float
    """Gain applied by the normalisation, dB."""
    trimmed_s: tuple[float, float]
    """Seconds cut from the start and the end of the input."""

    @property
    def voiced(self) -> NDArray[np.float32]:
        """The segments that are not silence: (k', segment samples)."""
        return np.asarray(self.segments[~self.silent])


def prepare(y: NDArray[np.floating], *, sample_rate: int, cfg: PreprocessConfig = PreprocessConfig(),
            mix: Callable[[NDArray[np.floating]], NDArray[np.float32]] = downmix) -> Prepared:
    """Run the path on samples y of shape (n,) or (n, channels), float, full scale ±1, at sample_rate Hz;
    `mix` makes one channel of several (`benchmarks/downmix.py` compares the plain average).

    Raises InputError for a bad rate, non-finite samples, or a non-silent recording shorter than one
    segment after trimming (a silent one gives at least one segment, marked silent).
    """
    if sample_rate <= 0:
        raise InputError(f"sample_rate must be a positive number of Hz, got {sample_rate}")
    mono = mix(np.asarray(y))
    if not np.isfinite(mono).all():
        raise InputError("the audio holds NaN or infinite samples: export it again as 16- or 24-bit PCM")
    size = round(cfg.segment_s * cfg.sample_rate)
    start, end = _trim_bounds(mono, trim_db=cfg.trim_db)
    x = resample(mono[start:end], orig_rate=sample_rate, target_rate=cfg.sample_rate)
    power = loudness.gated_power(loudness.block_powers(x, sample_rate=cfg.sample_rate)) if x.size else 0.0
    lufs = loudness.lufs_of_power(power)
    if power == 0.0:  # silence by BS.1770's absolute gate: every segment is silent
        k = max(1, round(len(mono) * cfg.sample_rate / sample_rate) // size)
        return Prepared(np.zeros(0, np.float32), cfg.sample_rate, np.zeros((k, size), np.float32), np.ones(k, bool), lufs, 0.0,
                        (len(mono) / sample_rate, 0.0))
    gain = _gain(x, power, cfg)
    audio = np.asarray(x * gain, dtype=np.float32)
    k = len(audio) // size
    if k == 0:
        raise InputError(f"the recording lasts {len(audio) / cfg.sample_rate:.2f} s once its leading and trailing silence is "
                         f"cut, shorter than one {cfg.segment_s:g}-s segment; give a longer recording")
    segments = audio[: k * size].reshape(k, size)
    silent = np.zeros(k, dtype=bool)
    if cfg.silence_lu is not None:
        seg_power = np.array([float(np.mean(loudness.block_powers(s, sample_rate=cfg.sample_rate))) for s in segments])
        silent = seg_power <= power * gain * gain * 10 ** (-cfg.silence_lu / 10)
    return Prepared(audio, cfg.sample_rate, segments, silent, lufs, float(20 * np.log10(gain)),
                    (start / sample_rate, (len(mono) - end) / sample_rate))


def prepare_file(path: Path, *, cfg: PreprocessConfig = PreprocessConfig()) -> Prepared:
    """`prepare` of a recording on disk (see `ml.data.audio.AUDIO_FORMATS`); InputError for a missing,
    empty, corrupt or unsupported file."""
    data, rate = decode(path)
    return prepare(data, sample_rate=rate, cfg=cfg)


def trim_silence(y: NDArray[np.floating], *, trim_db: float = PreprocessConfig.trim_db) -> NDArray[np.float32]:
    """Step 2 alone, for a model that keeps its own level handling (the multimodal encoder's
    peak-relative features): y ((n,) mono) from its first to its last sample within trim_db of the
    peak; shape (0,) for all zeros."""
    mono = np.asarray(y, dtype=np.float32)
    start, end = _trim_bounds(mono, trim_db=trim_db)
    return mono[start:end]


def _trim_bounds(y: NDArray[np.float32], *, trim_db: float) -> tuple[int, int]:
    """[start, end) of y between its first and last sample within trim_db of the peak; (0, 0) for all zeros."""
    a = np.abs(y)
    peak = float(a.max()) if a.size else 0.0
    if peak == 0.0:
        return 0, 0
    loud = np.flatnonzero(a >= peak * 10 ** (-trim_db / 20))
    return int(loud[0]), int(loud[-1]) + 1


def _gain(x: NDArray[np.float32], power: float, cfg: PreprocessConfig) -> float:
    """The linear gain: loudness by the ratio of powers (exact under a 2^k level change), or peak to 1."""
    if cfg.normalise == "peak":
        return 1.0 / float(np.max(np.abs(x)))
    return float(np.sqrt(loudness.power_of_lufs(cfg.target_lufs) / power))
