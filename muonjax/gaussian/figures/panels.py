"""Figure panels shared by Part A's figures: capacity against d, fitted exponents.

matplotlib is used through the ``Axes`` it is given (the object-oriented API), so no
GUI backend or global state is involved.

References:
    SPEC Part D (points with a zero mean cannot sit on a log axis: they are counted,
    never dropped silently).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from muonjax.engine.table import Table
from muonjax.gaussian.analysis.onestep import GroupFits
from muonjax.gaussian.analysis.tables import last_step, py, seed_matrix
from muonjax.stats.fit import FitResult


def _anchored_line(fit: FitResult, slope: float, xs: np.ndarray) -> np.ndarray:
    """``y = a x^slope`` through the geometric centre of the fit's used points."""
    lx, ly = np.log(fit.x), np.log(fit.y)
    return np.exp(ly.mean() + slope * (np.log(xs) - lx.mean()))


def capacity_panel(
    ax: Any,
    table: Table,
    *,
    series: str,
    measure: str = "count",
    x: str = "d",
    fits: GroupFits | None = None,
    fit_key: Callable[[Any], Mapping[str, Any]] | None = None,
    predict: Callable[[Any], float | None] | None = None,
    label: Callable[[Any], str] | None = None,
    colors: Mapping[Any, str] | None = None,
) -> int:
    """Log-log capacity against ``x`` with one line per ``series`` value.

    Each point is the mean over seeds with a one-standard-deviation bar; each
    series gets its fitted power law as a dashed line over the fitted points
    (``fits.get(**fit_key(value))``) and, when ``predict`` gives a slope, the
    predicted slope as a dotted line through the geometric centre of those points
    (the theory fixes the slope, not the constant).

    Args:
        ax: a matplotlib ``Axes``.
        table: the records of this panel (already filtered).
        series: the column that makes one line per value.
        measure: the plotted measure.
        x: the size column.
        fits: the fits to draw (``None``: no lines).
        fit_key: ``series value -> group values`` for ``fits.get``.
        predict: ``series value -> predicted exponent`` or ``None``.
        label: ``series value -> legend text``.
        colors: ``series value -> colour``.

    Returns:
        The number of points left out because their mean is 0 (not on a log axis).
    """
    table = last_step(table)
    values = list(dict.fromkeys(py(v) for v in table.data[series]))
    zeros = 0
    for i, sv in enumerate(values):
        color = (colors or {}).get(sv, f"C{i % 10}")
        xs, vals, _ = seed_matrix(table.where(**{series: sv}), x=x, measure=measure)
        mean = np.array([v.mean() for v in vals])
        std = np.array([v.std(ddof=1) if v.shape[0] > 1 else 0.0 for v in vals])
        keep = mean > 0
        zeros += int((~keep).sum())
        text = label(sv) if label else f"{series}={sv}"
        if keep.any():
            lower = np.minimum(std[keep], mean[keep] * (1 - 1e-3))
            ax.errorbar(
                xs[keep],
                mean[keep],
                yerr=(lower, std[keep]),
                fmt="o",
                ms=3,
                capsize=2,
                color=color,
                label=text,
            )
        if fits is None or fit_key is None:
            continue
        fit = fits.get(**fit_key(sv))
        if not fit.ok:
            continue
        grid = np.geomspace(fit.x.min(), fit.x.max(), 20)
        ax.plot(grid, fit.predict(grid), "--", color=color, lw=1)
        pred = predict(sv) if predict else None
        if pred is not None:
            ax.plot(grid, _anchored_line(fit, pred, grid), ":", color=color, lw=1.5)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.grid(True, which="both", alpha=0.3)
    if zeros:
        ax.text(
            0.02,
            0.98,
            f"{zeros} zero mean(s) not shown",
            transform=ax.transAxes,
            va="top",
            fontsize=7,
        )
    return zeros


def exponent_panel(
    ax: Any,
    points: Sequence[tuple[float, FitResult]],
    *,
    color: str = "C0",
    label: str | None = None,
    marker: str = "o",
) -> None:
    """Fitted exponents with their bootstrap intervals at given abscissae.

    Args:
        ax: a matplotlib ``Axes``.
        points: ``(abscissa, fit)`` pairs (e.g. ``(1 / alpha, fit)``); failed fits
            are skipped.
        color, label, marker: the series' style.
    """
    pts = [(xv, f) for xv, f in points if f.ok]
    if not pts:
        return
    xs = np.array([p[0] for p in pts])
    c = np.array([p[1].exponent for p in pts])
    lo = np.array([p[1].interval[0] for p in pts])
    hi = np.array([p[1].interval[1] for p in pts])
    ax.errorbar(
        xs,
        c,
        yerr=(np.maximum(c - lo, 0), np.maximum(hi - c, 0)),
        fmt=marker,
        ms=4,
        capsize=2,
        color=color,
        label=label,
    )
