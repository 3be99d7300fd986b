"""80-step sixteenth-note piano rolls of the Essen Han songs, and the per-step tokens they are stored as.

**Notes.** The songs the protocols allow (`source`, as in `ml.generation.experiment`: a song whose
registered work forbids ML use is left out before anything is read) are encoded with
`encoding.han_corpus` (songs it cannot encode are left out and counted) and split 70/15/15 by piece,
stratified by mode, exactly as the lattice experiment splits them (`ml.data.splits`; the same
`split_id` for the same songs and seed). `lattice.timed_notes` gives each note's onset, duration and
written pitch in cents above the song's K: tonic; the **MIDI pitch** is `60 + cents / 100` — 12-TET,
with the K: tonic moved to C (octaves kept as written: the transposition is 0 to 11 semitones down),
so every song is in the same key. A pitch outside [`lowest`, `highest`] (MIDI 48–84 by default, which
holds every Han note) is folded in by octaves (counted).

**Time.** A step is a sixteenth note (quarter-note beats: 4 steps a beat, 16 a "bar" of the metrics
whatever the song's metre, which is mostly 2/4). Onsets and ends are rounded to the nearest step
(a note off the grid — 32nd notes, triplets — is counted as quantised); a note lasts at least one
step; a note that starts on the step of an earlier one replaces it (counted as lost).

**Rolls.** Windows of `steps` (80) steps, all inside a song, each starting on a multiple of `hop`
steps (16) for the training songs and not overlapping (hop = `steps`) for the validation and test
songs; a song shorter than a window gives none (counted). A note sounding across a window's start is
struck again at its first step.

**Tokens** (one per step, the form every model and metric reads): `REST` (0, silence), `HOLD` (1, the
sounding note goes on), `FIRST_ONSET + p` (a note of MIDI pitch `lowest + p` starts). A roll is the
(steps, pitches) boolean array of sounding pitches with its onsets (steps,); `tokens_to_roll` reads a
`HOLD` with nothing sounding (step 0, or after a rest) as a rest and counts it, so any token
sequence a model samples is a valid monophonic roll.

**Cache.** The prepared token arrays are stored as `rolls-<hash>.npz` under the cache directory,
keyed by the sha-256 of the config and the CIDs of the songs used: a second run skips the encoding.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from core.errors import InputError
from ml.data.corpora import Piece
from ml.data.training import Source
from ml.generation.encoding import han_corpus
from ml.generation.lattice import BEAT_UNITS, HAN, TICKS_PER_BEAT, LatticePiece, timed_notes
from ml.generation.songs import han_songs, split_pieces
from ml.tradition import Tradition, load_tradition

REST, HOLD, FIRST_ONSET = 0, 1, 2
STEPS_PER_BEAT = 4
STEPS_PER_BAR = 16
CACHE_VERSION = 1

Tokens = NDArray[np.int64]
"""Per-step tokens, shape (N, steps) (or (steps,) for one roll)."""


@dataclass(frozen=True)
class RollConfig:
    steps: int = 80
    lowest: int = 48
    """MIDI pitch of the roll's first row (C3)."""
    highest: int = 84
    """MIDI pitch of its last row (C6)."""
    hop: int = 16
    """Steps between the starts of consecutive training windows."""
    songs: int | None = None
    """Han songs to use (the first by CID), None for all."""
    seed: int = 0
    """The split's seed (`ml.data.splits`)."""

    def __post_init__(self) -> None:
        if self.steps < 2 * STEPS_PER_BAR or self.steps % STEPS_PER_BAR:
            raise InputError(f"a roll of {self.steps} steps: use a multiple of {STEPS_PER_BAR} steps, at least two bars")
        if not 0 <= self.lowest < self.highest <= 127 or self.highest - self.lowest < 11:
            raise InputError(f"pitch range {self.lowest}–{self.highest}: give MIDI pitches 0–127 spanning at least an octave")
        if self.hop < 1:
            raise InputError(f"hop {self.hop}: windows must start at least one step apart")

    @property
    def pitches(self) -> int:
        return self.highest - self.lowest + 1

    @property
    def vocab_size(self) -> int:
        """REST, HOLD and one onset token per pitch."""
        return FIRST_ONSET + self.pitches


@dataclass(frozen=True)
class SongSteps:
    """One song on the step grid: `tokens` (S,), the pitch row sounding at each step (S,; −1 silent),
    and how many of its notes were quantised, folded into the range, or lost."""

    tokens: Tokens
    sounding: NDArray[np.int64]
    quantised: int = 0
    folded: int = 0
    lost: int = 0


