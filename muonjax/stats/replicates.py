"""A power law through fitted estimates, with their bootstrap replicates carried.

Some exponents are fitted to quantities that are themselves fits: the critical batch
size ``B*(d)`` of Figure 3 is the breakpoint of a broken power law per ``d``. The
point estimate is the least-squares line of ``log y`` on ``log x``; the interval is
the percentile interval of the lines through bootstrap replicate ``b`` of every
point (independent across points when each point's fit used its own bootstrap
seed), as :func:`muonjax.fit_two_stage` does for Figure 2's second stage.

References:
    SPEC Part D (bootstrap over seeds carried through two-stage fits).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from muonjax.stats.bootstrap import percentile_interval
from muonjax.stats.fit import MAX_DISCARDED_FRACTION, ExcludedPoint, FitResult, _line


def fit_power_law_replicates(
    x: Any,
    y: Any,
    replicates: Any,
    *,
    n_seeds: Any,
    confidence: float = 0.95,
    min_points: int = 2,
    excluded: Sequence[ExcludedPoint] = (),
    flags: Sequence[str] = (),
) -> FitResult:
    """Fit ``y ~ a x^C`` to point estimates whose bootstrap replicates are given.

    Args:
        x: ``(m,)`` positive sizes (the points already screened by the caller).
        y: ``(m,)`` positive estimates at those sizes.
        replicates: ``(n_boot, m)`` bootstrap replicates of the estimates; a
            replicate with a non-finite or non-positive entry is discarded.
        n_seeds: ``(m,)`` seeds behind each estimate.
        confidence: nominal coverage of the interval.
        min_points: fewest points to fit (>= 2; 2 gives an exactly determined line).
        excluded: points the caller left out, with reasons (kept in the result).
        flags: the caller's flags (kept in the result).

    Returns:
        A :class:`muonjax.FitResult` (``kind="power_law"``): ``exponent`` and
        ``interval`` of the slope, ``y_sem`` the bootstrap standard deviations of
        the estimates, ``bootstrap`` the replicate slopes; NaN with
        ``"too_few_points"`` when fewer than ``min_points`` points are given.
    """
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence=!r}")
    if (
        isinstance(min_points, bool)
        or not isinstance(min_points, int)
        or min_points < 2
    ):
        raise ValueError(f"min_points must be an integer >= 2, got {min_points=!r}")
    xs = np.asarray(x, np.float64).reshape(-1)
    ys = np.asarray(y, np.float64).reshape(-1)
    boots = np.asarray(replicates, np.float64)
    m = xs.shape[0]
    if ys.shape != (m,) or boots.ndim != 2 or boots.shape[1] != m:
        raise ValueError(
            f"x, y and replicates must be (m,), (m,), (n_boot, m), got {xs.shape}, "
            f"{ys.shape}, {boots.shape}"
        )
    n_boot = boots.shape[0]
    flags = list(flags)
    finite = np.isfinite(boots)
    y_sd = np.array(
        [
            np.std(boots[finite[:, j], j], ddof=1)
            if finite[:, j].sum() > 1
            else math.nan
            for j in range(m)
        ]
    )
    common = {
        "kind": "power_law",
        "confidence": confidence,
        "x": xs,
        "y": ys,
        "y_sem": y_sd,
        "n_seeds": np.asarray(n_seeds, np.int64).reshape(-1),
        "excluded": tuple(excluded),
        "weighted": False,
        "n_boot": n_boot,
    }
    nan2 = (math.nan, math.nan)
    if m < min_points:
        return FitResult(
            exponent=math.nan,
            interval=nan2,
            prefactor=math.nan,
            prefactor_interval=nan2,
            flags=("too_few_points", *flags),
            ols_stderr=math.nan,
            max_abs_residual=math.nan,
            bootstrap=np.full(n_boot, math.nan),
            bootstrap_intercept=np.full(n_boot, math.nan),
            **common,
        )
    if m == 2:
        flags.append("two points: the line is exactly determined")
    lx, ly = np.log(xs), np.log(ys)
    b0, b1 = (float(v) for v in _line(lx, ly))
    resid = ly - (b0 + b1 * lx)
    ols = (
        math.sqrt(
            float(np.sum(resid**2)) / (m - 2) / float(np.sum((lx - lx.mean()) ** 2))
        )
        if m > 2
        else math.nan
    )
    valid = np.all(np.isfinite(boots) & (boots > 0), axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        rb0, rb1 = _line(lx, np.log(np.where(valid[:, None], boots, 1.0)))
    rb0 = np.where(valid, rb0, math.nan)
    rb1 = np.where(valid, rb1, math.nan)
    if valid.sum() < (1 - MAX_DISCARDED_FRACTION) * n_boot:
        flags.append("bootstrap: too many discarded replicates, no interval")
        interval = pre_interval = nan2
    else:
        if not np.all(valid):
            flags.append(f"bootstrap: {int((~valid).sum())} replicates discarded")
        interval = percentile_interval(rb1[valid], confidence)
        pre_interval = percentile_interval(np.exp(rb0[valid]), confidence)
    return FitResult(
        exponent=b1,
        interval=interval,
        prefactor=math.exp(b0),
        prefactor_interval=pre_interval,
        flags=tuple(flags),
        ols_stderr=ols,
        max_abs_residual=float(np.max(np.abs(resid))),
        bootstrap=rb1,
        bootstrap_intercept=rb0,
        **common,
    )
