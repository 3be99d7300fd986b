"""Audio with exact microtonal pitch, from a list of timed notes.

Two renderers of the same `MicroNote` list (onset and duration in seconds, pitch in cents above a
tonic frequency or in Hz, MIDI velocity):

- `render_fluidsynth`: a General MIDI soundfont played by FluidSynth. `write_microtonal_midi` gives
  every note its own pitch bend: notes are spread over the 15 melodic MIDI channels (channel 10,
  index 9, is GM percussion and is skipped), each channel's bend range is set to ±2 semitones with
  RPN 0, and before each note-on its channel's pitch wheel is set to the note's offset from the
  nearest key. A 14-bit bend over ±200 cents has a step of 0.025 cents; FluidSynth's quirks (its
  127/128 bend scaling, whole-cent truncation) are compensated as in `ml.data.render`, so a note
  sounds within ½ cent of the soundfont's own tuning moved by the request. Channels are reused
  least-recently-released first, so a bend change rarely touches a sounding release tail.
- `render_additive`: a sum of sinusoidal partials with exponential decay (`Timbre`), computed in
  float64 and written as float32 - exact to far below a cent, and free of any soundfont.

Both return mono float32 audio at `sample_rate` Hz, starting at time 0.
"""

from __future__ import annotations

import math
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import mido  # type: ignore[import-untyped]
import numpy as np
from numpy.typing import ArrayLike, NDArray

from core.errors import InputError
from ml.data.render import (
    CHANNELS,
    FLUIDSYNTH_BEND_SCALE,
    FLUIDSYNTH_TRUNCATION_BIAS,
    TAIL_SECONDS,
    program_number,
    render_midi_file,
    save_timed,
)
from ml.tradition import hz_to_cents as hz_to_cents  # kept importable here for benchmarks/pitch_noise_floor.py

BEND_RANGE_SEMITONES = 2
"""Pitch-bend range set on every channel with RPN 0: ±2 semitones, step 400/16384 ≈ 0.025 cents."""

A4_HZ = 440.0
_PPQ = 1000  # ticks per quarter note; with a tempo of 1 s per quarter, one tick is 1 ms
_TEMPO_US = 1_000_000


@dataclass(frozen=True)
class MicroNote:
    """One note: `onset` and `duration` in seconds, pitch as `cents` above the tonic (a render's
    `tonic_hz`) or as absolute `hz` (exactly one of the two), MIDI `velocity` 1–127."""

    onset: float
    duration: float
    cents: float | None = None
    hz: float | None = None
    velocity: int = 80

    def __post_init__(self) -> None:
        if (self.cents is None) == (self.hz is None):
            raise InputError(f"a MicroNote needs exactly one pitch, cents above the tonic or hz; got cents={self.cents}, hz={self.hz}")
        if not (math.isfinite(self.onset) and self.onset >= 0):
            raise InputError(f"note onset must be a finite time ≥ 0 s, got {self.onset}")
        if not (math.isfinite(self.duration) and self.duration > 0):
            raise InputError(f"note duration must be a finite time > 0 s, got {self.duration}")
        if self.hz is not None and not (math.isfinite(self.hz) and self.hz > 0):
            raise InputError(f"note frequency must be a finite number of Hz > 0, got {self.hz}")
        if self.cents is not None and not math.isfinite(self.cents):
            raise InputError(f"note cents must be finite, got {self.cents}")
        if not 1 <= self.velocity <= 127:
            raise InputError(f"note velocity must be 1–127, got {self.velocity}")

    def frequency(self, tonic_hz: float | None) -> float:
        """The note's frequency in Hz; `tonic_hz` is needed when the pitch is given in cents."""
        if self.hz is not None:
            return self.hz
        if tonic_hz is None or not tonic_hz > 0:
            raise InputError(f"notes in cents above a tonic need tonic_hz > 0 (e.g. Tradition.tonic_hz), got {tonic_hz}")
        return float(tonic_hz * 2.0 ** (float(self.cents or 0.0) / 1200.0))


@dataclass(frozen=True)
class Timbre:
    """Additive-synthesis timbre. Partial k has frequency ratios[k] × f0 (harmonics 1, 2, 3 … by
    default) and amplitude amplitudes[k]; it decays as exp(−decay_per_s · ratio · t) (higher partials
    die faster; 0 sustains). attack_s: raised-cosine fade-in; release_s: fade-out after the note ends."""

    amplitudes: tuple[float, ...]
    decay_per_s: float = 0.0
    attack_s: float = 0.01
    release_s: float = 0.05
    ratios: tuple[float, ...] | None = None

    def __post_init__(self) -> None:
        if not self.amplitudes or any(a < 0 for a in self.amplitudes) or sum(self.amplitudes) <= 0:
            raise InputError("Timbre.amplitudes must be non-negative with a positive sum")
        if self.ratios is not None and (len(self.ratios) != len(self.amplitudes) or any(r <= 0 for r in self.ratios)):
            raise InputError("Timbre.ratios must give one positive frequency ratio per amplitude")
        if self.decay_per_s < 0 or self.attack_s < 0 or self.release_s < 0:
            raise InputError("Timbre decay_per_s, attack_s and release_s must be ≥ 0")


