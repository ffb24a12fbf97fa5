"""One population step from its records: exponents, two-stage fits, differences, ratios.

Figures 1a, 2 and 6 of Kim et al. (2026), the Newton-Schulz comparison beyond the
paper, and the one-step checks all measure the capacity of ONE step from
``W_0 = 0`` over a grid of dimensions ``d`` and a few other axes (rule, ``alpha``,
``kappa_v``, a Newton-Schulz variant), with seeds. This module turns the records of
such a sweep (:func:`muonjax.read_table`) into the quantities the claims are about:

- :func:`fit_exponents`: one power law ``capacity ~ a d^C`` per group of the
  records (per rule and alpha, say), with a percentile bootstrap over seeds
  (:func:`muonjax.fit_power_law`, SPEC D). All groups share one bootstrap
  generator seed, so replicate ``b`` of every group resamples the same seed
  indices: fits of two groups measured on the same tasks (the sweeps' task key
  leaves out the rule, and :func:`muonjax.paired_kappa_sweep` leaves out
  ``kappa_v``) are then paired, and :func:`exponent_difference` is a paired
  bootstrap.
- :func:`two_stage_fits`: Figure 2's second stage ``C_alpha = c1 + c2 / alpha``
  per rule (:func:`muonjax.fit_two_stage`) [SPEC A.5: seed for the fit form;
  derived values].
- :func:`exponent_rows`: verdict rows of the fitted exponents.

Comparisons between groups measured on the same tasks (differences of exponents,
ratios of capacities) are in :mod:`muonjax.gaussian.analysis.pairs`.
- :func:`precision_exclusions`: the points where a polar-type step kept fewer
  than ``d`` directions (a float cut; from the ``rank`` column).

Capacity measures (SPEC A.4): ``count`` (recovered items), ``prefix`` (the
recovered prefix of the most frequent items) and ``weighted_accuracy``. Which one a
claim is tested on is the caller's choice and is recorded with every fit.

References:
    SPEC A.3-A.6, Part D; Kim et al. (2026), arXiv 2603.26554, Figures 2 and 6.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from muonjax import _validate
from muonjax.engine.table import Table
from muonjax.gaussian.analysis.tables import (
    check_columns,
    group_keys,
    group_label,
    last_step,
    seed_matrix,
)
from muonjax.stats.fit import FitResult, TwoStageFit, fit_power_law, fit_two_stage
from muonjax.stats.summary import SummaryRow
from muonjax.stats.verdict import (
    DEFAULT_MAX_WIDTH,
    DEFAULT_TOLERANCE,
    compare_fit,
)

#: Extra exclusions of a fit: ``{x: reason}`` for every group, or a function of one
#: group's records giving them (e.g. :func:`precision_exclusions`).
Exclusions = Mapping[float, str] | Callable[[Table], Mapping[float, str]]


def precision_exclusions(table: Table, *, x: str = "d") -> dict[float, str]:
    """Points where a polar-type step kept fewer than ``d`` directions of ``W_1``.

    Reads the ``rank`` column (:func:`muonjax.one_step_sweep` with
    ``with_rank=True``): where any seed's ``W_1`` has fewer than ``d`` singular
    values above half the largest, the float resolution cut the gradient's tail
    directions, and the point measures the precision, not the step.

    Args:
        table: records of one group (one polar-type rule).
        x: the size column (the rank is compared with it).

    Returns:
        ``{x: reason}`` of the precision-limited points.
    """
    check_columns(table, (x, "rank", "seed"))
    out = {}
    for v, ranks in zip(*seed_matrix(table, x=x, measure="rank")[:2], strict=True):
        short = ranks < v
        if np.any(short):
            out[float(v)] = (
                f"precision-limited: W_1 kept {int(ranks.min())} < d={int(v)} "
                f"directions in {int(short.sum())} of {short.shape[0]} seeds"
            )
    return out


@dataclass(frozen=True)
class GroupFits:
    """Power-law fits of one measure against ``x``, one per group of the records.

    Attributes:
        groups: the columns that define a group (e.g. ``("rule", "alpha")``).
        measure: the fitted measure (``"count"``, ``"prefix"``, ...).
        x: the size column (``"d"``).
        fits: ``group key (tuple of values) -> FitResult``, in order of appearance.
        x_min: points with ``x < x_min`` were excluded (``None``: none).
        seed: the bootstrap generator seed shared by every group.
    """

    groups: tuple[str, ...]
    measure: str
    x: str
    fits: Mapping[tuple[Any, ...], FitResult]
    x_min: float | None = None
    seed: int = 0

    def keys(self, **where: Any) -> list[tuple[Any, ...]]:
        """The group keys whose values match ``where`` (column=value)."""
        unknown = sorted(set(where) - set(self.groups))
        if unknown:
            raise ValueError(f"{unknown} are not group columns {self.groups}")
        idx = {g: i for i, g in enumerate(self.groups)}
        return [k for k in self.fits if all(k[idx[g]] == v for g, v in where.items())]

    def get(self, **where: Any) -> FitResult:
        """The one fit whose group matches ``where`` (every group column given)."""
        keys = self.keys(**where)
        if len(keys) != 1:
            raise ValueError(
                f"{where} matches {len(keys)} groups of {self.groups}, not one"
            )
        return self.fits[keys[0]]

    def values(self, column: str) -> list[Any]:
        """Distinct values of one group column, in order of appearance."""
        i = self.groups.index(column)
        return list(dict.fromkeys(k[i] for k in self.fits))

    def labelled(self, prefix: str = "") -> dict[str, FitResult]:
        """``{prefix + "rule=muon, alpha=1.5": fit}``: flat, for a fit summary."""
        return {prefix + group_label(self.groups, k): f for k, f in self.fits.items()}

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: ``{label: fit}`` plus how the fits were made."""
        return {
            "groups": list(self.groups),
            "measure": self.measure,
            "x": self.x,
            "x_min": self.x_min,
            "bootstrap_seed": self.seed,
            "fits": {
                group_label(self.groups, k): f.to_dict() for k, f in self.fits.items()
            },
        }


