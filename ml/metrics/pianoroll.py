"""Piano-roll metrics of the MuseGAN / MusPy family: UPC, GC and EBR.

A piano roll here is an array of shape (T, P): T time steps (e.g. 80 sixteenth notes), P pitches
from MIDI `lowest_pitch` upwards; a cell > 0 is sounding. Definitions, following Dong et al.
(MuseGAN, AAAI 2018) and MusPy's `muspy.metrics` (implemented here, not imported):

- **UPC**, used pitch classes per bar: for each bar, the number of distinct pitch classes
  ((lowest_pitch + p) mod 12) sounding anywhere in it, 0–12; the mean over bars (empty bars count 0).
- **GC**, groove consistency: 1 − mean over consecutive bar pairs of the Hamming distance between
  their binary onset vectors, divided by the steps per bar (MusPy's formula). A step holds an onset
  if any pitch starts there (sounding now, silent the step before): a note held across a barline
  has no onset in the second bar, and a repeated note without a gap merges with the previous one -
  pass `onsets` explicitly where the roll cannot show re-strikes.
- **EBR**, empty-beat rate: the share of beats (groups of `steps_per_beat` steps) in which nothing
  sounds. Computed on the roll's cells, as Pypianoroll does; MusPy's note-based version also marks
  the beat in which a note's end falls exactly on a boundary, which a roll cannot express.

A trailing partial bar or beat is padded with silence.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from core.errors import InputError


def used_pitch_classes(roll: ArrayLike, *, steps_per_bar: int, lowest_pitch: int = 0) -> float:
    """UPC: mean number of distinct pitch classes per bar (module docstring)."""
    active = _roll(roll)
    bars = _blocks(active, steps_per_bar).any(axis=1).astype(np.int64)  # (bars, P): pitch sounding anywhere in the bar
    classes = (lowest_pitch + np.arange(active.shape[1])) % 12  # (P,)
    per_class = np.zeros((bars.shape[0], 12), dtype=np.int64)
    np.add.at(per_class.T, classes, bars.T)  # (12, bars) += (P, bars) grouped by pitch class
    return float((per_class > 0).sum(axis=1).mean())


def groove_consistency(roll: ArrayLike, *, steps_per_bar: int, onsets: ArrayLike | None = None) -> float:
    """GC in [0, 1]: 1 when every bar has the same onset pattern. `onsets`, shape (T,) or (T, P), overrides
    the onsets read from the roll's rising edges. InputError with fewer than two bars."""
    active = _roll(roll)
    if onsets is None:
        previous = np.vstack([np.zeros((1, active.shape[1]), dtype=bool), active[:-1]])
        steps = (active & ~previous).any(axis=1)  # (T,)
    else:
        given = np.asarray(onsets) > 0
        if given.shape[0] != active.shape[0]:
            raise InputError(f"onsets has {given.shape[0]} steps, the roll {active.shape[0]}: they must match")
        steps = given.reshape(given.shape[0], -1).any(axis=1)
    patterns = _blocks(steps[:, None], steps_per_bar)[:, :, 0]  # (bars, steps_per_bar)
    if patterns.shape[0] < 2:
        raise InputError(f"groove consistency compares consecutive bars: {active.shape[0]} steps are under two bars of {steps_per_bar}")
    hamming = np.count_nonzero(patterns[1:] != patterns[:-1], axis=1)  # (bars − 1,)
    return float(1.0 - hamming.mean() / steps_per_bar)


def empty_beat_rate(roll: ArrayLike, *, steps_per_beat: int) -> float:
    """EBR in [0, 1]: the share of beats in which nothing sounds (module docstring)."""
    beats = _blocks(_roll(roll), steps_per_beat).any(axis=(1, 2))  # (beats,)
    return float(1.0 - beats.mean())


def _roll(roll: ArrayLike) -> NDArray[np.bool_]:
    array = np.asarray(roll)
    if array.ndim != 2 or array.shape[0] == 0 or array.shape[1] == 0:
        raise InputError(f"a piano roll must have shape (time steps, pitches), both > 0; got {array.shape}")
    return array > 0


def _blocks(active: NDArray[np.bool_], size: int) -> NDArray[np.bool_]:
    """(T, P) → (ceil(T / size), size, P), the last block padded with silence."""
    if size < 1:
        raise InputError(f"steps per bar or beat must be ≥ 1, got {size}")
    pad = -active.shape[0] % size
    padded = np.vstack([active, np.zeros((pad, active.shape[1]), dtype=bool)])
    return padded.reshape(-1, size, active.shape[1])
