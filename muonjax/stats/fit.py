"""Scaling-law fits with bootstrap confidence intervals over seeds (SPEC Part D).

Every fit here takes measurements ``y`` at a few values of a size ``x`` (the
dimension ``d``, the batch size ``B``, the step count ``T``), each repeated over
seeds, and returns the estimate, its confidence interval, the points it used, the
points it excluded and why, and flags for anything unusual. Nothing is dropped
silently.

The fits:

- :func:`fit_power_law`: ``y ~ a x^C`` by least squares of ``log mean(y)`` on
  ``log x`` (optionally weighted by the inverse variance of ``log mean(y)``), with a
  percentile bootstrap over seeds (seeds are resampled within each ``x``).
- :func:`fit_exponential`: ``y ~ a exp(r x)`` the same way, on ``log mean(y)``
  against ``x``.
- :func:`fit_loss_slope`: a power law of the excess loss ``L - L*`` against ``T``.
- :func:`fit_step_exponents`: one power law in ``x`` per step of a multi-step run.
- :func:`fit_two_stage`: Figure 2's second stage ``C_alpha = c1 + c2 / alpha``, with
  the bootstrap carried through both stages.
- :func:`fit_broken_power_law`: ``y ~ min(a x^s, plateau)`` (piecewise, or smoothed),
  by ``scipy.optimize.least_squares``, returning the breakpoint (the critical batch
  size) with a bootstrap interval.

Input layout: ``x`` is ``(k,)``; ``y`` is ``(k, s)`` (``s`` seeds per ``x``), or a
sequence of ``k`` one-dimensional arrays when the number of seeds differs between
points.

Degenerate input, and what happens to it:

- structural errors raise ``ValueError`` naming the argument: ``x`` not 1-D, not
  finite, not positive (power laws), repeated; fewer than two ``x`` values; ``y``
  whose length does not match ``x``; a point with no seeds; bad options;
- bad measurements exclude their point and say so in ``excluded``: non-finite
  ``y`` (in any seed), negative ``y`` (in any seed), a zero mean, a point at its
  saturation ceiling (capacity equal to ``N``, or to the number of distinct items in
  the batch), or a caller's own exclusion;
- seeds that are zero at a point whose mean is positive are kept and flagged;
- when fewer than ``min_points`` points remain, the result has NaN estimates and
  the flag ``"too_few_points"`` (or ``ValueError`` with ``strict=True``); a verdict
  on it is "inconclusive".

The bootstrap over seeds measures seed noise only; it cannot see a curved log-log
relation (constants and log factors of a scaling law, or a pre-asymptotic regime).
``ols_stderr`` (the classical slope error from the scatter of the means around the
line) and ``max_abs_residual`` are reported beside the interval for that reason.

References:
    SPEC Part D; Kim et al. (2026), Figure 2 (two-stage fit), Figure 3 (critical
    batch sizes), Figure 4 (per-step exponents); Li et al. (2026), scaling laws in T.
"""

# Size: over 500 lines because the power-law, two-stage and broken power-law fits share
# the bootstrap-over-seeds driver and result types; splitting it per fit is the next
# step.

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.optimize

from muonjax._io import value_to_dict

__all__ = [
    "BrokenPowerLawFit",
    "ExcludedPoint",
    "FitResult",
    "TwoStageFit",
    "fit_broken_power_law",
    "fit_exponential",
    "fit_loss_slope",
    "fit_power_law",
    "fit_step_exponents",
    "fit_two_stage",
]

#: Floor of the per-point standard error in the weighted fits, as a fraction of the
#: median positive standard error: a point whose seeds all agree (zero sample
#: variance) would otherwise get an infinite weight.
SE_FLOOR_FRACTION = 0.1

#: A fit whose bootstrap lost more than this fraction of its replicates (a zero mean
#: in a resample, a failed refit) reports no interval.
MAX_DISCARDED_FRACTION = 0.5


# --------------------------------------------------------------------------------------
# Results.


@dataclass(frozen=True)
class ExcludedPoint:
    """A point left out of a fit, and why.

    Attributes:
        x: the point's ``x``.
        reason: a short human-readable reason ("zero mean", "saturated: 3 of 8 seeds
            at the ceiling 20000", ...).
    """

    x: float
    reason: str


