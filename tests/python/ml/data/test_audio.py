"""Reading a community's own audio and score files: good ones load, bad ones say what is wrong."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf  # type: ignore[import-untyped]
from music21 import chord, dynamics, note, stream, tempo, tie
from numpy.typing import NDArray

from core.errors import InputError
from ml.data.audio import add_noise, load_audio, resample, trim_trailing_silence
from ml.data.scores import load_score, note_events, tempo_map

RATE = 44100


def sine(*, hz: float = 440.0, seconds: float = 1.0, dbfs: float = -6.0, channels: int = 2) -> NDArray[np.float32]:
    """A sine at RATE Hz, shape (n, channels), peak at dbfs."""
    t = np.arange(int(seconds * RATE)) / RATE
    y = 10 ** (dbfs / 20) * np.sin(2 * np.pi * hz * t)
    return np.repeat(y[:, None], channels, axis=1).astype(np.float32)


def dominant_hz(y: NDArray[np.float32], sample_rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(y * np.hanning(y.size)))
    return float(np.fft.rfftfreq(y.size, 1 / sample_rate)[int(np.argmax(spectrum))])


def wav(data: NDArray[np.float32]) -> Callable[[Path], Path]:
    def make(path: Path) -> Path:
        sf.write(path, data, RATE)
        return path

    return make


def raw(content: bytes) -> Callable[[Path], Path]:
    def make(path: Path) -> Path:
        path.write_bytes(content)
        return path

    return make


def music21_file(fmt: str) -> Callable[[Path], Path]:
    def make(path: Path) -> Path:
        stream.Stream([note.Note("C4"), note.Note("E4"), note.Note("G4")]).write(fmt, fp=path)  # type: ignore[no-untyped-call]
        return path

    return make


def missing(path: Path) -> Path:
    return path


def fails(pattern: str) -> AbstractContextManager[object]:
    return pytest.raises(InputError, match=pattern)


RANDOM = np.random.default_rng(0).bytes(4096)
ABC = b"X:1\nT:scale\nL:1/4\nK:C\nCDEF|G4|\n"

CASES: list[tuple[str, Callable[[Path], Path], str, AbstractContextManager[object]]] = [
    # (file name, how to make it, loader, expectation)
    ("tone.wav", wav(sine()), "audio", nullcontext()),
    ("tone.flac", wav(sine(channels=1)), "audio", nullcontext()),
    ("missing.wav", missing, "audio", fails(r"missing\.wav does not exist")),
    ("empty.wav", raw(b""), "audio", fails(r"empty\.wav is empty")),
    ("corrupt.wav", raw(RANDOM), "audio", fails(r"corrupt\.wav could not be decoded as WAV.*export it again")),
    ("corrupt.mp3", raw(RANDOM), "audio", fails(r"corrupt\.mp3 could not be decoded as MP3")),
    ("zeros.wav", wav(np.zeros((RATE, 2), np.float32)), "audio", fails(r"zeros\.wav is silent")),
    ("whisper.wav", wav(sine(dbfs=-70.0)), "audio", fails(r"whisper\.wav is silent \(peak -\d+\.\d dBFS, below -60 dBFS\)")),
    ("no-samples.wav", wav(np.zeros((0, 1), np.float32)), "audio", fails(r"holds no samples")),
    ("notes.txt", raw(b"hello"), "audio", fails(r"notes\.txt: unsupported extension '\.txt'.*FLAC")),
    ("song.m4a", raw(RANDOM), "audio", fails(r"unsupported extension '\.m4a'.*ffmpeg")),
    ("tune.abc", raw(ABC), "score", nullcontext()),
    ("tune.mid", music21_file("midi"), "score", nullcontext()),
    ("tune.musicxml", music21_file("musicxml"), "score", nullcontext()),
    ("tune.krn", raw(b"**kern\n4c\n4e\n4g\n*-\n"), "score", nullcontext()),
    ("missing.mid", missing, "score", fails(r"missing\.mid does not exist")),
    ("empty.musicxml", raw(b""), "score", fails(r"empty\.musicxml is empty")),
    ("corrupt.mid", raw(RANDOM), "score", fails(r"corrupt\.mid could not be read as midi.*export it again")),
    ("corrupt.musicxml", raw(b"<score-partwise>"), "score", fails(r"could not be read as musicxml")),
    ("corrupt.krn", raw(RANDOM), "score", fails(r"could not be read as humdrum")),
    ("header-only.abc", raw(b"X:1\nT:title\nK:C\n"), "score", fails(r"has no notes")),
    ("two.abc", raw(ABC + b"\n" + ABC.replace(b"X:1", b"X:2")), "score", fails(r"holds 2 pieces.*read_collection")),
    ("tune.pdf", raw(b"%PDF-1.4"), "score", fails(r"unsupported extension '\.pdf'.*MusicXML")),
]


@pytest.mark.parametrize(("name", "make", "loader", "expectation"), CASES, ids=[c[0] for c in CASES])
def test_load_files(
    tmp_path: Path, name: str, make: Callable[[Path], Path], loader: str, expectation: AbstractContextManager[object]
) -> None:
    path = make(tmp_path / name)
    with expectation:
        if loader == "audio":
            y, sample_rate = load_audio(path)
            assert sample_rate == 22050 and y.dtype == np.float32 and y.shape == (22050,)
        else:
            assert len(load_score(path).flatten().notes) >= 3


@pytest.mark.parametrize("extension", [".wav", ".flac", ".ogg", ".mp3", ".aiff"])
def test_load_audio_round_trip(tmp_path: Path, extension: str) -> None:
    path = tmp_path / f"tone{extension}"
    sf.write(path, sine(hz=440.0, dbfs=-6.0), RATE)
    y, sample_rate = load_audio(path, sample_rate=16000)
    assert sample_rate == 16000 and y.dtype == np.float32 and y.ndim == 1
    assert abs(y.size - 16000) < 0.1 * 16000  # MP3 and Vorbis pad a little
    assert abs(dominant_hz(y, 16000) - 440.0) < 2.0
    assert abs(20 * np.log10(np.max(np.abs(y))) + 6.0) < 1.0
    if extension in (".wav", ".flac", ".aiff"):  # lossless: exactly the resampled original
        expected = resample(sine(hz=440.0, dbfs=-6.0)[:, 0], orig_rate=RATE, target_rate=16000)
        np.testing.assert_allclose(y, expected, atol=1e-4)


def test_load_audio_keeps_the_native_rate_on_request(tmp_path: Path) -> None:
    path = tmp_path / "tone.flac"
    sf.write(path, sine(seconds=0.5), RATE)
    y, sample_rate = load_audio(path, sample_rate=None)
    assert sample_rate == RATE and y.shape == (RATE // 2,)


def test_trim_trailing_silence_keeps_leading_silence() -> None:
    y = np.concatenate([np.zeros(100), np.ones(50), 1e-4 * np.ones(100), np.zeros(100)]).astype(np.float32)
    assert trim_trailing_silence(y, top_db=60.0).shape == (150,)
    assert trim_trailing_silence(np.zeros(10, np.float32)).shape == (0,)


def test_add_noise_is_exact_and_seeded() -> None:
    y = sine(channels=1)[:, 0]
    noisy = add_noise(y, snr_db=12.0, seed=3)
    snr = 10 * np.log10(np.mean(y.astype(np.float64) ** 2) / np.mean((noisy - y).astype(np.float64) ** 2))
    assert abs(snr - 12.0) < 0.01
    assert np.array_equal(noisy, add_noise(y, snr_db=12.0, seed=3))
    with fails(r"silent"):
        add_noise(np.zeros(10, np.float32), snr_db=10.0, seed=0)


def test_note_events_merge_ties_and_follow_dynamics() -> None:
    tied_start, tied_stop = note.Note("C4", quarterLength=1.0), note.Note("C4", quarterLength=0.5)
    tied_start.tie, tied_stop.tie = tie.Tie("start"), tie.Tie("stop")  # type: ignore[no-untyped-call]
    piano = dynamics.Dynamic("p")  # type: ignore[no-untyped-call]
    part: stream.Stream[Any] = stream.Stream([tied_start, tied_stop, piano, chord.Chord(["E4", "G~4"]), note.Rest(), note.Note("A4")])
    part[-1].volume.velocity = 120
    events = note_events(stream.Score([part]))
    assert [(e.onset, e.duration, e.pitch, e.velocity) for e in events] == [
        (0.0, 1.5, 60.0, 80),
        (1.5, 1.0, 64.0, 49),
        (1.5, 1.0, 67.5, 49),
        (3.5, 1.0, 69.0, 120),
    ]


def test_tempo_map_starts_at_120_and_keeps_the_last_mark_of_an_onset() -> None:
    part: stream.Stream[Any] = stream.Stream([note.Note("C4", quarterLength=4.0), note.Note("D4", quarterLength=4.0)])
    part.insert(4.0, tempo.MetronomeMark(number=80))
    part.insert(4.0, tempo.MetronomeMark(number=60))
    part.insert(6.0, tempo.MetronomeMark(number=60))
    assert tempo_map(stream.Score([part])) == [(0.0, 120.0), (4.0, 60.0)]


def test_abc_accidentals_carry_to_the_end_of_the_bar(tmp_path: Path) -> None:
    """ABC 2.1, as the Essen and O'Neill transcriptions assume: `_B B` in one bar is B♭ twice;
    the next bar is back to the key's B♮. Text that declares its own version keeps it."""
    from ml.data.scores import parse_abc

    tune = "X:1\nT:t\nM:4/4\nL:1/4\nK:C\n_B B =B B|B4|\n"
    assert [e.pitch for e in note_events(parse_abc(tune))] == [70, 70, 71, 71, 71]
    path = tmp_path / "tune.abc"
    path.write_text(tune)
    assert [e.pitch for e in note_events(load_score(path))] == [70, 70, 71, 71, 71]
    assert [e.pitch for e in note_events(parse_abc("%abc-1.6\n" + tune))][:2] == [70, 71]
