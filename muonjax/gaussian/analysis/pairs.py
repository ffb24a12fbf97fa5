"""Paired comparisons of Part A's records: differences of exponents, capacity ratios.

The sweeps' task key leaves out the rule, the Newton-Schulz variant and (with
:func:`muonjax.paired_kappa_sweep`) ``kappa_v``, so seed ``s`` is the same task in
every such group: comparisons between groups are paired over seeds.

- :func:`exponent_difference`: ``C_a - C_b`` with a (paired) bootstrap interval
  (Newton against Muon, Figure 2 [seed, abstract v2]; Newton at ``kappa`` against
  ``kappa = 0``, Figure 6 [seed, partly derived]) and
  :func:`difference_comparison`, its verdict against a prediction;
- :func:`capacity_ratios`: ratios of mean capacities between two slices of the
  records (Newton-Schulz over exact Muon, Muon over Newton) per ``d`` and alpha,
  with a paired bootstrap over seeds (:func:`muonjax.paired_ratio`).

References:
    SPEC A.5, Part D (bootstrap over seeds); Kim et al. (2026), Figures 2 and 6.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from muonjax.engine.table import Table
from muonjax.gaussian.analysis.tables import check_columns, group_keys, last_step, py
from muonjax.stats.bootstrap import paired_ratio, percentile_interval
from muonjax.stats.fit import FitResult
from muonjax.stats.verdict import (
    DEFAULT_MAX_WIDTH,
    DEFAULT_TOLERANCE,
    Comparison,
    compare,
)


@dataclass(frozen=True)
class Difference:
    """``C_a - C_b`` of two fits, with a bootstrap interval.

    Attributes:
        estimate: the difference of the point estimates.
        interval: percentile interval of the replicate differences.
        paired: whether replicate ``b`` of both fits resampled the same seeds
            (same used ``x``, same seeds per point; see :func:`exponent_difference`).
        notes: why it is or is not paired, and the fits' flags.
    """

    estimate: float
    interval: tuple[float, float]
    paired: bool
    notes: tuple[str, ...]


def exponent_difference(
    fit_a: FitResult,
    fit_b: FitResult,
    *,
    confidence: float = 0.95,
    shuffle_seed: int = 1,
) -> Difference:
    """``C_a - C_b`` with a bootstrap interval, paired where the fits allow it.

    Two fits from :func:`fit_exponents` (one bootstrap seed for every group) whose
    used points and seeds per point agree resampled the same seed indices in each
    replicate; when the seeds are the same tasks (the rule, or ``kappa_v`` in a
    paired sweep, is not part of the task key) the replicate differences are a
    paired bootstrap of the difference. Otherwise the replicates of ``fit_b`` are
    shuffled first (``shuffle_seed``), which makes them independent of ``fit_a``'s:
    an unpaired bootstrap.

    Args:
        fit_a, fit_b: power-law fits with bootstrap replicates (same ``n_boot``).
        confidence: nominal coverage.
        shuffle_seed: seed of the shuffle of the unpaired case.

    Returns:
        A :class:`Difference` (NaN when either fit failed).

    References:
        SPEC Part D (bootstrap over seeds).
    """
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got confidence={confidence!r}")
    notes = [f"a: {f}" for f in fit_a.flags] + [f"b: {f}" for f in fit_b.flags]
    if not (fit_a.ok and fit_b.ok):
        return Difference(
            math.nan, (math.nan, math.nan), False, (*notes, "a fit failed")
        )
    if fit_a.n_boot != fit_b.n_boot:
        raise ValueError(
            f"the fits must share n_boot, got {fit_a.n_boot} and {fit_b.n_boot}"
        )
    ba, bb = fit_a.bootstrap, fit_b.bootstrap
    paired = bool(
        np.array_equal(fit_a.x, fit_b.x)
        and np.array_equal(fit_a.n_seeds, fit_b.n_seeds)
    )
    if paired:
        notes.append("paired bootstrap: same points and seeds")
    else:
        bb = np.random.default_rng(shuffle_seed).permutation(bb)
        notes.append(
            f"unpaired bootstrap: points differ (a: {fit_a.x.tolist()}, b: "
            f"{fit_b.x.tolist()})"
        )
    diff = ba - bb
    ok = np.isfinite(diff)
    if ok.sum() < 0.5 * diff.shape[0]:
        return Difference(
            fit_a.exponent - fit_b.exponent,
            (math.nan, math.nan),
            paired,
            (*notes, "too many failed replicates"),
        )
    return Difference(
        float(fit_a.exponent - fit_b.exponent),
        percentile_interval(diff[ok], confidence),
        paired,
        tuple(notes),
    )


@dataclass(frozen=True)
class RatioRow:
    """The ratio of mean capacities of two slices at one configuration.

    Attributes:
        keys: the configuration (``{"d": 256, "alpha": 2.0}``).
        ratio: ``mean(numerator) / mean(denominator)`` over the common seeds.
        interval: percentile bootstrap interval (seeds resampled jointly: paired).
        numerator_mean, denominator_mean: the two means.
        seeds: number of common seeds.
    """

    keys: Mapping[str, Any]
    ratio: float
    interval: tuple[float, float]
    numerator_mean: float
    denominator_mean: float
    seeds: int

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (non-finite numbers become ``None``)."""

        def clean(v: float) -> float | None:
            return v if math.isfinite(v) else None

        return {
            **{k: py(v) for k, v in self.keys.items()},
            "ratio": clean(self.ratio),
            "interval": [clean(v) for v in self.interval],
            "numerator_mean": clean(self.numerator_mean),
            "denominator_mean": clean(self.denominator_mean),
            "seeds": self.seeds,
        }


