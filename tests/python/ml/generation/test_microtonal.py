"""Exact microtonal rendering: per-note pitch bends in the MIDI, additive synthesis at the exact
frequency, and FluidSynth renders tracked back to the tradition file's cents."""

from __future__ import annotations

import math
import shutil
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any

import mido  # type: ignore[import-untyped]
import numpy as np
import pytest
from numpy.typing import NDArray

from core.errors import InputError
from ml.data.render import FLUIDSYNTH_BEND_SCALE, FLUIDSYNTH_TRUNCATION_BIAS
from ml.generation.microtonal import (
    BEND_RANGE_SEMITONES,
    PLUCKED,
    SUSTAINED,
    MicroNote,
    cents_to_hz,
    hz_to_cents,
    render_additive,
    render_fluidsynth,
    scale_notes,
    write_microtonal_midi,
)
from ml.metrics.pitch import note_pitches, track_pitch
from ml.tradition import load_tradition
from tests.python.ml import spectrum

SR = 22050
FLUIDR3 = Path("/usr/share/sounds/sf2/FluidR3_GM.sf2")
needs_fluidsynth = pytest.mark.skipif(
    shutil.which("fluidsynth") is None or not FLUIDR3.is_file(),
    reason="FluidSynth or the FluidR3 soundfont is missing: apt-get install fluidsynth fluid-soundfont-gm",
)


def peak_hz(y: NDArray[np.float32], *, near_hz: float, start_s: float = 0.1, end_s: float = 0.9) -> float:
    """Frequency in Hz of the strongest spectral peak within ±80 cents of near_hz (16× zero-padded FFT)."""
    return spectrum.peak_hz(y, sr=SR, near_hz=near_hz, cents=80, start_s=start_s, end_s=end_s, pad=16)


@pytest.mark.parametrize(
    ("kwargs", "expectation"),
    [
        ({"onset": 0.0, "duration": 1.0, "cents": 540.0}, nullcontext()),
        ({"onset": 0.5, "duration": 0.2, "hz": 440.0, "velocity": 127}, nullcontext()),
        ({"onset": 0.0, "duration": 1.0}, pytest.raises(InputError, match="exactly one pitch")),
        ({"onset": 0.0, "duration": 1.0, "cents": 0.0, "hz": 440.0}, pytest.raises(InputError, match="exactly one pitch")),
        ({"onset": -1.0, "duration": 1.0, "cents": 0.0}, pytest.raises(InputError, match="onset")),
        ({"onset": 0.0, "duration": 0.0, "cents": 0.0}, pytest.raises(InputError, match="duration")),
        ({"onset": 0.0, "duration": 1.0, "hz": -3.0}, pytest.raises(InputError, match="frequency")),
        ({"onset": 0.0, "duration": 1.0, "cents": 0.0, "velocity": 0}, pytest.raises(InputError, match="velocity")),
    ],
)
def test_micro_note_validates(kwargs: dict[str, Any], expectation: AbstractContextManager[Any]) -> None:
    with expectation:
        MicroNote(**kwargs)


def test_cents_need_a_tonic() -> None:
    note = MicroNote(onset=0.0, duration=1.0, cents=1200.0)
    assert note.frequency(220.0) == pytest.approx(440.0)
    with pytest.raises(InputError, match="tonic_hz"):
        note.frequency(None)
    assert hz_to_cents(cents_to_hz([0.0, 231.0, 1208.0], tonic_hz=291.0), tonic_hz=291.0) == pytest.approx([0.0, 231.0, 1208.0])


def _midi_events(path: Path) -> list[tuple[int, mido.Message]]:
    now, events = 0, []
    for message in mido.MidiFile(path).tracks[0]:
        now += message.time
        events.append((now, message))
    return events


def test_midi_gives_each_note_its_own_exact_bend(tmp_path: Path) -> None:
    pelog = load_tradition("javanese_pelog")
    notes = scale_notes(pelog.scale_cents(), note_s=0.5, gap_s=0.0)
    write_microtonal_midi(notes, tmp_path / "pelog.mid", program="flute", tonic_hz=pelog.tonic_hz)
    events = _midi_events(tmp_path / "pelog.mid")
    rpn = [(m.channel, m.control, m.value) for _, m in events if m.type == "control_change" and m.control in (101, 100, 6)]
    assert all(channel != 9 for _, m in events if hasattr(m, "channel") for channel in [m.channel])  # GM drums left alone
    assert (0, 6, BEND_RANGE_SEMITONES) in rpn
    bend = {m.channel: 0 for _, m in events if hasattr(m, "channel")}
    sounded = []
    for _, m in events:
        if m.type == "pitchwheel":
            bend[m.channel] = m.pitch
        elif m.type == "note_on":
            requested = m.note + bend[m.channel] * FLUIDSYNTH_BEND_SCALE * BEND_RANGE_SEMITONES / 8192
            sounded.append(100 * requested - FLUIDSYNTH_TRUNCATION_BIAS)
    expected = [100 * (69 + 12 * math.log2(n.frequency(pelog.tonic_hz) / 440)) for n in notes]
    np.testing.assert_allclose(sounded, expected, atol=0.03)  # cents: one bend step is 0.025


