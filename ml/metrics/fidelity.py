"""Fidelity to a tradition: modal error, rhythm DTW, ornament KL, structural edit distance; and PPL.

Definitions (the numbers in reports mean exactly this):

- **Modal error** (cents): for each note, |pitch − nearest canonical degree| with the pitch in
  cents above the tonic, folded over the tuning's period (`Tradition.deviations`); reported as the
  mean, median and 90th percentile over notes. From symbols, the pitch is the note's written cents;
  from audio, the median f0 of the note's voiced frames (`ml.metrics.pitch`).
- **Rhythm DTW**: dynamic time warping between two inter-onset-interval (IOI) sequences with the
  local cost |log2(a_i / b_j)| (a halving or doubling costs 1), steps (1,1), (1,0), (0,1) of weight 1;
  the accumulated cost divided by the length of the optimal warping path, so it is a mean cost per
  aligned pair and pieces of different lengths compare. With `tempo_invariant` (default) each
  sequence is first divided by its median IOI. Against a corpus: the mean (or min) over its pieces.
- **Ornament KL**: KL(P_reference ‖ Q_generated) in nats between the ornament-label distributions
  over the tradition's inventory, both smoothed by adding `alpha` (default 1, Laplace) to every
  category count, so it is finite when a category is missing on one side; 0 for identical counts.
- **Structural edit distance**: Levenshtein distance (unit insert, delete, substitute) between
  section-label sequences, e.g. "AABBCC"; `pattern_labels` turns bar-level patterns into such
  labels (each distinct bar a letter in order of first appearance). `normalise` divides by the
  longer length, giving 0–1. `structural_distance` compares the full unit sequences (length-fair:
  missing units count as edits); until 2026-12-05 the generation report cut both to the shorter's
  length, which made a short piece look close (reports/generation.md's Table 1 predates the fix).
- **Perplexity**: base ** (−mean log-probability) of a sequence's tokens under a reference model.
"""

from __future__ import annotations

import math
import string
from collections import Counter
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

import librosa
import numpy as np
from numpy.typing import ArrayLike, NDArray

from core.errors import InputError
from ml.metrics.pitch import note_pitches, track_pitch
from ml.tradition import Tradition, hz_to_cents


@dataclass(frozen=True)
class ModalError:
    """Absolute deviations of notes from their nearest canonical degrees, in cents.

    deviations: signed, one per measured note (pitch − degree). untracked: notes whose pitch could not
    be measured (audio: no voiced frames) and that are left out of the statistics.
    """

    mean_abs_cents: float
    median_abs_cents: float
    p90_abs_cents: float
    n_notes: int
    deviations: tuple[float, ...]
    untracked: int = 0


def modal_error_symbols(cents: ArrayLike, *, tradition: Tradition, mode: str | None = None) -> ModalError:
    """Modal error of written pitches (cents above the tonic, shape (n,)) against the degrees of
    `mode` (all tuning degrees if None)."""
    return _summary(tradition.deviations(cents, mode=mode), untracked=0)


def modal_error_audio(
    y: NDArray[np.floating],
    *,
    sample_rate: int,
    tradition: Tradition,
    tonic_hz: float | None = None,
    mode: str | None = None,
    spans: Sequence[tuple[float, float]] | None = None,
    fmin: float = 65.0,
    fmax: float = 2093.0,
) -> ModalError:
    """Modal error of mono audio y (shape (n,), at `sample_rate` Hz): pitch tracked with pYIN (refined
    by YIN), one median f0 per note, in cents above `tonic_hz` (the tradition's reference if None).

    spans: (onset, offset) in s of the notes when known (a render of known notes); otherwise notes
    are segmented from the track (`ml.metrics.pitch.note_pitches`).
    """
    track = track_pitch(y, sample_rate=sample_rate, fmin=fmin, fmax=fmax)
    notes = note_pitches(track, spans=spans)
    hz = np.array([n.hz for n in notes], dtype=np.float64)
    measured = hz[np.isfinite(hz)]
    if measured.size == 0:
        raise InputError("no note could be tracked in the audio (no voiced frames): check the signal level and fmin/fmax")
    cents = hz_to_cents(measured, tonic_hz=tonic_hz or tradition.tonic_hz)
    return _summary(tradition.deviations(cents, mode=mode), untracked=int(hz.size - measured.size))


