"""A recording seen several ways: `GET /works/{id}/visual` (waveform, log-mel spectrogram, pitch
against a tradition's tuning grid, octave-band amplitudes, Katz and Higuchi fractal dimension per
frame; `ml.visual.features` computes them) and `GET /visual/traditions` (the grids it can draw).

The work's content is read from the store block by block, each block verified against its CID,
as `GET /content/{cid}` serves it. Restricted works have no public content (only a salted
commitment is on chain) and are refused; content that is not decodable audio (a score, MIDI) is
refused with 415. The first `MAX_SECONDS` of a recording are analysed at `SAMPLE_RATE` Hz, every
series is at most `columns` long (≤ 2,000), and the audio features are cached by content CID
under `<data_dir>/visual/`; the tuning-grid part (cents above the tonic, deviation from the
nearest degree) is computed per request from the cached f0, so any tradition or tonic is cheap.
"""

from __future__ import annotations

import io
import math
import os
from pathlib import Path
from typing import Annotated

import numpy as np
import soundfile as sf  # type: ignore[import-untyped]
from fastapi import APIRouter, Query
from numpy.typing import NDArray
from pydantic import BaseModel, Field, ValidationError

from api.deps import State
from api.problems import Problem
from api.state import ApiState
from core.errors import InputError
from core.types import Cid
from ml.data.audio import resample, to_mono
from ml.studio import score_suffix
from ml.tradition import load_tradition, traditions
from ml.visual import features as fx

router = APIRouter(tags=["visual"])

VERSION = 1
"""Bump when the cached features change: old cache files are then ignored."""
SAMPLE_RATE = 22050
"""Analysis rate in Hz (recordings are resampled to it)."""
MAX_COLUMNS = 2000
"""Longest series an answer holds."""
MAX_SECONDS = 600.0
"""Only the first ten minutes of a recording are analysed; the answer says when it was cut."""

Floats = list[float | None]


class WaveformOut(BaseModel):
    times_s: list[float] = Field(description="Column centres, s.")
    minimum: list[float] = Field(description="Smallest sample in each column (full scale ±1).")
    maximum: list[float] = Field(description="Largest sample in each column (full scale ±1).")


class SpectrogramOut(BaseModel):
    times_s: list[float]
    mel_hz: list[float] = Field(description="Centre frequency of each mel band, Hz (rows of db, lowest first).")
    db: list[list[float]] = Field(description="(mel bands × times) dB relative to the loudest bin, floored at -top_db.")
    n_fft: int
    hop_length: int = Field(description="Samples between STFT frames before pooling to the columns.")
    top_db: float


class PitchTrackOut(BaseModel):
    times_s: list[float]
    f0_hz: Floats = Field(description="pYIN's f0, Hz; null where unvoiced.")
    voiced_probability: list[float]
    frame_length: int
    hop_length: int
    fmin_hz: float
    fmax_hz: float


class BandOut(BaseModel):
    low_hz: float
    high_hz: float
    centre_hz: float
    label: str


class BandsOut(BaseModel):
    times_s: list[float]
    bands: list[BandOut] = Field(description="Octave bands (base-2 centres 62.5 Hz … ; the last a high-pass to Nyquist).")
    db: list[list[float]] = Field(description="(bands × times) RMS level in dB relative to full scale, floored at -120.")
    filter: str


class FractalOut(BaseModel):
    times_s: list[float]
    katz: Floats = Field(description="Katz's fractal dimension per frame (amplitude-difference form; not bounded by 2).")
    higuchi: Floats = Field(description="Higuchi's fractal dimension per frame (1 smooth … 2 white noise).")
    frame_length: int
    hop_length: int
    kmax: int


