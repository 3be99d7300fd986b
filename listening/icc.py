"""Intraclass correlation of a complete targets × raters table, with F-based confidence intervals.

Two-way ANOVA of an n × k table x (n targets, k raters, every cell present), grand mean x̄,
target means x̄ᵢ., rater means x̄.ⱼ:

    MSR = k Σᵢ (x̄ᵢ. − x̄)² / (n − 1)                       between targets ("BMS")
    MSC = n Σⱼ (x̄.ⱼ − x̄)² / (k − 1)                       between raters ("JMS")
    MSE = (SST − SSR − SSC) / ((n − 1)(k − 1))             residual ("EMS")

Shrout & Fleiss (1979), "Intraclass correlations: uses in assessing rater reliability",
Psychological Bulletin 86(2), 420–428; McGraw & Wong (1996), "Forming inferences about some
intraclass correlation coefficients", Psychological Methods 1(1), 30–46 (their ICC(A,1), ICC(A,k),
ICC(C,1), ICC(C,k)):

    ICC(2,1) = (MSR − MSE) / (MSR + (k − 1) MSE + k (MSC − MSE) / n)     two-way random, absolute agreement
    ICC(2,k) = (MSR − MSE) / (MSR + (MSC − MSE) / n)                     … of the mean of k raters
    ICC(3,1) = (MSR − MSE) / (MSR + (k − 1) MSE)                         two-way mixed, consistency
    ICC(3,k) = (MSR − MSE) / MSR

Confidence intervals at level 1 − α, with F₍q₎(d₁, d₂) the q-quantile of the F distribution:

- ICC(3,·) (S&F eq. 12–13): F₀ = MSR/MSE, F_L = F₀ / F₍₁₋α/₂₎(n − 1, (n − 1)(k − 1)),
  F_U = F₀ · F₍₁₋α/₂₎((n − 1)(k − 1), n − 1); ICC(3,1) ∈ [(F_L − 1)/(F_L + k − 1), (F_U − 1)/(F_U + k − 1)],
  ICC(3,k) ∈ [1 − 1/F_L, 1 − 1/F_U].
- ICC(2,·) (S&F eq. 15, Satterthwaite's degrees of freedom; McGraw & Wong Table 7, case 2A):
  with ρ̂ = ICC(2,1), a = kρ̂ / (n(1 − ρ̂)), b = 1 + kρ̂(n − 1) / (n(1 − ρ̂)),
  ν = (a MSC + b MSE)² / ((a MSC)²/(k − 1) + (b MSE)²/((n − 1)(k − 1))), F* = F₍₁₋α/₂₎(n − 1, ν),
  F** = F₍₁₋α/₂₎(ν, n − 1):
    ICC(2,1) ∈ [n(MSR − F* MSE) / (F*(k MSC + (kn − k − n) MSE) + n MSR),
                n(F** MSR − MSE) / (k MSC + (kn − k − n) MSE + n F** MSR)]
    ICC(2,k) ∈ [n(MSR − F* MSE) / (F*(MSC − MSE) + n MSR),
                n(F** MSR − MSE) / (MSC − MSE + n F** MSR)]
  (the ICC(2,k) bounds are the Spearman–Brown step-up of the ICC(2,1) bounds).

The F test of every form is F₀ = MSR/MSE on (n − 1, (n − 1)(k − 1)) degrees of freedom (H₀: ICC = 0).

Degenerate tables: a table whose residual is zero (raters agree up to a constant per rater)
has F₀ = ∞, ICC(3,·) = 1 with the interval [1, 1], and ICC(2,·) from the formulas (1 when the
raters also agree on the level). A table whose ratings are all equal, or whose targets all have
the same mean (MSR = 0), has no between-target variance to compare with: `ZeroVariance`. Where
ICC(2,k)'s denominator MSR + (MSC − MSE)/n reaches zero (MSE far above MSR) the estimator has
broken down and the value is ±∞; the analysis reports it as not computable.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats

from listening.errors import IncompleteTable, TooFewRatings, ZeroVariance


@dataclass(frozen=True)
class MeanSquares:
    """The two-way ANOVA of a complete n × k table (see the module docstring)."""

    n_targets: int
    n_raters: int
    ms_targets: float  # MSR
    ms_raters: float  # MSC
    ms_error: float  # MSE

    @property
    def df_targets(self) -> int:
        return self.n_targets - 1

    @property
    def df_error(self) -> int:
        return (self.n_targets - 1) * (self.n_raters - 1)


@dataclass(frozen=True)
class Icc:
    """One intraclass correlation with its confidence interval and F test."""

    form: str  # "ICC(2,1)", "ICC(2,k)", "ICC(3,1)" or "ICC(3,k)"
    value: float
    ci_low: float
    ci_high: float
    confidence: float
    f: float
    df1: int
    df2: int
    p_value: float


@dataclass(frozen=True)
class IccResult:
    """ICC(2,1), ICC(2,k), ICC(3,1) and ICC(3,k) of one table."""

    anova: MeanSquares
    icc2_1: Icc
    icc2_k: Icc
    icc3_1: Icc
    icc3_k: Icc


def mean_squares(table: np.ndarray) -> MeanSquares:
    """The two-way ANOVA mean squares of `table`, shape (n_targets, n_raters), every cell a number.

    Raises `IncompleteTable` for missing (NaN) cells, `TooFewRatings` for fewer than two
    targets or raters, `ZeroVariance` when every rating is the same or every target has the
    same mean (no variance between targets)."""
    x = np.asarray(table, dtype=np.float64)
    if x.ndim != 2:
        raise TooFewRatings(f"an ICC needs a 2-D targets × raters table; got an array of shape {x.shape}")
    n, k = x.shape
    if n < 2 or k < 2:
        raise TooFewRatings(f"an ICC needs at least 2 targets and 2 raters; the table has {n} target(s) × {k} rater(s): "
                            "collect more ratings, or report the means alone")
    missing = np.argwhere(~np.isfinite(x))
    if len(missing):
        rows = sorted({int(i) for i, _ in missing})
        shown = ", ".join(str(r) for r in rows[:10]) + (" …" if len(rows) > 10 else "")
        raise IncompleteTable(f"{len(missing)} missing cell(s) in {len(rows)} target row(s) ({shown}): every rater must rate "
                              "every target; drop the incomplete rows first (listening.analysis does, and reports how many)")
    grand = x.mean()
    ss_total = float(((x - grand) ** 2).sum())
    if ss_total == 0.0:
        raise ZeroVariance(f"all {n * k} ratings are {x.flat[0]:g}: with no variance there is no reliability to measure; "
                           "report the agreement as complete rather than as an ICC")
    ss_targets = float(k * ((x.mean(axis=1) - grand) ** 2).sum())
    if ss_targets <= 1e-12 * ss_total:
        raise ZeroVariance(f"every target has the same mean rating ({grand:g}): the ratings cannot tell the targets apart, "
                           "so their reliability is undefined; rate targets that differ")
    ss_raters = float(n * ((x.mean(axis=0) - grand) ** 2).sum())
    ss_error = max(ss_total - ss_targets - ss_raters, 0.0)  # rounding can leave −1e-15 for a perfect fit
    if ss_error < 1e-12 * ss_total:
        ss_error = 0.0
    return MeanSquares(n_targets=n, n_raters=k, ms_targets=ss_targets / (n - 1), ms_raters=ss_raters / (k - 1),
                       ms_error=ss_error / ((n - 1) * (k - 1)))


def _f_test(ms: MeanSquares) -> tuple[float, float]:
    if ms.ms_error == 0.0:
        return math.inf, 0.0
    f0 = ms.ms_targets / ms.ms_error
    return f0, float(stats.f.sf(f0, ms.df_targets, ms.df_error))


def _upper_quantile(confidence: float) -> float:
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be strictly between 0 and 1 (e.g. 0.95); got {confidence}")
    return 1.0 - (1.0 - confidence) / 2.0


def _ratio(num: float, den: float) -> float:
    """num / den, ±∞ for a zero denominator (an estimator past its breakdown, not a crash)."""
    return num / den if den != 0.0 else math.copysign(math.inf, num)


def _pair(forms: tuple[str, str], values: tuple[float, float, float, float, float, float], ms: MeanSquares,
          confidence: float) -> tuple[Icc, Icc]:
    """(single, average) from (single, low, high, average, low, high)."""
    f0, p = _f_test(ms)
    s, s_lo, s_hi, a, a_lo, a_hi = values
    return (Icc(forms[0], s, s_lo, s_hi, confidence, f0, ms.df_targets, ms.df_error, p),
            Icc(forms[1], a, a_lo, a_hi, confidence, f0, ms.df_targets, ms.df_error, p))


def icc2(ms: MeanSquares, *, confidence: float = 0.95) -> tuple[Icc, Icc]:
    """ICC(2,1) and ICC(2,k): two-way random effects, absolute agreement (formulas above)."""
    q = _upper_quantile(confidence)
    n, k = ms.n_targets, ms.n_raters
    msr, msc, mse = ms.ms_targets, ms.ms_raters, ms.ms_error
    single = (msr - mse) / (msr + (k - 1) * mse + k * (msc - mse) / n)  # denominator > 0: MSR > 0, k − 1 − k/n ≥ 0
    average = _ratio(msr - mse, msr + (msc - mse) / n)
    if single >= 1.0:  # a perfect fit with no rater effect: MSE = MSC = 0
        return _pair(("ICC(2,1)", "ICC(2,k)"), (1.0, 1.0, 1.0, 1.0, 1.0, 1.0), ms, confidence)
    a = k * single / (n * (1.0 - single))
    b = 1.0 + k * single * (n - 1) / (n * (1.0 - single))
    nu = (a * msc + b * mse) ** 2 / ((a * msc) ** 2 / (k - 1) + (b * mse) ** 2 / ((n - 1) * (k - 1)))
    f_lo = float(stats.f.ppf(q, n - 1, nu))
    f_hi = float(stats.f.ppf(q, nu, n - 1))
    c = k * msc + (k * n - k - n) * mse
    lo1 = n * (msr - f_lo * mse) / (f_lo * c + n * msr)
    hi1 = n * (f_hi * msr - mse) / (c + n * f_hi * msr)
    lok = _ratio(n * (msr - f_lo * mse), f_lo * (msc - mse) + n * msr)
    hik = _ratio(n * (f_hi * msr - mse), msc - mse + n * f_hi * msr)
    return _pair(("ICC(2,1)", "ICC(2,k)"), (single, lo1, hi1, average, lok, hik), ms, confidence)


def icc3(ms: MeanSquares, *, confidence: float = 0.95) -> tuple[Icc, Icc]:
    """ICC(3,1) and ICC(3,k): two-way mixed effects, consistency (formulas above)."""
    q = _upper_quantile(confidence)
    k = ms.n_raters
    f0, _ = _f_test(ms)
    if math.isinf(f0):
        return _pair(("ICC(3,1)", "ICC(3,k)"), (1.0, 1.0, 1.0, 1.0, 1.0, 1.0), ms, confidence)
    f_l = f0 / float(stats.f.ppf(q, ms.df_targets, ms.df_error))
    f_u = f0 * float(stats.f.ppf(q, ms.df_error, ms.df_targets))
    values = ((f0 - 1.0) / (f0 + k - 1.0), (f_l - 1.0) / (f_l + k - 1.0), (f_u - 1.0) / (f_u + k - 1.0),
              1.0 - 1.0 / f0, 1.0 - 1.0 / f_l, 1.0 - 1.0 / f_u)  # F₀ > 0: MSR > 0 (mean_squares)
    return _pair(("ICC(3,1)", "ICC(3,k)"), values, ms, confidence)


def icc(table: np.ndarray, *, confidence: float = 0.95) -> IccResult:
    """Every ICC form of `table`, shape (n_targets, n_raters), with `confidence` intervals.

    >>> r = icc(np.array([[9, 2, 5, 8], [6, 1, 3, 2], [8, 4, 6, 8], [7, 1, 2, 6], [10, 5, 6, 9], [6, 2, 4, 7]]))
    >>> round(r.icc2_1.value, 2), round(r.icc2_k.value, 2)   # Shrout & Fleiss (1979), Table 2
    (0.29, 0.62)
    """
    ms = mean_squares(table)
    i21, i2k = icc2(ms, confidence=confidence)
    i31, i3k = icc3(ms, confidence=confidence)
    return IccResult(anova=ms, icc2_1=i21, icc2_k=i2k, icc3_1=i31, icc3_k=i3k)
