"""Rendering with the real FluidSynth and Debian's GM soundfonts (skipped where they are not installed)."""

from __future__ import annotations

import shutil
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any

import mido  # type: ignore[import-untyped]
import numpy as np
import pytest
from music21 import note, stream
from numpy.typing import NDArray

from core.errors import InputError
from ml.data.abc import music21_corpus_dir, read_collection
from ml.data.render import INSTRUMENTS, TAIL_SECONDS, SoundFont, program_number, render, soundfonts, write_midi
from tests.python.ml.spectrum import peak_hz

FLUIDR3 = Path("/usr/share/sounds/sf2/FluidR3_GM.sf2")
TIMGM = Path("/usr/share/sounds/sf2/TimGM6mb.sf2")
SR = 22050

pytestmark = [
    pytest.mark.skipif(shutil.which("fluidsynth") is None, reason="FluidSynth is not installed: apt-get install fluidsynth"),
    pytest.mark.skipif(
        not (FLUIDR3.is_file() and TIMGM.is_file()),
        reason="GM soundfonts missing: apt-get install fluid-soundfont-gm timgm6mb-soundfont",
    ),
]


@pytest.fixture(scope="module")
def essen_tune() -> str:
    """The first tune of Essen's han1.abc: 2/4, 11 bars, 44 quarter notes, no tempo mark (120)."""
    return next(read_collection(music21_corpus_dir() / "essenFolksong" / "han1.abc")).text


def long_note(pitch: str, *, quarters: float = 8.0) -> stream.Stream[Any]:
    return stream.Stream([note.Note(pitch, quarterLength=quarters)])


def fundamental(y: NDArray[np.float32], *, near_hz: float) -> float:
    """Frequency in Hz of the strongest FFT peak within ±60 cents of near_hz (0.5–3.5 s of y)."""
    return peak_hz(y, sr=SR, near_hz=near_hz, cents=60, start_s=0.5, end_s=3.5, pad=8)


def centroid(y: NDArray[np.float32]) -> float:
    """Spectral centroid in Hz of the whole signal."""
    power = np.abs(np.fft.rfft(y.astype(np.float64))) ** 2
    return float(np.sum(np.fft.rfftfreq(y.size, 1 / SR) * power) / np.sum(power))


def power(y: NDArray[np.floating]) -> float:
    return float(np.mean(np.square(y, dtype=np.float64)))


@pytest.mark.parametrize("tempo_bpm", [None, 90.0])
def test_render_essen_tune_has_the_length_of_its_tempo(essen_tune: str, tempo_bpm: float | None) -> None:
    y = render(essen_tune, program="flute", soundfont=FLUIDR3, tempo_bpm=tempo_bpm)
    written = 44 * 60 / (tempo_bpm or 120.0)
    assert y.dtype == np.float32 and y.ndim == 1
    assert written - 0.5 < y.size / SR < written + TAIL_SECONDS
    assert 10 * np.log10(power(y)) > -40  # not silent: the flute plays throughout


def test_render_soundfont_families_sound_different(essen_tune: str) -> None:
    a = render(essen_tune, program="violin", soundfont=FLUIDR3)
    b = render(essen_tune, program="violin", soundfont=TIMGM)
    n = min(a.size, b.size)
    assert power(a[:n] - b[:n]) > 0.5 * min(power(a), power(b))


def test_render_program_changes_timbre(essen_tune: str) -> None:
    flute = render(essen_tune, program="flute", soundfont=FLUIDR3)
    bagpipe = render(essen_tune, program=INSTRUMENTS["bagpipe"], soundfont=FLUIDR3)
    assert centroid(bagpipe) > 1.5 * centroid(flute)


@pytest.mark.parametrize(
    ("pitch", "tuning_cents", "expected_cents"),
    [("A4", 0.0, 0.0), ("A4", 50.0, 50.0), ("A4", -200.0, -200.0), ("A4", 200.0, 200.0), ("A~4", 0.0, 50.0)],
    ids=["A4", "A4+50c", "A4-200c", "A4+200c", "A-half-sharp"],
)
def test_render_tuning_moves_the_fundamental(pitch: str, tuning_cents: float, expected_cents: float) -> None:
    # FluidR3's cello A4 sample is in tune to within 0.1 cent; other presets are off by a few cents of their own.
    y = render(long_note(pitch), program="cello", soundfont=FLUIDR3, tuning_cents=tuning_cents)
    expected_hz = 440 * 2 ** (expected_cents / 1200)
    measured = fundamental(y, near_hz=expected_hz)
    assert abs(1200 * np.log2(measured / expected_hz)) < 3


@pytest.mark.parametrize("noise_db", [0.0, 10.0, 30.0])
def test_render_noise_has_the_requested_snr(essen_tune: str, noise_db: float) -> None:
    clean = render(essen_tune, program="fiddle", soundfont=TIMGM)
    noisy = render(essen_tune, program="fiddle", soundfont=TIMGM, noise_db=noise_db, seed=7)
    assert abs(10 * np.log10(power(clean) / power(noisy - clean)) - noise_db) < 1


