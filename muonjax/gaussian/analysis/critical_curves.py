"""Capacity against the batch size B, and the critical batch size B* of each curve.

One step from ``W_0 = 0`` on the minibatch loss of ``B`` i.i.d. draws recovers at most
the distinct items of the batch, about ``B^(1/alpha)`` of them (the
"information-theoretic rate" line), and at most what one population step recovers
(the "ceiling": Muon ``d^(1 + 1/(2 alpha))``, SGD ``d^(1/(2 alpha))``). The capacity
against ``B`` therefore rises along the line and levels off at the ceiling; the
critical batch size ``B*`` is where the two meet (SPEC A.5, [derived from the seed's
"intersections"]).

- :func:`capacity_curves`: per ``(rule, alpha, d)`` the capacity-against-``B`` curve
  (``(k, seeds)``) of a :func:`muonjax.critical_batch_sweep` table, with the batch's
  own ceilings;
- :func:`fit_critical_batch`: ``min(a B^(1/alpha), plateau)`` per curve
  (:func:`muonjax.fit_broken_power_law`), i.e. ``B*`` with a bootstrap interval;
- :func:`fit_across_d`: ``B*`` (or the plateau) against ``d`` as a power law, with
  the bootstrap carried through both stages.

:mod:`muonjax.gaussian.analysis.critical` puts them together with the predictions.

References:
    SPEC A.5 (one minibatch step; critical batch size), A.6 (Figures 1b and 3),
    Part D (broken power laws); Kim et al. (2026), arXiv 2603.26554, Figures 1b, 3.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from muonjax import theory
from muonjax._io import value_to_dict
from muonjax.engine.table import Table
from muonjax.stats.fit import (
    BrokenPowerLawFit,
    ExcludedPoint,
    FitResult,
    fit_broken_power_law,
)
from muonjax.stats.replicates import fit_power_law_replicates

#: For each capacity measure, the record column holding the same measure of the
#: batch itself (the items it contains): a step cannot exceed it except by chance
#: recoveries outside the batch (``theory.out_of_batch_recoveries_bound``).
MEASURE_CEILINGS = {
    "count": "distinct",
    "prefix": "distinct_prefix",
    "weighted_accuracy": "distinct_weight",
}


@dataclass(frozen=True)
class CapacityCurve:
    """One capacity-against-``B`` curve: a ``(rule, alpha, d)`` slice of the records.

    Attributes:
        rule: update rule.
        alpha: frequency exponent.
        d: embedding dimension.
        measure: capacity measure (``count``, ``prefix`` or ``weighted_accuracy``).
        n: number of items N.
        seeds: ``(s,)`` seed indices, shared by every row below.
        batch_sizes: ``(k,)`` batch sizes ``B >= 1``, increasing.
        values: ``(k, s)`` the measure after one step on a batch of ``B``.
        ceilings: ``(k, s)`` the same measure of the batch itself (e.g. its distinct
            items, for ``count``).
        out_of_batch: ``(k, s)`` recovered items outside the batch.
        population: ``(s,)`` the measure after one population step, or ``None`` when
            the records hold no ``B = 0`` row.
    """

    rule: str
    alpha: float
    d: int
    measure: str
    n: int
    seeds: np.ndarray
    batch_sizes: np.ndarray
    values: np.ndarray
    ceilings: np.ndarray
    out_of_batch: np.ndarray
    population: np.ndarray | None

    @property
    def label(self) -> str:
        """``"rule=muon, alpha=1.5, d=64, measure=count"``."""
        return (
            f"rule={self.rule}, alpha={self.alpha:g}, d={self.d}, "
            f"measure={self.measure}"
        )


def _unique(values: np.ndarray) -> list[Any]:
    return list(dict.fromkeys(values.tolist()))


def capacity_curves(table: Table, *, measure: str = "count") -> list[CapacityCurve]:
    """Every ``(rule, alpha, d)`` curve of a :func:`critical_batch_sweep` table.

    Args:
        table: the records (:func:`muonjax.read_table`).
        measure: ``"count"``, ``"prefix"`` or ``"weighted_accuracy"``.

    Returns:
        The curves, ordered by rule, alpha and d (order of first appearance for the
        rule, increasing alpha and d).

    Raises:
        ValueError: a missing column, or a ``(rule, alpha, d, B)`` group whose seeds
            differ from the others of its curve.
    """
    if measure not in MEASURE_CEILINGS:
        raise ValueError(
            f"measure must be one of {tuple(MEASURE_CEILINGS)}, got measure={measure!r}"
        )
    need = ("rule", "alpha", "d", "batch_size", "n", "seed", measure, "out_of_batch")
    missing = [c for c in (*need, MEASURE_CEILINGS[measure]) if c not in table.data]
    if missing:
        raise ValueError(
            f"the table lacks the columns {missing} of a critical_batch_sweep; "
            f"columns are {table.columns}"
        )
    if len(table) == 0:
        raise ValueError("the table is empty")
    curves = []
    for rule in _unique(table.data["rule"]):
        t_rule = table.where(rule=rule)
        for alpha in sorted(_unique(t_rule.data["alpha"])):
            t_alpha = t_rule.where(alpha=alpha)
            for d in sorted(_unique(t_alpha.data["d"])):
                curves.append(_curve(t_alpha.where(d=d), rule, alpha, d, measure))
    return curves


def _curve(t: Table, rule: str, alpha: float, d: int, measure: str) -> CapacityCurve:
    ceiling = MEASURE_CEILINGS[measure]
    sizes = sorted(int(b) for b in _unique(t.data["batch_size"]))
    seeds = None
    rows: dict[str, list[np.ndarray]] = {k: [] for k in ("v", "c", "o")}
    population = None
    for b in sizes:
        tb = t.where(batch_size=b)
        order = np.argsort(tb.data["seed"], kind="stable")
        s = tb.data["seed"][order]
        if seeds is None:
            seeds = s
        elif not np.array_equal(s, seeds):
            raise ValueError(
                f"rule={rule}, alpha={alpha}, d={d}: batch_size={b} has seeds "
                f"{s.tolist()}, other sizes {seeds.tolist()}"
            )
        vals = tb.data[measure][order].astype(np.float64)
        if b == 0:
            population = vals
            continue
        rows["v"].append(vals)
        rows["c"].append(tb.data[ceiling][order].astype(np.float64))
        rows["o"].append(tb.data["out_of_batch"][order].astype(np.float64))
    assert seeds is not None
    k = len(rows["v"])
    shape = (k, seeds.shape[0])
    return CapacityCurve(
        rule=str(rule),
        alpha=float(alpha),
        d=int(d),
        measure=measure,
        n=int(t.data["n"][0]),
        seeds=seeds,
        batch_sizes=np.asarray([b for b in sizes if b > 0], np.float64),
        values=np.asarray(rows["v"]).reshape(shape),
        ceilings=np.asarray(rows["c"]).reshape(shape),
        out_of_batch=np.asarray(rows["o"]).reshape(shape),
        population=population,
    )


# --------------------------------------------------------------------------------------
# B* of one curve.


@dataclass(frozen=True)
class CriticalBatchFit:
    """The critical batch size of one curve.

    Attributes:
        rule, alpha, d, measure: the curve's identity.
        fit: the broken power law ``min(a B^slope, plateau)``; ``fit.breakpoint`` is
            ``B*`` and ``fit.breakpoint_interval`` its bootstrap interval.
        at_batch_ceiling: batch sizes at which every seed recovered its whole batch
            (the measure equals the batch's own, e.g. ``count >= distinct``): points
            on the information-theoretic line. They are kept in the fit (they *are*
            its rising branch) and listed here.
        peak_over_plateau: largest mean over the grid divided by the fitted plateau
            (> 1 when the curve overshoots its plateau near ``B*``).
        population_mean: mean of the population step's measure (NaN without a
            ``B = 0`` row): the ceiling the plateau should approach.
    """

    rule: str
    alpha: float
    d: int
    measure: str
    fit: BrokenPowerLawFit
    at_batch_ceiling: tuple[float, ...]
    peak_over_plateau: float
    population_mean: float

    @property
    def ok(self) -> bool:
        """True when ``B*`` and its interval are finite."""
        return self.fit.ok

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (without bootstrap samples)."""
        return value_to_dict(self)


