"""A thin line-fitting step (``scipy.stats.linregress``), meant to be replaced.

The measurements of :mod:`muonjax.orthogonal` fit straight lines (log-loss against
step, log-loss against log-step, ...) through this one function, so that a general
fitter (``muonjax._fit``, bootstrap intervals over seeds, SPEC D) can take its place
without touching the measurements. The interval here is the regression interval
``slope +- t_{n-2, (1+confidence)/2} * stderr``; points along one trajectory are not
independent, so it is optimistic, and the measurements say so where it matters.
"""

from __future__ import annotations

import dataclasses

import numpy as np


@dataclasses.dataclass(frozen=True)
class LineFit:
    """Least-squares line ``y = intercept + slope x``.

    Attributes:
        slope, intercept: the fit.
        stderr: standard error of the slope (``nan`` with fewer than 3 points).
        low, high: regression interval of the slope at ``confidence``.
        n_points: points used.
        n_excluded: points dropped (non-finite after the transform, e.g. a zero
            loss on a log scale); never dropped silently.
        x_min, x_max: range of the ``x`` used (before any log transform).
        confidence: level of the interval.
    """

    slope: float
    intercept: float
    stderr: float
    low: float
    high: float
    n_points: int
    n_excluded: int
    x_min: float
    x_max: float
    confidence: float


def fit_line(
    x: np.ndarray,
    y: np.ndarray,
    *,
    log_x: bool = False,
    log_y: bool = False,
    confidence: float = 0.95,
) -> LineFit:
    """Fit ``y`` (or ``log y``) against ``x`` (or ``log x``) by least squares.

    Args:
        x, y: 1-d arrays of equal length.
        log_x, log_y: take natural logs first (non-positive values are excluded and
            counted in ``n_excluded``).
        confidence: level of the slope interval.

    Returns:
        :class:`LineFit`; all fields ``nan`` when fewer than 2 points remain.
    """
    x = np.asarray(x, dtype=np.float64).ravel()
    y = np.asarray(y, dtype=np.float64).ravel()
    if x.shape != y.shape:
        raise ValueError(
            f"x and y must have the same length, got {x.size} and {y.size}"
        )
    with np.errstate(divide="ignore", invalid="ignore"):
        fx = np.log(x) if log_x else x
        fy = np.log(y) if log_y else y
    from scipy import stats  # here, not at import: scipy.stats takes ~0.5 s to load

    keep = np.isfinite(fx) & np.isfinite(fy)
    n = int(keep.sum())
    excluded = int(x.size - n)
    if n < 2:
        nan = float("nan")
        return LineFit(nan, nan, nan, nan, nan, n, excluded, nan, nan, confidence)
    res = stats.linregress(fx[keep], fy[keep])
    if n > 2:
        half = float(stats.t.ppf(0.5 + confidence / 2, n - 2) * res.stderr)
        stderr = float(res.stderr)
    else:
        half = stderr = float("nan")
    return LineFit(
        slope=float(res.slope),
        intercept=float(res.intercept),
        stderr=stderr,
        low=float(res.slope) - half,
        high=float(res.slope) + half,
        n_points=n,
        n_excluded=excluded,
        x_min=float(x[keep].min()),
        x_max=float(x[keep].max()),
        confidence=confidence,
    )


def log_grid(start: int, stop: int, num: int) -> np.ndarray:
    """About ``num`` distinct integers spaced evenly in log between ``start`` and
    ``stop`` (inclusive), so that a fit along a trajectory weighs every decade alike.
    """
    start = max(int(start), 1)
    stop = max(int(stop), start)
    return np.unique(np.geomspace(start, stop, num).round().astype(np.int64))
