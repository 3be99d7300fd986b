"""The one preprocessing path: BS.1770 loudness against the standard's own figures, and the
invariances `prepare` promises (level, leading/trailing silence, channel layout), on synthetic signals."""

from __future__ import annotations

import math
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf  # type: ignore[import-untyped]

from core.errors import InputError
from ml.data import loudness
from ml.data.preprocess import PreprocessConfig, prepare, prepare_file

SR = 22_050


def tone(seconds: float, *, sr: int = SR, freq: float = 440.0, seed: int = 0) -> np.ndarray:
    """A note train with harmonics and a little noise: (n,) float32, peak about 0.5."""
    t = np.arange(round(seconds * sr)) / sr
    env = 0.5 + 0.5 * np.sin(2 * np.pi * 1.5 * t) ** 2
    y = sum(np.sin(2 * np.pi * freq * h * t) / h for h in (1, 2, 3, 5)) * env
    y = y + 0.01 * np.random.default_rng(seed).standard_normal(len(t))
    return np.asarray(0.5 * y / np.max(np.abs(y)), dtype=np.float32)


def test_k_weighting_at_48k_is_the_standards_table() -> None:
    (b1, a1), (b2, a2) = loudness.k_weighting(sample_rate=48_000)
    np.testing.assert_allclose(b1, [1.53512485958697, -2.69169618940638, 1.19839281085285], atol=1e-8)
    np.testing.assert_allclose(a1, [1.0, -1.69065929318241, 0.73248077421585], atol=1e-8)
    np.testing.assert_allclose(b2, [1.0, -2.0, 1.0])
    np.testing.assert_allclose(a2, [1.0, -1.99004745483398, 0.99007225036621], atol=1e-8)


@pytest.mark.parametrize("sr", [8_000, 22_050, 44_100, 48_000])
def test_full_scale_1khz_sine_reads_minus_3_01_lufs(sr: int) -> None:
    t = np.arange(5 * sr) / sr
    y = np.sin(2 * np.pi * 1000 * t)
    assert loudness.integrated_loudness(y, sample_rate=sr) == pytest.approx(-3.01, abs=0.05)


def test_gates_ignore_silence_and_quiet_passages() -> None:
    y = tone(4.0)
    padded = np.concatenate([y, np.zeros(10 * SR, np.float32), y * 10 ** (-40 / 20)])
    alone = loudness.integrated_loudness(y, sample_rate=SR)
    assert loudness.integrated_loudness(padded, sample_rate=SR) == pytest.approx(alone, abs=0.3)  # the edge blocks count
    ungated = loudness.lufs_of_power(float(np.mean(np.square(loudness.k_weighted(padded, sample_rate=SR)))))
    assert ungated < alone - 5
    assert loudness.integrated_loudness(np.zeros(SR), sample_rate=SR) == -math.inf
    assert loudness.integrated_loudness(tone(2.0) * 1e-4, sample_rate=SR) == -math.inf  # under −70 LUFS: silence


def test_prepare_normalises_to_the_target_loudness() -> None:
    p = prepare(tone(9.5) * 0.05, sample_rate=SR)
    assert loudness.integrated_loudness(p.audio, sample_rate=SR) == pytest.approx(-23.0, abs=0.01)
    assert p.segments.shape == (3, 3 * SR) and not p.silent.any()
    assert p.gain_db == pytest.approx(-23.0 - p.loudness_lufs, abs=1e-9)


@pytest.mark.parametrize("k", range(0, 8))
def test_power_of_two_level_changes_give_identical_samples(k: int) -> None:
    """−6.02·k dB, down to −42 dBFS: floats scale by 2^-k exactly, and so does every power the path computes."""
    y = tone(9.5)
    a, b = prepare(y, sample_rate=SR), prepare(y * np.float32(2.0**-k), sample_rate=SR)
    np.testing.assert_array_equal(a.segments, b.segments)
    np.testing.assert_array_equal(a.silent, b.silent)


