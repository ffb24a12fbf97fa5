"""Analysis of Part B curves: envelopes, learned-group windows, imbalance, T*.

Tables and arrays in, estimates out (no runs, no plotting, no file writing). The
generic tools live in :mod:`muonjax.stats` (``window_slope``, ``fit_line``,
``bootstrap_mean``, the verdict rule); what is here reads Part B's curves:

- :func:`gd_envelope`, :func:`gd_scaling_slope`: GD tuned per horizon (the minimum
  over a grid of constant steps) and its slope over learned-group windows
  (:data:`GD_WINDOWS`, SPEC B.3 Thm 5.7);
- :func:`horizon_windows`: the fit windows of Muon's excess over its horizons
  (Thm 5.8);
- :func:`imbalance_exponent`, :func:`progress_index`,
  :func:`group_excess_at_progress`: how unevenly the frequency groups progress at
  matched progress (uniform progress, Thm 4.2), fitted with the one power-law
  fitter (a bootstrap over random bases where there are several);
- :func:`first_rise`: the end of Muon's noisy descent (Thm 5.1);
- :func:`floored_log_ratio`: ``log10`` of a ratio of excess losses that may sit at
  float64's resolution;
- :func:`step_grid`: the steps a run records.

The dynamics of :mod:`muonjax.orthogonal` are deterministic wherever the task is
(GD, Muon and TRA-SignGD from ``W_0 = 0`` do not depend on the embedding's basis),
so most slopes here are window slopes (ranges over fit windows, the curve's bend);
SignGD and Adam in a random basis have the bases as seeds.

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
from muonjax.stats.slopes import WindowSlope, log_grid, window_slope


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


def horizon_windows(horizons: Any) -> tuple[tuple[float, float], ...]:
    """Fit windows over ``n`` increasing horizons: all of them, the first and the
    last ``max(3, n - 2)`` (main window first).

    Args:
        horizons: ``(n,)`` increasing horizons ``T_i``.

    Returns:
        Three ``(T_lo, T_hi)`` windows for :func:`muonjax.stats.window_slope`.

    References:
        SPEC B.3, Thm 5.8 [summary] (Muon's excess against ``T``).
    """
    hs = np.asarray(horizons)
    n = hs.size
    sub = max(3, n - 2)
    return (
        (float(hs[0]), float(hs[-1])),
        (float(hs[0]), float(hs[sub - 1])),
        (float(hs[n - sub]), float(hs[-1])),
    )


def first_rise(loss: np.ndarray) -> int:
    """First ``t`` with ``L(t+1) >= L(t)`` (the end of the descent); ``len - 1`` if
    the loss decreases throughout.

    References:
        SPEC B.3, Thm 5.1 [summary] (Muon's descent until ``T*``).
    """
    rise = np.nonzero(np.diff(loss) >= 0)[0]
    return int(rise[0]) if rise.size else int(loss.shape[-1] - 1)


#: The imbalance exponent is compared at matched progress: where a run's total
#: excess first falls to this fraction of its initial value.
IMBALANCE_PROGRESS = 0.1


def progress_index(excess: Any, fraction: float = IMBALANCE_PROGRESS) -> int:
    """First index where ``excess`` is down to ``fraction`` of its first value (the
    last index if it never is): matched progress across rules."""
    ex = np.asarray(excess)
    hit = np.nonzero(ex <= fraction * ex[0])[0]
    return int(hit[0]) if hit.size else len(ex) - 1


def group_excess_at_progress(
    excess: Any, group_excess: Any, fraction: float = IMBALANCE_PROGRESS
) -> tuple[np.ndarray, np.ndarray]:
    """Per run, the group excess at matched progress: the first recorded step where
    the run's total excess is down to ``fraction`` of its first value
    (:func:`progress_index`).

    Comparing rules at matched progress, not at the last step: by then the fast
    rules have converged to float64's floor in every group, and the floor makes any
    run look uniform.

    Args:
        excess: ``(S,)`` or ``(runs, S)`` total excess loss.
        group_excess: ``(S, M)`` or ``(runs, S, M)`` per-group excess.
        fraction: the progress matched.

    Returns:
        ``(rows (runs, M), index (runs,))``.
    """
    ex = np.atleast_2d(np.asarray(excess, np.float64))
    gex = np.asarray(group_excess, np.float64)
    if gex.ndim == 2:
        gex = gex[None]
    idx = np.array([progress_index(e, fraction) for e in ex], np.int64)
    return np.stack([gex[i, j, :] for i, j in enumerate(idx)]), idx


def floored_log_ratio(numerator: Any, denominator: Any, l_star: float) -> np.ndarray:
    """``log10(num / den)`` of excess losses, each floored at float64's resolution
    of the loss, ``eps * max(L*, 1)``.

    An excess below that resolution (GD can reach ``L*`` to rounding at small K,
    even dip below it) is rounding, not a value: the floor keeps the ratio finite
    and its sign meaningful.
    """
    res = np.finfo(np.float64).eps * max(float(l_star), 1.0)
    num = np.maximum(np.asarray(numerator, np.float64), res)
    return np.log10(num / np.maximum(np.asarray(denominator, np.float64), res))