@dataclass(frozen=True)
class FitResult:
    """A straight-line fit in log space with a bootstrap interval.

    For ``kind="power_law"``: ``y ~ prefactor * x^exponent``. For
    ``kind="exponential"``: ``y ~ prefactor * exp(exponent * x)``.

    Attributes:
        kind: ``"power_law"`` or ``"exponential"``.
        exponent: the slope (``C`` or the rate ``r``); NaN when not fitted.
        interval: ``(lo, hi)`` percentile bootstrap interval of the slope.
        prefactor: ``a``.
        prefactor_interval: bootstrap interval of ``a``.
        confidence: the interval's nominal coverage.
        x: ``(m,)`` the ``x`` values used.
        y: ``(m,)`` the mean ``y`` at those points.
        y_sem: ``(m,)`` standard errors of those means (NaN with one seed).
        n_seeds: ``(m,)`` seeds per used point.
        excluded: points left out, with their reasons.
        flags: anything unusual (``"too_few_points"``, ``"single_seed"``, partial
            zeros, discarded bootstrap replicates, ...).
        weighted: whether the inverse-variance weighted fit was used.
        n_boot: bootstrap replicates drawn.
        ols_stderr: classical standard error of the slope from the scatter of the
            means around the line (NaN with fewer than 3 points).
        max_abs_residual: largest ``|log mean(y) - fitted|`` over the used points.
        bootstrap: ``(n_boot,)`` bootstrap slopes (NaN for discarded replicates),
            kept for :func:`fit_two_stage`; not written to JSON.
        bootstrap_intercept: ``(n_boot,)`` bootstrap intercepts (log prefactor).
    """

    kind: str
    exponent: float
    interval: tuple[float, float]
    prefactor: float
    prefactor_interval: tuple[float, float]
    confidence: float
    x: np.ndarray
    y: np.ndarray
    y_sem: np.ndarray
    n_seeds: np.ndarray
    excluded: tuple[ExcludedPoint, ...]
    flags: tuple[str, ...]
    weighted: bool
    n_boot: int
    ols_stderr: float
    max_abs_residual: float
    bootstrap: np.ndarray = field(repr=False, metadata={"json": False})
    bootstrap_intercept: np.ndarray = field(repr=False, metadata={"json": False})

    @property
    def ok(self) -> bool:
        """True when the slope and its interval are finite numbers."""
        return bool(np.isfinite(self.exponent) and np.all(np.isfinite(self.interval)))

    def predict(self, x: Any) -> np.ndarray:
        """The fitted curve at ``x``."""
        xx = np.asarray(x, dtype=np.float64)
        if self.kind == "power_law":
            return self.prefactor * xx**self.exponent
        return self.prefactor * np.exp(self.exponent * xx)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (without the bootstrap samples)."""
        return value_to_dict(self)


@dataclass(frozen=True)
class TwoStageFit:
    """Figure 2's second stage, ``C_alpha = c1 + c2 / alpha``.

    Attributes:
        c1, c2: the fitted coefficients (NaN when not fitted).
        c1_interval, c2_interval: percentile intervals from the bootstrap carried
            through both stages.
        confidence: nominal coverage.
        alphas: ``(m,)`` the alphas used.
        exponents: ``(m,)`` the first-stage exponents ``C_alpha`` used.
        exponent_intervals: ``(m, 2)`` their intervals.
        excluded: alphas left out (their first-stage fit failed), with reasons.
        flags: anything unusual.
        n_boot: bootstrap replicates.
        bootstrap: ``(n_boot, 2)`` replicates of ``(c1, c2)``; not written to JSON.
    """

    c1: float
    c2: float
    c1_interval: tuple[float, float]
    c2_interval: tuple[float, float]
    confidence: float
    alphas: np.ndarray
    exponents: np.ndarray
    exponent_intervals: np.ndarray
    excluded: tuple[ExcludedPoint, ...]
    flags: tuple[str, ...]
    n_boot: int
    bootstrap: np.ndarray = field(repr=False, metadata={"json": False})

    @property
    def ok(self) -> bool:
        """True when both coefficients and their intervals are finite."""
        vals = (self.c1, self.c2, *self.c1_interval, *self.c2_interval)
        return bool(np.all(np.isfinite(vals)))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (without the bootstrap samples)."""
        return value_to_dict(self)


