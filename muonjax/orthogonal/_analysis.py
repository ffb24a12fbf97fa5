"""Analysis of Part B curves: slopes with honest intervals, envelopes, bootstraps.

The dynamics of :mod:`muonjax.orthogonal` are deterministic wherever the task is
(GD, Muon and TRA-SignGD from ``W_0 = 0`` do not depend on the embedding's basis), so
most measurements have no seeds to resample. A regression interval computed from
the points of one trajectory is then far too narrow: the points are not
independent, and what makes a measured slope differ from its asymptote is not noise
but the curve's own bend (a log factor, a pre-asymptotic start). This module
measures that bend instead: a slope is fitted over several *windows* of the curve
(:func:`window_slope`), and its interval is the range of the slopes over the
windows, widened by the main window's regression interval. A pre-asymptotic curve
then shows as a wide interval, and a straight one as a narrow one.

Where randomness does enter (SignGD and Adam act entrywise in a random basis), the
shared bootstrap fitter :func:`muonjax.fit_power_law` resamples the bases
(:func:`imbalance_exponent`), and :func:`bootstrap_mean` gives a percentile interval
of a mean over bases (``scipy.stats.bootstrap``).

References:
    SPEC Part D (fits report estimate, interval, points used and a verdict);
    SPEC B.3 [summary].
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from muonjax import _fit
from muonjax.orthogonal._fit import LineFit, fit_line, log_grid


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
        return _fit._jsonable(
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


def bootstrap_mean(
    values: Any,
    *,
    confidence: float = 0.95,
    n_resamples: int = 2000,
    seed: int = 0,
) -> tuple[float, tuple[float, float]]:
    """Mean over seeds with a percentile bootstrap interval (``scipy.stats``).

    Args:
        values: ``(s,)`` one value per seed (random basis).
        confidence: nominal coverage.
        n_resamples: bootstrap replicates.
        seed: the bootstrap's generator seed (reproducible).

    Returns:
        ``(mean, (lo, hi))``; with one seed there is nothing to resample and the
        interval is nan; when every seed agrees it is ``(mean, mean)``.
    """
    v = np.asarray(values, np.float64).ravel()
    if v.size == 0 or not np.all(np.isfinite(v)):
        return math.nan, (math.nan, math.nan)
    mean = float(v.mean())
    if v.size < 2:
        return mean, (math.nan, math.nan)
    if np.all(v == v[0]):
        return mean, (mean, mean)
    from scipy import stats  # here, not at import: scipy.stats is slow to load

    res = stats.bootstrap(
        (v,),
        np.mean,
        confidence_level=confidence,
        n_resamples=n_resamples,
        method="percentile",
        rng=np.random.default_rng(seed),
    )
    ci = res.confidence_interval
    return mean, (float(ci.low), float(ci.high))


def imbalance_exponent(
    group_excess: Any, *, floor: float = 1e-12, seed: int = 0
) -> _fit.FitResult:
    """How unevenly the frequency groups progress: ``excess_g ~ g^e`` at one step.

    ``e = 0`` is uniform progress (Muon, SPEC B.3 Thm 4.2 [summary]); ``e > 0``
    means the rare groups (large ``g``) lag (GD, and SignGD in a random basis).
    Fitted with :func:`muonjax.fit_power_law` on the mean over seeds, with a
    bootstrap over seeds (random bases) where there are several.

    Args:
        group_excess: ``(M,)`` or ``(seeds, M)`` per-group excess loss at one step.
        floor: excess values below it (float64 rounding of ``L - L*``) are raised to
            it, so a converged head group keeps a finite log.
        seed: the bootstrap's generator seed.

    Returns:
        A :class:`muonjax.FitResult`; ``exponent`` is ``e``.
    """
    ex = np.atleast_2d(np.asarray(group_excess, np.float64))
    g = np.arange(1, ex.shape[1] + 1, dtype=np.float64)
    return _fit.fit_power_law(g, np.maximum(ex, floor).T, seed=seed)


def gd_envelope(
    excess: Any, group_excess: Any
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """GD tuned at every horizon: the best of a grid of constant steps.

    A constant step does not depend on the horizon, so one run per step size gives
    every horizon, and the minimum over the grid at step ``T`` is GD with its step
    tuned for ``T``.

    Args:
        excess: ``(n_lr, S)`` excess loss of each run at each recorded step.
        group_excess: ``(n_lr, S, M)`` per-group excess.

    Returns:
        ``(envelope (S,), best (S,) index of the run attaining it, learned (S,))``:
        ``learned`` counts the groups whose excess fell to half its value at the
        first recorded step, in the run attaining the envelope.
    """
    ex = np.asarray(excess, np.float64)
    gex = np.asarray(group_excess, np.float64)
    best = np.argmin(ex, axis=0)
    cols = np.arange(ex.shape[1])
    learned_all = (gex <= 0.5 * gex[:, :1, :]).sum(axis=-1)
    return ex[best, cols], best, learned_all[best, cols]


#: GD scaling-law fit windows, ``(lo, hi)``: the steps where at least ``lo`` groups
#: and at most ``hi * M`` groups are learned; the first is the main window. In that
#: range the unlearned tail of groups sets the loss, the regime of Thm 5.7.
GD_WINDOWS: tuple[tuple[float, float], ...] = (
    (2, 0.25),
    (4, 0.25),
    (2, 0.125),
    (4, 0.5),
    (8, 0.5),
)


def gd_scaling_slope(
    steps: Any,
    envelope: Any,
    learned: Any,
    num_groups: int,
    *,
    windows: Sequence[tuple[float, float]] = GD_WINDOWS,
    points: int = 30,
) -> WindowSlope:
    """Slope of GD's tuned excess loss against ``T``, over learned-group windows.

    Args:
        steps: ``(S,)`` recorded steps (increasing, > 0 where used).
        envelope: ``(S,)`` GD's tuned excess (see :func:`gd_envelope`).
        learned: ``(S,)`` learned groups at each step.
        num_groups: ``M``.
        windows: ``(lo, hi)`` learned-group ranges (see :data:`GD_WINDOWS`).
        points: most points per window.

    Returns:
        :class:`WindowSlope` whose windows are the step ranges each learned-group
        range maps to (nan bounds where a range is never reached).

    References:
        SPEC B.3, Thm 5.7 [summary].
    """
    t = np.asarray(steps, np.float64)
    env = np.asarray(envelope, np.float64)
    lrn = np.asarray(learned)
    keep = t > 0
    t, env, lrn = t[keep], env[keep], lrn[keep]
    ranges = []
    for lo, hi in windows:
        inside = t[(lrn >= lo) & (lrn <= hi * num_groups)]
        ranges.append(
            (float(inside.min()), float(inside.max()))
            if inside.size
            else (math.nan, math.nan)
        )
    return window_slope(t, env, ranges, points=points)


def step_grid(steps: int, points: int, *, extra: Sequence[int] = ()) -> np.ndarray:
    """Recorded steps of a run of ``steps`` updates: ``0``, about ``points``
    log-spaced steps in ``[1, steps]``, and ``extra`` (clipped to the run).

    Args:
        steps: run length ``T``.
        points: log-spaced points.
        extra: further steps to keep (e.g. every horizon ``T_i`` and ``T_i - 1``).

    Returns:
        Sorted unique ``int64`` steps in ``[0, T]``.
    """
    grid = np.concatenate(
        [[0], log_grid(1, max(steps, 1), points), np.asarray(extra, np.int64)]
    ).astype(np.int64)
    return np.unique(grid[(grid >= 0) & (grid <= steps)])