class AudioFeatures(BaseModel):
    """What is cached per content CID and column count (no tuning grid in it)."""

    version: int
    content_cid: str
    sample_rate: int = Field(description="Analysis rate, Hz.")
    source_rate: int = Field(description="The recording's own rate, Hz.")
    duration_s: float
    analysed_s: float = Field(description="Seconds analysed from the start (less than duration_s when cut).")
    columns: int
    waveform: WaveformOut
    spectrogram: SpectrogramOut
    pitch: PitchTrackOut
    bands: BandsOut
    fractal: FractalOut


class DegreeOut(BaseModel):
    name: str
    cents: float = Field(description="Cents above the tonic, within one period.")


class GridOut(BaseModel):
    tradition: str | None = Field(description="Tradition id; null for 12-tone equal temperament.")
    title: str
    tonic_hz: float
    period_cents: float
    degrees: list[DegreeOut]


class PitchOut(PitchTrackOut):
    cents: Floats = Field(description="f0 in cents above the tonic; null where unvoiced.")
    degree: list[int | None] = Field(description="Index into grid.degrees of the nearest degree; null where unvoiced.")
    deviation_cents: Floats = Field(description="Signed deviation from the nearest degree, cents (within ±period/2).")
    voiced_share: float = Field(description="Share of frames with a pitch.")
    median_abs_deviation_cents: float | None


class VisualOut(BaseModel):
    work_id: int
    content_cid: str
    cached: bool = Field(description="True when the audio features came from the cache.")
    sample_rate: int
    source_rate: int
    duration_s: float
    analysed_s: float
    columns: int
    grid: GridOut
    waveform: WaveformOut
    spectrogram: SpectrogramOut
    pitch: PitchOut
    bands: BandsOut
    fractal: FractalOut


# ---------------------------------------------------------------------- helpers
def _list(values: NDArray[np.floating], digits: int) -> Floats:
    """Rounded floats for JSON, NaN as null."""
    return [None if v != v else v for v in np.round(values.astype(np.float64), digits).tolist()]


def _finite(values: NDArray[np.floating], digits: int) -> list[float]:
    return [float(v) for v in np.round(values.astype(np.float64), digits).tolist()]


def _grid_out(grid: fx.TuningGrid) -> GridOut:
    return GridOut(tradition=grid.tradition_id, title=grid.title, tonic_hz=grid.tonic_hz, period_cents=grid.period_cents,
                   degrees=[DegreeOut(name=n, cents=c) for n, c in zip(grid.names, grid.cents, strict=True)])


def _grid(tradition: str | None, tonic_hz: float | None) -> fx.TuningGrid:
    if tradition is None:
        return fx.TuningGrid.equal_temperament(tonic_hz=440.0 if tonic_hz is None else tonic_hz)
    try:
        return fx.TuningGrid.from_tradition(load_tradition(tradition), tonic_hz=tonic_hz)
    except InputError as err:
        raise Problem(400, "unknown-tradition", f"{err}; GET /visual/traditions lists them (or leave tradition out "
                      "for 12-tone equal temperament)") from err


SCORES = {".mid": "a MIDI file", ".abc": "an ABC score", ".musicxml": "a MusicXML score", ".mxl": "a compressed MusicXML score",
          ".krn": "a Humdrum **kern score"}


def _describe(data: bytes) -> str:
    """What undecodable content looks like, for the refusal (a score, by `ml.studio.score_suffix`)."""
    return SCORES.get(score_suffix(data) or "", "not audio that libsndfile can decode")


