"""The visual features on synthetic signals: fractal dimensions against known values (a straight
line, a sine, white noise, a hand-computed series), pitch and its deviation from a tuning grid,
octave bands, the spectrogram and the waveform envelope, and bad input refused."""

from __future__ import annotations

import math
from contextlib import AbstractContextManager, nullcontext
from typing import Any

import numpy as np
import pytest
from numpy.typing import NDArray

from core.errors import InputError
from ml.tradition import load_tradition, traditions
from ml.visual.features import (
    TuningGrid,
    band_amplitudes,
    cents_above,
    fractal_dimension,
    higuchi_fd,
    katz_fd,
    log_mel,
    octave_bands,
    pitch_contour,
    pool_columns,
    waveform_envelope,
)

SR = 22050


def sine(hz: float, seconds: float, *, amplitude: float = 0.5, sr: int = SR) -> NDArray[np.float64]:
    return amplitude * np.sin(2 * np.pi * hz * np.arange(int(seconds * sr)) / sr)


def noise(n: int, seed: int = 7) -> NDArray[np.float64]:
    return np.random.default_rng(seed).standard_normal(n)


# ------------------------------------------------------------------------------ fractal dimension
@pytest.mark.parametrize("slope", [1e-4, -3.0, 250.0])
def test_a_straight_line_has_dimension_one_by_both_methods(slope: float) -> None:
    line = slope * np.arange(2048)
    assert float(katz_fd(line)) == pytest.approx(1.0, abs=1e-12)
    assert float(higuchi_fd(line)) == pytest.approx(1.0, abs=1e-9)


def test_katz_matches_a_hand_computed_series() -> None:
    # x = 0, 2, 1: L = 2 + 1 = 3, d = max(2, 1) = 2, n = 2: FD = log10 2 / (log10 2 + log10(2/3))
    expected = math.log10(2) / (math.log10(2) + math.log10(2 / 3))
    assert float(katz_fd([0.0, 2.0, 1.0])) == pytest.approx(expected, rel=1e-12)
    assert expected == pytest.approx(2.4094, abs=1e-4)


def test_higuchi_of_white_noise_is_about_two_and_of_a_sine_about_one() -> None:
    frames = noise(8 * 2048).reshape(8, 2048)
    assert np.mean(higuchi_fd(frames)) == pytest.approx(2.0, abs=0.03)
    assert float(higuchi_fd(sine(440, 0.1)[:2048])) == pytest.approx(1.0, abs=0.05)
    assert float(higuchi_fd(sine(5, 0.1)[:2048])) == pytest.approx(1.0, abs=0.01)


def test_katz_orders_line_sine_noise_and_neither_depends_on_the_amplitude_scale() -> None:
    x = sine(440, 0.1)[:2048]
    n = noise(2048)
    assert 1.0 < float(katz_fd(sine(5, 0.1)[:2048])) < float(katz_fd(x)) < float(katz_fd(n))
    assert float(katz_fd(1000 * n)) == pytest.approx(float(katz_fd(n)), rel=1e-12)
    assert float(higuchi_fd(1000 * n)) == pytest.approx(float(higuchi_fd(n)), rel=1e-12)


def test_a_flat_frame_has_no_dimension() -> None:
    out = fractal_dimension(np.concatenate([np.zeros(4096), noise(4096)]), sample_rate=SR)
    assert np.isnan(out.katz[0]) and np.isnan(out.higuchi[0])
    assert np.all(np.isfinite(out.katz[-2:])) and np.all(np.isfinite(out.higuchi[-2:]))


def test_fractal_dimension_frames_the_signal_without_padding() -> None:
    y = noise(10_000)
    out = fractal_dimension(y, sample_rate=SR, frame_length=2048, hop_length=512, kmax=8)
    frames = 1 + (10_000 - 2048) // 512
    assert out.katz.shape == out.higuchi.shape == out.times.shape == (frames,)
    assert out.times[0] == pytest.approx(1024 / SR) and out.times[1] - out.times[0] == pytest.approx(512 / SR)
    assert out.higuchi[3] == pytest.approx(float(higuchi_fd(y[3 * 512: 3 * 512 + 2048], kmax=8)))
    assert out.katz[3] == pytest.approx(float(katz_fd(y[3 * 512: 3 * 512 + 2048])))