SUSTAINED = Timbre(amplitudes=(1.0, 0.5, 0.25, 0.12, 0.06), decay_per_s=0.0, attack_s=0.03, release_s=0.08)
"""A steady wind-like tone: five harmonics, no decay."""

PLUCKED = Timbre(amplitudes=(1.0, 0.6, 0.4, 0.3, 0.2, 0.15, 0.1), decay_per_s=1.5, attack_s=0.004, release_s=0.05)
"""A plucked or struck tone: seven harmonics, the fundamental decaying at 1.5 /s."""

ADDITIVE_PEAK = 0.3
"""Peak level of one note of velocity 127 in `render_additive` (notes add up where they overlap)."""


def cents_to_hz(cents: ArrayLike, *, tonic_hz: float) -> NDArray[np.float64]:
    """Hz of pitches in cents above `tonic_hz`; same shape as `cents`."""
    return tonic_hz * np.power(2.0, np.asarray(cents, dtype=np.float64) / 1200.0)


def scale_notes(cents: ArrayLike, *, note_s: float = 1.0, gap_s: float = 0.1, velocity: int = 80) -> list[MicroNote]:
    """One note per pitch (cents above the tonic, shape (n,)), each `note_s` seconds long, `gap_s` seconds apart."""
    pitches = np.asarray(cents, dtype=np.float64).reshape(-1)
    return [MicroNote(onset=i * (note_s + gap_s), duration=note_s, cents=float(c), velocity=velocity) for i, c in enumerate(pitches)]


def write_microtonal_midi(
    notes: Sequence[MicroNote],
    path: Path,
    *,
    program: int | str,
    tonic_hz: float | None = None,
    reverb: float = 0.0,
) -> None:
    """Write the notes as a type-0 MIDI file with one pitch bend per note (see the module docstring).

    program: GM program 0–127 or an instrument name of `ml.data.render.INSTRUMENTS`.
    tonic_hz: reference of notes given in cents. reverb: 0–1, sent as CC 91 = round(127 · reverb).
    Timing: 1 tick = 1 ms (tempo 60 quarter notes per minute, 1000 ticks per quarter note).
    InputError if more than 15 notes sound at once or a pitch falls outside MIDI keys 0–127.
    """
    number = program_number(program)
    if not notes:
        raise InputError("no notes to render: pass at least one MicroNote")
    if not 0.0 <= reverb <= 1.0:
        raise InputError(f"reverb must be between 0 and 1, got {reverb}")
    timed: list[tuple[int, int, mido.Message | mido.MetaMessage]] = [(0, 0, mido.MetaMessage("set_tempo", tempo=_TEMPO_US))]
    setup = [(101, 0), (100, 0), (6, BEND_RANGE_SEMITONES), (38, 0), (101, 127), (100, 127), (91, round(127 * reverb)), (93, 0)]
    for channel in CHANNELS:
        timed += [(0, 0, mido.Message("control_change", channel=channel, control=cc, value=v)) for cc, v in setup]
        timed.append((0, 0, mido.Message("program_change", channel=channel, program=number)))
    free_at = dict.fromkeys(CHANNELS, -1)  # tick of each channel's last note-off
    bend_of: dict[int, int | None] = dict.fromkeys(CHANNELS, None)
    for note in sorted(notes, key=lambda n: n.onset):
        key, bend = _key_and_bend(note.frequency(tonic_hz))
        on, off = _tick(note.onset), max(_tick(note.onset + note.duration), _tick(note.onset) + 1)
        free = [c for c in CHANNELS if free_at[c] <= on]
        if not free:
            raise InputError(
                f"more than {len(CHANNELS)} notes sound at once at {note.onset:.3f} s: MIDI has {len(CHANNELS)} melodic "
                "channels for per-note bends; thin the texture or use render_additive"
            )
        channel = min(free, key=lambda c: (bend_of[c] != bend, free_at[c]))
        if bend_of[channel] != bend:
            timed.append((on, 1, mido.Message("pitchwheel", channel=channel, pitch=bend)))
            bend_of[channel] = bend
        timed.append((on, 2, mido.Message("note_on", channel=channel, note=key, velocity=note.velocity)))
        timed.append((off, 0, mido.Message("note_off", channel=channel, note=key, velocity=0)))
        free_at[channel] = off
    end = max(t for t, _, _ in timed) + _tick(TAIL_SECONDS)
    timed.append((end, 3, mido.MetaMessage("end_of_track")))
    save_timed(timed, path, ticks_per_beat=_PPQ)


