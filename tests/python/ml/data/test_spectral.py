"""ml.data.spectral equals librosa's mel spectrogram and MFCC (the features the models were designed on)."""

from __future__ import annotations

import librosa
import numpy as np
import pytest

from ml.data import spectral
from ml.recognition.features import FeatureConfig, logmel, mfcc_context
from tests.python.ml.synthetic import melody


@pytest.mark.parametrize(("sr", "n_fft", "hop", "n_mels"), [(22_050, 1024, 512, 128), (16_000, 400, 160, 64), (8_000, 256, 128, 40)])
def test_mel_filters_and_spectrogram_are_librosas(sr: int, n_fft: int, hop: int, n_mels: int) -> None:
    np.testing.assert_allclose(spectral.mel_filters(sample_rate=sr, n_fft=n_fft, n_mels=n_mels),
                               librosa.filters.mel(sr=sr, n_fft=n_fft, n_mels=n_mels), atol=1e-7)
    y = melody("pluck", seconds=2.3, sr=sr)
    ref = librosa.feature.melspectrogram(y=y, sr=sr, n_fft=n_fft, hop_length=hop, n_mels=n_mels)
    got = spectral.melspectrogram(y, sample_rate=sr, n_fft=n_fft, hop=hop, n_mels=n_mels)
    assert got.shape == ref.shape
    np.testing.assert_allclose(got, ref, rtol=1e-4, atol=1e-6 * float(ref.max()))


@pytest.mark.parametrize("instrument", ["pluck", "reed"])
def test_mfcc_and_logmel_are_librosas(instrument: str) -> None:
    cfg = FeatureConfig()
    y = melody(instrument, seconds=3.0)
    ref = librosa.feature.mfcc(y=y, sr=cfg.sample_rate, n_mfcc=cfg.n_mfcc, n_fft=cfg.n_fft, hop_length=cfg.hop)
    np.testing.assert_allclose(mfcc_context(y, cfg=cfg)[:, 5 * 13: 6 * 13], ref.T, atol=1e-3)  # the centre frame
    power = librosa.feature.melspectrogram(y=y, sr=cfg.sample_rate, n_fft=cfg.n_fft, hop_length=cfg.hop, n_mels=cfg.n_mels)
    ref_db = librosa.power_to_db(power, ref=(cfg.n_fft / 4) ** 2, amin=1e-10, top_db=None).clip(-100, None)
    np.testing.assert_allclose(logmel(y, cfg=cfg), ref_db, atol=1e-3)