# ------------------------------------------------------------------------------ pitch and tuning grids
def test_cents_above_the_tonic() -> None:
    got = cents_above([880.0, 440 * 2 ** (1 / 12), 220.0, np.nan, 0.0], tonic_hz=440.0)
    assert got[:3] == pytest.approx([1200.0, 100.0, -1200.0])
    assert np.isnan(got[3]) and np.isnan(got[4])


def test_grid_deviation_folds_over_the_period_and_keeps_unvoiced_frames_empty() -> None:
    grid = TuningGrid((0.0, 200.0, 400.0), ("do", "re", "mi"), period_cents=1200.0)
    near = grid.deviations([10.0, 190.0, 1190.0, -20.0, 100.0, 2410.0, np.nan])
    assert near.degree.tolist() == [0, 1, 0, 0, 0, 0, -1]
    assert near.deviation_cents[:6] == pytest.approx([10.0, -10.0, -10.0, -20.0, 100.0, 10.0])  # 100: a tie, the lower degree
    assert near.canonical_cents[:6] == pytest.approx([0.0, 200.0, 1200.0, 0.0, 0.0, 2400.0])
    assert np.isnan(near.deviation_cents[6]) and np.isnan(near.canonical_cents[6])


@pytest.mark.parametrize("tradition_id", traditions())
def test_the_adapter_agrees_with_the_traditions_own_deviations(tradition_id: str) -> None:
    tradition = load_tradition(tradition_id)
    grid = TuningGrid.from_tradition(tradition)
    assert grid.cents == tuple(d.cents for d in tradition.degrees) and grid.period_cents == tradition.period_cents
    assert grid.tonic_hz == tradition.tonic_hz and grid.tradition_id == tradition_id
    pitches = np.random.default_rng(1).uniform(-1500, 3000, 200)
    assert grid.deviations(pitches).deviation_cents == pytest.approx(tradition.deviations(pitches), abs=1e-9)


def test_grid_lines_cover_the_range_in_every_period() -> None:
    grid = TuningGrid.equal_temperament()
    lines = grid.lines(low_cents=-100.0, high_cents=1250.0)
    assert [line.cents for line in lines] == [-100.0 + 100 * i for i in range(14)]
    assert (lines[0].name, lines[0].octave) == ("7", -1) and (lines[-1].name, lines[-1].octave) == ("1", 1)