def test_midi_rotates_channels_for_overlapping_notes(tmp_path: Path) -> None:
    chord = [MicroNote(onset=0.0, duration=1.0, cents=c) for c in (0.0, 350.0, 700.0, 1050.0)]
    write_microtonal_midi(chord, tmp_path / "chord.mid", program=0, tonic_hz=261.63)
    channels = [m.channel for _, m in _midi_events(tmp_path / "chord.mid") if m.type == "note_on"]
    assert len(set(channels)) == 4


def test_midi_refuses_more_than_fifteen_simultaneous_notes(tmp_path: Path) -> None:
    cluster = [MicroNote(onset=0.0, duration=1.0, cents=10.0 * k) for k in range(16)]
    with pytest.raises(InputError, match="more than 15 notes sound at once"):
        write_microtonal_midi(cluster, tmp_path / "cluster.mid", program=0, tonic_hz=261.63)


@pytest.mark.parametrize("timbre", [SUSTAINED, PLUCKED])
def test_additive_render_is_at_the_exact_frequency(timbre: Any) -> None:
    slendro = load_tradition("javanese_slendro")
    notes = [MicroNote(onset=0.0, duration=1.0, cents=717.0)]
    y = render_additive(notes, tonic_hz=slendro.tonic_hz, timbre=timbre, sample_rate=SR)
    assert y.dtype == np.float32 and y.ndim == 1
    assert y.size == math.ceil((1.0 + timbre.release_s) * SR) + 1
    assert 0.05 < np.max(np.abs(y)) <= 0.3
    exact = slendro.tonic_hz * 2 ** (717 / 1200)
    assert 1200 * math.log2(peak_hz(y, near_hz=exact) / exact) == pytest.approx(0.0, abs=0.1)


def test_additive_render_of_a_pelog_scale_tracks_to_the_file_values() -> None:
    pelog = load_tradition("javanese_pelog")
    notes = scale_notes(pelog.scale_cents(), note_s=0.6, gap_s=0.05)
    y = render_additive(notes, tonic_hz=pelog.tonic_hz, sample_rate=SR)
    tracked = note_pitches(track_pitch(y, sample_rate=SR, fmin=200, fmax=800), spans=[(n.onset, n.onset + n.duration) for n in notes])
    cents = hz_to_cents([t.hz for t in tracked], tonic_hz=pelog.tonic_hz)
    np.testing.assert_allclose(cents, pelog.scale_cents(), atol=2.0)  # the tracker's floor: about 1 cent


@needs_fluidsynth
def test_fluidsynth_pelog_degree_tracks_to_the_file_value() -> None:
    pelog = load_tradition("javanese_pelog")
    degree4 = {d.name: d.cents for d in pelog.degrees}["4"]  # 540 cents: 40 cents off any equal-tempered key
    notes = [MicroNote(onset=0.0, duration=1.0, cents=degree4)]
    y = render_fluidsynth(notes, program="violin", soundfont=FLUIDR3, tonic_hz=pelog.tonic_hz, sample_rate=SR)
    (tracked,) = note_pitches(track_pitch(y, sample_rate=SR, fmin=200, fmax=800), spans=[(0.0, 1.0)])
    assert float(hz_to_cents(tracked.hz, tonic_hz=pelog.tonic_hz)) == pytest.approx(degree4, abs=5.0)  # soundfont tuning: a few cents


@needs_fluidsynth
def test_fluidsynth_bends_move_a_key_by_exactly_the_requested_cents() -> None:
    a4 = MicroNote(onset=0.0, duration=1.0, hz=440.0)
    base = peak_hz(render_fluidsynth([a4], program="flute", soundfont=FLUIDR3), near_hz=440.0)
    for detune in (-37.3, 12.5, 49.0):
        note = MicroNote(onset=0.0, duration=1.0, cents=detune)
        y = render_fluidsynth([note], program="flute", soundfont=FLUIDR3, tonic_hz=440.0)
        moved = peak_hz(y, near_hz=440.0 * 2 ** (detune / 1200))
        assert 1200 * math.log2(moved / base) == pytest.approx(detune, abs=1.0)  # both within ½ cent of the soundfont's tuning