@dataclass(frozen=True)
class BrokenPowerLawFit:
    """``y ~ min(a x^slope, plateau)``: a rise, a breakpoint, a plateau.

    Attributes:
        breakpoint: ``x* = (plateau / a)^(1/slope)``, where the rise meets the
            plateau (the critical batch size for ``x = B``).
        breakpoint_interval: bootstrap interval of ``x*``.
        slope: the rising branch's exponent (fixed or fitted).
        slope_interval: its interval (``(slope, slope)`` when fixed).
        plateau: the plateau height.
        plateau_interval: its interval.
        prefactor: ``a``.
        smooth: ``None`` for the piecewise minimum; else the sharpness ``beta`` of the
            soft minimum ``-(1/beta) log(exp(-beta u) + exp(-beta v))`` in log space.
        fixed_slope: whether the slope was fixed by the caller.
        confidence: nominal coverage.
        x, y, n_seeds: the points used (means over seeds).
        excluded: points left out, with reasons.
        flags: anything unusual (``"breakpoint_outside_data"``, ...).
        n_boot: bootstrap replicates.
        rms_residual: root-mean-square residual in ``log y``.
        bootstrap: ``(n_boot, 3)`` replicates of ``(breakpoint, slope, plateau)``.
    """

    breakpoint: float
    breakpoint_interval: tuple[float, float]
    slope: float
    slope_interval: tuple[float, float]
    plateau: float
    plateau_interval: tuple[float, float]
    prefactor: float
    smooth: float | None
    fixed_slope: bool
    confidence: float
    x: np.ndarray
    y: np.ndarray
    n_seeds: np.ndarray
    excluded: tuple[ExcludedPoint, ...]
    flags: tuple[str, ...]
    n_boot: int
    rms_residual: float
    bootstrap: np.ndarray = field(repr=False, metadata={"json": False})

    @property
    def ok(self) -> bool:
        """True when the breakpoint and its interval are finite."""
        vals = (self.breakpoint, *self.breakpoint_interval)
        return bool(np.all(np.isfinite(vals)))

    def predict(self, x: Any) -> np.ndarray:
        """The fitted curve at ``x``."""
        lx = np.log(np.asarray(x, dtype=np.float64))
        theta = (math.log(self.prefactor), self.slope, math.log(self.plateau))
        return np.exp(_broken_model(lx, theta, self.smooth))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (without the bootstrap samples)."""
        return value_to_dict(self)


# --------------------------------------------------------------------------------------
# Input handling.


def _check_options(confidence: float, n_boot: int, min_points: int) -> None:
    if not (isinstance(confidence, (float, int)) and 0 < confidence < 1):
        raise ValueError(f"confidence must be in (0, 1), got confidence={confidence!r}")
    if isinstance(n_boot, bool) or not isinstance(n_boot, (int, np.integer)):
        raise ValueError(f"n_boot must be an integer >= 100, got n_boot={n_boot!r}")
    if n_boot < 100:
        raise ValueError(f"n_boot must be >= 100, got n_boot={n_boot!r}")
    if isinstance(min_points, bool) or not isinstance(min_points, (int, np.integer)):
        raise ValueError(f"min_points must be an integer >= 2, got {min_points=!r}")
    if min_points < 2:
        raise ValueError(f"min_points must be >= 2, got min_points={min_points!r}")


def _as_x(x: Any, *, positive: bool) -> np.ndarray:
    xs = np.asarray(x, dtype=np.float64)
    if xs.ndim != 1:
        raise ValueError(f"x must be one-dimensional, got x.shape={xs.shape}")
    if xs.shape[0] < 2:
        raise ValueError(
            f"a fit needs at least 2 values of x, got {xs.shape[0]} (x={xs.tolist()})"
        )
    if not np.all(np.isfinite(xs)):
        raise ValueError(f"x must be finite, got x={xs.tolist()}")
    if positive and np.any(xs <= 0):
        raise ValueError(f"x must be > 0 for a power law, got x={xs.tolist()}")
    if np.unique(xs).shape[0] != xs.shape[0]:
        raise ValueError(f"x values must be distinct, got x={xs.tolist()}")
    return xs


def _as_samples(y: Any, k: int) -> list[np.ndarray]:
    """``y`` as ``k`` one-dimensional float arrays (seeds of each point)."""
    if isinstance(y, np.ndarray) or not isinstance(y, Sequence):
        arr = np.asarray(y, dtype=np.float64)
        if arr.ndim == 1:
            arr = arr[:, None]
        if arr.ndim != 2 or arr.shape[0] != k:
            raise ValueError(
                f"y must have shape (len(x), seeds) = ({k}, s), got y.shape={arr.shape}"
            )
        rows = list(arr)
    else:
        if len(y) != k:
            raise ValueError(f"y must hold one entry per x ({k}), got len(y)={len(y)}")
        rows = [np.atleast_1d(np.asarray(r, dtype=np.float64)) for r in y]
        for i, r in enumerate(rows):
            if r.ndim != 1:
                raise ValueError(
                    f"y[{i}] must be one-dimensional (seeds), got shape {r.shape}"
                )
    for i, r in enumerate(rows):
        if r.shape[0] < 1:
            raise ValueError(f"y[{i}] holds no seeds")
    return rows


def _broadcast_ceiling(saturation: Any, rows: list[np.ndarray]) -> list[np.ndarray]:
    """Saturation ceilings per point and seed (scalar, ``(k,)`` or per seed)."""
    k = len(rows)
    if np.ndim(saturation) == 0:
        value = float(saturation)
        return [np.full(r.shape, value) for r in rows]
    if isinstance(saturation, np.ndarray) or not isinstance(saturation, Sequence):
        arr = np.asarray(saturation, dtype=np.float64)
        if arr.ndim == 1 and arr.shape[0] == k:
            return [np.full(r.shape, c) for r, c in zip(rows, arr, strict=True)]
        if arr.ndim == 2 and arr.shape[0] == k:
            return [np.asarray(c, dtype=np.float64) for c in arr]
        raise ValueError(
            "saturation must be a scalar, (len(x),) or shaped like y, got shape "
            f"{arr.shape}"
        )
    if len(saturation) != k:
        raise ValueError(
            f"saturation must hold one entry per x ({k}), got {len(saturation)}"
        )
    out = []
    for r, c in zip(rows, saturation, strict=True):
        cc = np.broadcast_to(np.asarray(c, dtype=np.float64), r.shape)
        out.append(np.array(cc))
    return out


def _screen(
    xs: np.ndarray,
    rows: list[np.ndarray],
    *,
    saturation: Any,
    saturation_rtol: float,
    exclude: Mapping[float, str] | None,
) -> tuple[np.ndarray, list[np.ndarray], list[ExcludedPoint], list[str]]:
    """Split the points into usable ones and excluded ones (with reasons)."""
    if not (0 <= saturation_rtol < 1):
        raise ValueError(f"saturation_rtol must be in [0, 1), got {saturation_rtol=!r}")
    ceilings = None
    if saturation is not None:
        ceilings = _broadcast_ceiling(saturation, rows)
        for i, (r, c) in enumerate(zip(rows, ceilings, strict=True)):
            if c.shape != r.shape:
                raise ValueError(
                    f"saturation[{i}] must match the {r.shape[0]} seeds of y[{i}], "
                    f"got shape {c.shape}"
                )
    user: dict[int, str] = {}
    if exclude is not None:
        for key, why in exclude.items():
            match = np.nonzero(np.isclose(xs, float(key), rtol=1e-12, atol=0))[0]
            if match.shape[0] != 1:
                raise ValueError(
                    f"exclude names x={key!r}, which is not one of x={xs.tolist()}"
                )
            user[int(match[0])] = str(why)
    keep_x: list[float] = []
    keep_rows: list[np.ndarray] = []
    excluded: list[ExcludedPoint] = []
    flags: list[str] = []
    for i, (xv, r) in enumerate(zip(xs, rows, strict=True)):
        s = r.shape[0]
        bad = ~np.isfinite(r)
        reason: str | None = None
        if i in user:
            reason = user[i]
        elif np.any(bad):
            reason = f"non-finite y in {int(bad.sum())} of {s} seeds"
        elif np.any(r < 0):
            reason = f"negative y in {int((r < 0).sum())} of {s} seeds"
        elif np.mean(r) == 0:
            reason = f"zero mean (all {s} seeds are 0)"
        elif ceilings is not None:
            at = r >= ceilings[i] * (1 - saturation_rtol)
            if np.any(at):
                top = np.unique(ceilings[i][at])
                shown = ", ".join(f"{c:g}" for c in top[:4])
                reason = (
                    f"saturated: {int(at.sum())} of {s} seeds at the ceiling ({shown})"
                )
        if reason is not None:
            excluded.append(ExcludedPoint(float(xv), reason))
            continue
        zeros = int(np.sum(r == 0))
        if zeros:
            flags.append(f"{zeros} of {s} seeds are 0 at x={xv:g} (kept)")
        keep_x.append(xv)
        keep_rows.append(r)
    return np.asarray(keep_x, dtype=np.float64), keep_rows, excluded, flags


# --------------------------------------------------------------------------------------
# Straight lines, vectorised over bootstrap replicates.


def _line(
    lx: np.ndarray, ly: np.ndarray, w: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Weighted least-squares line ``ly ~ b0 + b1 lx`` over the last axis.

    ``lx`` is ``(m,)``; ``ly`` and ``w`` are ``(..., m)``. This is the closed-form
    normal-equation solution (no iterative optimizer); the tests compare it with
    ``scipy.stats.linregress`` and ``numpy.polyfit``.
    """
    if w is None:
        w = np.ones_like(ly)
    sw = np.sum(w, axis=-1)
    mx = np.sum(w * lx, axis=-1) / sw
    my = np.sum(w * ly, axis=-1) / sw
    dx = lx - mx[..., None]
    sxx = np.sum(w * dx * dx, axis=-1)
    sxy = np.sum(w * dx * (ly - my[..., None]), axis=-1)
    slope = sxy / sxx
    return my - slope * mx, slope


