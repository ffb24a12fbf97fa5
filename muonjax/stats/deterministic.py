"""Verdicts for deterministic measurements: slopes over fit windows and exact values.

Some measurements have no seeds to resample: a training run from ``W_0 = 0`` that
does not depend on any random draw (Part B's GD, Muon and TRA-SignGD) gives one
curve, and a quantity read off it is exact. Two kinds of rows then reach
:func:`~muonjax.stats.verdict.compare`:

- :func:`compare_window`: a slope measured over several fit windows
  (:func:`~muonjax.stats.slopes.window_slope`); its interval is the range over the
  windows, so it measures the curve's bend, not noise, and the row says so.
- :func:`compare_point`: an exact value (a bound evaluated along a run, a gap between
  two runs); the interval is the point itself.

And two helpers that turn a prediction written as a function into the number a
slope is compared with: :func:`loglog_slope` (``d log f / d log x``) and
:func:`decay_rate` (``-d log f / dt``).

References:
    SPEC Part D (every fit reports estimate, interval, points used, prediction and
    verdict).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from muonjax.stats.slopes import WindowSlope
from muonjax.stats.verdict import DEFAULT_MAX_WIDTH, DEFAULT_TOLERANCE, Comparison
from muonjax.stats.verdict import compare as _compare


def loglog_slope(fn: Callable[[float], float], x0: float) -> float:
    """``d log fn / d log x`` at ``x0``, from ``fn(2 x0) / fn(x0)`` (a power law's
    exponent; exact for ``fn = a x^c``)."""
    return math.log(fn(2.0 * x0) / fn(x0)) / math.log(2.0)


def decay_rate(fn: Callable[[float], float], t0: float) -> float:
    """``-d log fn / dt`` at ``t0``, from ``fn(t0 + 1) / fn(t0)`` (an exponential's
    rate; exact for ``fn = a exp(-c t)``)."""
    return -(math.log(fn(t0 + 1.0)) - math.log(fn(t0)))


def compare_window(
    ws: WindowSlope,
    prediction: float,
    *,
    label: str,
    relation: str = "==",
    tolerance: float = DEFAULT_TOLERANCE,
    max_width: float = DEFAULT_MAX_WIDTH,
    scale: float = 1.0,
    notes: Sequence[str] = (),
) -> Comparison:
    """Compare a window slope (times ``scale``, e.g. ``-1/eta`` for a rate) with a
    prediction.

    The estimate is the main window's slope and the interval the range over the
    windows (see :class:`~muonjax.stats.slopes.WindowSlope`), both times ``scale``;
    the first note lists each window and its scaled slope.

    Args:
        ws: the window slope.
        prediction: the predicted value (or bound).
        label: what is compared.
        relation, tolerance, max_width: as in :func:`~muonjax.stats.verdict.compare`.
        scale: factor applied to the slope (a negative one swaps the interval ends).
        notes: further notes.

    Returns:
        A :class:`~muonjax.stats.verdict.Comparison`.
    """
    lo, hi = sorted((ws.interval[0] * scale, ws.interval[1] * scale))
    windows = ", ".join(
        f"[{a:.4g}, {b:.4g}]: {s * scale:.4g}"
        for (a, b), s in zip(ws.windows, ws.slopes, strict=True)
    )
    return _compare(
        ws.estimate * scale,
        (lo, hi),
        prediction,
        relation=relation,
        tolerance=tolerance,
        max_width=max_width,
        label=label,
        notes=[
            "deterministic curve: interval = range of the slope over fit windows "
            f"(x range: slope) {windows}",
            *notes,
        ],
    )


def compare_point(
    value: float,
    prediction: float,
    *,
    label: str,
    relation: str,
    tolerance: float = 0.0,
    notes: Sequence[str] = (),
) -> Comparison:
    """Compare an exact value (no interval: the point itself) with a prediction.

    ``max_width`` is infinite (a point has width 0 anyway).

    Args:
        value: the measured value.
        prediction: the predicted value (or bound).
        label: what is compared.
        relation, tolerance: as in :func:`~muonjax.stats.verdict.compare`.
        notes: further notes.

    Returns:
        A :class:`~muonjax.stats.verdict.Comparison`.
    """
    return _compare(
        value,
        (value, value),
        prediction,
        relation=relation,
        tolerance=tolerance,
        max_width=math.inf,
        label=label,
        notes=["exact value (deterministic runs): the interval is the point", *notes],
    )