def fit_critical_batch(
    curve: CapacityCurve,
    *,
    slope: float | str | None = "line",
    confidence: float = 0.95,
    n_boot: int = 500,
    seed: int = 0,
    min_points: int | None = None,
) -> CriticalBatchFit:
    """Fit ``min(a B^slope, plateau)`` to a curve: ``B* = (plateau / a)^(1/slope)``.

    Exclusions (listed in ``fit.excluded``, never silent): points where any seed
    sits at the item count ``N`` (nothing more can be recovered: the plateau would be
    ``N``'s, not the step's), and the fit's own screening (zero means). Points on the
    information-theoretic line (the whole batch recovered) are the rising branch and
    are kept; they are listed in ``at_batch_ceiling``.

    Args:
        curve: from :func:`capacity_curves`.
        slope: ``"line"`` (default) fixes the rising slope at ``1 / alpha``, the
            information-theoretic line's exponent (SPEC A.5); a number fixes it there;
            ``None`` fits it (needs 4 usable points).
        confidence: nominal coverage of the bootstrap intervals.
        n_boot: bootstrap replicates (seeds resampled within each ``B``; the curves
            are paired across ``B``, which this ignores, so the intervals are, if
            anything, conservative).
        seed: bootstrap seed (give every curve its own, so that replicates of
            different curves are independent for :func:`fit_across_d`).
        min_points: fewest usable points (default: 3 with a fixed slope, 4 free).

    Returns:
        A :class:`CriticalBatchFit`.

    References:
        SPEC A.5, critical batch size [derived from the seed's "intersections"];
        Part D; Kim et al. (2026), Figure 3.
    """
    if isinstance(slope, str):
        if slope != "line":
            raise ValueError(f"slope must be 'line', a number or None, got {slope=!r}")
        slope_value: float | None = float(theory.distinct_items_exponent(curve.alpha))
    else:
        slope_value = None if slope is None else float(slope)
    if min_points is None:
        min_points = 4 if slope_value is None else 3
    exclude: dict[float, str] = {}
    for b, v in zip(curve.batch_sizes, curve.values, strict=True):
        full = v >= curve.n
        if np.any(full):
            exclude[float(b)] = (
                f"saturated: {int(full.sum())} of {v.shape[0]} seeds recover all "
                f"N={curve.n} items"
            )
    fit = fit_broken_power_law(
        curve.batch_sizes,
        curve.values,
        slope=slope_value,
        exclude=exclude or None,
        confidence=confidence,
        n_boot=n_boot,
        min_points=min_points,
        seed=seed,
    )
    at_ceiling = tuple(
        float(b)
        for b, v, c in zip(curve.batch_sizes, curve.values, curve.ceilings, strict=True)
        if np.all(v >= c)
    )
    means = curve.values.mean(axis=1)
    peak = (
        float(means.max() / fit.plateau)
        if np.isfinite(fit.plateau) and fit.plateau > 0
        else math.nan
    )
    pop = math.nan if curve.population is None else float(curve.population.mean())
    return CriticalBatchFit(
        rule=curve.rule,
        alpha=curve.alpha,
        d=curve.d,
        measure=curve.measure,
        fit=fit,
        at_batch_ceiling=at_ceiling,
        peak_over_plateau=peak,
        population_mean=pop,
    )


