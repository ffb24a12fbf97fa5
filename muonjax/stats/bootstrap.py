"""The bootstrap over seeds: one resampling rule for every interval of the toolkit.

Seeds are the independent replicates of a measurement (each draws its own task); an
interval over seeds is a percentile bootstrap that resamples them with replacement,
``idx = rng.integers(0, s, size=(n_boot, s))`` with ``rng =
numpy.random.default_rng(seed)``, so every interval is reproducible from its seed.
Paired statistics (two rules measured on the same tasks, seed for seed) resample the
seeds jointly. The power-law fits of :mod:`muonjax.stats.fit` resample the seeds of
each point the same way.

With one seed there is nothing to resample and the interval is NaN (never a
zero-width interval that looks certain); when every seed gives the same value the
interval is that value (it really has no spread).

References:
    SPEC Part D (a bootstrap over seeds for every fitted quantity).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from muonjax import _validate

#: Default number of bootstrap replicates.
N_BOOT = 2000


def _check(confidence: float, n_boot: int) -> int:
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence=!r}")
    n_boot = _validate.positive_int("n_boot", n_boot)
    if n_boot < 100:
        raise ValueError(f"n_boot must be >= 100, got {n_boot=}")
    return n_boot


def resample_indices(size: int, n_boot: int, *, seed: int = 0) -> np.ndarray:
    """``(n_boot, size)`` indices of ``size`` seeds drawn with replacement.

    ``numpy.random.default_rng(seed).integers(0, size, (n_boot, size))``: the one
    resampling rule (a test compares it with a bootstrap written in numpy).
    """
    size = _validate.positive_int("size", size)
    n_boot = _validate.positive_int("n_boot", n_boot)
    return np.random.default_rng(seed).integers(0, size, size=(n_boot, size))


def percentile_interval(samples: Any, confidence: float = 0.95) -> tuple[float, float]:
    """``(lo, hi)``: the central ``confidence`` percentile range of ``samples``.

    Non-finite replicates are left out; with none left the interval is NaN.
    """
    s = np.asarray(samples, np.float64).ravel()
    s = s[np.isfinite(s)]
    if s.size == 0:
        return (math.nan, math.nan)
    tail = 100 * (1 - confidence) / 2
    lo, hi = np.percentile(s, [tail, 100 - tail])
    return float(lo), float(hi)


def bootstrap_interval(
    values: Any,
    statistic: Callable[[np.ndarray], np.ndarray],
    *,
    confidence: float = 0.95,
    n_boot: int = N_BOOT,
    seed: int = 0,
) -> tuple[float, float]:
    """Percentile bootstrap interval of ``statistic`` over the seeds of ``values``.

    Args:
        values: ``(s, ...)`` with seeds on the first axis; rows are resampled
            jointly, so columns measured on the same seed stay paired.
        statistic: maps the ``(n_boot, s, ...)`` resamples to ``(n_boot,)``.
        confidence: nominal coverage.
        n_boot: replicates (>= 100).
        seed: the generator's seed.

    Returns:
        ``(lo, hi)``; NaN with fewer than two seeds.
    """
    n_boot = _check(confidence, n_boot)
    v = np.asarray(values, np.float64)
    if v.ndim == 0 or v.shape[0] < 2:
        return (math.nan, math.nan)
    idx = resample_indices(v.shape[0], n_boot, seed=seed)
    stats = np.asarray(statistic(v[idx]), np.float64)
    if stats.shape != (n_boot,):
        raise ValueError(
            f"statistic must map (n_boot, s, ...) to (n_boot,), got {stats.shape}"
        )
    return percentile_interval(stats, confidence)


def bootstrap_mean(
    values: Any,
    *,
    confidence: float = 0.95,
    n_boot: int = N_BOOT,
    seed: int = 0,
    n_resamples: int | None = None,
) -> tuple[float, tuple[float, float]]:
    """Mean over seeds with a percentile bootstrap interval.

    Args:
        values: ``(s,)`` one value per seed.
        confidence: nominal coverage.
        n_boot: replicates (>= 100).
        seed: the generator's seed.
        n_resamples: an alias of ``n_boot`` (the name of 0.1.0's Part B helper).

    Returns:
        ``(mean, (lo, hi))``: NaN for no values or a non-finite one; the interval
        is NaN with one seed.

    Example:
        >>> m, (lo, hi) = bootstrap_mean([1.0, 2.0, 3.0, 4.0])
        >>> m, lo < m < hi
        (2.5, True)
    """
    if n_resamples is not None:
        n_boot = n_resamples
    n_boot = _check(confidence, n_boot)
    v = np.asarray(values, np.float64).ravel()
    if v.size == 0 or not np.all(np.isfinite(v)):
        return math.nan, (math.nan, math.nan)
    interval = bootstrap_interval(
        v,
        lambda r: r.mean(axis=1),
        confidence=confidence,
        n_boot=n_boot,
        seed=seed,
    )
    return float(v.mean()), interval


def paired_ratio(
    numerator: Any,
    denominator: Any,
    *,
    confidence: float = 0.95,
    n_boot: int = 1000,
    seed: int = 0,
) -> tuple[float, tuple[float, float]]:
    """Ratio of means of paired per-seed values, with a bootstrap interval.

    Seed ``k`` of both arrays comes from the same task, so seeds are resampled in
    pairs.

    Args:
        numerator, denominator: ``(K,)`` values per seed.
        confidence: interval coverage.
        n_boot: bootstrap replicates (>= 100).
        seed: bootstrap seed.

    Returns:
        ``(ratio, (lo, hi))``; NaN when the denominator's mean is 0, and a NaN
        interval when more than half the replicates have a zero denominator or
        there is a single seed.
    """
    n_boot = _check(confidence, n_boot)
    a = np.asarray(numerator, np.float64).ravel()
    b = np.asarray(denominator, np.float64).ravel()
    if a.shape != b.shape or a.size == 0:
        raise ValueError(
            f"numerator and denominator must be paired (K,) arrays, got shapes "
            f"{a.shape} and {b.shape}"
        )
    est = float(a.mean() / b.mean()) if b.mean() != 0 else math.nan
    if a.size < 2:
        return est, (math.nan, math.nan)
    idx = resample_indices(a.size, n_boot, seed=seed)
    num, den = a[idx].mean(axis=1), b[idx].mean(axis=1)
    ok = den != 0
    if ok.sum() < n_boot / 2:
        return est, (math.nan, math.nan)
    return est, percentile_interval(num[ok] / den[ok], confidence)
