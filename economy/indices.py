"""Inequality and fairness indices over payouts (or exposure): Gini, Theil T and Jain.

Each takes a 1-D array of non-negative amounts, one per holder (community, creator, item), and
returns a float. Edge cases, the same for all three:

- empty input, negative or non-finite amounts, or more than one dimension: ValueError;
- all amounts zero: nobody is paid more than anybody else, so the distribution is treated as
  perfectly equal (Gini 0, Theil 0, Jain 1) rather than undefined;
- a single holder: perfectly equal with itself (0, 0, 1);
- all equal and positive: 0, 0, 1.

Bounds for n holders: 0 ≤ Gini ≤ (n−1)/n < 1, 0 ≤ Theil T ≤ ln n, 1/n ≤ Jain ≤ 1. All three are
scale invariant (multiplying every amount by c > 0 changes nothing).
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike, NDArray


def _amounts(x: ArrayLike) -> NDArray[np.float64]:
    a = np.asarray(x, dtype=np.float64)
    if a.ndim != 1:
        raise ValueError(f"expected a 1-D array of amounts, one per holder; got shape {a.shape}")
    if a.size == 0:
        raise ValueError("no amounts given: an index needs at least one holder")
    if not np.all(np.isfinite(a)):
        raise ValueError("amounts must be finite numbers (no NaN or infinity)")
    if np.any(a < 0):
        raise ValueError(f"amounts must be non-negative; the smallest is {a.min()}")
    return a


def gini(x: ArrayLike) -> float:
    """Gini coefficient: mean absolute difference over all ordered pairs divided by twice the
    mean, G = Σᵢ Σⱼ |xᵢ − xⱼ| / (2 n² μ), computed from the sorted amounts as
    G = Σᵢ (2i − n − 1) x₍ᵢ₎ / (n Σ x) with i = 1..n (exact, O(n log n))."""
    a = _amounts(x)
    total = a.sum()
    if total == 0 or a.size == 1:
        return 0.0
    s = np.sort(a)
    n = s.size
    ranks = np.arange(1, n + 1, dtype=np.float64)
    value = float(np.dot(2 * ranks - n - 1, s) / (n * total))
    return min(max(value, 0.0), (n - 1) / n)  # clamp rounding just outside the bounds (equal amounts can give −2e-17)


def theil_t(x: ArrayLike) -> float:
    """Theil T index: T = (1/n) Σ (xᵢ/μ) ln(xᵢ/μ), with 0·ln 0 = 0 (a holder paid nothing adds
    nothing to the sum but lowers μ)."""
    a = _amounts(x)
    mean = a.mean()
    if mean == 0:
        return 0.0
    r = a / mean
    pos = r > 0
    value = float(np.sum(r[pos] * np.log(r[pos])) / a.size)
    return min(max(value, 0.0), math.log(a.size))  # clamp rounding just outside the bounds


def jain(x: ArrayLike) -> float:
    """Jain's fairness index: J = (Σ xᵢ)² / (n Σ xᵢ²).

    Computed on x / max(x) (the index is scale-invariant): squares of very small or very large
    payouts would otherwise underflow to subnormals or overflow (hypothesis found [7e-160] * 2 → 0.999998)."""
    a = _amounts(x)
    peak = float(a.max()) if a.size else 0.0
    if peak == 0:
        return 1.0
    a = a / peak
    squares = float(np.dot(a, a))
    total = float(a.sum())
    return min(max(total * total / (a.size * squares), 1.0 / a.size), 1.0)