# --------------------------------------------------------------------------------------
# B* (or the plateau) against d.


# --------------------------------------------------------------------------------------
# B* (or the plateau) against d.


_QUANTITIES = {"breakpoint": 0, "plateau": 2}


def fit_across_d(
    fits: Sequence[CriticalBatchFit],
    *,
    quantity: str = "breakpoint",
    min_points: int = 2,
) -> FitResult:
    """Power law of ``B*`` (or the plateau) in ``d``, bootstrapped through both fits.

    The point estimate is the least-squares line of ``log B*(d)`` on ``log d``. The
    interval is the percentile interval of the lines through bootstrap replicate
    ``b`` of every curve's fit (independent across ``d`` when each curve's fit used
    its own bootstrap seed), as :func:`muonjax.fit_two_stage` does for Figure 2.

    Curves whose fit failed, whose ``B*`` lies outside the batch sizes measured (an
    extrapolation: no rise or no plateau was seen), or whose rise or plateau holds
    fewer than two points (``B*`` at the edge of the grid, not resolved) are
    excluded and listed.

    Args:
        fits: one :class:`CriticalBatchFit` per ``d`` (same rule, alpha, measure,
            ``n_boot`` and confidence).
        quantity: ``"breakpoint"`` (``B*``) or ``"plateau"``.
        min_points: fewest usable ``d`` (>= 2; 2 gives an exactly determined line).

    Returns:
        A :class:`muonjax.FitResult` (``kind="power_law"``): ``exponent`` and
        ``interval`` of the slope, ``x`` the ``d`` used, ``y`` the ``B*`` (or plateau)
        estimates, ``y_sem`` the bootstrap standard deviations of those, ``n_seeds``
        the fewest seeds per curve; compare it with
        :func:`muonjax.theory.critical_batch_exponent` through
        :func:`muonjax.compare_fit`.

    References:
        SPEC A.5, critical batch size: Muon B* ~ d^(alpha + 1/2); SGD B* ~ d^(1/2)
        [derived from the seed's "intersections"]; Part D.
    """
    if quantity not in _QUANTITIES:
        raise ValueError(
            f"quantity must be one of {tuple(_QUANTITIES)}, got {quantity!r}"
        )
    if not fits:
        raise ValueError("fits must hold at least one CriticalBatchFit")
    ident = {(f.rule, f.alpha, f.measure) for f in fits}
    if len(ident) != 1:
        raise ValueError(
            f"fits must share rule, alpha and measure, got {sorted(ident)}"
        )
    n_boots = {f.fit.n_boot for f in fits}
    confs = {f.fit.confidence for f in fits}
    if len(n_boots) != 1 or len(confs) != 1:
        raise ValueError(
            f"fits must share n_boot and confidence, got {sorted(n_boots)}, "
            f"{sorted(confs)}"
        )
    dims = [f.d for f in fits]
    if len(set(dims)) != len(dims):
        raise ValueError(f"fits must have distinct d, got {dims}")
    n_boot, confidence = n_boots.pop(), confs.pop()
    used: list[CriticalBatchFit] = []
    excluded: list[ExcludedPoint] = []
    for f in sorted(fits, key=lambda f: f.d):
        value = f.fit.breakpoint if quantity == "breakpoint" else f.fit.plateau
        if not (f.ok and np.isfinite(value) and value > 0):
            why = "; ".join(f.fit.flags[:2]) or "no estimate"
            excluded.append(ExcludedPoint(float(f.d), f"fit failed: {why}"))
        elif "breakpoint_outside_data" in f.fit.flags:
            excluded.append(
                ExcludedPoint(
                    float(f.d),
                    f"B*={f.fit.breakpoint:.4g} outside the measured batch sizes "
                    f"[{f.fit.x.min():g}, {f.fit.x.max():g}] (extrapolated)",
                )
            )
        elif any(fl.startswith("breakpoint_near_edge") for fl in f.fit.flags):
            # With fewer than two points on the rise (or on the plateau) B* is not
            # resolved: the fit puts it at the edge of the grid whatever it is.
            excluded.append(
                ExcludedPoint(
                    float(f.d),
                    f"B*={f.fit.breakpoint:.4g} at the edge of the measured batch "
                    "sizes: the rise or the plateau holds < 2 points",
                )
            )
        else:
            used.append(f)
    col = _QUANTITIES[quantity]
    return fit_power_law_replicates(
        [f.d for f in used],
        [f.fit.breakpoint if col == 0 else f.fit.plateau for f in used],
        np.stack([f.fit.bootstrap[:, col] for f in used], axis=1)
        if used
        else np.zeros((n_boot, 0)),
        n_seeds=[int(f.fit.n_seeds.min()) for f in used],
        confidence=confidence,
        min_points=min_points,
        excluded=excluded,
    )