def test_pitch_contour_finds_a_tone_and_its_deviation_from_the_grid() -> None:
    tonic = 220.0
    hz = tonic * 2 ** (330 / 1200)  # 30 cents above the minor third of 12-TET
    y = np.concatenate([sine(hz, 1.0), np.zeros(SR // 2)])
    contour = pitch_contour(y, sample_rate=SR)
    assert contour.times.shape == contour.f0_hz.shape == contour.voiced_probability.shape == (1 + y.size // 512,)
    voiced = np.isfinite(contour.f0_hz)
    assert voiced[: int(0.8 * SR / 512)].mean() > 0.9 and not voiced[-10:].any()
    near = TuningGrid.equal_temperament(tonic_hz=tonic).deviations(cents_above(contour.f0_hz, tonic_hz=tonic))
    assert np.median(near.deviation_cents[voiced]) == pytest.approx(30.0, abs=6.0)  # pYIN's bins are 10 cents wide
    assert set(near.degree[voiced].tolist()) == {3}


# ------------------------------------------------------------------------------ bands, spectrogram, waveform
def test_octave_bands_at_22050_hz() -> None:
    bands = octave_bands(sample_rate=SR)
    assert [b.centre_hz for b in bands[:-1]] == [62.5, 125, 250, 500, 1000, 2000, 4000]
    assert all(b.high_hz / b.low_hz == pytest.approx(2.0) for b in bands[:-1])
    assert bands[-1].low_hz == pytest.approx(4000 * math.sqrt(2)) and bands[-1].high_hz == SR / 2
    assert bands[-1].label.startswith("≥")


def test_a_tone_sounds_in_its_own_band() -> None:
    out = band_amplitudes(sine(1000, 1.0, amplitude=1.0), sample_rate=SR, columns=20)
    assert out.db.shape == (len(out.bands), 20) and out.times.shape == (20,)
    middle = out.db[:, 4:16]  # away from the edges
    at = [b.centre_hz for b in out.bands].index(1000)
    assert np.median(middle[at]) == pytest.approx(-3.01, abs=0.3)  # a full-scale sine's RMS is 1/√2
    others = np.delete(middle, at, axis=0)
    assert np.all(others < -20)


def test_log_mel_peaks_at_the_tone_and_is_pooled_to_the_columns() -> None:
    mel = log_mel(sine(1000, 2.0), sample_rate=SR, n_mels=64, columns=20)
    assert mel.db.shape == (64, 20) and mel.times.shape == (20,) and mel.mel_hz.shape == (64,)
    assert mel.db.max() == 0.0 and mel.db.min() >= -80.0
    peak = mel.mel_hz[int(np.argmax(mel.db[:, 10]))]
    assert 900 < peak < 1100


def test_waveform_envelope_is_min_and_max_per_column() -> None:
    y = np.array([0.0, 0.5, -0.25, 1.0, -1.0, 0.1, 0.2, 0.3, -0.3, 0.0])
    env = waveform_envelope(y, sample_rate=10, columns=5)
    assert env.minimum == pytest.approx([0.0, -0.25, -1.0, 0.2, -0.3])  # float32 samples, as every feature reads them
    assert env.maximum == pytest.approx([0.5, 1.0, 0.1, 0.3, 0.0])
    assert env.times == pytest.approx([0.1, 0.3, 0.5, 0.7, 0.9])
    assert waveform_envelope(y, sample_rate=10, columns=100).minimum.size == 10


def test_pool_columns_averages_contiguous_groups() -> None:
    x = np.arange(10.0).reshape(1, 10)
    assert pool_columns(x, columns=4).tolist() == [[0.5, 3.0, 5.5, 8.0]]  # groups [0,2) [2,5) [5,7) [7,10)
    assert pool_columns(x, columns=20) is not None and pool_columns(x, columns=20).shape == (1, 10)


# ------------------------------------------------------------------------------ bad input
@pytest.mark.parametrize(("call", "expect"), [
    (lambda: katz_fd(np.ones(10)), nullcontext()),
    (lambda: higuchi_fd(noise(40), kmax=10), nullcontext()),
    (lambda: higuchi_fd(noise(19), kmax=10), pytest.raises(InputError, match="at least 20 samples")),
    (lambda: higuchi_fd(noise(100), kmax=1), pytest.raises(InputError, match="kmax must be at least 2")),
    (lambda: katz_fd([1.0, np.nan, 2.0]), pytest.raises(InputError, match="NaN")),
    (lambda: fractal_dimension(np.zeros((2, 4096)), sample_rate=SR), pytest.raises(InputError, match="mono")),
    (lambda: fractal_dimension(np.zeros(100), sample_rate=SR), pytest.raises(InputError, match="shorter than one frame")),
    (lambda: log_mel(np.zeros(4096), sample_rate=SR, fmin=20_000), pytest.raises(InputError, match="fmin")),
    (lambda: cents_above([440.0], tonic_hz=0.0), pytest.raises(InputError, match="tonic_hz")),
    (lambda: TuningGrid((0.0, 700.0, 500.0), ("a", "b", "c")), pytest.raises(InputError, match="rise strictly")),
    (lambda: TuningGrid((0.0, 1300.0), ("a", "b")), pytest.raises(InputError, match="rise strictly")),
    (lambda: TuningGrid((0.0,), ("a", "b")), pytest.raises(InputError, match="one name per degree")),
], ids=["flat-katz", "short-ok", "too-short", "kmax", "nan", "stereo", "short-audio", "fmin", "tonic", "order", "period", "names"])
def test_bad_input_is_refused_with_a_reason(call: Any, expect: AbstractContextManager[Any]) -> None:
    with expect:
        call()
