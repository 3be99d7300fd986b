"""ICC(2,·) and ICC(3,·) against the hand-computed ANOVA of Shrout & Fleiss' example, against
pingouin where it is installed, and every table an ICC cannot be computed from."""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from fractions import Fraction as Fr

import numpy as np
import pytest

from listening.errors import IncompleteTable, TooFewRatings, ZeroVariance
from listening.icc import icc, mean_squares

# Shrout & Fleiss (1979), Table 2: 6 targets × 4 judges.
SF = np.array([[9, 2, 5, 8], [6, 1, 3, 2], [8, 4, 6, 8], [7, 1, 2, 6], [10, 5, 6, 9], [6, 2, 4, 7]])

# By hand: N = 24, grand total T = 127, Σx² = 841; row totals 24 12 26 16 30 19, column totals 46 15 26 40.
T2_N = Fr(127**2, 24)
SSR = Fr(24**2 + 12**2 + 26**2 + 16**2 + 30**2 + 19**2, 4) - T2_N  # 1349/24
SSC = Fr(46**2 + 15**2 + 26**2 + 40**2, 6) - T2_N  # 2339/24
SSE = 841 - T2_N - SSR - SSC  # 367/24
MSR, MSC, MSE = SSR / 5, SSC / 3, SSE / 15
N, K = 6, 4
ICC21 = (MSR - MSE) / (MSR + (K - 1) * MSE + K * (MSC - MSE) / N)
ICC2K = (MSR - MSE) / (MSR + (MSC - MSE) / N)
ICC31 = (MSR - MSE) / (MSR + (K - 1) * MSE)
ICC3K = (MSR - MSE) / MSR


def test_mean_squares_equal_the_hand_computed_anova() -> None:
    assert (SSR, SSC, SSE) == (Fr(1349, 24), Fr(2339, 24), Fr(367, 24))
    ms = mean_squares(SF)
    assert (ms.n_targets, ms.n_raters, ms.df_targets, ms.df_error) == (6, 4, 5, 15)
    assert ms.ms_targets == pytest.approx(float(MSR), rel=1e-12)
    assert ms.ms_raters == pytest.approx(float(MSC), rel=1e-12)
    assert ms.ms_error == pytest.approx(float(MSE), rel=1e-12)


def test_shrout_fleiss_example() -> None:
    r = icc(SF)
    assert r.icc2_1.value == pytest.approx(float(ICC21), rel=1e-12)
    assert r.icc2_k.value == pytest.approx(float(ICC2K), rel=1e-12)
    assert r.icc3_1.value == pytest.approx(float(ICC31), rel=1e-12)
    assert r.icc3_k.value == pytest.approx(float(ICC3K), rel=1e-12)
    # as the paper prints them
    assert [round(i.value, 2) for i in (r.icc2_1, r.icc2_k, r.icc3_1, r.icc3_k)] == [0.29, 0.62, 0.71, 0.91]
    assert r.icc2_1.f == pytest.approx(float(MSR / MSE)) and (r.icc2_1.df1, r.icc2_1.df2) == (5, 15)
    for i in (r.icc2_1, r.icc2_k, r.icc3_1, r.icc3_k):
        assert i.ci_low < i.value < i.ci_high and i.confidence == 0.95


def test_icc3_interval_by_hand() -> None:
    """ICC(3,1)'s bounds from S&F eq. 12-13, with the F quantiles looked up independently."""
    from scipy import stats

    f0 = float(MSR / MSE)
    f_l = f0 / stats.f.ppf(0.975, 5, 15)
    f_u = f0 * stats.f.ppf(0.975, 15, 5)
    r = icc(SF)
    assert r.icc3_1.ci_low == pytest.approx((f_l - 1) / (f_l + K - 1))
    assert r.icc3_1.ci_high == pytest.approx((f_u - 1) / (f_u + K - 1))
    assert r.icc3_k.ci_low == pytest.approx(1 - 1 / f_l)


def test_icc2k_bounds_are_the_spearman_brown_step_up_of_icc21() -> None:
    r = icc(SF)
    for single, average in ((r.icc2_1.ci_low, r.icc2_k.ci_low), (r.icc2_1.ci_high, r.icc2_k.ci_high)):
        assert average == pytest.approx(K * single / (1 + (K - 1) * single))