def capacity_ratios(
    table: Table,
    *,
    numerator: Mapping[str, Any],
    denominator: Mapping[str, Any],
    by: Sequence[str] = ("d", "alpha"),
    measure: str = "count",
    n_boot: int = 2000,
    confidence: float = 0.95,
    seed: int = 0,
) -> list[RatioRow]:
    """Ratios of mean capacity between two slices, per configuration, paired.

    For every value of the ``by`` columns present in both slices, the seeds common
    to both are matched (seed ``s`` is the same task in both when the slices differ
    only in columns outside the task key, such as the rule or the Newton-Schulz
    variant), and the ratio of means gets the interval of
    :func:`muonjax.paired_ratio` (the matched seeds resampled jointly).

    Args:
        table: records.
        numerator: ``column -> value`` selecting the numerator slice (e.g.
            ``{"variant": "jordan:5"}``).
        denominator: the denominator slice (e.g. ``{"variant": "exact"}``).
        by: the columns of one configuration.
        measure: the capacity measure.
        n_boot: bootstrap replicates.
        confidence: nominal coverage.
        seed: bootstrap generator seed.

    Returns:
        One :class:`RatioRow` per configuration, in order of appearance. A zero
        denominator mean gives a NaN ratio and interval.
    """
    by = tuple(by)
    check_columns(table, (*by, *numerator, *denominator, measure, "seed"))
    if n_boot < 100:
        raise ValueError(f"n_boot must be >= 100, got n_boot={n_boot!r}")
    table = last_step(table)
    num_t, den_t = table.where(**numerator), table.where(**denominator)
    rows = []
    for key in group_keys(num_t, by):
        where = dict(zip(by, key, strict=True))
        a, b = num_t.where(**where), den_t.where(**where)
        if len(b) == 0:
            continue
        sa = dict(
            zip(a.data["seed"].tolist(), a.data[measure].astype(float), strict=True)
        )
        sb = dict(
            zip(b.data["seed"].tolist(), b.data[measure].astype(float), strict=True)
        )
        common = sorted(set(sa) & set(sb))
        va = np.array([sa[s] for s in common])
        vb = np.array([sb[s] for s in common])
        ma, mb = float(va.mean()), float(vb.mean())
        ratio, interval = (math.nan, (math.nan, math.nan))
        if mb != 0:
            ratio, interval = paired_ratio(
                va, vb, confidence=confidence, n_boot=n_boot, seed=seed
            )
        rows.append(RatioRow(where, ratio, interval, ma, mb, len(common)))
    return rows


def difference_comparison(
    diff: Difference,
    prediction: float = 0.0,
    *,
    relation: str = "==",
    tolerance: float = DEFAULT_TOLERANCE,
    max_width: float = DEFAULT_MAX_WIDTH,
    label: str = "",
) -> Comparison:
    """A :class:`Difference` against a predicted value (0: no change)."""
    return compare(
        diff.estimate,
        diff.interval,
        prediction,
        relation=relation,
        tolerance=tolerance,
        max_width=max_width,
        label=label,
        notes=diff.notes,
    )