def _summary(deviations: NDArray[np.float64], *, untracked: int) -> ModalError:
    if deviations.size == 0:
        raise InputError("modal error needs at least one note")
    magnitude = np.abs(deviations)
    return ModalError(
        mean_abs_cents=float(magnitude.mean()),
        median_abs_cents=float(np.median(magnitude)),
        p90_abs_cents=float(np.percentile(magnitude, 90)),
        n_notes=int(deviations.size),
        deviations=tuple(float(d) for d in deviations),
        untracked=untracked,
    )


def inter_onset_intervals(onsets: ArrayLike, *, merge_within: float = 1e-6) -> NDArray[np.float64]:
    """IOIs (shape (n−1,), same unit as onsets: seconds or beats) of the distinct onset times; onsets
    closer than `merge_within` (a chord's notes) count as one."""
    times = np.sort(np.asarray(onsets, dtype=np.float64).reshape(-1))
    if not np.all(np.isfinite(times)):
        raise InputError("onsets must be finite numbers")
    distinct = times[np.concatenate([[True], np.diff(times) > merge_within])] if times.size else times
    return np.diff(distinct)


def rhythm_dtw(a: ArrayLike, b: ArrayLike, *, tempo_invariant: bool = True) -> float:
    """DTW distance between two IOI sequences (see the module docstring): 0 for identical
    sequences (and, with tempo_invariant, for the same rhythm at another tempo)."""
    x, y = _iois(a, "a", tempo_invariant), _iois(b, "b", tempo_invariant)
    cost = np.abs(np.log2(x)[:, None] - np.log2(y)[None, :])  # (n, m)
    accumulated, path = librosa.sequence.dtw(C=cost, backtrack=True)
    return float(accumulated[-1, -1] / len(path))


def rhythm_dtw_to_corpus(
    iois: ArrayLike,
    corpus: Iterable[ArrayLike],
    *,
    reduce: Literal["mean", "min"] = "mean",
    tempo_invariant: bool = True,
) -> float:
    """Rhythm DTW of one IOI sequence to each piece of a tradition's corpus, reduced by the mean
    (how typical the rhythm is of the whole corpus) or the min (distance to the nearest piece)."""
    distances = [rhythm_dtw(iois, piece, tempo_invariant=tempo_invariant) for piece in corpus]
    if not distances:
        raise InputError("the corpus is empty: pass at least one IOI sequence")
    return float(np.mean(distances) if reduce == "mean" else np.min(distances))


def _iois(values: ArrayLike, name: str, tempo_invariant: bool) -> NDArray[np.float64]:
    x = np.asarray(values, dtype=np.float64).reshape(-1)
    if x.size == 0:
        raise InputError(f"IOI sequence {name} is empty: a piece needs at least two distinct onsets")
    if not np.all(np.isfinite(x)) or np.any(x <= 0):
        raise InputError(f"IOI sequence {name} must hold finite positive intervals: merge simultaneous onsets (inter_onset_intervals)")
    return x / np.median(x) if tempo_invariant else x


def ornament_counts(labels: Iterable[str], *, inventory: Sequence[str]) -> NDArray[np.float64]:
    """Counts of each inventory label (shape (len(inventory),)); InputError for a label outside it."""
    counts = Counter(labels)
    unknown = sorted(set(counts) - set(inventory))
    if unknown:
        raise InputError(f"ornament labels {unknown} are not in the inventory {list(inventory)}: map them or extend the inventory")
    return np.array([counts[name] for name in inventory], dtype=np.float64)