@dataclass(frozen=True)
class Rolls:
    """Token rolls per split, shape (N, steps) each; `learned_from`: the training songs' CIDs."""

    cfg: RollConfig
    train: Tokens
    validation: Tokens
    test: Tokens
    learned_from: tuple[str, ...]
    split_id: str
    summary: dict[str, Any]


def song_steps(piece: LatticePiece, tradition: Tradition, *, cfg: RollConfig) -> SongSteps:
    """The song's notes on the sixteenth-note grid (module docstring)."""
    beat = BEAT_UNITS.get(tradition.cycle(piece.cycle).beat_unit)
    if beat is None:
        raise InputError(f"cycle {piece.cycle} has no notated beat unit: only notated metres can be put on a step grid")
    per_tick = beat * STEPS_PER_BEAT / TICKS_PER_BEAT  # steps per lattice tick
    length = max(1, int(np.ceil(piece.total_ticks * per_tick - 1e-9)))
    tokens = np.full(length, REST, dtype=np.int64)
    sounding = np.full(length, -1, dtype=np.int64)
    quantised = folded = lost = 0
    for note in timed_notes(piece, tradition):
        start, end = note.onset * per_tick, (note.onset + note.ticks) * per_tick
        a, b = int(np.floor(start + 0.5)), int(np.floor(end + 0.5))
        quantised += abs(start - a) > 1e-9 or abs(end - b) > 1e-9
        b = min(max(b, a + 1), length)
        key = round(60 + note.written_cents / 100)
        while key < cfg.lowest:
            key, folded = key + 12, folded + 1
        while key > cfg.highest:
            key, folded = key - 12, folded + 1
        if a >= length:
            lost += 1
            continue
        lost += bool(tokens[a] >= FIRST_ONSET)  # the note before starts on the same step: this one replaces it
        # notes come in order and do not overlap, so rounding never lets the one before outlast this one
        tokens[a], tokens[a + 1: b] = FIRST_ONSET + key - cfg.lowest, HOLD
        sounding[a: b] = key - cfg.lowest
    return SongSteps(tokens, sounding, quantised, folded, lost)


def windows(song: SongSteps, *, steps: int, hop: int) -> list[Tokens]:
    """Every `steps`-long window of the song starting on a multiple of `hop`, a note sounding across its
    start struck again there."""
    out = []
    for a in range(0, len(song.tokens) - steps + 1, hop):
        w = song.tokens[a: a + steps].copy()
        if w[0] == HOLD:
            w[0] = FIRST_ONSET + song.sounding[a]
        out.append(w)
    return out


def tokens_to_roll(tokens: Tokens, *, pitches: int) -> tuple[NDArray[np.bool_], NDArray[np.bool_], int]:
    """Rolls (N, steps, pitches), onsets (N, steps) and the number of HOLDs with nothing sounding
    (read as rests). tokens: (N, steps) or (steps,) ids in [0, FIRST_ONSET + pitches)."""
    t = np.atleast_2d(np.asarray(tokens))
    if t.min(initial=0) < 0 or t.max(initial=0) >= FIRST_ONSET + pitches:
        raise InputError(f"tokens must lie in [0, {FIRST_ONSET + pitches}): these come from another pitch range")
    roll = np.zeros((*t.shape, pitches), dtype=bool)
    onsets = t >= FIRST_ONSET
    lenient = 0
    for i in range(t.shape[0]):
        current = -1
        for s, tok in enumerate(t[i]):
            if tok >= FIRST_ONSET:
                current = int(tok) - FIRST_ONSET
            elif tok == REST or current < 0:
                lenient += tok == HOLD
                current = -1
            if current >= 0:
                roll[i, s, current] = True
    return roll, onsets, lenient


def canonical(tokens: Tokens, *, pitches: int) -> Tokens:
    """The tokens with every HOLD that has nothing sounding replaced by REST: what `tokens_to_roll` reads."""
    roll, onsets, _ = tokens_to_roll(tokens, pitches=pitches)
    return decode(np.where(roll.any(axis=2), roll.argmax(axis=2), pitches), onsets, pitches=pitches)


