"""Pitch tracking for fidelity metrics: pYIN for voicing, YIN for the fine value, medians per note.

librosa's pYIN decodes f0 on a grid of pitch bins (`resolution` 0.1 semitone by default), so its
output is quantised to 10-cent steps: too coarse to measure modal errors of a few cents, and a
finer grid makes its Viterbi pass (states² per frame) far too slow. So `track_pitch` keeps pYIN's
voicing decision and its octave-safe path, and replaces each voiced frame's value by YIN's
parabolically interpolated estimate on the same frames when the two agree within
`REFINE_TOLERANCE_CENTS` (pYIN's value is kept otherwise). benchmarks/pitch_noise_floor.py
measures both on exact renders.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import librosa
import numpy as np
from numpy.typing import NDArray

from core.errors import InputError

REFINE_TOLERANCE_CENTS = 60.0
"""YIN replaces pYIN's value in a voiced frame only when they are within this many cents."""


@dataclass(frozen=True)
class PitchTrack:
    """A frame-wise f0 track. times: (T,) s, frame centres; f0_hz: (T,) Hz, NaN where unvoiced (refined
    where refinement was asked for); pyin_hz: (T,) pYIN's own grid values; voiced: (T,) bool;
    sample_rate and hop_length of the analysis (hop_length / sample_rate s per frame)."""

    times: NDArray[np.float64]
    f0_hz: NDArray[np.float64]
    pyin_hz: NDArray[np.float64]
    voiced: NDArray[np.bool_]
    sample_rate: int
    hop_length: int


@dataclass(frozen=True)
class TrackedNote:
    """One note's pitch from a track: onset and offset in s, `hz` the median f0 of its voiced frames
    (NaN when none was voiced), `frames` how many voiced frames were used."""

    onset: float
    offset: float
    hz: float
    frames: int


def track_pitch(
    y: NDArray[np.floating],
    *,
    sample_rate: int,
    fmin: float = 65.0,
    fmax: float = 2093.0,
    frame_length: int = 2048,
    hop_length: int = 256,
    refine: bool = True,
) -> PitchTrack:
    """Track the f0 of mono audio y (shape (n,), float, at `sample_rate` Hz) with pYIN, refined by YIN
    (see the module docstring; refine=False gives pYIN's 10-cent-grid values alone).

    fmin, fmax: search range in Hz (default C2–C7); frame_length, hop_length: samples (defaults:
    93 ms frames every 11.6 ms at 22050 Hz). Deterministic.
    """
    audio = np.asarray(y, dtype=np.float64)
    if audio.ndim != 1:
        raise InputError(f"audio must be mono, shape (n,), got shape {audio.shape}: average the channels first")
    if not 0 < fmin < fmax <= sample_rate / 2:
        raise InputError(f"need 0 < fmin < fmax ≤ sample_rate/2, got fmin={fmin}, fmax={fmax}, sample_rate={sample_rate}")
    if audio.size < frame_length:
        raise InputError(f"audio is {audio.size} samples, shorter than one frame ({frame_length}): pass a longer signal")
    if not np.all(np.isfinite(audio)):
        raise InputError("audio holds NaN or infinite samples: clean the signal first")
    f0, voiced, _ = librosa.pyin(audio, fmin=fmin, fmax=fmax, sr=sample_rate, frame_length=frame_length, hop_length=hop_length)
    coarse = np.where(voiced, f0, np.nan).astype(np.float64)
    f0 = coarse
    if refine and np.any(voiced):
        fine = librosa.yin(audio, fmin=fmin, fmax=fmax, sr=sample_rate, frame_length=frame_length, hop_length=hop_length)
        with np.errstate(invalid="ignore", divide="ignore"):
            agree = voiced & (np.abs(1200 * np.log2(fine / coarse)) <= REFINE_TOLERANCE_CENTS)
        f0 = np.where(agree, fine, coarse)
    times = librosa.times_like(f0, sr=sample_rate, hop_length=hop_length)
    return PitchTrack(times.astype(np.float64), f0.astype(np.float64), coarse, voiced.astype(np.bool_), sample_rate, hop_length)


def note_pitches(
    track: PitchTrack,
    *,
    spans: Sequence[tuple[float, float]] | None = None,
    trim_s: float = 0.05,
    min_frames: int = 3,
    split_cents: float = 50.0,
) -> list[TrackedNote]:
    """Median f0 per note.

    spans: (onset, offset) in s of known notes (e.g. the notes that were rendered); each note's
    median is over its voiced frames from onset + trim_s to offset − trim_s (the attack and the
    release left out), NaN when fewer than `min_frames` are voiced. Without spans, notes are
    segmented from the track: a run of voiced frames, split where consecutive frames differ by more
    than `split_cents`; runs shorter than `min_frames` frames are dropped.
    """
    if spans is not None:
        notes = []
        for onset, offset in spans:
            inside = track.voiced & (track.times >= onset + trim_s) & (track.times <= offset - trim_s)
            count = int(inside.sum())
            hz = float(np.median(track.f0_hz[inside])) if count >= min_frames else float("nan")
            notes.append(TrackedNote(onset, offset, hz, count if count >= min_frames else 0))
        return notes
    cents = np.where(track.voiced, 1200 * np.log2(np.where(track.voiced, track.f0_hz, 1.0)), np.nan)
    notes, start = [], None
    for i in range(track.times.size + 1):
        boundary = i == track.times.size or not track.voiced[i] or (start is not None and abs(cents[i] - cents[i - 1]) > split_cents)
        if boundary and start is not None:
            if i - start >= min_frames:
                end = float(track.times[i - 1]) + track.hop_length / track.sample_rate
                notes.append(TrackedNote(float(track.times[start]), end, float(np.median(track.f0_hz[start:i])), i - start))
            start = None
        if i < track.times.size and track.voiced[i] and start is None:
            start = i
    return notes