def _decode(work_id: int, cid: str, data: bytes) -> tuple[NDArray[np.float32], int, float]:
    """(mono audio at SAMPLE_RATE of at most MAX_SECONDS, the recording's rate, its duration in s)."""
    try:
        with sf.SoundFile(io.BytesIO(data)) as f:
            rate, total = int(f.samplerate), int(f.frames)
            block = f.read(frames=min(total, int(MAX_SECONDS * rate)), dtype="float32", always_2d=True)
    except (sf.SoundFileError, RuntimeError, ValueError, TypeError) as err:
        raise Problem(415, "not-audio", f"the content {cid} of work {work_id} is {_describe(data)}: the visualisation reads "
                      "recordings (WAV, FLAC, OGG, MP3, AIFF); a score is shown on the dashboard's piece page") from err
    y = to_mono(block)
    if not np.all(np.isfinite(y)):
        raise Problem(422, "audio-unusable", f"the recording {cid} of work {work_id} holds NaN or infinite samples: "
                      "export it again as 16- or 24-bit PCM")
    y = resample(y, orig_rate=rate, target_rate=SAMPLE_RATE)
    if y.size < fx.FRAME_LENGTH:
        raise Problem(422, "audio-unusable", f"the recording {cid} of work {work_id} lasts {y.size / SAMPLE_RATE * 1000:.0f} ms: "
                      f"the visualisation needs at least {fx.FRAME_LENGTH / SAMPLE_RATE * 1000:.0f} ms")
    return y, rate, total / rate if rate else 0.0


def analyse(y: NDArray[np.float32], *, cid: str, source_rate: int, duration_s: float, columns: int) -> AudioFeatures:
    """Every series of y ((n,) at SAMPLE_RATE Hz) at most `columns` long: frame-wise series that
    are cheap (spectrogram, bands) are pooled; pYIN and the fractal dimensions are computed on
    frames spaced so that there are at most `columns` of them."""
    hop = max(fx.HOP_LENGTH, math.ceil(y.size / (columns - 1)))  # 1 + ⌊n / hop⌋ ≤ columns
    wave = fx.waveform_envelope(y, sample_rate=SAMPLE_RATE, columns=columns)
    mel = fx.log_mel(y, sample_rate=SAMPLE_RATE, columns=columns)
    pitch = fx.pitch_contour(y, sample_rate=SAMPLE_RATE, hop_length=hop)
    bands = fx.band_amplitudes(y, sample_rate=SAMPLE_RATE, columns=columns)
    fd = fx.fractal_dimension(y, sample_rate=SAMPLE_RATE, hop_length=hop)
    return AudioFeatures(
        version=VERSION, content_cid=cid, sample_rate=SAMPLE_RATE, source_rate=source_rate, duration_s=round(duration_s, 3),
        analysed_s=round(y.size / SAMPLE_RATE, 3), columns=columns,
        waveform=WaveformOut(times_s=_finite(wave.times, 4), minimum=_finite(wave.minimum, 4), maximum=_finite(wave.maximum, 4)),
        spectrogram=SpectrogramOut(times_s=_finite(mel.times, 4), mel_hz=_finite(mel.mel_hz, 1),
                                   db=[_finite(row, 1) for row in mel.db], n_fft=fx.FRAME_LENGTH, hop_length=fx.HOP_LENGTH,
                                   top_db=80.0),
        pitch=PitchTrackOut(times_s=_finite(pitch.times, 4), f0_hz=_list(pitch.f0_hz, 3),
                            voiced_probability=_finite(pitch.voiced_probability, 3), frame_length=fx.FRAME_LENGTH,
                            hop_length=hop, fmin_hz=65.0, fmax_hz=2093.0),
        bands=BandsOut(times_s=_finite(bands.times, 4),
                       bands=[BandOut(low_hz=round(b.low_hz, 1), high_hz=round(b.high_hz, 1), centre_hz=b.centre_hz, label=b.label)
                              for b in bands.bands],
                       db=[_finite(row, 1) for row in bands.db], filter="Butterworth, order 4, forwards and backwards (zero phase)"),
        fractal=FractalOut(times_s=_finite(fd.times, 4), katz=_list(fd.katz, 4), higuchi=_list(fd.higuchi, 4),
                           frame_length=fd.frame_length, hop_length=fd.hop_length, kmax=fd.kmax),
    )


def _cache_path(data_dir: Path, cid: str, columns: int) -> Path:
    return data_dir / "visual" / f"{cid}.c{columns}.v{VERSION}.json"