@pytest.mark.parametrize("db", [-40.0, -27.3, -13.0, -0.5])
def test_any_level_change_gives_the_same_samples_to_rounding(db: float) -> None:
    y = tone(9.5)
    a, b = prepare(y, sample_rate=SR), prepare(y * np.float32(10 ** (db / 20)), sample_rate=SR)
    np.testing.assert_allclose(a.segments, b.segments, rtol=0, atol=1e-6)


@pytest.mark.parametrize(("lead", "tail"), [(0.0, 0.0), (0.37, 0.0), (0.0, 2.1), (1.234, 5.0)])
def test_leading_and_trailing_silence_vanish_exactly(lead: float, tail: float) -> None:
    y = tone(9.5)
    padded = np.concatenate([np.zeros(round(lead * SR), np.float32), y, np.zeros(round(tail * SR), np.float32)])
    a, b = prepare(y, sample_rate=SR), prepare(padded, sample_rate=SR)
    np.testing.assert_array_equal(a.segments, b.segments)
    assert b.trimmed_s[0] == pytest.approx(lead, abs=1e-3)


def test_duplicated_stereo_channels_are_the_mono_signal() -> None:
    y = tone(9.5)
    np.testing.assert_array_equal(prepare(y, sample_rate=SR).segments,
                                  prepare(np.stack([y, y], axis=1), sample_rate=SR).segments)


@pytest.mark.parametrize(("delay", "gain_db", "sign"), [(22, -3.0, 1), (7, 0.0, 1), (-40, -6.0, 1), (0, -1.0, -1), (300, 0.0, -1)])
def test_a_spaced_pair_is_aligned_before_it_is_mixed(delay: int, gain_db: float, sign: int) -> None:
    """The right channel late (or early) and quieter, or wired the other way round: once aligned, the mix
    is the mono signal but for the shifted edge, where a plain average would comb-filter it (0.5 ms at
    44.1 kHz: a notch at 1 kHz) or, inverted, cancel it."""
    from ml.data.audio import downmix, to_mono

    y = tone(9.5)
    right = np.roll(y, delay) * np.float32(sign * 10 ** (gain_db / 20))
    stereo = np.stack([y, right], axis=1)
    mixed, plain = downmix(stereo), to_mono(stereo)
    inner = slice(abs(delay), len(y) - abs(delay))
    ratio = (1 + 10 ** (gain_db / 20)) / 2
    np.testing.assert_allclose(mixed[inner], y[inner] * ratio, atol=1e-6)
    if delay or sign < 0:
        assert float(np.max(np.abs(plain[inner] - y[inner] * ratio))) > 0.05  # what the plain average would have given
    a = prepare(y, sample_rate=SR).segments
    b = prepare(stereo, sample_rate=SR).segments
    assert a.shape == b.shape
    edge = abs(delay) + 1  # the samples the shift leaves one channel short of
    a, b = a.reshape(-1)[edge:-edge], b.reshape(-1)[edge:-edge]
    assert float(np.max(np.abs(a - b))) < 1e-3 * float(np.max(np.abs(a)))  # the mono signal to the loudness gain's rounding


def test_unrelated_channels_are_averaged_as_they_are_when_no_lag_stands_out() -> None:
    from ml.data.audio import downmix, to_mono

    left, right = tone(4.0, freq=440.0, seed=1), tone(4.0, freq=523.25, seed=2)
    stereo = np.stack([left, right], axis=1)
    assert downmix(stereo).shape == left.shape
    equal = np.stack([left, left], axis=1)
    np.testing.assert_array_equal(downmix(equal), to_mono(equal))  # aligned already: the plain average, exactly


def test_sample_rate_changes_are_close() -> None:
    import librosa

    y = tone(9.5, sr=48_000)
    ref = prepare(y, sample_rate=48_000)
    for sr in (8_000, 16_000, 44_100):
        other = prepare(librosa.resample(y, orig_sr=48_000, target_sr=sr), sample_rate=sr)
        assert other.segments.shape == ref.segments.shape
        assert loudness.integrated_loudness(other.audio, sample_rate=SR) == pytest.approx(-23.0, abs=0.3)


