"""Feature shapes and meaning, on synthetic signals."""

from __future__ import annotations

import numpy as np
import pytest

from core.errors import InputError
from ml.recognition.features import FeatureConfig, logmel, logmel_patches, mfcc_context, segments

SR = 22_050


def _sine(freq: float, seconds: float, amplitude: float = 0.5) -> np.ndarray:
    t = np.arange(int(seconds * SR)) / SR
    return (amplitude * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def test_segments_and_patches_have_the_papers_shapes() -> None:
    y = _sine(440, 10.0)
    assert segments(y).shape == (3, 66_150)
    assert logmel_patches(y).shape == (3, 128, 128)


def test_too_short_audio_is_a_clear_error() -> None:
    with pytest.raises(InputError, match="shorter than one 3-s segment"):
        segments(_sine(440, 1.0))


def test_mfcc_context_stacks_eleven_frames() -> None:
    rng = np.random.default_rng(0)
    y = rng.standard_normal(SR * 2).astype(np.float32) * 0.1
    x = mfcc_context(y)
    assert x.shape[1] == 143
    t = x.shape[0] // 2
    centre = x[t, 5 * 13: 6 * 13]
    assert np.allclose(x[t + 1, 4 * 13: 5 * 13], centre)  # frame t seen from t+1 is one block to the left
    assert np.allclose(x[t - 5, 10 * 13: 11 * 13], centre)
    assert np.allclose(x[0, :13], x[0, 5 * 13: 6 * 13])  # the edge repeats the first frame


def test_logmel_peaks_at_the_sines_band_and_levels_are_exact() -> None:
    cfg = FeatureConfig()
    s = logmel(_sine(1000, 3.0, amplitude=1.0), cfg=cfg)
    import librosa

    centres = librosa.mel_frequencies(n_mels=cfg.n_mels + 2, fmax=cfg.sample_rate / 2)[1:-1]
    band = int(np.argmax(s[:, s.shape[1] // 2]))
    assert abs(centres[band] - 1000) < 60
    quiet = logmel(_sine(1000, 3.0, amplitude=0.01), cfg=cfg)
    assert quiet[band, 60] == pytest.approx(s[band, 60] - 40, abs=1.0)  # 40 dB quieter
