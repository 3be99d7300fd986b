"""The three views of a song for the multimodal representation: audio, symbols and context.

For each Essen Han song on the lattice (`encoding.han_corpus`):

- **audio**: the song played by FluidSynth at its written pitch (the lattice notes with their
  deviations, the K: tonic at MIDI 60 + its pitch class, as the ABC has it), with one General MIDI
  instrument and one tempo drawn deterministically from its CID (`performance`). The *clip* is the
  opening `head_s` seconds and the closing `tail_s` seconds joined (the whole song when shorter):
  a Han song's mode is named after its final, so the close is kept. Features of the peak-normalised
  clip: a log-mel spectrogram (`log_mel`, shape (n_mels, frames), dB relative to the clip's peak,
  floor −80 dB, scaled to [−1, 1]); two pitch-class profiles (`chroma`, shape (2, 12): the mean CQT
  chroma of the whole clip and of its last quarter, each scaled to a maximum of 1), because these
  mel bands are wider than a semitone below about 650 Hz, where these melodies' fundamentals lie;
  and, for the baseline, MFCC statistics (mean and deviation of `n_mfcc` MFCCs). All are cached per
  CID and settings (`cache_key`) as .npz, so a second run renders nothing. A recording (WAV, FLAC …)
  goes through the same clip and features (`clip_features`).
- **symbolic**: the song's lattice body tokens as ids of the lattice `Vocabulary`; a song longer
  than `max_tokens` keeps its first and last `max_tokens // 2` (the close again).
- **context**: province, genre, mode and cycle, each an index into `LabelSpace` (0 = unknown).

And the targets of the constraint loss, read from the notes through the tradition file: the
duration-weighted share of sounding time on each degree of the tuning (`histogram`), and the mode
whose final is the last note's degree (`final_mode`, −1 when no mode ends there).
"""

from __future__ import annotations

import hashlib
import json
import math
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import librosa
import numpy as np

from core.errors import InputError
from ml.data.corpora import HAN_GENRES, PROVINCES, Piece
from ml.data.melody import read_melody
from ml.data.preprocess import trim_silence
from ml.data.render import SoundFont
from ml.generation.lattice import LatticePiece, Vocabulary, body_tokens, micro_notes
from ml.generation.microtonal import A4_HZ, render_fluidsynth
from ml.representation.maps import mfcc_stats
from ml.tradition import Tradition

FEATURE_VERSION = 3
"""Bumped when the rendering or the features change, so old cache entries are not read (3: silence trimmed first)."""

PERFORMERS = ("flute", "erhu", "koto", "shanai", "pan flute")
"""GM stand-ins for instruments that play Han folk songs: dizi (flute), erhu (GM fiddle), guzheng
(koto), suona (shanai), xiao (pan flute). One per song, drawn by its CID."""
BPM_RANGE = (72.0, 108.0)
"""Tempo of a render, drawn by the song's CID (whole beats per minute in this range)."""
KINDS = ("province", "genre", "mode", "cycle")
"""The context labels, in the order the context encoder reads them."""
UNKNOWN_LABEL = "unknown"
CQT_HOP_MULTIPLE = 64


@dataclass(frozen=True)
class AudioSettings:
    """How a clip is cut and described. Rates in Hz, lengths in seconds, frequencies in Hz."""

    head_s: float = 6.0
    tail_s: float = 6.0
    sample_rate: int = 16000
    n_fft: int = 2048
    hop: int = 1024
    n_mels: int = 64
    fmin: float = 80.0
    fmax: float = 5000.0
    n_mfcc: int = 20

    def __post_init__(self) -> None:
        if self.head_s < 0 or self.tail_s < 0 or self.head_s + self.tail_s < 0.5:
            raise InputError(f"a clip needs head_s + tail_s ≥ 0.5 s (both ≥ 0), got {self.head_s} + {self.tail_s}")
        if not 0 < self.fmin < self.fmax <= self.sample_rate / 2:
            raise InputError(f"need 0 < fmin < fmax ≤ sample_rate/2, got {self.fmin}, {self.fmax}, {self.sample_rate}")
        if self.hop <= 0 or self.hop % CQT_HOP_MULTIPLE:
            raise InputError(f"hop must be a positive multiple of {CQT_HOP_MULTIPLE} samples (the CQT's octaves), got {self.hop}")

    @property
    def frames(self) -> int:
        """Frames of a full clip: every log-mel is at most this long."""
        return 1 + round((self.head_s + self.tail_s) * self.sample_rate) // self.hop


@dataclass(frozen=True)
class LabelSpace:
    """The values of each context label; index 0 of every kind is `unknown`."""

    values: Mapping[str, tuple[str, ...]]

    @classmethod
    def build(cls, tradition: Tradition) -> LabelSpace:
        return cls({"province": (UNKNOWN_LABEL, *PROVINCES), "genre": (UNKNOWN_LABEL, *HAN_GENRES),
                    "mode": (UNKNOWN_LABEL, *(m.name for m in tradition.modes)),
                    "cycle": (UNKNOWN_LABEL, *(c.name for c in tradition.cycles))})

    def index(self, kind: str, value: str | None) -> int:
        """The id of `value` among `kind`'s labels; 0 (unknown) for None or a label outside the space."""
        values = self.values[kind]
        return values.index(value) if value in values else 0

    def sizes(self) -> tuple[int, ...]:
        return tuple(len(self.values[k]) for k in KINDS)