def fit_exponents(
    table: Table,
    *,
    groups: Sequence[str],
    measure: str = "count",
    x: str = "d",
    x_min: float | None = None,
    saturation: float | str | None = "n",
    n_boot: int = 2000,
    confidence: float = 0.95,
    min_points: int = 3,
    seed: int = 0,
    exclude: Exclusions | None = None,
) -> GroupFits:
    """Fit ``measure ~ a x^C`` per group of the records, bootstrap over seeds.

    Every group is fitted with :func:`muonjax.fit_power_law` on the seeds' values at
    each ``x`` (least squares of ``log mean`` on ``log x``). Points are left out,
    with their reason in the fit's ``excluded``, when ``x < x_min`` (a
    pre-asymptotic range chosen by the caller), when ``exclude`` names them, when
    every seed is 0, or when a seed reaches the saturation ceiling.

    Args:
        table: records of a one-step sweep (one row per configuration and seed).
        groups: the columns that define a group, e.g. ``("rule", "alpha")``.
        measure: ``"count"``, ``"prefix"`` or ``"weighted_accuracy"`` (SPEC A.4).
        x: the size column.
        x_min: exclude points below this ``x``.
        saturation: ``"n"`` for a ceiling at the group's number of items (for
            ``count`` and ``prefix``), a number, or ``None``.
        n_boot: bootstrap replicates (shared by all groups, as the two-stage fit
            needs).
        confidence: nominal coverage of the intervals.
        min_points: fewest usable points per fit.
        seed: the bootstrap generator seed, the same for every group (this pairs
            groups measured on the same tasks; see the module docstring).
        exclude: further points to leave out, ``{x: reason}`` for every group or a
            function of one group's records (:func:`precision_exclusions`).

    Returns:
        A :class:`GroupFits`.

    References:
        SPEC Part D (power-law fits with a bootstrap over seeds; exclusions are
        flagged, never silent); SPEC A.6, Figure 2 (per-alpha fits).
    """
    groups = tuple(groups)
    if not groups:
        raise ValueError("groups must name at least one column, got ()")
    check_columns(table, (*groups, x, measure, "seed"))
    if x_min is not None:
        _validate.real("x_min", x_min, lower=0.0)
    if isinstance(saturation, str) and saturation != "n":
        raise ValueError(
            f"saturation must be 'n', a number or None, got {saturation!r}"
        )
    table = last_step(table)
    fits: dict[tuple[Any, ...], FitResult] = {}
    for key in group_keys(table, groups):
        sub = table.where(**dict(zip(groups, key, strict=True)))
        xs, values, _ = seed_matrix(sub, x=x, measure=measure)
        dropped = dict(exclude(sub) if callable(exclude) else (exclude or {}))
        if x_min is not None:
            dropped.update(
                {
                    float(v): f"{x}={v:g} < x_min={x_min:g} (pre-asymptotic range, "
                    "excluded by the experiment's settings)"
                    for v in xs
                    if v < x_min
                }
            )
        ceiling: float | None
        if saturation == "n":
            check_columns(sub, ("n",))
            ns = np.unique(sub.data["n"])
            if ns.shape[0] != 1:
                raise ValueError(f"group {key} mixes several n: {ns.tolist()}")
            ceiling = float(ns[0])
        else:
            ceiling = None if saturation is None else float(saturation)
        fits[key] = fit_power_law(
            xs,
            values,
            saturation=ceiling,
            exclude=dropped or None,
            confidence=confidence,
            n_boot=n_boot,
            min_points=min_points,
            seed=seed,
        )
    return GroupFits(groups, measure, x, fits, x_min, seed)