def kl_divergence(p_counts: ArrayLike, q_counts: ArrayLike, *, alpha: float = 1.0) -> float:
    """KL(P ‖ Q) in nats of two count vectors of the same categories, each smoothed by adding `alpha`
    to every count and normalised. alpha = 0 needs Q > 0 wherever P > 0."""
    p, q = np.asarray(p_counts, dtype=np.float64) + alpha, np.asarray(q_counts, dtype=np.float64) + alpha
    if p.shape != q.shape or p.ndim != 1 or p.size == 0:
        raise InputError(f"count vectors must be 1-D of equal length, got shapes {p.shape} and {q.shape}")
    if alpha < 0 or np.any(p < 0) or np.any(q < 0) or p.sum() <= 0 or q.sum() <= 0:
        raise InputError("counts and alpha must be non-negative with positive totals")
    p, q = p / p.sum(), q / q.sum()
    support = p > 0
    if np.any(q[support] == 0):
        raise InputError("KL is infinite: Q has a zero where P does not; use alpha > 0")
    return float(np.sum(p[support] * np.log(p[support] / q[support])))


def ornament_kl(reference: Iterable[str], generated: Iterable[str], *, inventory: Sequence[str], alpha: float = 1.0) -> float:
    """KL(reference ‖ generated) of ornament-label distributions over `inventory` (e.g.
    `(*Tradition.ornament_names(), "none")`), Laplace-smoothed by `alpha` (module docstring)."""
    return kl_divergence(ornament_counts(reference, inventory=inventory), ornament_counts(generated, inventory=inventory), alpha=alpha)


def edit_distance(a: Sequence[Hashable], b: Sequence[Hashable], *, normalise: bool = False) -> float:
    """Levenshtein distance between two label sequences (strings work: "AABB"); with normalise, divided
    by the longer length (0 when both are empty)."""
    previous = list(range(len(b) + 1))
    for i, x in enumerate(a, start=1):
        current = [i]
        for j, y in enumerate(b, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (x != y)))
        previous = current
    distance = float(previous[-1])
    longest = max(len(a), len(b))
    return distance / longest if normalise and longest else distance


def pattern_labels(items: Sequence[Hashable]) -> str:
    """One letter per item, by first appearance: ["x", "y", "x"] → "ABA" (after Z: lowercase, then digits)."""
    alphabet = string.ascii_uppercase + string.ascii_lowercase + string.digits
    seen: dict[Hashable, str] = {}
    for item in items:
        if item not in seen:
            if len(seen) == len(alphabet):
                raise InputError(f"more than {len(alphabet)} distinct patterns: compare coarser units (phrases, not bars)")
            seen[item] = alphabet[len(seen)]
    return "".join(seen[item] for item in items)


def pattern_ids(items: Sequence[Hashable]) -> list[int]:
    """One number per item, by first appearance: ["x", "y", "x"] → [0, 1, 0] (pattern_labels without
    the alphabet's limit)."""
    seen: dict[Hashable, int] = {}
    return [seen.setdefault(item, len(seen)) for item in items]


def structural_distance(a: Sequence[Hashable], b: Sequence[Hashable], *, normalise: bool = True) -> float:
    """Edit distance between the pattern labels of two pieces' units (bars or phrases as hashable
    patterns, e.g. tuples of (pitch, duration)): the form, not the material, is compared. Over the
    full sequences, so it is length-fair: a piece shorter than the other pays one edit per missing
    unit (normalised, at least the length difference over the longer length); 1 when exactly one is
    empty."""
    return edit_distance(pattern_ids(a), pattern_ids(b), normalise=normalise)


def perplexity(log_probs: ArrayLike, *, base: float = math.e) -> float:
    """Perplexity of a sequence from its per-token log-probabilities under a reference model:
    base ** (−mean(log_probs)). log_probs: shape (n,), ≤ 0, in log base `base` (natural log default)."""
    x = np.asarray(log_probs, dtype=np.float64).reshape(-1)
    if x.size == 0:
        raise InputError("perplexity needs at least one token log-probability")
    if not np.all(np.isfinite(x)) or np.any(x > 1e-9):
        raise InputError("log-probabilities must be finite and ≤ 0; a token of probability 0 has infinite perplexity")
    if not base > 1:
        raise InputError(f"log base must be > 1, got {base}")
    return float(base ** (-x.mean()))
