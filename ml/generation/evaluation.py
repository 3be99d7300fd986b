"""The fidelity metrics of one generated piece against its tradition and a reference corpus: what
`heritage generate` reports for its piece and what the generation experiments tabulate per arm.

`Reference.build` turns a tradition's (training) songs into what the corpus metrics compare with;
`piece_metrics` measures one piece (None where not measurable); `span` cuts the cycles that count.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from core.errors import InputError
from ml.generation.lattice import TICKS_PER_BEAT, LatticePiece, micro_notes, repeat_back, timed_notes
from ml.generation.microtonal import render_additive
from ml.metrics.fidelity import (
    inter_onset_intervals,
    modal_error_audio,
    modal_error_symbols,
    ornament_kl,
    pattern_ids,
    rhythm_dtw_to_corpus,
    structural_distance,
)
from ml.metrics.pianoroll import empty_beat_rate, groove_consistency, used_pitch_classes
from ml.tradition import Tradition

STEPS_PER_BEAT = 4
"""Piano-roll resolution for UPC, GC and EBR: sixteenth notes when the beat is a quarter."""


def _event_symbols(piece: LatticePiece) -> list[str]:
    return [f"{e.kind}:{e.octave}:{e.degree}/{e.ticks}" if e.kind == "note" else f"{e.kind}/{e.ticks}" for e in piece.events]


def _bar_patterns(piece: LatticePiece) -> list[tuple[tuple[str, int, int, int], ...]]:
    return [tuple((e.kind, e.octave, e.degree, e.ticks) for e in bar) for bar in piece.bars()]


@dataclass(frozen=True)
class Reference:
    """What the corpus metrics compare a piece with: the tradition's (training) songs' IOIs in beats,
    bar-pattern forms, per-note ornament labels, and an event bigram (pitch-degree and duration as one
    symbol, add-`alpha` smoothing) as the perplexity's reference model."""

    tradition: str
    iois: tuple[np.ndarray, ...]
    forms: tuple[tuple[tuple[tuple[str, int, int, int], ...], ...], ...]
    ornaments: tuple[str, ...]
    bigrams: Mapping[tuple[str, str], int]
    unigrams: Mapping[str, int]
    alpha: float = 0.1

    @classmethod
    def build(cls, pieces: Sequence[LatticePiece], *, tradition: Tradition, limit: int | None = None) -> Reference:
        if not pieces:
            raise InputError("the reference corpus is empty: a tradition without a corpus has no corpus metrics")
        chosen = sorted(pieces, key=lambda p: p.cid or "")[:limit]
        iois = tuple(_iois(p, tradition) for p in chosen)
        bigrams: Counter[tuple[str, str]] = Counter()
        unigrams: Counter[str] = Counter()
        for p in pieces:
            symbols = ["<s>", *_event_symbols(p)]
            bigrams.update(itertools.pairwise(symbols))
            unigrams.update(symbols[:-1])
        labels = tuple(n.ornament or "none" for p in chosen for n in timed_notes(p, tradition))
        return cls(tradition.id, tuple(x for x in iois if x.size), tuple(tuple(_bar_patterns(p)) for p in chosen), labels,
                   dict(bigrams), dict(unigrams))

    def log_probs(self, piece: LatticePiece) -> np.ndarray:
        """Per-event natural log-probabilities under the bigram, shape (n_events,)."""
        vocabulary = len({b for _, b in self.bigrams}) + 1  # seen symbols and one for the unseen
        symbols = ["<s>", *_event_symbols(piece)]
        return np.array([math.log((self.bigrams.get((a, b), 0) + self.alpha) / (self.unigrams.get(a, 0) + self.alpha * vocabulary))
                         for a, b in itertools.pairwise(symbols)])


def _iois(piece: LatticePiece, tradition: Tradition) -> np.ndarray:
    return inter_onset_intervals([n.onset / TICKS_PER_BEAT for n in timed_notes(piece, tradition)])


def span(piece: LatticePiece, *, skip_bars: int, bars: int) -> LatticePiece:
    """Cycles skip_bars+1 … bars of the piece (events whose onset falls in them)."""
    start, end = skip_bars * piece.cycle_ticks, bars * piece.cycle_ticks
    kept = [e for onset, e in zip(piece.onsets, piece.events, strict=True) if start <= onset < end]
    return LatticePiece(piece.tradition, piece.cycle, piece.cycle_ticks, tuple(kept), piece.mode, piece.context, piece.cid,
                        piece.title)