def render_fluidsynth(
    notes: Sequence[MicroNote],
    *,
    program: int | str,
    soundfont: Path,
    tonic_hz: float | None = None,
    reverb: float = 0.0,
    sample_rate: int = 22050,
) -> NDArray[np.float32]:
    """Render the notes with FluidSynth and a GM soundfont, each note at its exact pitch.

    soundfont: a .sf2/.sf3 file (`ml.data.render.soundfonts()` lists the installed ones).
    Returns y, shape (n,), float32 mono at `sample_rate` Hz (8000–96000), from time 0 to the end
    of the last release (trailing silence trimmed); level as FluidSynth plays it (gain
    `ml.data.render.GAIN`), not normalised. Deterministic.

    Raises InputError for bad notes or arguments, a missing fluidsynth binary or soundfont;
    ModelError if FluidSynth fails or renders silence.
    """
    with tempfile.TemporaryDirectory(prefix="heritage-microtonal-") as tmp:
        midi_path = Path(tmp) / "notes.mid"
        write_microtonal_midi(notes, midi_path, program=program, tonic_hz=tonic_hz, reverb=reverb)
        return render_midi_file(midi_path, soundfont=soundfont, reverb=reverb, sample_rate=sample_rate,
                                what=f"program {program}")


def render_additive(
    notes: Sequence[MicroNote],
    *,
    tonic_hz: float | None = None,
    timbre: Timbre = PLUCKED,
    sample_rate: int = 22050,
) -> NDArray[np.float32]:
    """Render the notes by additive synthesis (see `Timbre`), no soundfont needed.

    Each note: partials above 0.45 × sample_rate left out (no aliasing), amplitude
    ADDITIVE_PEAK × velocity/127 at most, sounding from its onset for its duration plus
    timbre.release_s. Returns y, shape (n,), float32 mono at `sample_rate` Hz (1000–192000),
    n = sample_rate × (latest note end + release), rounded up.
    """
    if not notes:
        raise InputError("no notes to render: pass at least one MicroNote")
    if not 1000 <= sample_rate <= 192000:
        raise InputError(f"sample_rate must be 1000–192000 Hz, got {sample_rate}")
    end = max(n.onset + n.duration for n in notes) + timbre.release_s
    out = np.zeros(math.ceil(end * sample_rate) + 1, dtype=np.float64)
    ratios = np.asarray(timbre.ratios or range(1, len(timbre.amplitudes) + 1), dtype=np.float64)  # (K,)
    amplitudes = np.asarray(timbre.amplitudes, dtype=np.float64) / sum(timbre.amplitudes)  # (K,)
    for note in notes:
        f0 = note.frequency(tonic_hz)
        start = round(note.onset * sample_rate)
        held, length = round(note.duration * sample_rate), round((note.duration + timbre.release_s) * sample_rate)
        t = np.arange(length) / sample_rate  # (L,) seconds from the onset
        audible = ratios * f0 < 0.45 * sample_rate  # (K,)
        if not np.any(audible):
            raise InputError(f"a note at {f0:.1f} Hz has no partial below 0.45 × {sample_rate} Hz: raise sample_rate or lower it")
        phases = 2 * np.pi * f0 * np.outer(ratios[audible], t)  # (K', L)
        decays = np.exp(-timbre.decay_per_s * np.outer(ratios[audible], t))  # (K', L)
        tone = (amplitudes[audible, None] * decays * np.sin(phases)).sum(axis=0)  # (L,)
        out[start : start + length] += ADDITIVE_PEAK * note.velocity / 127 * tone * _envelope(held, length, timbre, sample_rate)
    return out.astype(np.float32)


def _envelope(held: int, length: int, timbre: Timbre, sample_rate: int) -> NDArray[np.float64]:
    """(length,) gain: raised-cosine attack, flat while held, raised-cosine release after `held` samples."""
    env = np.ones(length)
    attack = min(held, round(timbre.attack_s * sample_rate))
    if attack > 0:
        env[:attack] = 0.5 - 0.5 * np.cos(np.pi * np.arange(attack) / attack)
    release = length - held
    if release > 0:
        env[held:] *= 0.5 + 0.5 * np.cos(np.pi * np.arange(1, release + 1) / release)
    return env


def _key_and_bend(hz: float) -> tuple[int, int]:
    """The MIDI key nearest `hz` (a pitch halfway between keys is the lower key bent up) and the 14-bit
    bend (−8192…8191) that moves it to `hz` under FluidSynth's bend scaling and cent truncation."""
    midi = 69 + 12 * math.log2(hz / A4_HZ)
    key = math.ceil(midi - 0.5)
    if not 0 <= key <= 127:
        raise InputError(f"{hz:.2f} Hz is outside the MIDI range (keys 0–127, 8.2 Hz – 12.5 kHz): transpose the notes")
    cents = 100 * (midi - key) + FLUIDSYNTH_TRUNCATION_BIAS
    bend = round(cents / FLUIDSYNTH_BEND_SCALE / (100 * BEND_RANGE_SEMITONES) * 8192)
    return key, min(8191, max(-8192, bend))


def _tick(seconds: float) -> int:
    return round(seconds * _PPQ)