def _se_of_log_mean(means: np.ndarray, sds: np.ndarray, counts: np.ndarray):
    """Delta-method standard error of ``log mean`` with the documented floor."""
    se = sds / (np.sqrt(counts) * means)
    positive = se[np.isfinite(se) & (se > 0)]
    if positive.size == 0:
        return None
    floor = SE_FLOOR_FRACTION * float(np.median(positive))
    return np.maximum(np.where(np.isfinite(se), se, floor), floor)


def _percentile_interval(samples: np.ndarray, confidence: float) -> tuple[float, float]:
    tail = 100 * (1 - confidence) / 2
    lo, hi = np.percentile(samples, [tail, 100 - tail])
    return float(lo), float(hi)


def _nan_fit(kind, xs, rows, excluded, flags, weighted, confidence, n_boot):
    m = len(rows)
    return FitResult(
        kind=kind,
        exponent=math.nan,
        interval=(math.nan, math.nan),
        prefactor=math.nan,
        prefactor_interval=(math.nan, math.nan),
        confidence=confidence,
        x=xs,
        y=np.array([np.mean(r) for r in rows]) if m else np.zeros(0),
        y_sem=np.full(m, math.nan),
        n_seeds=np.array([r.shape[0] for r in rows], dtype=np.int64),
        excluded=tuple(excluded),
        flags=tuple(flags),
        weighted=weighted,
        n_boot=n_boot,
        ols_stderr=math.nan,
        max_abs_residual=math.nan,
        bootstrap=np.full(n_boot, math.nan),
        bootstrap_intercept=np.full(n_boot, math.nan),
    )