def test_a_narrower_confidence_gives_a_narrower_interval() -> None:
    wide, narrow = icc(SF, confidence=0.99).icc2_k, icc(SF, confidence=0.90).icc2_k
    assert wide.ci_low < narrow.ci_low < narrow.value < narrow.ci_high < wide.ci_high


def test_invariant_to_shifting_every_rating_and_to_the_order_of_targets_and_raters() -> None:
    base = icc(SF)
    moved = icc(SF[::-1, [2, 0, 3, 1]] + 10)
    for a, b in zip((base.icc2_1, base.icc2_k, base.icc3_1), (moved.icc2_1, moved.icc2_k, moved.icc3_1), strict=True):
        assert b.value == pytest.approx(a.value) and b.ci_low == pytest.approx(a.ci_low)


def test_perfect_agreement_and_a_constant_rater_offset() -> None:
    same = np.array([[1, 1], [2, 2], [4, 4]])
    r = icc(same)
    assert (r.icc2_1.value, r.icc2_1.ci_low, r.icc2_1.ci_high) == (1.0, 1.0, 1.0)
    assert r.icc3_k.value == 1.0
    offset = np.array([[1, 2], [2, 3], [4, 5]])  # the second rater is always one point higher
    o = icc(offset)
    assert o.icc3_1.value == 1.0 and (o.icc3_1.ci_low, o.icc3_1.ci_high) == (1.0, 1.0)
    assert 0.0 < o.icc2_1.value < 1.0 and o.icc2_1.ci_low < o.icc2_1.value < o.icc2_1.ci_high  # absolute agreement sees it


@pytest.mark.parametrize(("table", "expect"), [
    (SF, nullcontext()),
    (np.array([[1.0, 2.0], [3.0, np.nan], [2.0, 2.0]]), pytest.raises(IncompleteTable, match="1 missing cell")),
    (np.array([[1, 2, 3]]), pytest.raises(TooFewRatings, match="at least 2 targets")),
    (np.array([[1], [2], [3]]), pytest.raises(TooFewRatings, match="1 rater")),
    (np.array([1, 2, 3]), pytest.raises(TooFewRatings, match="2-D")),
    (np.full((4, 3), 3), pytest.raises(ZeroVariance, match="all 12 ratings are 3")),
    (np.array([[1, 3], [3, 1], [2, 2]]), pytest.raises(ZeroVariance, match="same mean")),
])
def test_tables_an_icc_can_and_cannot_come_from(table: np.ndarray, expect: AbstractContextManager[object]) -> None:
    with expect:
        icc(table)


def test_confidence_must_be_a_probability() -> None:
    with pytest.raises(ValueError, match="between 0 and 1"):
        icc(SF, confidence=95)


@pytest.mark.parametrize(("n", "k", "seed"), [(6, 4, 0), (10, 3, 1), (25, 21, 2), (8, 2, 3)])
def test_agrees_with_pingouin(n: int, k: int, seed: int) -> None:
    pd = pytest.importorskip("pandas")
    pg = pytest.importorskip("pingouin")
    rng = np.random.default_rng(seed)
    table = np.clip(np.round(3 + rng.normal(size=(n, 1)) + 0.7 * rng.normal(size=(n, k)) + 0.3 * rng.normal(size=k)), 1, 5)
    long = pd.DataFrame([(i, j, table[i, j]) for i in range(n) for j in range(k)], columns=["piece", "rater", "rating"])
    theirs = pg.intraclass_corr(data=long, targets="piece", raters="rater", ratings="rating").set_index("Type")
    names = {"ICC(2,1)": ("ICC(A,1)", "ICC2"), "ICC(2,k)": ("ICC(A,k)", "ICC2k"),
             "ICC(3,1)": ("ICC(C,1)", "ICC3"), "ICC(3,k)": ("ICC(C,k)", "ICC3k")}
    r = icc(table)
    for mine in (r.icc2_1, r.icc2_k, r.icc3_1, r.icc3_k):
        row = theirs.loc[next(t for t in names[mine.form] if t in theirs.index)]
        assert mine.value == pytest.approx(row["ICC"], abs=1e-9)
        assert mine.f == pytest.approx(row["F"]) and mine.p_value == pytest.approx(row["pval"], abs=1e-9)
        low, high = row["CI95"] if "CI95" in row else row["CI95%"]
        # pingouin rounds its interval to 2 places
        assert mine.ci_low == pytest.approx(low, abs=0.0051) and mine.ci_high == pytest.approx(high, abs=0.0051)