def two_stage_fits(
    fits: GroupFits, *, alpha: str = "alpha", confidence: float = 0.95
) -> dict[tuple[Any, ...], TwoStageFit]:
    """Figure 2's second stage, ``C_alpha = c1 + c2 / alpha``, per remaining group.

    The per-alpha exponents of ``fits`` are grouped by the other group columns (the
    rule, say) and passed to :func:`muonjax.fit_two_stage`, which carries the
    bootstrap through both stages.

    Args:
        fits: per-group fits whose groups include ``alpha``.
        alpha: the frequency-exponent column.
        confidence: nominal coverage.

    Returns:
        ``{other group values: TwoStageFit}``; keys follow ``fits.groups`` without
        ``alpha`` (``("muon",)`` for groups ``("rule", "alpha")``). Groups with
        fewer than two alphas have no second stage and are left out.

    References:
        SPEC A.5, Figure 2 two-stage fit [seed for the fit form; derived values].
    """
    if alpha not in fits.groups:
        raise ValueError(f"alpha={alpha!r} is not a group column of {fits.groups}")
    ia = fits.groups.index(alpha)
    out: dict[tuple[Any, ...], list[tuple[float, FitResult]]] = {}
    for key, fit in fits.fits.items():
        rest = key[:ia] + key[ia + 1 :]
        out.setdefault(rest, []).append((float(key[ia]), fit))
    result = {}
    for rest, items in out.items():
        if len(items) < 2:  # a line through one point is not a fit
            continue
        items.sort(key=lambda t: t[0])
        result[rest] = fit_two_stage(
            [a for a, _ in items], [f for _, f in items], confidence=confidence
        )
    return result


# --------------------------------------------------------------------------------------
# Verdict rows.


def exponent_rows(
    fits: GroupFits,
    *,
    claim: str,
    predict: Callable[[Mapping[str, Any]], float | None],
    tolerance: float = DEFAULT_TOLERANCE,
    max_width: float = DEFAULT_MAX_WIDTH,
    label: str | None = None,
) -> list[SummaryRow]:
    """One verdict row per group: the fitted exponent against its prediction.

    Args:
        fits: per-group fits.
        claim: the claim in words, with its SPEC tag.
        predict: ``group values (dict) -> predicted exponent``, or ``None`` to skip
            the group.
        tolerance, max_width: see :func:`muonjax.compare`.
        label: the comparison's label (default: ``"exponent C of <measure> ~ d^C"``).

    Returns:
        :class:`muonjax.SummaryRow` list, group label ``"rule=..., alpha=...,
        measure=..."``.
    """
    rows = []
    for key, fit in fits.fits.items():
        values = dict(zip(fits.groups, key, strict=True))
        pred = predict(values)
        if pred is None:
            continue
        comparison = compare_fit(
            fit,
            float(pred),
            tolerance=tolerance,
            max_width=max_width,
            label=label or f"exponent C of {fits.measure} ~ {fits.x}^C",
        )
        group = f"{group_label(fits.groups, key)}, measure={fits.measure}"
        rows.append(SummaryRow(claim, group, comparison))
    return rows


def comparison_table(rows: Sequence[SummaryRow]) -> str:
    """A Markdown table of verdict rows (for README gallery fragments)."""
    lines = [
        "| claim | group | prediction | estimate | 95% interval | verdict |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        c = r.comparison
        lines.append(
            f"| {r.claim} | {r.group} | {c.prediction_text} | {c.measurement_text} | "
            f"{c.interval_text} | {c.verdict} |"
        )
    return "\n".join(lines)
