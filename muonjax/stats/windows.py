"""Fit windows for exponent claims: where the local slopes settle, and where a size can
test the claim at all.

Two rules, both stated here once and used by every check and figure that fits an
exponent (SPEC D):

- **Testable sizes** (:func:`testable_sizes`): a point ``x`` can test a count law
  only where the count stays well inside its hard ceiling ``N``, ``N >= margin x
  count`` (rule of thumb: ``N >= 10 x`` the count; near ``N`` the rarest items'
  frequencies ``~ N^-alpha`` bend any law), and where enough items are counted (mean
  ``>= min_count``, about 20: a handful of items cannot resolve an exponent). The
  count judged is the measured mean (the law's constant is unknown, so the measured
  count is the predicted count at that size; a preset is designed with the law
  without its constant, which is larger). Points that fail are left out of the fit
  with their reason; a fit with fewer than ``min_points`` testable points is *not
  testable at this size*.
- **Settled window** (:func:`settled_window`): among the testable points, the fit
  window starts at the first ``x`` from which the local slopes between consecutive
  points (:func:`muonjax.stats.slopes.local_log_slopes`) span at most ``settle``
  (max - min), keeping at least ``min_points`` points. A log-log curve whose local
  slopes still move by more than the claim's tolerance gives an exponent that
  depends on where the fit is cut by more than the tolerance: when no window
  settles, the last ``min_points`` points are used and the verdict is inconclusive
  ("local slopes not settled").

:class:`SlopeWindow` carries the local slopes, their trend (slope of the local slope
against ``log2 x``: the change per doubling) and the reason a verdict was withheld,
and :meth:`SlopeWindow.gate` applies that reason to a :class:`Comparison`.

References:
    SPEC Part D (local slopes beside every exponent fit; a fit window starts where
    they settle; sizes: only testable where the predicted count stays well inside
    min(N, d^2)) [derived].
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from muonjax.stats.slopes import local_log_slopes
from muonjax.stats.verdict import INCONCLUSIVE, Comparison

#: The words a summary shows instead of a verdict when the sizes cannot test a claim.
NOT_TESTABLE = "not testable at this size"
#: The words of a verdict withheld because the local slopes have not settled.
NOT_SETTLED = "local slopes not settled"
#: Default ceiling margin: the predicted count must be at most ceiling / 10.
DEFAULT_MARGIN = 10.0
#: Default fewest items counted at a point for it to test an exponent.
DEFAULT_MIN_COUNT = 20.0


def testable_sizes(
    xs: Any,
    means: Any,
    ceiling: Any,
    *,
    margin: float = DEFAULT_MARGIN,
    min_count: float = DEFAULT_MIN_COUNT,
    counts: Any = None,
) -> tuple[np.ndarray, dict[float, str]]:
    """Which sizes can test a count law.

    Args:
        xs: ``(k,)`` sizes (e.g. ``d``).
        means: ``(k,)`` measured mean counts at each size.
        ceiling: ``(k,)`` or scalar hard ceiling (``N``), or ``None``.
        margin: the count must be ``<= ceiling / margin``.
        min_count: the mean measured count must be ``>= min_count``.
        counts: ``(k,)`` the counts judged against the ceiling (default ``means``;
            e.g. a law's predicted counts when designing a preset).

    Returns:
        ``(mask, reasons)``: ``(k,)`` booleans (True where testable) and
        ``{x: reason}`` for the other points.

    Example:
        >>> mask, why = testable_sizes([32, 64, 128], [12.0, 45.0, 1300.0], 10_000)
        >>> mask.tolist(), sorted(why)
        ([False, True, False], [32.0, 128.0])
    """
    x = np.asarray(xs, np.float64).ravel()
    m = np.asarray(means, np.float64).ravel()
    if m.shape != x.shape:
        raise ValueError(f"means must match xs, got {m.shape} and {x.shape}")
    if margin <= 0 or not math.isfinite(margin):
        raise ValueError(f"margin must be finite and > 0, got {margin=}")
    if min_count < 0:
        raise ValueError(f"min_count must be >= 0, got {min_count=}")
    judged = m if counts is None else np.broadcast_to(counts, x.shape)
    ceil = None if ceiling is None else np.broadcast_to(ceiling, x.shape)
    mask = np.ones(x.shape, bool)
    reasons: dict[float, str] = {}
    for i, xv in enumerate(x):
        why = []
        if not (m[i] >= min_count):
            why.append(f"mean count {m[i]:.3g} < {min_count:g} items")
        if ceil is not None and judged[i] * margin > ceil[i]:
            why.append(
                f"count {judged[i]:.4g} > N / {margin:g} = {ceil[i] / margin:.4g}"
            )
        if why:
            mask[i] = False
            reasons[float(xv)] = f"{NOT_TESTABLE}: " + "; ".join(why)
    return mask, reasons


def slope_trend(xs: Any, slopes: Sequence[float | None]) -> float:
    """Change of the local slope per doubling of ``x`` (nan with < 2 slopes).

    Least squares of the local slopes against ``log2`` of the geometric midpoints of
    the consecutive pairs; negative when the log-log curve is still bending down.
    """
    x = np.asarray(xs, np.float64).ravel()
    s = np.array([np.nan if v is None else v for v in slopes], np.float64)
    mid = np.log2(np.sqrt(x[:-1] * x[1:]))
    ok = np.isfinite(s)
    if ok.sum() < 2:
        return math.nan
    return float(np.polyfit(mid[ok], s[ok], 1)[0])


@dataclasses.dataclass(frozen=True)
class SlopeWindow:
    """The fit window of one exponent, and why (SPEC D).

    Attributes:
        xs: every size measured, increasing.
        means: the mean measured count at each.
        local_slopes: slopes of ``log mean`` between consecutive sizes (``None``
            where a mean is not positive).
        trend: change of the local slope per doubling of ``x`` (:func:`slope_trend`).
        testable: per size, whether it can test the claim (:func:`testable_sizes`).
        excluded: ``{x: reason}`` of every size left out of the fit (untestable, or
            before the window's start).
        start: the first size of the window (``nan`` when not testable).
        settled: whether the local slopes inside the window span at most
            ``settle``.
        settle: the allowed span of the window's local slopes.
        withheld: why the verdict is withheld (``"not testable at this size: ..."``
            or ``"local slopes not settled: ..."``), or ``None``.
    """

    xs: tuple[float, ...]
    means: tuple[float, ...]
    local_slopes: tuple[float | None, ...]
    trend: float
    testable: tuple[bool, ...]
    excluded: dict[float, str]
    start: float
    settled: bool
    settle: float
    withheld: str | None

    @property
    def window(self) -> tuple[float, ...]:
        """The sizes fitted."""
        return tuple(x for x in self.xs if x not in self.excluded)

    def gate(self, comparison: Comparison) -> Comparison:
        """``comparison``, inconclusive with :attr:`withheld` as its reason if set."""
        if self.withheld is None:
            return comparison
        return dataclasses.replace(
            comparison,
            verdict=INCONCLUSIVE,
            reason=self.withheld,
            notes=(*comparison.notes, f"verdict withheld: {self.withheld}"),
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary."""
        return {
            "xs": list(self.xs),
            "means": [round(v, 4) for v in self.means],
            "local_slopes": [
                None if v is None else round(v, 4) for v in self.local_slopes
            ],
            "trend_per_doubling": None if not math.isfinite(self.trend) else self.trend,
            "window": list(self.window),
            "excluded": {str(k): v for k, v in self.excluded.items()},
            "settled": self.settled,
            "settle": self.settle,
            "withheld": self.withheld,
        }

    def slopes_text(self) -> str:
        """``"1.79, 1.48, 1.39 (trend -0.20 per doubling)"``."""
        body = ", ".join("-" if v is None else f"{v:.2f}" for v in self.local_slopes)
        trend = (
            "" if not math.isfinite(self.trend) else f" (trend {self.trend:+.2f}/2x)"
        )
        return (body or "-") + trend


def settled_window(
    xs: Any,
    means: Any,
    *,
    settle: float,
    min_points: int = 3,
    testable: Any = None,
    reasons: dict[float, str] | None = None,
) -> SlopeWindow:
    """The fit window of an exponent: testable sizes from where the slopes settle.

    The candidate windows are the runs of testable sizes ending at the largest
    testable size; the window starts at the smallest ``x`` whose run of local slopes
    (between consecutive sizes inside the window) spans at most ``settle``, with at
    least ``min_points`` sizes. When none settles, the last ``min_points`` testable
    sizes form the window and the verdict is withheld ("local slopes not settled");
    with fewer than ``min_points`` testable sizes it is withheld as "not testable at
    this size".

    Args:
        xs: ``(k,)`` increasing positive sizes.
        means: ``(k,)`` mean measured values at each size.
        settle: largest span (max - min) of the window's local slopes; the claims use
            their exponent tolerance.
        min_points: fewest sizes in a window (3: two local slopes).
        testable: ``(k,)`` booleans from :func:`testable_sizes` (default all True).
        reasons: ``{x: reason}`` of the untestable sizes.

    Returns:
        A :class:`SlopeWindow`.

    Example:
        >>> w = settled_window([32, 64, 128, 256], [13.0, 45.0, 126.0, 330.0],
        ...                    settle=0.1)
        >>> w.window, w.settled
        ((64.0, 128.0, 256.0), True)
    """
    x = np.asarray(xs, np.float64).ravel()
    m = np.asarray(means, np.float64).ravel()
    if x.shape != m.shape:
        raise ValueError(f"means must match xs, got {m.shape} and {x.shape}")
    if not (settle >= 0):
        raise ValueError(f"settle must be >= 0, got {settle=}")
    if min_points < 2:
        raise ValueError(f"min_points must be >= 2, got {min_points=}")
    ok = np.ones(x.shape, bool) if testable is None else np.asarray(testable, bool)
    excluded = dict(reasons or {})
    for xv, good in zip(x, ok, strict=True):
        if not good and float(xv) not in excluded:
            excluded[float(xv)] = NOT_TESTABLE
    slopes = local_log_slopes(x, m)
    trend = slope_trend(x, slopes)
    common: dict[str, Any] = {
        "xs": tuple(float(v) for v in x),
        "means": tuple(float(v) for v in m),
        "local_slopes": tuple(slopes),
        "trend": trend,
        "testable": tuple(bool(v) for v in ok),
        "settle": float(settle),
    }
    # The testable run ending at the largest testable size.
    idx = np.flatnonzero(ok)
    run: list[int] = []
    for i in idx[::-1]:
        if run and i != run[-1] - 1:
            break
        run.append(int(i))
    run = run[::-1]
    if len(run) < min_points:
        why = (
            f"{NOT_TESTABLE}: {len(run)} testable size(s) in a row, {min_points} needed"
        )
        if excluded:
            why += (
                " ("
                + "; ".join(
                    f"{k:g}: {v.removeprefix(NOT_TESTABLE + ': ')}"
                    for k, v in sorted(excluded.items())
                )
                + ")"
            )
        return SlopeWindow(
            **common,
            excluded={**excluded, **{float(x[i]): why for i in run}},
            start=math.nan,
            settled=False,
            withheld=why,
        )
    start, settled = run[-min_points], False
    for s0 in run[: len(run) - min_points + 1]:
        inside = [slopes[i] for i in range(s0, run[-1])]
        vals = [v for v in inside if v is not None]
        if len(vals) == len(inside) and max(vals) - min(vals) <= settle:
            start, settled = s0, True
            break
    for i in range(x.size):
        if i < start and float(x[i]) not in excluded:
            excluded[float(x[i])] = (
                f"{x[i]:g} < window start {x[start]:g} (local slopes settle from there)"
            )
    withheld = None
    if not settled:
        inside = [slopes[i] for i in range(start, run[-1])]
        text = ", ".join("-" if v is None else f"{v:.2f}" for v in inside)
        withheld = (
            f"{NOT_SETTLED}: local slopes {text} over {x[start]:g}..{x[run[-1]]:g} "
            f"span more than {settle:g}"
        )
    return SlopeWindow(
        **common,
        excluded=excluded,
        start=float(x[start]),
        settled=settled,
        withheld=withheld,
    )
