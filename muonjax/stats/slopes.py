"""Slopes: straight lines through a curve, local slopes, slopes over fit windows.

- :func:`fit_line`: least squares of ``y`` (or ``log y``) on ``x`` (or ``log x``) with
  the regression interval of the slope (``scipy.stats.linregress``). Points along one
  trajectory are not independent, so that interval is optimistic; it is the main
  window's share of :func:`window_slope`'s interval, never a verdict on its own.
- :func:`window_slope`: the slope of a deterministic curve over several fit windows;
  its interval is the range of the windows' slopes (the curve's bend: a log factor,
  a pre-asymptotic start), widened by the main window's regression interval.
- :func:`local_log_slopes`: slopes of ``log y`` between consecutive ``x`` (SPEC D:
  report them beside every exponent fit; a fit window starts where they settle).

References:
    SPEC Part D.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from muonjax._io import jsonable


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


@dataclasses.dataclass(frozen=True)
class WindowSlope:
    """One slope of a deterministic curve, measured over several fit windows.

    Attributes:
        estimate: slope over the main (first) window.
        interval: ``(lo, hi)``: the range of the slopes over all windows, widened to
            include the main window's regression interval. It measures how much the
            slope depends on where the curve is cut (its bend), not seed noise.
        slopes: ``(n_windows,)`` slope per window (nan where a window held fewer
            than ``min_points`` points).
        windows: the ``(x_lo, x_hi)`` of each window, in the units of ``x``.
        fits: the regression of each window (``n_points``, ``x_min``, ``x_max``
            say which points were used).
        n_windows_used: windows with a finite slope.
    """

    estimate: float
    interval: tuple[float, float]
    slopes: tuple[float, ...]
    windows: tuple[tuple[float, float], ...]
    fits: tuple[LineFit, ...]
    n_windows_used: int

    @property
    def ok(self) -> bool:
        """True when the estimate and its interval are finite."""
        return bool(
            math.isfinite(self.estimate) and all(map(math.isfinite, self.interval))
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary."""
        return jsonable(
            {
                "estimate": self.estimate,
                "interval": self.interval,
                "slopes": self.slopes,
                "windows": self.windows,
                "points": [f.n_points for f in self.fits],
                "x_used": [(f.x_min, f.x_max) for f in self.fits],
                "interval_kind": "range over fit windows (deterministic curve)",
            }
        )


def _thin(x: np.ndarray, points: int, log: bool) -> np.ndarray:
    """Indices of at most ``points`` entries of sorted ``x``, evenly spaced in
    ``log x`` (or ``x``)."""
    if x.size <= points:
        return np.arange(x.size)
    scale = np.log(x) if log else x
    targets = np.linspace(scale[0], scale[-1], points)
    return np.unique(np.searchsorted(scale, targets).clip(0, x.size - 1))


def window_slope(
    x: Any,
    y: Any,
    windows: Sequence[tuple[float, float]],
    *,
    log_x: bool = True,
    log_y: bool = True,
    points: int = 40,
    min_points: int = 3,
) -> WindowSlope:
    """Slope of ``y`` against ``x`` (log-log by default) over several windows.

    Args:
        x: ``(n,)`` increasing abscissae (steps, learning rates, ...).
        y: ``(n,)`` values of one deterministic curve.
        windows: ``(x_lo, x_hi)`` ranges, main window first; each keeps the points
            with ``x_lo <= x <= x_hi``, thinned to ``points`` evenly spaced in
            ``log x`` (or ``x``), so that every decade weighs alike.
        log_x, log_y: fit in logs (non-positive values are excluded and counted by
            the fit, never dropped silently).
        points: most points per window.
        min_points: fewest points for a window's slope to count.

    Returns:
        :class:`WindowSlope`. Its ``estimate`` is nan when the main window has too
        few points.

    Example:
        >>> t = np.arange(1, 1001.0)
        >>> ws = window_slope(t, 3.0 / t, [(100, 1000), (10, 100)])
        >>> round(ws.estimate, 6), ws.n_windows_used
        (-1.0, 2)
    """
    xs = np.asarray(x, np.float64).ravel()
    ys = np.asarray(y, np.float64).ravel()
    if xs.shape != ys.shape:
        raise ValueError(f"x and y must have the same length, got {xs.size}, {ys.size}")
    if xs.size > 1 and np.any(np.diff(xs) <= 0):
        raise ValueError("x must be strictly increasing")
    if not windows:
        raise ValueError("windows must hold at least one (x_lo, x_hi) range")
    fits, slopes = [], []
    for lo, hi in windows:
        inside = np.nonzero((xs >= lo) & (xs <= hi))[0]
        pick = inside[_thin(xs[inside], points, log_x)] if inside.size else inside
        f = fit_line(xs[pick], ys[pick], log_x=log_x, log_y=log_y)
        fits.append(f)
        slopes.append(f.slope if f.n_points >= min_points else math.nan)
    finite = [s for s in slopes if math.isfinite(s)]
    main = fits[0]
    est = slopes[0]
    if not math.isfinite(est):
        interval = (math.nan, math.nan)
    else:
        lows = [*finite, main.low if math.isfinite(main.low) else est]
        highs = [*finite, main.high if math.isfinite(main.high) else est]
        interval = (float(min(lows)), float(max(highs)))
    return WindowSlope(
        estimate=float(est),
        interval=interval,
        slopes=tuple(float(s) for s in slopes),
        windows=tuple((float(lo), float(hi)) for lo, hi in windows),
        fits=tuple(fits),
        n_windows_used=len(finite),
    )


def fraction_windows(
    steps: int, fractions: Sequence[tuple[float, float]]
) -> tuple[tuple[float, float], ...]:
    """Windows ``(a T, b T)`` of a run of ``T`` steps, from fractions ``(a, b)``."""
    return tuple((max(1.0, a * steps), b * steps) for a, b in fractions)


def point_interval(values: Sequence[float]) -> tuple[float, float]:
    """``(min, max)`` of finite values (the range over cases, sizes, ...)."""
    v = np.asarray(values, np.float64)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return (math.nan, math.nan)
    return float(v.min()), float(v.max())


def local_log_slopes(x: Any, y: Any) -> list[float | None]:
    """Slopes of ``log y`` against ``log x`` between consecutive points.

    Args:
        x: ``(k,)`` increasing positive abscissae (dimensions, batch sizes, steps).
        y: ``(k,)`` values (means over seeds).

    Returns:
        ``k - 1`` slopes ``log(y_{i+1}/y_i) / log(x_{i+1}/x_i)``; ``None`` where a
        value is not positive and finite (no log).

    Example:
        >>> local_log_slopes([1, 2, 4], [1.0, 4.0, 16.0])
        [2.0, 2.0]
    """
    xs = np.asarray(x, np.float64).ravel()
    ys = np.asarray(y, np.float64).ravel()
    if xs.shape != ys.shape:
        raise ValueError(f"x and y must have the same length, got {xs.size}, {ys.size}")
    if np.any(xs <= 0) or (xs.size > 1 and np.any(np.diff(xs) <= 0)):
        raise ValueError(f"x must be positive and strictly increasing, got {xs}")
    out: list[float | None] = []
    for i in range(xs.size - 1):
        a, b = ys[i], ys[i + 1]
        ok = a > 0 and b > 0 and math.isfinite(a) and math.isfinite(b)
        out.append(float(math.log(b / a) / math.log(xs[i + 1] / xs[i])) if ok else None)
    return out
