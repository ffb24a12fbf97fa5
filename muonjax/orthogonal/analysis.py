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

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from muonjax.stats import fit as _fit
from muonjax.stats.bootstrap import bootstrap_mean  # noqa: F401  (re-exported)
from muonjax.stats.slopes import (  # noqa: F401  (re-exported)
    LineFit,
    WindowSlope,
    fit_line,
    fraction_windows,
    log_grid,
    point_interval,
    window_slope,
)


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
