"""The preprocessing path's filters in numpy (`ml.data.dsp`) against scipy.signal's, which they
replace at inference: the same samples to float64 rounding, at the rates the commands meet."""

from __future__ import annotations

import math
from contextlib import AbstractContextManager, nullcontext
from typing import Any

import numpy as np
import pytest
from scipy.signal import lfilter, resample_poly

from ml.data import dsp, loudness


def noise(n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(n)


@pytest.mark.parametrize(("orig", "target"), [(44_100, 22_050), (48_000, 22_050), (8_000, 22_050), (22_050, 16_000),
                                              (16_000, 22_050), (44_100, 16_000), (96_000, 22_050)])
def test_resample_matches_scipys_resample_poly(orig: int, target: int) -> None:
    g = math.gcd(orig, target)
    x = noise(orig // 4 + 7)  # a quarter second and a few samples: every phase and both edges
    got = dsp.resample(x, up=target // g, down=orig // g)
    expected = resample_poly(x, target // g, orig // g)
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12)


@pytest.mark.parametrize("n", [0, 1, 2, 5, 41])
def test_resample_of_short_inputs_has_scipys_length_and_samples(n: int) -> None:
    x = noise(n, seed=n)
    for up, down in ((1, 2), (2, 1), (147, 320), (160, 441)):
        np.testing.assert_allclose(dsp.resample(x, up=up, down=down), resample_poly(x, up, down) if n else np.zeros(0),
                                   rtol=0, atol=1e-12)


@pytest.mark.parametrize("rate", [8_000, 16_000, 22_050, 44_100, 48_000])
def test_k_weighting_matches_two_lfilter_passes(rate: int) -> None:
    x = noise(rate // 2 + 3, seed=rate)
    (b1, a1), (b2, a2) = loudness.k_weighting(sample_rate=rate)
    expected = lfilter(b2, a2, lfilter(b1, a1, x))
    np.testing.assert_allclose(loudness.k_weighted(x, sample_rate=rate), expected, rtol=0, atol=1e-11)


def test_a_gain_of_two_to_the_k_scales_every_filtered_sample_exactly() -> None:
    x = noise(5_000, seed=3)
    sections = loudness.k_weighting(sample_rate=22_050)
    for k in (-7, -1, 3):
        assert np.array_equal(dsp.iir(sections, x * 2.0**k), dsp.iir(sections, x) * 2.0**k)
        assert np.array_equal(dsp.resample(x * 2.0**k, up=147, down=320), dsp.resample(x, up=147, down=320) * 2.0**k)


@pytest.mark.parametrize(("a", "outcome"), [
    (np.array([1.0, -0.5]), nullcontext()),
    (np.array([1.0, -1.0]), pytest.raises(ValueError, match="not stable")),  # an integrator: its response never decays
    (np.array([1.0, -2.5, 1.0]), pytest.raises(ValueError, match="not stable")),
])
def test_iir_refuses_an_unstable_filter(a: np.ndarray, outcome: AbstractContextManager[Any]) -> None:
    x = noise(100)
    with outcome:
        np.testing.assert_allclose(dsp.iir([(np.array([1.0]), a)], x), lfilter([1.0], a, x), rtol=0, atol=1e-12)