@dataclass(frozen=True)
class SongViews:
    """One song's three views and constraint targets (module docstring).

    log_mel: (n_mels, frames) float32 in [−1, 1]; chroma: (2, 12) float32 in [0, 1]; mfcc: (2·n_mfcc,)
    float32; tokens: (L,) int64 ids,
    L ≥ 1; context: (4,) int64 ids in KINDS order; histogram: (n_degrees,) float32 summing to 1;
    final_mode: index into the tradition's modes, −1 if none."""

    cid: str
    log_mel: np.ndarray
    chroma: np.ndarray
    mfcc: np.ndarray
    tokens: np.ndarray
    context: np.ndarray
    histogram: np.ndarray
    final_mode: int
    labels: Mapping[str, str | None]
    instrument: str
    bpm: float
    soundfont: str


def performance(cid: str) -> tuple[str, float]:
    """The instrument (PERFORMERS) and tempo (BPM_RANGE) a song is rendered with, drawn from its CID."""
    h = hashlib.sha256(f"multimodal\0{cid}".encode()).digest()
    low, high = BPM_RANGE
    return PERFORMERS[h[0] % len(PERFORMERS)], float(low + int.from_bytes(h[1:3], "big") % int(high - low + 1))


def clip(y: np.ndarray, *, sample_rate: int, settings: AudioSettings) -> np.ndarray:
    """The first head_s and last tail_s seconds of y (shape (n,), mono) joined; y itself when shorter."""
    head, tail = round(settings.head_s * sample_rate), round(settings.tail_s * sample_rate)
    if len(y) <= head + tail:
        return y
    return np.concatenate([y[:head], y[len(y) - tail:]]) if tail else y[:head]


def clip_features(y: np.ndarray, *, sample_rate: int, settings: AudioSettings) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(log-mel (n_mels, frames) float32 in [−1, 1], pitch-class profiles (2, 12) float32 in [0, 1],
    MFCC statistics (2·n_mfcc,) float32) of mono audio y (shape (n,)) at `sample_rate` Hz, which must
    equal settings.sample_rate. Trims leading/trailing silence (`ml.data.preprocess.trim_silence`), clips,
    then peak-normalises; InputError for a clip shorter than 0.25 s
    or silent."""
    if sample_rate != settings.sample_rate:
        raise InputError(f"audio at {sample_rate} Hz given where the features are made at {settings.sample_rate} Hz: resample "
                         "it first (ml.data.audio.resample) or read the file with load_audio(sample_rate=…)")
    # Leading and trailing near-silence cut first (the preprocessing path's rule), so a recording's
    # "close" is its last notes, not the seconds of room tone after them.
    x = clip(trim_silence(np.asarray(y, dtype=np.float32)), sample_rate=sample_rate, settings=settings)
    peak = float(np.max(np.abs(x))) if x.size else 0.0
    if len(x) < sample_rate // 4 or not peak > 0 or not math.isfinite(peak):
        raise InputError(f"the audio is {len(x) / sample_rate:.2f} s long with peak {peak:.3g}: give at least 0.25 s of sound")
    x = x / peak
    mel = librosa.feature.melspectrogram(y=x, sr=sample_rate, n_fft=settings.n_fft, hop_length=settings.hop,
                                         n_mels=settings.n_mels, fmin=settings.fmin, fmax=settings.fmax)  # (n_mels, frames)
    db = librosa.power_to_db(mel, ref=1.0, top_db=None)
    log_mel = np.clip(db - db.max(), -80.0, 0.0) / 40.0 + 1.0
    with warnings.catch_warnings():  # a clip of a few seconds is short for the CQT's lowest octave: harmless
        warnings.filterwarnings("ignore", message="n_fft=.* is too large", category=UserWarning)
        chroma = librosa.feature.chroma_cqt(y=x, sr=sample_rate, hop_length=settings.hop)  # (12, frames)
    close = chroma[:, -max(1, chroma.shape[1] // 4):]
    profiles = np.stack([chroma.mean(axis=1), close.mean(axis=1)])  # (2, 12)
    profiles /= np.maximum(profiles.max(axis=1, keepdims=True), 1e-9)
    stats = mfcc_stats(x, sample_rate, n_mfcc=settings.n_mfcc)  # the embedding maps' baseline, (2·n_mfcc,)
    return log_mel[:, : settings.frames].astype(np.float32), profiles.astype(np.float32), stats


def cache_key(cid: str, *, instrument: str, bpm: float, soundfont: SoundFont, settings: AudioSettings) -> str:
    """The cache file name of a song's features: its CID, the performance and every setting."""
    payload = [cid, instrument, bpm, soundfont.name, asdict(settings), FEATURE_VERSION]
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:32]