def _features(state: ApiState, work_id: int, cid: str, columns: int) -> tuple[AudioFeatures, bool]:
    """The audio features of `cid`, from the cache or computed (and cached) from verified content."""
    path = _cache_path(state.settings.data_dir, cid, columns)
    if path.exists():
        try:
            return AudioFeatures.model_validate_json(path.read_bytes()), True
        except (ValidationError, ValueError, OSError):
            pass  # a damaged or older cache file: compute again
    if not state.store.has(Cid(cid)):
        raise Problem(404, "unknown-content", f"the content {cid} of work {work_id} is not in this store: upload it with "
                      "POST /content")
    data = b"".join(state.store.cat(Cid(cid)))  # every block verified against its CID
    y, rate, duration = _decode(work_id, cid, data)
    features = analyse(y, cid=cid, source_rate=rate, duration_s=duration, columns=columns)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.{id(features)}.tmp")
    tmp.write_text(features.model_dump_json())
    os.replace(tmp, path)  # atomic: a reader sees the old file or the whole new one
    return features, False


def _pitch(track: PitchTrackOut, grid: fx.TuningGrid) -> PitchOut:
    f0 = np.array([np.nan if v is None else v for v in track.f0_hz], dtype=np.float64)
    cents = fx.cents_above(f0, tonic_hz=grid.tonic_hz)
    near = grid.deviations(cents)
    voiced = np.isfinite(cents)
    return PitchOut(**track.model_dump(), cents=_list(cents, 1), deviation_cents=_list(near.deviation_cents, 1),
                    degree=[int(d) if d >= 0 else None for d in near.degree.tolist()],
                    voiced_share=round(float(voiced.mean()) if voiced.size else 0.0, 4),
                    median_abs_deviation_cents=round(float(np.median(np.abs(near.deviation_cents[voiced]))), 1)
                    if voiced.any() else None)


# ---------------------------------------------------------------------- routes
@router.get("/visual/traditions", response_model=list[GridOut], summary="The traditions whose tuning grids the visualisation draws")
def tuning_traditions() -> list[GridOut]:
    return [_grid_out(fx.TuningGrid.from_tradition(load_tradition(t))) for t in traditions()]


@router.get("/works/{work_id}/visual", response_model=VisualOut,
            summary="A recording's waveform, log-mel spectrogram, pitch against a tuning grid, band amplitudes and fractal dimension")
def visual(state: State, work_id: int,
           tradition: Annotated[str | None, Query(max_length=64, description="Tradition id (GET /visual/traditions) whose "
                                                  "tuning grid the pitch is measured against; default 12-TET.")] = None,
           tonic_hz: Annotated[float | None, Query(gt=0, le=20000, description="The tonic, Hz; default the tradition's "
                                                   "reference tonic, or A4 = 440 Hz for 12-TET.")] = None,
           columns: Annotated[int, Query(ge=50, le=MAX_COLUMNS, description="Longest series in the answer.")] = MAX_COLUMNS,
           ) -> VisualOut:
    row = state.catalogue().work(work_id)
    if row.content_cid is None:
        raise Problem(409, "work-restricted", f"work {work_id} is restricted (secret/sacred): only a salted commitment of its "
                      "content is public, so there is nothing to show; its community decides who hears it")
    grid = _grid(tradition, tonic_hz)
    features, cached = _features(state, work_id, row.content_cid, columns)
    return VisualOut(work_id=work_id, content_cid=row.content_cid, cached=cached, sample_rate=features.sample_rate,
                     source_rate=features.source_rate, duration_s=features.duration_s, analysed_s=features.analysed_s,
                     columns=features.columns, grid=_grid_out(grid), waveform=features.waveform, spectrogram=features.spectrogram,
                     pitch=_pitch(features.pitch, grid), bands=features.bands, fractal=features.fractal)