def _fit_line_bootstrap(
    x: Any,
    y: Any,
    *,
    kind: str,
    weighted: bool,
    saturation: Any,
    saturation_rtol: float,
    exclude: Mapping[float, str] | None,
    confidence: float,
    n_boot: int,
    min_points: int,
    seed: int,
    strict: bool,
) -> FitResult:
    _check_options(confidence, n_boot, min_points)
    xs_all = _as_x(x, positive=(kind == "power_law"))
    rows_all = _as_samples(y, xs_all.shape[0])
    xs, rows, excluded, flags = _screen(
        xs_all,
        rows_all,
        saturation=saturation,
        saturation_rtol=saturation_rtol,
        exclude=exclude,
    )
    m = xs.shape[0]
    if m < min_points:
        msg = (
            f"too few usable points: {m} < min_points={min_points} "
            f"(excluded: {[f'x={e.x:g}: {e.reason}' for e in excluded]})"
        )
        if strict:
            raise ValueError(msg)
        return _nan_fit(
            kind,
            xs,
            rows,
            excluded,
            ["too_few_points", msg, *flags],
            weighted,
            confidence,
            n_boot,
        )
    counts = np.array([r.shape[0] for r in rows], dtype=np.int64)
    means = np.array([np.mean(r) for r in rows])
    sds = np.array([np.std(r, ddof=1) if r.shape[0] > 1 else math.nan for r in rows])
    sem = sds / np.sqrt(counts)
    lx = np.log(xs) if kind == "power_law" else xs
    ly = np.log(means)

    w = None
    if weighted:
        if np.any(counts < 2):
            raise ValueError(
                "the weighted fit needs at least 2 seeds at every point (to estimate "
                f"a variance), got seeds per point {counts.tolist()}"
            )
        se = _se_of_log_mean(means, sds, counts)
        if se is None:
            flags.append("weighted: every point has zero variance; fitted unweighted")
        else:
            w = 1.0 / se**2
    intercept, slope = (float(v) for v in _line(lx, ly, w))
    resid = ly - (intercept + slope * lx)
    ols_stderr = math.nan
    if m >= 3:
        dof = m - 2
        ww = np.ones(m) if w is None else w
        s2 = float(np.sum(ww * resid**2) / dof)
        sxx = float(np.sum(ww * (lx - np.sum(ww * lx) / np.sum(ww)) ** 2))
        ols_stderr = math.sqrt(s2 / sxx)
    else:
        flags.append("two points: the line has no residual degrees of freedom")

    # Bootstrap: resample the seeds of each point independently, refit.
    rng = np.random.default_rng(seed)
    boot_means = np.empty((n_boot, m))
    boot_sds = np.empty((n_boot, m))
    for j, r in enumerate(rows):
        idx = rng.integers(0, r.shape[0], size=(n_boot, r.shape[0]))
        sample = r[idx]
        boot_means[:, j] = sample.mean(axis=1)
        if weighted:
            boot_sds[:, j] = sample.std(axis=1, ddof=1)
    if np.any(counts < 2):
        flags.append(
            "single_seed: a point with one seed has no seed-to-seed spread, so the "
            "interval reflects only the other points"
        )
        if np.all(counts < 2):
            flags.append("no replicates at any point: no interval")
    zero = np.any(boot_means <= 0, axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        bly = np.log(np.where(zero[:, None], 1.0, boot_means))
        bw = None
        if w is not None:
            bse = boot_sds / (
                np.sqrt(counts) * np.where(zero[:, None], 1.0, boot_means)
            )
            floor = SE_FLOOR_FRACTION * float(
                np.median(bse[np.isfinite(bse) & (bse > 0)])
                if np.any(np.isfinite(bse) & (bse > 0))
                else 1.0
            )
            bse = np.maximum(np.where(np.isfinite(bse), bse, floor), floor)
            bw = 1.0 / bse**2
        b0, b1 = _line(lx, bly, bw)
    b0 = np.where(zero, math.nan, b0)
    b1 = np.where(zero, math.nan, b1)
    n_zero = int(zero.sum())
    if n_zero:
        flags.append(
            f"bootstrap: {n_zero} of {n_boot} replicates had a zero mean at some x "
            "and were discarded"
        )
    valid = np.isfinite(b1)
    if np.all(counts < 2) or valid.sum() < (1 - MAX_DISCARDED_FRACTION) * n_boot:
        interval = (math.nan, math.nan)
        a_interval = (math.nan, math.nan)
        if not np.all(counts < 2):
            flags.append("bootstrap: too many discarded replicates, no interval")
    else:
        interval = _percentile_interval(b1[valid], confidence)
        lo, hi = _percentile_interval(b0[valid], confidence)
        a_interval = (math.exp(lo), math.exp(hi))
    return FitResult(
        kind=kind,
        exponent=slope,
        interval=interval,
        prefactor=math.exp(intercept),
        prefactor_interval=a_interval,
        confidence=float(confidence),
        x=xs,
        y=means,
        y_sem=sem,
        n_seeds=counts,
        excluded=tuple(excluded),
        flags=tuple(flags),
        weighted=w is not None,
        n_boot=int(n_boot),
        ols_stderr=ols_stderr,
        max_abs_residual=float(np.max(np.abs(resid))),
        bootstrap=b1,
        bootstrap_intercept=b0,
    )


# --------------------------------------------------------------------------------------
# Public fits.


def fit_power_law(
    x: Any,
    y: Any,
    *,
    weighted: bool = False,
    saturation: Any = None,
    saturation_rtol: float = 0.0,
    exclude: Mapping[float, str] | None = None,
    confidence: float = 0.95,
    n_boot: int = 2000,
    min_points: int = 3,
    seed: int = 0,
    strict: bool = False,
) -> FitResult:
    """Fit ``y ~ a x^C`` on the mean over seeds, with a bootstrap interval for ``C``.

    ``C`` and ``log a`` are the least-squares line of ``log mean_s(y)`` against
    ``log x``. With ``weighted=True`` each point is weighted by ``1 / se^2``, ``se``
    the delta-method standard error of ``log mean(y)`` (``sd / (sqrt(s) mean)``,
    floored at :data:`SE_FLOOR_FRACTION` times the median). The interval is the
    percentile bootstrap over seeds: each replicate resamples, with replacement,
    the ``s`` seeds of every point independently, and refits.

    Args:
        x: ``(k,)`` distinct positive sizes (``d``, ``B``, ``T``, ...).
        y: ``(k, s)`` measurements (seeds along the second axis), ``(k,)`` for one
            seed, or a length-``k`` sequence of 1-D arrays (ragged seeds).
        weighted: inverse-variance weighted least squares.
        saturation: a ceiling at which a measurement is saturated (capacity equal to
            ``N``, or to the number of distinct items in the batch): a scalar,
            ``(k,)``, or per seed shaped like ``y``. A point with any seed at or
            above ``ceiling * (1 - saturation_rtol)`` is excluded.
        saturation_rtol: relative slack of the saturation test, in ``[0, 1)``.
        exclude: ``{x: reason}`` of points the caller excludes (for example
            precision-limited points); they are listed like the others.
        confidence: nominal coverage of the interval, in ``(0, 1)``.
        n_boot: bootstrap replicates (>= 100).
        min_points: fewest usable points to fit (>= 2).
        seed: seed of the bootstrap's numpy generator (results are reproducible).
        strict: raise ``ValueError`` instead of returning a flagged NaN result when
            too few points remain.

    Returns:
        A :class:`FitResult` with ``kind="power_law"``.

    Raises:
        ValueError: on structural errors (see the module docstring), or too few
            usable points with ``strict=True``.

    Example:
        >>> x = np.array([64, 128, 256])
        >>> y = np.array([[30, 34], [80, 88], [230, 240]])
        >>> fit = fit_power_law(x, y)
        >>> round(fit.exponent, 2), fit.ok
        (1.44, True)

    References:
        SPEC Part D: "least squares on log y against log x over the mean across
        seeds, with a bootstrap over seeds for a confidence interval".
    """
    return _fit_line_bootstrap(
        x,
        y,
        kind="power_law",
        weighted=weighted,
        saturation=saturation,
        saturation_rtol=saturation_rtol,
        exclude=exclude,
        confidence=confidence,
        n_boot=n_boot,
        min_points=min_points,
        seed=seed,
        strict=strict,
    )


def fit_exponential(
    x: Any,
    y: Any,
    *,
    weighted: bool = False,
    saturation: Any = None,
    saturation_rtol: float = 0.0,
    exclude: Mapping[float, str] | None = None,
    confidence: float = 0.95,
    n_boot: int = 2000,
    min_points: int = 3,
    seed: int = 0,
    strict: bool = False,
) -> FitResult:
    """Fit ``y ~ a exp(r x)`` (a line of ``log mean(y)`` against ``x``).

    For exponential decay laws such as Muon's noiseless ``L_j(t) ~ K exp(-eta t)``
    (SPEC B.3): the fitted ``exponent`` is the rate ``r`` (negative for decay). The
    arguments, exclusions and bootstrap are those of :func:`fit_power_law`, except
    that ``x`` may be zero or negative.

    Returns:
        A :class:`FitResult` with ``kind="exponential"``.

    References:
        SPEC Part D (loss-against-T fits for Part B); SPEC B.3, Thm 4.2 [summary].
    """
    return _fit_line_bootstrap(
        x,
        y,
        kind="exponential",
        weighted=weighted,
        saturation=saturation,
        saturation_rtol=saturation_rtol,
        exclude=exclude,
        confidence=confidence,
        n_boot=n_boot,
        min_points=min_points,
        seed=seed,
        strict=strict,
    )


def fit_loss_slope(
    t: Any,
    loss: Any,
    *,
    optimum: float = 0.0,
    weighted: bool = False,
    exclude: Mapping[float, str] | None = None,
    confidence: float = 0.95,
    n_boot: int = 2000,
    min_points: int = 3,
    seed: int = 0,
    strict: bool = False,
) -> FitResult:
    """Slope of the excess loss ``L(T) - L*`` against ``T`` in log-log.

    Fits ``L - L* ~ a T^C``; ``C`` is negative for a decreasing loss (SPEC B.3: GD
    ``C >~ -(1 - 1/beta)``, Muon ``C <~ -2``). A point where some seed's excess loss
    is zero or negative (the loss reached, or by rounding crossed, ``L*``) is
    excluded with that reason, never clipped.

    Args:
        t: ``(k,)`` step counts (> 0).
        loss: ``(k, s)`` losses per step count and seed (or ragged, as in
            :func:`fit_power_law`).
        optimum: ``L*`` subtracted first (0 for noiseless tasks).
        weighted, exclude, confidence, n_boot, min_points, seed, strict: as in
            :func:`fit_power_law`.

    Returns:
        A :class:`FitResult` (``kind="power_law"``) of the excess loss.

    References:
        SPEC Part D, loss-against-T slopes for Part B; SPEC B.3 Thms 5.7, 5.8
        [summary].
    """
    ts = _as_x(t, positive=True)
    rows = _as_samples(loss, ts.shape[0])
    if not math.isfinite(float(optimum)):
        raise ValueError(f"optimum must be finite, got optimum={optimum!r}")
    excess = [r - float(optimum) for r in rows]
    extra = dict(exclude or {})
    for tv, r in zip(ts, excess, strict=True):
        if float(tv) in extra or not np.all(np.isfinite(r)):
            continue
        if np.any(r <= 0):
            extra[float(tv)] = (
                f"excess loss L - L* <= 0 in {int(np.sum(r <= 0))} of {r.shape[0]} "
                "seeds"
            )
    return fit_power_law(
        ts,
        excess,
        weighted=weighted,
        exclude=extra or None,
        confidence=confidence,
        n_boot=n_boot,
        min_points=min_points,
        seed=seed,
        strict=strict,
    )


def fit_step_exponents(
    x: Any,
    y: Any,
    *,
    steps: Sequence[int] | None = None,
    **kwargs: Any,
) -> dict[int, FitResult]:
    """One power law in ``x`` per step of a multi-step run (Figure 4).

    Args:
        x: ``(k,)`` sizes (usually ``d``).
        y: ``(k, s, T + 1)`` capacities of ``W_0 .. W_T`` per size and seed.
        steps: the steps to fit, default ``1 .. T`` (``W_0 = 0`` recovers nothing).
        **kwargs: passed to :func:`fit_power_law` (``saturation`` may be given per
            point or per seed, as there).

    Returns:
        ``{t: FitResult}``, to compare with ``2 - (1 - 1/(2 alpha))^t``
        (:func:`muonjax.theory.multi_step_exponent`).

    References:
        SPEC A.5, t Muon steps [quoted]; Kim et al. (2026), Figure 4e.
    """
    arr = np.asarray(y, dtype=np.float64)
    if arr.ndim != 3:
        raise ValueError(
            f"y must have shape (len(x), seeds, T + 1), got y.shape={arr.shape}"
        )
    n_steps = arr.shape[2] - 1
    chosen = list(range(1, n_steps + 1)) if steps is None else list(steps)
    for t in chosen:
        if isinstance(t, bool) or not isinstance(t, (int, np.integer)):
            raise ValueError(f"steps must be integers, got {t!r}")
        if not 0 <= t <= n_steps:
            raise ValueError(f"steps must lie in [0, {n_steps}], got {t}")
    return {int(t): fit_power_law(x, arr[:, :, t], **kwargs) for t in chosen}


def fit_two_stage(
    alphas: Any,
    fits: Sequence[FitResult],
    *,
    weighted: bool = False,
    confidence: float = 0.95,
    min_points: int = 2,
) -> TwoStageFit:
    """Figure 2's second stage: ``C_alpha = c1 + c2 / alpha`` from per-alpha fits.

    The point estimate is the least-squares line of the first-stage exponents
    ``C_alpha`` against ``1 / alpha`` (weighted by the inverse bootstrap variance of
    each ``C_alpha`` when ``weighted``). The uncertainty is propagated through both
    stages: bootstrap replicate ``b`` of every first-stage fit (seeds resampled
    independently per alpha) gives a replicate line, and the intervals are the
    percentiles of those lines. All first-stage fits must therefore share ``n_boot``.

    Args:
        alphas: ``(m,)`` frequency exponents, distinct and > 0.
        fits: ``m`` power-law fits of capacity against ``d``, one per alpha (from
            :func:`fit_power_law`). Fits that are not ``ok`` are excluded and listed.
        weighted: inverse-variance weighting in the second stage.
        confidence: nominal coverage.
        min_points: fewest usable alphas (>= 2; 2 gives an exactly determined line).

    Returns:
        A :class:`TwoStageFit`, to compare with
        :func:`muonjax.theory.two_stage_coefficients`.

    References:
        SPEC A.5, Figure 2 two-stage fit [seed for the fit form; derived values];
        SPEC Part D.
    """
    a = _as_x(alphas, positive=True)
    if len(fits) != a.shape[0]:
        raise ValueError(
            f"fits must hold one fit per alpha ({a.shape[0]}), got {len(fits)}"
        )
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got confidence={confidence!r}")
    if min_points < 2:
        raise ValueError(f"min_points must be >= 2, got min_points={min_points!r}")
    n_boots = {f.n_boot for f in fits}
    if len(n_boots) != 1:
        raise ValueError(
            f"all first-stage fits must share n_boot, got {sorted(n_boots)}"
        )
    n_boot = n_boots.pop()
    used, excluded, flags = [], [], []
    for av, f in zip(a, fits, strict=True):
        if f.ok:
            used.append((av, f))
        else:
            why = "; ".join(f.flags[:2]) or "no estimate"
            excluded.append(ExcludedPoint(float(av), f"first-stage fit failed: {why}"))
    m = len(used)
    alphas_used = np.array([u[0] for u in used])
    exps = np.array([u[1].exponent for u in used])
    ints = np.array([u[1].interval for u in used]).reshape(m, 2)
    if m < min_points:
        flags.append("too_few_points")
        nan2 = (math.nan, math.nan)
        return TwoStageFit(
            math.nan,
            math.nan,
            nan2,
            nan2,
            float(confidence),
            alphas_used,
            exps,
            ints,
            tuple(excluded),
            tuple(flags),
            n_boot,
            np.full((n_boot, 2), math.nan),
        )
    if m == 2:
        flags.append("two alphas: the second-stage line is exactly determined")
    inv = 1.0 / alphas_used
    boots = np.stack([u[1].bootstrap for u in used], axis=1)  # (n_boot, m)
    w = None
    if weighted:
        var = np.nanvar(boots, axis=0, ddof=1)
        positive = var[var > 0]
        if positive.size:
            w = 1.0 / np.maximum(var, SE_FLOOR_FRACTION**2 * np.median(positive))
        else:
            flags.append("weighted: zero bootstrap variance; fitted unweighted")
    c1, c2 = (float(v) for v in _line(inv, exps, w))
    valid = np.all(np.isfinite(boots), axis=1)
    b1, b2 = _line(inv, boots, None if w is None else np.broadcast_to(w, boots.shape))
    rep = np.stack([b1, b2], axis=1)
    rep[~valid] = math.nan
    if valid.sum() < (1 - MAX_DISCARDED_FRACTION) * n_boot:
        flags.append("bootstrap: too many discarded replicates, no interval")
        i1 = i2 = (math.nan, math.nan)
    else:
        if not np.all(valid):
            flags.append(f"bootstrap: {int((~valid).sum())} replicates discarded")
        i1 = _percentile_interval(rep[valid, 0], confidence)
        i2 = _percentile_interval(rep[valid, 1], confidence)
    return TwoStageFit(
        c1,
        c2,
        i1,
        i2,
        float(confidence),
        alphas_used,
        exps,
        ints,
        tuple(excluded),
        tuple(flags),
        n_boot,
        rep,
    )


# --------------------------------------------------------------------------------------
# Broken power law.


def _broken_model(lx: np.ndarray, theta: Sequence[float], smooth: float | None):
    la, s, lp = theta
    rise = la + s * lx
    if smooth is None:
        return np.minimum(rise, lp)
    # Soft minimum in log space; tends to the piecewise minimum as smooth -> inf.
    return -np.logaddexp(-smooth * rise, -smooth * lp) / smooth


def _fit_broken_once(lx, ly, slope, smooth, starts):
    """Best least-squares fit over several starting points (scipy least_squares)."""
    best: Any = None
    for start in starts:
        if slope is None:

            def resid(th):
                return _broken_model(lx, th, smooth) - ly

            x0 = np.asarray(start, dtype=np.float64)
        else:

            def resid(th):
                return _broken_model(lx, (th[0], slope, th[1]), smooth) - ly

            x0 = np.asarray([start[0], start[2]], dtype=np.float64)
        sol = scipy.optimize.least_squares(resid, x0, method="trf")
        if best is None or sol.cost < best.cost:
            best = sol
    th = best.x
    theta = (th[0], th[1], th[2]) if slope is None else (th[0], slope, th[1])
    return theta, float(best.cost)


def _broken_starts(lx, ly, slope):
    """Starting points: break the data after each point in turn."""
    starts = []
    m = lx.shape[0]
    for j in range(1, m):
        lp = float(np.mean(ly[j:]))
        if slope is None:
            if j >= 2:
                _, b1 = _line(lx[: j + 1], ly[: j + 1])
                s0 = float(b1) if np.isfinite(b1) and b1 > 0 else 0.5
            else:
                s0 = float((ly[1] - ly[0]) / (lx[1] - lx[0]))
                s0 = s0 if s0 > 0 else 0.5
            la0 = float(np.mean(ly[: j + 1] - s0 * lx[: j + 1]))
        else:
            s0 = slope
            la0 = float(np.mean(ly[:j] - slope * lx[:j]))
        starts.append((la0, s0, lp))
    return starts


def fit_broken_power_law(
    x: Any,
    y: Any,
    *,
    slope: float | None = None,
    smooth: float | None = None,
    exclude: Mapping[float, str] | None = None,
    confidence: float = 0.95,
    n_boot: int = 500,
    min_points: int = 4,
    seed: int = 0,
    strict: bool = False,
) -> BrokenPowerLawFit:
    """Fit ``y ~ min(a x^slope, plateau)`` and return the breakpoint with an interval.

    The model is fitted in log space, ``log y = min(log a + slope log x, log P)``
    (or its soft minimum with sharpness ``smooth``), by
    ``scipy.optimize.least_squares`` started from a break after each data point in
    turn (the kink makes single starts unreliable); the breakpoint is
    ``x* = (P / a)^(1/slope)``. The interval comes from a bootstrap over seeds
    (seeds resampled within each ``x``, refitted from the point estimate and the
    neighbouring breaks). For the critical batch size of one minibatch step, ``x``
    is ``B`` and ``slope`` may be fixed at ``1 / alpha`` (the information-theoretic
    line, SPEC A.5) or left free.

    Args:
        x: ``(k,)`` distinct positive sizes (batch sizes).
        y: ``(k, s)`` measurements (or ragged), as in :func:`fit_power_law`.
        slope: fix the rising slope (e.g. ``1 / alpha``); ``None`` fits it.
        smooth: ``None`` for the piecewise minimum, else the soft-minimum sharpness
            (> 0; larger is sharper).
        exclude: ``{x: reason}`` of points the caller excludes.
        confidence: nominal coverage.
        n_boot: bootstrap replicates (>= 100; each is a small nonlinear fit).
        min_points: fewest usable points (>= 4 with a free slope: three parameters
            need one spare point; >= 3 with a fixed slope).
        seed: bootstrap seed.
        strict: raise instead of returning a flagged NaN result.

    Returns:
        A :class:`BrokenPowerLawFit`. The flag ``"breakpoint_outside_data"`` says the
        breakpoint lies outside ``[min x, max x]`` (an extrapolation: no rise or no
        plateau was observed); ``"breakpoint_near_edge"`` that fewer than two points
        lie on one side of it (the rise or the plateau is barely observed).

    References:
        SPEC A.5, critical batch size [derived from the seed's "intersections"];
        SPEC Part D; Kim et al. (2026), Figure 3.
    """
    _check_options(confidence, n_boot, min_points)
    if slope is not None and not (math.isfinite(slope) and slope > 0):
        raise ValueError(f"slope must be finite and > 0, got slope={slope!r}")
    if smooth is not None and not (math.isfinite(smooth) and smooth > 0):
        raise ValueError(f"smooth must be finite and > 0, got smooth={smooth!r}")
    need = 3 if slope is not None else 4
    if min_points < need:
        raise ValueError(
            f"min_points must be >= {need} for this model, got min_points={min_points}"
        )
    xs_all = _as_x(x, positive=True)
    order = np.argsort(xs_all)
    rows_all = _as_samples(y, xs_all.shape[0])
    xs_all = xs_all[order]
    rows_all = [rows_all[i] for i in order]
    xs, rows, excluded, flags = _screen(
        xs_all, rows_all, saturation=None, saturation_rtol=0.0, exclude=exclude
    )
    m = xs.shape[0]
    counts = np.array([r.shape[0] for r in rows], dtype=np.int64)
    nan2 = (math.nan, math.nan)
    if m < min_points:
        msg = f"too few usable points: {m} < min_points={min_points}"
        if strict:
            raise ValueError(msg)
        return BrokenPowerLawFit(
            math.nan,
            nan2,
            math.nan if slope is None else slope,
            nan2,
            math.nan,
            nan2,
            math.nan,
            smooth,
            slope is not None,
            float(confidence),
            xs,
            np.array([np.mean(r) for r in rows]),
            counts,
            tuple(excluded),
            ("too_few_points", msg, *flags),
            n_boot,
            math.nan,
            np.full((n_boot, 3), math.nan),
        )
    means = np.array([np.mean(r) for r in rows])
    lx, ly = np.log(xs), np.log(means)
    starts = _broken_starts(lx, ly, slope)
    theta, cost = _fit_broken_once(lx, ly, slope, smooth, starts)
    la, s_hat, lp = theta

    def breakpoint_of(th):
        return math.exp((th[2] - th[0]) / th[1]) if th[1] > 0 else math.nan

    bp = breakpoint_of(theta)
    if s_hat <= 0:
        flags.append("fitted slope <= 0: no rising branch, no breakpoint")
    elif not (xs[0] <= bp <= xs[-1]):
        flags.append("breakpoint_outside_data")
    elif min(np.sum(xs < bp), np.sum(xs > bp)) < 2:
        flags.append("breakpoint_near_edge: the rise or the plateau holds < 2 points")
    rms = math.sqrt(2 * cost / m)

    rng = np.random.default_rng(seed)
    reps = np.full((n_boot, 3), math.nan)
    for b in range(n_boot):
        bm = np.array([r[rng.integers(0, r.shape[0], r.shape[0])].mean() for r in rows])
        if np.any(bm <= 0):
            continue
        bly = np.log(bm)
        th_b, _ = _fit_broken_once(lx, bly, slope, smooth, [theta])
        reps[b] = (breakpoint_of(th_b), th_b[1], math.exp(th_b[2]))
    valid = np.all(np.isfinite(reps), axis=1)
    if np.all(counts < 2):
        flags.append("no replicates at any point: no interval")
        bi = si = pi = nan2
    elif valid.sum() < (1 - MAX_DISCARDED_FRACTION) * n_boot:
        flags.append("bootstrap: too many discarded replicates, no interval")
        bi = si = pi = nan2
    else:
        if not np.all(valid):
            flags.append(f"bootstrap: {int((~valid).sum())} replicates discarded")
        bi = _percentile_interval(reps[valid, 0], confidence)
        si = (
            (float(slope), float(slope))
            if slope is not None
            else _percentile_interval(reps[valid, 1], confidence)
        )
        pi = _percentile_interval(reps[valid, 2], confidence)
    return BrokenPowerLawFit(
        breakpoint=bp,
        breakpoint_interval=bi,
        slope=float(s_hat),
        slope_interval=si,
        plateau=math.exp(lp),
        plateau_interval=pi,
        prefactor=math.exp(la),
        smooth=smooth,
        fixed_slope=slope is not None,
        confidence=float(confidence),
        x=xs,
        y=means,
        n_seeds=counts,
        excluded=tuple(excluded),
        flags=tuple(flags),
        n_boot=int(n_boot),
        rms_residual=rms,
        bootstrap=reps,
    )
