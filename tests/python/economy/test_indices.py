"""Gini, Theil T and Jain against hand-computed cases, their bounds and scale invariance."""

from __future__ import annotations

import math
from itertools import product

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from economy.indices import gini, jain, theil_t


def test_hand_computed() -> None:
    # (0, 1): pairs |0-1| twice over 2·n²·μ = 2·4·0.5 → 0.5; Theil: ½(2 ln 2) = ln 2; Jain: 1/(2·1) = 0.5
    assert gini([0, 1]) == pytest.approx(0.5)
    assert theil_t([0, 1]) == pytest.approx(math.log(2))
    assert jain([0, 1]) == pytest.approx(0.5)
    # (1, 2, 3, 4): Σ|xi-xj| = 20 over 2·16·2.5 = 80 → 0.25
    assert gini([1, 2, 3, 4]) == pytest.approx(0.25)
    assert jain([1, 2, 3, 4]) == pytest.approx(100 / (4 * 30))
    r = np.array([1, 2, 3, 4]) / 2.5
    assert theil_t([4, 3, 2, 1]) == pytest.approx(float(np.mean(r * np.log(r))))
    # One holder has everything among n: Gini (n-1)/n, Theil ln n, Jain 1/n.
    for n in (2, 5, 100):
        x = [0] * (n - 1) + [7]
        assert gini(x) == pytest.approx((n - 1) / n)
        assert theil_t(x) == pytest.approx(math.log(n))
        assert jain(x) == pytest.approx(1 / n)


def test_brute_force_gini_agrees() -> None:
    rng = np.random.default_rng(1)
    x = rng.pareto(1.5, size=50)
    brute = sum(abs(a - b) for a, b in product(x, x)) / (2 * len(x) ** 2 * x.mean())
    assert gini(x) == pytest.approx(brute, rel=1e-12)


@pytest.mark.parametrize("x", [[5.0], [3, 3, 3], [0, 0, 0], [0.0]])
def test_equal_single_and_all_zero(x: list[float]) -> None:
    assert (gini(x), theil_t(x), jain(x)) == (0.0, 0.0, 1.0)


@pytest.mark.parametrize(("x", "message"), [
    ([], "no amounts"), ([1, -1], "non-negative"), ([1, float("nan")], "finite"), ([[1, 2]], "1-D"),
])
def test_bad_input(x: list[float], message: str) -> None:
    for index in (gini, theil_t, jain):
        with pytest.raises(ValueError, match=message):
            index(x)


amounts = st.lists(st.floats(min_value=0, max_value=1e9, allow_nan=False), min_size=1, max_size=60)


@given(amounts, st.floats(min_value=1e-3, max_value=1e3))
@example([7.334419075475701e-160, 7.334419075475701e-160], 2.0)  # squares underflow to subnormals
@example([22369622.112857945] * 4, 1.0)  # equal amounts: the rank-weighted sum rounds to −2e-17
def test_bounds_and_scale_invariance(x: list[float], c: float) -> None:
    n = len(x)
    g, t, j = gini(x), theil_t(x), jain(x)
    assert 0 <= g <= (n - 1) / n + 1e-12 and g < 1
    assert 0 <= t <= math.log(n) + 1e-12
    assert 1 / n - 1e-12 <= j <= 1
    scaled = [v * c for v in x]
    assert gini(scaled) == pytest.approx(g, abs=1e-9)
    assert theil_t(scaled) == pytest.approx(t, abs=1e-9)
    assert jain(scaled) == pytest.approx(j, abs=1e-9)


@given(amounts)
def test_a_transfer_from_richer_to_poorer_never_raises_inequality(x: list[float]) -> None:
    """Pigou-Dalton: moving a little from the richest to the poorest lowers (or keeps) each index."""
    a = np.array(x)
    if a.max() - a.min() < 1e-6:
        return
    b = a.copy()
    d = (a.max() - a.min()) / 4
    b[int(a.argmax())] -= d
    b[int(a.argmin())] += d
    assert gini(b) <= gini(a) + 1e-12
    assert theil_t(b) <= theil_t(a) + 1e-12
    assert jain(b) >= jain(a) - 1e-12