def decode(rows: NDArray[np.int64], onsets: NDArray[np.bool_], *, pitches: int) -> Tokens:
    """Tokens from the row sounding at each step (N, steps; `pitches` for silence) and onset flags
    (N, steps): a note starts where flagged, after silence, or where the pitch changes."""
    rows = np.atleast_2d(rows)
    silent = rows >= pitches
    previous = np.concatenate([np.full((rows.shape[0], 1), pitches), rows[:, :-1]], axis=1)
    starts = ~silent & (np.atleast_2d(onsets) | (previous != rows))
    return np.where(silent, REST, np.where(starts, FIRST_ONSET + rows, HOLD)).astype(np.int64)


def channels(tokens: Tokens, *, pitches: int) -> NDArray[np.float32]:
    """The GAN's view of rolls: (N, steps, pitches + 2) — one-hot over the pitch rows and a silence
    channel (index `pitches`), then the onset flag (index `pitches + 1`)."""
    roll, onsets, _ = tokens_to_roll(tokens, pitches=pitches)
    silent: NDArray[np.bool_] = np.logical_not(roll.any(axis=2))  # (N, steps)
    return np.concatenate([roll, silent[..., None], onsets[..., None]], axis=2).astype(np.float32)


def prepare(cfg: RollConfig, *, cache_dir: Path | None = None, source: Callable[[Piece], Source] | None = None) -> Rolls:
    """The rolls of each split (module docstring), from the cache when it holds them."""
    han, refusals = han_songs(songs=cfg.songs, source=source)
    refused = len(refusals)
    key = hashlib.sha256(json.dumps({"version": CACHE_VERSION, "cfg": asdict(cfg), "songs": [p.cid for p in han]},
                                    sort_keys=True).encode()).hexdigest()
    path = cache_dir / f"rolls-{key[:24]}.npz" if cache_dir is not None else None
    if path is not None and path.exists():
        return _load(path, cfg)
    rolls = _build(han, cfg, refused=refused)
    if path is not None:
        _store(path, rolls)
    return rolls


def _build(han: Sequence[Piece], cfg: RollConfig, *, refused: int) -> Rolls:
    tradition = load_tradition(HAN)
    corpus = han_corpus(han, tradition=tradition)
    s = split_pieces(corpus.pieces, seed=cfg.seed)  # the lattice experiment's own split
    counts = {"quantised": 0, "folded": 0, "lost": 0, "notes": 0, "too_short": 0}
    parts: dict[str, Tokens] = {}
    for name, pieces in s.parts().items():
        out: list[Tokens] = []
        for piece in pieces:
            song = song_steps(piece, tradition, cfg=cfg)
            counts["quantised"] += song.quantised
            counts["folded"] += song.folded
            counts["lost"] += song.lost
            counts["notes"] += int((song.tokens >= FIRST_ONSET).sum())
            counts["too_short"] += len(song.tokens) < cfg.steps
            out += windows(song, steps=cfg.steps, hop=cfg.hop if name == "train" else cfg.steps)
        parts[name] = np.stack(out) if out else np.zeros((0, cfg.steps), dtype=np.int64)
    if not len(parts["train"]) or not len(parts["test"]):
        raise InputError(f"no {'training' if not len(parts['train']) else 'test'} rolls of {cfg.steps} steps: the songs are "
                         "shorter than a roll; use more songs or shorter rolls")
    summary = {"corpus": corpus.summary(), "refused": refused, "songs": {k: len(v) for k, v in s.parts().items()},
               "rolls": {k: len(v) for k, v in parts.items()}, **counts}
    return Rolls(cfg, parts["train"], parts["validation"], parts["test"], tuple(sorted(p.cid or "" for p in s.train)),
                 s.split_id, summary)


def _store(path: Path, rolls: Rolls) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.stem + ".partial.npz")
    meta = {"split_id": rolls.split_id, "summary": rolls.summary, "learned_from": list(rolls.learned_from)}
    np.savez_compressed(tmp, train=rolls.train.astype(np.int16), validation=rolls.validation.astype(np.int16),
                        test=rolls.test.astype(np.int16), meta=np.array(json.dumps(meta)))
    os.replace(tmp, path)


def _load(path: Path, cfg: RollConfig) -> Rolls:
    try:
        with np.load(path, allow_pickle=False) as d:
            meta = json.loads(str(d["meta"]))
            parts = {k: d[k].astype(np.int64) for k in ("train", "validation", "test")}
    except (OSError, ValueError, KeyError) as exc:
        raise InputError(f"the cached rolls {path} are unreadable ({exc}): delete the file and run again") from exc
    return Rolls(cfg, parts["train"], parts["validation"], parts["test"], tuple(meta["learned_from"]), str(meta["split_id"]),
                 dict(meta["summary"]))