def test_render_is_deterministic_and_seeded(essen_tune: str) -> None:
    settings = {"program": "sitar", "soundfont": TIMGM, "tuning_cents": 23.0, "reverb": 0.6, "noise_db": 20.0}
    a = render(essen_tune, seed=1, **settings)  # type: ignore[arg-type]
    b = render(essen_tune, seed=1, **settings)  # type: ignore[arg-type]
    c = render(essen_tune, seed=2, **settings)  # type: ignore[arg-type]
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)


def test_render_reverb_lengthens_the_tail() -> None:
    dry = render(long_note("A4", quarters=1.0), program="marimba", soundfont=FLUIDR3)
    wet = render(long_note("A4", quarters=1.0), program="marimba", soundfont=FLUIDR3, reverb=1.0)
    assert wet.size > dry.size + SR // 10


def test_write_midi_sets_program_bend_range_reverb_and_tempo(tmp_path: Path) -> None:
    path = tmp_path / "a.mid"
    write_midi(long_note("A4"), path, program="sitar", tempo_bpm=100.0, tuning_cents=150.0, reverb=0.5)
    messages = list(mido.MidiFile(path).tracks[0])
    controls = [(m.control, m.value) for m in messages if m.type == "control_change"]
    assert [m.program for m in messages if m.type == "program_change"] == [104]
    assert controls[:4] == [(101, 0), (100, 0), (6, 2), (38, 0)]  # RPN 0: ±2 semitones covers 150 cents
    assert (91, 64) in controls and (93, 0) in controls
    assert [round(mido.tempo2bpm(m.tempo)) for m in messages if m.type == "set_tempo"] == [100]
    assert next(m.pitch for m in messages if m.type == "pitchwheel") > 8192 * 150 / 200


@pytest.mark.parametrize(
    ("change", "expectation"),
    [
        ({}, nullcontext()),
        ({"soundfont": Path("/nonexistent/FluidR3_GM.sf2")}, pytest.raises(InputError, match="fluid-soundfont-gm")),
        ({"soundfont": "not-a-soundfont"}, pytest.raises(InputError, match="is not a SoundFont")),
        ({"no_fluidsynth": True}, pytest.raises(InputError, match="apt-get install fluidsynth")),
        ({"program": "theremin"}, pytest.raises(InputError, match="unknown instrument 'theremin'")),
        ({"program": 128}, pytest.raises(InputError, match="0–127")),
        ({"reverb": 1.5}, pytest.raises(InputError, match="reverb")),
        ({"tuning_cents": 5000.0}, pytest.raises(InputError, match="tuning_cents")),
        ({"sample_rate": 4000}, pytest.raises(InputError, match="sample_rate")),
        ({"noise_db": float("nan")}, pytest.raises(InputError, match="noise_db")),
        ({"score": "X:1\nT:only a title\nK:C\n"}, pytest.raises(InputError, match="no notes")),
        ({"score": stream.Score([note.Rest()])}, pytest.raises(InputError, match="no sounding notes")),
    ],
    ids=[
        "good", "missing-soundfont", "not-a-soundfont", "no-fluidsynth", "unknown-instrument", "program-128",
        "reverb-1.5", "tuning-5000c", "sample-rate-4000", "noise-nan", "abc-without-notes", "only-rests",
    ],
)  # fmt: skip
def test_render_inputs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, change: dict[str, object], expectation: AbstractContextManager[object]
) -> None:
    settings: dict[str, object] = {"score": long_note("C5", quarters=1.0), "program": "koto", "soundfont": TIMGM} | change
    if settings.pop("no_fluidsynth", False):
        monkeypatch.setenv("PATH", str(tmp_path))
    if settings["soundfont"] == "not-a-soundfont":
        settings["soundfont"] = tmp_path / "random.sf2"
        settings["soundfont"].write_bytes(np.random.default_rng(0).bytes(4096))  # type: ignore[attr-defined]
    with expectation:
        score = settings.pop("score")
        assert render(score, **settings).size > 0  # type: ignore[arg-type]


def test_soundfonts_lists_known_families_once(tmp_path: Path) -> None:
    (tmp_path / "TimGM6mb.sf2").write_bytes(b"RIFF")
    (tmp_path / "default-GM.sf2").symlink_to(tmp_path / "TimGM6mb.sf2")
    (tmp_path / "MuseScore_General.sf3").write_bytes(b"RIFF")
    (tmp_path / "SomethingElse.sf2").write_bytes(b"RIFF")
    assert soundfonts(directories=[tmp_path, tmp_path / "missing"]) == [
        SoundFont(path=(tmp_path / "MuseScore_General.sf3").resolve(), family="FluidR3"),
        SoundFont(path=(tmp_path / "TimGM6mb.sf2").resolve(), family="TimGM6mb"),
    ]
    installed = {s.path: s.family for s in soundfonts()}
    assert installed[FLUIDR3] == "FluidR3" and installed[TIMGM] == "TimGM6mb"


def test_program_number_accepts_names_and_numbers() -> None:
    assert program_number("Sitar") == 104 and program_number(" pan flute ") == 75 and program_number(42) == 42
    assert all(0 <= n <= 127 for n in INSTRUMENTS.values())
