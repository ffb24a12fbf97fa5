"""Bound claims tested as bounds: the ratio of a measured curve to the bound.

A claim ``f(x) <~ g(x)`` (an upper bound up to a constant) says that the ratio
``r(x) = f(x) / g(x)`` stays below some constant over the range of ``x``; a claim
``f(x) >~ g(x)`` (a lower bound) that it stays above one. On a finite range every
positive ratio has a finite maximum and a positive minimum, so what a measurement
can contradict is a *trend*: a ratio that keeps rising (upper bound) or falling
(lower bound) across the range is heading for no constant. That is what is tested
here, instead of comparing a fitted slope with the bound's exponent (SPEC D: "the
ratio measured / bound over the range of T or d, which must stay bounded").

The verdict rule (:func:`compare_bound`):

1. The *drift* of the ratio along ``x``: for an upper bound its largest rise from
   one point to a later one, ``max_{i <= j} r_j / r_i``; for a lower bound its
   largest fall, ``max_{i <= j} r_i / r_j``. It is 1 when the ratio never moves the
   wrong way. With seeds, the drift of the ratio of the mean curve, with a
   percentile bootstrap over seeds (:func:`muonjax.stats.bootstrap_interval`); one
   deterministic curve has no interval (the point itself).
2. Inconclusive when fewer than ``min_points`` points have a positive, finite
   ratio, when the range spans less than ``min_span`` (``x_max / x_min``: too short
   to tell a constant from a trend), or when the interval is wider than
   ``max_width``.
3. Otherwise consistent when the drift stays within ``factor``, inconsistent when it
   exceeds it (the whole interval above ``factor``): the comparison is
   ``drift <= 1`` with tolerance ``factor - 1`` in
   :func:`muonjax.stats.verdict.compare`.

When the bound states its constant (``max-norm <= 1/C + M/C``), ``constant=c``
tests the ratio itself instead: ``max r <= c`` (upper) or ``min r >= c`` (lower),
tolerance 0, with the same inconclusive cases.

``factor``: the allowance for a bounded ratio's wander over the range (a constant
approached from one side, pre-asymptotic corrections). The default,
:data:`DEFAULT_BOUND_FACTOR` = 2, is the verdict module's exponent tolerance (0.1,
half a log factor) spread over three decades of ``x`` (``10^0.3 = 2``): a ratio that
drifts like ``x^0.1`` across 1000x just reaches it. Every caller states the factor
it used.

References:
    SPEC Part D (bound claims are tested as bounds) [derived].
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from muonjax.stats.bootstrap import N_BOOT, bootstrap_interval
from muonjax.stats.verdict import Comparison, compare

__all__ = [
    "BOUND_KINDS",
    "DEFAULT_BOUND_FACTOR",
    "DEFAULT_MIN_SPAN",
    "BoundRatio",
    "bound_ratio",
    "compare_bound",
    "ratio_drift",
]

#: ``"upper"``: ``f <~ g``, the ratio must not keep rising; ``"lower"``: ``f >~ g``,
#: it must not keep falling.
BOUND_KINDS = ("upper", "lower")
#: Default allowance for the drift of a bounded ratio (see the module docstring).
DEFAULT_BOUND_FACTOR = 2.0
#: Default shortest range ``x_max / x_min`` on which a drift is a verdict: two
#: octaves.
DEFAULT_MIN_SPAN = 4.0


def _kind(kind: str) -> str:
    if kind not in BOUND_KINDS:
        raise ValueError(f"kind must be one of {BOUND_KINDS}, got {kind=!r}")
    return kind


def ratio_drift(ratio: Any, kind: str) -> np.ndarray:
    """The drift of ratios along their last axis: the largest move the wrong way.

    Args:
        ratio: ``(..., n)`` positive ratios in increasing ``x``.
        kind: ``"upper"`` (``max_{i <= j} r_j / r_i``, the largest rise) or
            ``"lower"`` (``max_{i <= j} r_i / r_j``, the largest fall).

    Returns:
        ``(...)`` drifts, each >= 1 (1 for a single point).

    Example:
        >>> float(ratio_drift([1.0, 3.0, 2.0, 4.0], "upper"))
        4.0
        >>> float(ratio_drift([1.0, 3.0, 2.0, 4.0], "lower"))
        1.5
    """
    r = np.asarray(ratio, np.float64)
    if _kind(kind) == "upper":
        return np.max(r / np.minimum.accumulate(r, axis=-1), axis=-1)
    return np.max(np.maximum.accumulate(r, axis=-1) / r, axis=-1)


@dataclasses.dataclass(frozen=True)
class BoundRatio:
    """A measured curve over a bound along ``x``: the numbers behind a verdict.

    Attributes:
        kind: ``"upper"`` or ``"lower"``.
        x: ``(n,)`` the points kept (increasing; positive finite ratio).
        ratio: ``(n,)`` measured / bound there (the mean over seeds of the measured
            curve, divided by the bound).
        drift: the ratio's largest move the wrong way (:func:`ratio_drift`).
        drift_interval: its bootstrap interval over seeds; ``(drift, drift)`` for
            one deterministic curve; NaN when nothing can be computed.
        worst: ``(x_i, x_j)`` between which the drift happens.
        extreme: the ratio's maximum (upper) or minimum (lower), for a bound with
            a stated constant; ``extreme_interval`` its bootstrap interval.
        n_excluded: points left out (a non-positive or non-finite ratio).
        seeds: number of seeds (1 for a deterministic curve).
    """

    kind: str
    x: np.ndarray
    ratio: np.ndarray
    drift: float
    drift_interval: tuple[float, float]
    worst: tuple[float, float]
    extreme: float
    extreme_interval: tuple[float, float]
    n_excluded: int
    seeds: int

    @property
    def span(self) -> float:
        """``x_max / x_min`` of the points kept (NaN with none)."""
        if self.x.size == 0 or self.x[0] <= 0:
            return math.nan
        return float(self.x[-1] / self.x[0])


def bound_ratio(
    x: Any,
    measured: Any,
    bound: Any,
    *,
    kind: str,
    confidence: float = 0.95,
    n_boot: int = N_BOOT,
    seed: int = 0,
) -> BoundRatio:
    """The ratio of a measured curve to a bound, its drift and its extreme.

    Args:
        x: ``(n,)`` strictly increasing abscissae (steps ``T``, dimensions ``d``).
        measured: ``(n,)`` one deterministic curve, or ``(s, n)`` one per seed.
        bound: ``(n,)`` the bound at ``x`` (positive).
        kind: ``"upper"`` (``measured <~ bound``) or ``"lower"`` (``>~``).
        confidence, n_boot, seed: the bootstrap over seeds (with ``s >= 2``).

    Returns:
        :class:`BoundRatio`.

    Example:
        >>> t = np.array([10.0, 100.0, 1000.0])
        >>> br = bound_ratio(t, 3.0 / t**2, 1.0 / t**2, kind="upper")
        >>> br.drift, br.extreme
        (1.0, 3.0)
    """
    kind = _kind(kind)
    xs = np.asarray(x, np.float64).ravel()
    m = np.asarray(measured, np.float64)
    per_seed = np.atleast_2d(m)
    if m.ndim > 2 or per_seed.shape[1] != xs.size:
        raise ValueError(
            f"measured must be (n,) or (seeds, n) with n = len(x) = {xs.size}, got "
            f"shape {m.shape}"
        )
    b = np.broadcast_to(np.asarray(bound, np.float64), xs.shape)
    if xs.size > 1 and np.any(np.diff(xs) <= 0):
        raise ValueError("x must be strictly increasing")
    with np.errstate(divide="ignore", invalid="ignore"):
        mean_ratio = per_seed.mean(axis=0) / b
    keep = np.isfinite(mean_ratio) & (mean_ratio > 0) & np.isfinite(xs)
    xk, rk = xs[keep], mean_ratio[keep]
    pick = np.max if kind == "upper" else np.min
    if rk.size == 0:
        nan2 = (math.nan, math.nan)
        return BoundRatio(
            kind, xk, rk, math.nan, nan2, nan2, math.nan, nan2, int(xs.size), 1
        )
    drift = float(ratio_drift(rk, kind))
    extreme = float(pick(rk))
    s = per_seed.shape[0]
    if s >= 2:
        seeds_ratio = per_seed[:, keep] / b[keep]

        def _drift(rs: np.ndarray) -> np.ndarray:
            return ratio_drift(rs.mean(axis=1), kind)

        def _extreme(rs: np.ndarray) -> np.ndarray:
            return pick(rs.mean(axis=1), axis=-1)

        d_int = bootstrap_interval(
            seeds_ratio, _drift, confidence=confidence, n_boot=n_boot, seed=seed
        )
        e_int = bootstrap_interval(
            seeds_ratio, _extreme, confidence=confidence, n_boot=n_boot, seed=seed
        )
    else:
        d_int, e_int = (drift, drift), (extreme, extreme)
    if kind == "upper":
        j = int(np.argmax(rk / np.minimum.accumulate(rk)))
        i = int(np.argmin(rk[: j + 1]))
    else:
        j = int(np.argmax(np.maximum.accumulate(rk) / rk))
        i = int(np.argmax(rk[: j + 1]))
    return BoundRatio(
        kind=kind,
        x=xk,
        ratio=rk,
        drift=drift,
        drift_interval=(float(d_int[0]), float(d_int[1])),
        worst=(float(xk[i]), float(xk[j])),
        extreme=extreme,
        extreme_interval=(float(e_int[0]), float(e_int[1])),
        n_excluded=int(xs.size - xk.size),
        seeds=s,
    )


def compare_bound(
    br: BoundRatio,
    *,
    label: str,
    factor: float = DEFAULT_BOUND_FACTOR,
    constant: float | None = None,
    min_points: int = 3,
    min_span: float = DEFAULT_MIN_SPAN,
    max_width: float = math.inf,
    notes: Sequence[str] = (),
) -> Comparison:
    """The verdict of a bound claim from its ratio (the rule of the module doc).

    Args:
        br: the ratio (:func:`bound_ratio`).
        label: what is compared.
        factor: the drift allowed (> 1), when the bound holds up to a constant.
        constant: the bound's own constant, when it states one: then the ratio's
            maximum (upper) or minimum (lower) is compared with it instead.
        min_points: fewest points with a positive finite ratio (drift test).
        min_span: shortest range ``x_max / x_min`` for a verdict (drift test; a
            stated constant needs one point).
        max_width: widest bootstrap interval that counts as a measurement.
        notes: further notes.

    Returns:
        A :class:`~muonjax.stats.verdict.Comparison`: estimate the drift (or the
        extreme ratio with ``constant``), prediction 1 (or ``constant``).
    """
    if not (math.isfinite(factor) and factor > 1):
        raise ValueError(f"factor must be finite and > 1, got {factor=!r}")
    if constant is not None and not (math.isfinite(constant) and constant > 0):
        raise ValueError(f"constant must be finite and > 0, got {constant=!r}")
    if min_points < 2:
        raise ValueError(f"min_points must be >= 2, got {min_points=}")
    if not min_span >= 1:
        raise ValueError(f"min_span must be >= 1, got {min_span=!r}")
    if br.x.size:
        extra = []
        if br.n_excluded:
            extra.append(f"{br.n_excluded} left out: ratio not positive and finite")
        if br.seeds > 1:
            extra.append(f"mean of {br.seeds} seeds, bootstrap interval")
        where = (
            f"ratio to the bound from {np.min(br.ratio):.3g} to "
            f"{np.max(br.ratio):.3g} over x in [{br.x[0]:.4g}, {br.x[-1]:.4g}] "
            f"({'; '.join([f'{br.x.size} points', *extra])})"
        )
    else:
        where = "no point with a positive finite ratio"
    if constant is None:
        short = br.x.size < min_points or not (br.span >= min_span)
    else:
        short = br.x.size == 0
    if constant is None:
        move = "rise" if br.kind == "upper" else "fall"
        at = (
            f"from x = {br.worst[0]:.4g} to {br.worst[1]:.4g}"
            if br.drift > 1 + 1e-12
            else "none"
        )
        text = [
            where,
            f"drift = largest {move} of the ratio from one x to a later one ({at}); "
            f"a bounded ratio may drift by at most a factor {factor:g}",
        ]
        est, interval = br.drift, br.drift_interval
        prediction, relation, tolerance = 1.0, "<=", factor - 1.0
    else:
        est, interval = br.extreme, br.extreme_interval
        prediction, tolerance = float(constant), 0.0
        relation = "<=" if br.kind == "upper" else ">="
        text = [where, f"the bound's own constant {constant:g}"]
    if short:
        text.append(
            f"too short a range for a verdict: {br.x.size} points (need "
            f"{min_points}), span x_max/x_min {br.span:.3g} (need {min_span:g})"
        )
        est, interval = math.nan, (math.nan, math.nan)
    return compare(
        est,
        interval,
        prediction,
        relation=relation,
        tolerance=tolerance,
        max_width=max_width,
        label=label,
        notes=[*text, *notes],
    )