def test_silent_segments_are_marked() -> None:
    y = tone(6.0)
    tail = tone(3.0) * np.float32(10 ** (-35 / 20))  # a faint tail, 35 dB down: near-silence
    p = prepare(np.concatenate([y, tail, tone(3.5)]), sample_rate=SR)
    assert p.silent.tolist() == [False, False, True, False]
    assert len(p.voiced) == 3


@pytest.mark.parametrize("y", [np.zeros(4 * SR), np.full(4 * SR, 1e-6), tone(4.0) * 1e-5], ids=["zeros", "dc-1e-6", "-106dB"])
def test_a_silent_recording_is_silence_throughout(y: np.ndarray) -> None:
    p = prepare(y.astype(np.float32), sample_rate=SR)
    assert p.silent.all() and len(p.silent) >= 1 and p.loudness_lufs == -math.inf


@pytest.mark.parametrize(
    ("y", "sr", "expect"),
    [
        (tone(4.0), SR, nullcontext()),
        (tone(2.0), SR, pytest.raises(InputError, match="shorter than one 3-s segment")),
        (np.array([np.nan] * SR * 4), SR, pytest.raises(InputError, match="NaN")),
        (tone(4.0), 0, pytest.raises(InputError, match="positive")),
    ],
    ids=["good", "too-short", "nan", "bad-rate"],
)
def test_prepare_refuses_bad_input(y: np.ndarray, sr: int, expect: Any) -> None:
    with expect:
        prepare(y, sample_rate=sr)


def test_legacy_config_peak_normalises_and_marks_nothing() -> None:
    p = prepare(tone(6.0) * 0.1, sample_rate=SR, cfg=PreprocessConfig.legacy())
    assert float(np.max(np.abs(p.audio))) == pytest.approx(1.0) and not p.silent.any()
    assert PreprocessConfig.from_json(None) == PreprocessConfig.legacy()
    assert PreprocessConfig.from_json(PreprocessConfig().to_json()) == PreprocessConfig()


@pytest.mark.parametrize("fmt", ["WAV", "FLAC", "OGG", "MP3"])
def test_codec_round_trips_are_close(tmp_path: Path, fmt: str) -> None:
    y = tone(9.5, sr=44_100)
    path = tmp_path / f"x.{fmt.lower()}"
    try:
        sf.write(path, np.stack([y, y], axis=1), 44_100, format=fmt)
    except (sf.LibsndfileError, ValueError, TypeError) as err:  # a libsndfile built without the codec
        pytest.skip(f"libsndfile cannot write {fmt}: {err}")
    ref, got = prepare(y, sample_rate=44_100), prepare_file(path)
    assert abs(len(got.audio) - len(ref.audio)) < 0.05 * SR
    assert got.loudness_lufs == pytest.approx(ref.loudness_lufs, abs=0.5)


def test_trim_silence_is_the_paths_trim() -> None:
    from ml.data.preprocess import trim_silence

    y = tone(4.0)
    padded = np.concatenate([np.zeros(999, np.float32), y, np.zeros(SR, np.float32)])
    np.testing.assert_array_equal(trim_silence(padded), trim_silence(y))
    assert trim_silence(np.zeros(10, np.float32)).shape == (0,)


def test_the_multimodal_encoders_features_ignore_leading_and_trailing_silence() -> None:
    from ml.representation.multimodal_data import AudioSettings, clip_features

    s = AudioSettings()
    y = tone(12.0, sr=s.sample_rate)
    padded = np.concatenate([np.zeros(s.sample_rate // 3, np.float32), y, np.zeros(4 * s.sample_rate, np.float32)])
    for a, b in zip(clip_features(y, sample_rate=s.sample_rate, settings=s),
                    clip_features(padded, sample_rate=s.sample_rate, settings=s), strict=True):
        np.testing.assert_array_equal(a, b)