def piece_metrics(piece: LatticePiece, *, tradition: Tradition, mode: str | None, reference: Reference | None,
                  audio: bool = False, bpm: float = 80.0, song: LatticePiece | None = None) -> dict[str, float | None]:
    """The fidelity metrics of one piece (None where not measurable). Modal error from symbols uses the
    written cents against the degrees of `mode`; from audio (with `audio`) an additive render at the
    tradition's tonic, tracked by `ml.metrics.pitch`. Corpus metrics (rhythm DTW, structural distance,
    ornament KL, PPL) need `reference` of this tradition. Constraint checks: off-mode share, interval
    violations, events crossing a cycle boundary, ending on a boundary, ornament rate, final degree.
    Form: the share of cycles that repeat one of the REPEAT_BACK before them exactly, and with `song`
    (the conditioning song over the same cycles) the structural distance to that song's own form."""
    notes = timed_notes(piece, tradition)
    out: dict[str, float | None] = dict.fromkeys(METRICS)
    if not notes:
        return out
    written = [n.written_cents for n in notes]
    out["modal_error_cents"] = modal_error_symbols(written, tradition=tradition, mode=mode).mean_abs_cents
    if audio:
        micro = micro_notes(piece, tradition, bpm=bpm, written=True)
        y = render_additive(micro, tonic_hz=tradition.tonic_hz)
        spans = [(m.onset, m.onset + m.duration) for m in micro]
        out["modal_error_audio_cents"] = modal_error_audio(y, sample_rate=22050, tradition=tradition, mode=mode,
                                                           spans=spans).mean_abs_cents
    out["off_mode_share"] = float(np.mean(np.abs(tradition.deviations(written, mode=mode)) > 0.5))  # not on a degree of the mode
    pairs = list(itertools.pairwise(written))
    out["interval_violations"] = float(np.mean([not tradition.interval_allowed(a, b, mode=mode) for a, b in pairs])) if pairs else 0.0
    c = piece.cycle_ticks
    out["cycle_crossings"] = float(np.mean([o // c != (o + e.ticks - 1) // c for o, e in zip(piece.onsets, piece.events, strict=True)]))
    out["ends_on_cycle"] = float(piece.total_ticks % piece.cycle_ticks == 0)
    out["ornament_rate"] = sum(n.ornament is not None for n in notes) / len(notes)
    out["length_s"] = piece.total_ticks / TICKS_PER_BEAT * 60.0 / bpm
    final = tradition.mode(mode).final if mode else None
    out["final_on_mode_final"] = float(tradition.nearest_degree(written[-1]).degree.name == final) if final else None
    out.update(_roll_metrics(piece, notes))
    if reference is not None and reference.tradition == tradition.id:
        iois = _iois(piece, tradition)
        out["rhythm_dtw"] = rhythm_dtw_to_corpus(iois, reference.iois) if iois.size else None
        forms = _bar_patterns(piece)
        out["structural_distance"] = float(np.mean([_form_distance(forms, list(ref)) for ref in reference.forms]))
        inventory = (*tradition.ornament_names(), "none", "foreign")  # foreign: an ornament of another tradition's inventory
        labels = [n.ornament if n.ornament in inventory else "none" if n.ornament is None else "foreign" for n in notes]
        out["ornament_kl"] = ornament_kl(reference.ornaments, labels, inventory=inventory)
        out["ppl"] = float(math.exp(-reference.log_probs(piece).mean()))
    forms = _bar_patterns(piece)
    out["repeated_cycles"] = repeated_share(forms)
    if song is not None:
        out["form_to_song"] = _form_distance(forms, _bar_patterns(song))
    return out


def form_medoid(reference: Reference) -> tuple[tuple[int, ...], float]:
    """The reference songs' form (pattern ids of its cycles) with the lowest mean structural distance
    to all of them, and that mean: the form the corpus-mean structural distance rewards most."""
    forms = [list(f) for f in reference.forms]
    scored = [(float(np.mean([_form_distance(f, g) for g in forms])), tuple(pattern_ids(f))) for f in forms]
    best = min(scored)
    return best[1], best[0]


def repeated_share(forms: Sequence[Any]) -> float | None:
    """Share of cycles (after the first) equal to one of the REPEAT_BACK cycles before them; None for
    fewer than two cycles."""
    if len(forms) < 2:
        return None
    return sum(repeat_back(forms, b) is not None for b in range(1, len(forms))) / (len(forms) - 1)


METRICS = ("modal_error_cents", "modal_error_audio_cents", "rhythm_dtw", "ornament_kl", "structural_distance", "form_to_song",
           "repeated_cycles", "ppl",
           "upc", "gc", "ebr", "off_mode_share", "interval_violations", "cycle_crossings", "ends_on_cycle", "ornament_rate",
           "final_on_mode_final", "length_s")
CORPUS_METRICS = ("rhythm_dtw", "ornament_kl", "structural_distance", "form_to_song", "ppl")


def _form_distance(a: Sequence[Any], b: Sequence[Any]) -> float:
    """Normalised edit distance of the bar-pattern labels over all bars of each (length-fair:
    `structural_distance`); 1 when either has no bar."""
    return structural_distance(a, b, normalise=True) if a and b else 1.0


def _roll_metrics(piece: LatticePiece, notes: Sequence[Any]) -> dict[str, float | None]:
    """UPC, GC, EBR on a piano roll at STEPS_PER_BEAT (pitches projected to the nearest 12-TET key)."""
    per_step = TICKS_PER_BEAT // STEPS_PER_BEAT
    steps = max(1, -(-piece.total_ticks // per_step))
    roll = np.zeros((steps, 128), dtype=np.int8)
    onsets = np.zeros(steps, dtype=np.int8)
    for n in notes:
        key = int(np.clip(round(60 + n.written_cents / 100), 0, 127))
        a, b = n.onset // per_step, max(n.onset // per_step + 1, (n.onset + n.ticks) // per_step)
        roll[a:b, key] = 1
        onsets[a] = 1
    steps_per_bar = piece.cycle_ticks // per_step
    gc = groove_consistency(roll, steps_per_bar=steps_per_bar, onsets=onsets) if steps >= 2 * steps_per_bar else None
    return {"upc": used_pitch_classes(roll, steps_per_bar=steps_per_bar), "gc": gc,
            "ebr": empty_beat_rate(roll, steps_per_beat=STEPS_PER_BEAT)}


def mean_metrics(rows: Sequence[Mapping[str, float | None]]) -> dict[str, float | None]:
    """The mean of each metric over the pieces that have it (None when none has)."""
    out: dict[str, float | None] = {}
    for name in METRICS:
        values = [v for r in rows if (v := r.get(name)) is not None]
        out[name] = float(np.mean(values)) if values else None
    return out