def tonic_hz(song: Piece | None, tradition: Tradition) -> float:
    """The frequency of the song's K: tonic at MIDI 60 + its pitch class (the lattice's own reading);
    the tradition's reference tonic for a piece without its ABC."""
    if song is None:
        return tradition.tonic_hz
    return float(A4_HZ * 2.0 ** ((60 + read_melody(song.abc).tonic - 69) / 12))


def render_features(piece: LatticePiece, *, song: Piece | None, tradition: Tradition, soundfont: SoundFont,
                    settings: AudioSettings, cache_dir: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, str, float, bool]:
    """(log-mel, pitch-class profiles, MFCC statistics, instrument, bpm, read from the cache) of one
    piece (module docstring)."""
    cid = piece.cid or hashlib.sha256(repr(piece.events).encode()).hexdigest()
    instrument, bpm = performance(cid)
    path = cache_dir / f"{cache_key(cid, instrument=instrument, bpm=bpm, soundfont=soundfont, settings=settings)}.npz"
    if path.exists():
        with np.load(path) as stored:
            return (stored["log_mel"].astype(np.float32), stored["chroma"].astype(np.float32), stored["mfcc"].astype(np.float32),
                    instrument, bpm, True)
    notes = micro_notes(piece, tradition, bpm=bpm, written=True)
    if not notes:
        raise InputError(f"piece {cid[:16]}… has no notes to render: give a piece with at least one note")
    y = render_fluidsynth(notes, program=instrument, soundfont=soundfont.path, tonic_hz=tonic_hz(song, tradition),
                          sample_rate=settings.sample_rate)
    log_mel, chroma, mfcc = clip_features(y, sample_rate=settings.sample_rate, settings=settings)
    cache_dir.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.npz")
    np.savez(tmp, log_mel=log_mel.astype(np.float16), chroma=chroma, mfcc=mfcc)
    tmp.replace(path)
    return log_mel.astype(np.float16).astype(np.float32), chroma, mfcc, instrument, bpm, False


def token_ids(piece: LatticePiece, vocab: Vocabulary, *, max_tokens: int) -> np.ndarray:
    """The piece's body tokens as ids (L,), L ≤ max_tokens: the first and last max_tokens // 2 of a longer one."""
    ids = vocab.ids(body_tokens(piece))
    if not ids:
        raise InputError("the score has no events: give a score with at least one note")
    if len(ids) > max_tokens:
        half = max_tokens // 2
        ids = ids[:half] + ids[len(ids) - (max_tokens - half):]
    return np.asarray(ids, dtype=np.int64)


def degree_targets(piece: LatticePiece, tradition: Tradition) -> tuple[np.ndarray, int]:
    """(histogram (n_degrees,) of sounding ticks per degree of the tuning, summing to 1; index of the
    mode whose final is the last note's degree, −1 if none). Ties extend the note before them."""
    hist = np.zeros(len(tradition.degrees), dtype=np.float64)
    last: int | None = None
    sounding = False
    for e in piece.events:
        if e.kind == "note":
            last = e.degree % len(tradition.degrees)
            hist[last] += e.ticks
            sounding = True
        elif e.kind == "tie" and sounding and last is not None:
            hist[last] += e.ticks
        else:
            sounding = False
    if last is None:
        raise InputError("the score has no notes: give a score with at least one note")
    final = tradition.degrees[last].name
    mode = next((i for i, m in enumerate(tradition.modes) if m.final == final), -1)
    return (hist / hist.sum()).astype(np.float32), mode


def song_views(pieces: Sequence[LatticePiece], *, songs: Mapping[str, Piece], tradition: Tradition, soundfont: SoundFont,
               settings: AudioSettings, vocab: Vocabulary, labels: LabelSpace, max_tokens: int, cache_dir: Path,
               tick: Callable[[int, int], None] | None = None) -> tuple[list[SongViews], int]:
    """Every piece's views (rendered, or read from `cache_dir`), and how many came from the cache.
    `songs` maps a CID to its corpus entry (ABC tonic and province); a piece not in it is rendered at
    the tradition's tonic with an unknown province. `tick(done, total)` reports progress."""
    out: list[SongViews] = []
    cached = 0
    for i, piece in enumerate(pieces):
        song = songs.get(piece.cid or "")
        log_mel, chroma, mfcc, instrument, bpm, hit = render_features(piece, song=song, tradition=tradition, soundfont=soundfont,
                                                               settings=settings, cache_dir=cache_dir)
        cached += hit
        hist, final = degree_targets(piece, tradition)
        named: dict[str, str | None] = {"province": song.province if song else None, "genre": piece.context,
                                        "mode": piece.mode, "cycle": piece.cycle}
        context = np.asarray([labels.index(k, named[k]) for k in KINDS], dtype=np.int64)
        out.append(SongViews(piece.cid or "", log_mel, chroma, mfcc, token_ids(piece, vocab, max_tokens=max_tokens), context, hist,
                             final, named, instrument, bpm, soundfont.name))
        if tick is not None:
            tick(i + 1, len(pieces))
    return out, cached
