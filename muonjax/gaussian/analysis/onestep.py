"""One-step experiments from their records: exponent fits, two-stage fits, ratios.

Figures 2 and 6 of Kim et al. (2026), and the Newton-Schulz comparison beyond the
paper, all measure the capacity of ONE step from ``W_0 = 0`` over a grid of
dimensions ``d`` and a few other axes (rule, ``alpha``, ``kappa_v``, a Newton-Schulz
variant), with seeds. This module turns the records of such a sweep
(:func:`muonjax.read_table`) into the quantities the figures claim things about:

- :func:`fit_exponents`: one power law ``capacity ~ a d^C`` per group of the
  records (per rule and alpha, say), with a percentile bootstrap over seeds
  (:func:`muonjax.fit_power_law`, SPEC D). All groups share one bootstrap
  generator seed, so replicate ``b`` of every group resamples the same seed
  indices: fits of two groups measured on the same tasks (the sweeps' task key
  leaves out the rule, and :func:`paired_kappa_sweep` leaves out ``kappa_v``) are
  then paired, and :func:`exponent_difference` is a paired bootstrap.
- :func:`two_stage_fits`: Figure 2's second stage ``C_alpha = c1 + c2 / alpha``
  per rule (:func:`muonjax.fit_two_stage`) [SPEC A.5: seed for the fit form;
  derived values].
- :func:`exponent_difference`: ``C_a - C_b`` with a (paired) bootstrap interval
  (Newton against Muon, Figure 2 [seed, abstract v2]; Newton at ``kappa`` against
  ``kappa = 0``, Figure 6 [seed, partly derived]).
- :func:`capacity_ratios`: ratios of mean capacities between two slices of the
  records (Newton-Schulz over exact Muon, Muon over Newton) per ``d`` and alpha,
  with a paired bootstrap over seeds.
- :func:`exponent_rows`: verdict rows (:class:`muonjax.SummaryRow`) of the
  per-group exponents against a prediction.
- :func:`ns_variant_cell` and :func:`ns_variant_sweep`: exact Muon beside
  Newton-Schulz variants (coefficients and step counts) on the same tasks, with
  the number of gradient directions each variant orthogonalises.
- :func:`capacity_panel` and :func:`exponent_panel`: figure panels with
  per-group dashed fit lines and dotted predicted lines.

Capacity measures (SPEC A.4): ``count`` (recovered items), ``prefix`` (the
recovered prefix of the most frequent items) and ``weighted_accuracy``. Which one a
claim is tested on is the caller's choice and is recorded with every fit.

References:
    SPEC A.3-A.6, Part D; Kim et al. (2026), arXiv 2603.26554, Figures 2 and 6.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from muonjax import _validate
from muonjax._io import atomic_write_text
from muonjax._polar import newton_schulz, newton_schulz_coefficients, polar
from muonjax._polar import singular_value_map as _singular_value_map
from muonjax.engine.sweep import Scalar, Sweep
from muonjax.engine.table import Table
from muonjax.gaussian.cells import one_step_cell, sweep_block_size
from muonjax.gaussian.scores import grad_at_zero
from muonjax.gaussian.task import sample_task
from muonjax.stats.fit import FitResult, TwoStageFit, fit_power_law, fit_two_stage
from muonjax.stats.slopes import local_log_slopes
from muonjax.stats.summary import SummaryRow
from muonjax.stats.verdict import (
    DEFAULT_MAX_WIDTH,
    DEFAULT_TOLERANCE,
    Comparison,
    compare,
    compare_fit,
)

__all__ = [
    "EXACT",
    "Difference",
    "GroupFits",
    "RatioRow",
    "capacity_panel",
    "capacity_ratios",
    "comparison_table",
    "difference_comparison",
    "exponent_difference",
    "exponent_panel",
    "exponent_rows",
    "fit_exponents",
    "group_keys",
    "group_label",
    "local_slopes",
    "newton_ridge_diagnostic",
    "ns_variant_cell",
    "ns_variant_sweep",
    "paired_kappa_sweep",
    "parse_ns_variant",
    "read_newton_ridge_diagnostic",
    "seed_matrix",
    "two_stage_fits",
]

#: Name of the exact-polar variant in :func:`ns_variant_sweep`.
EXACT = "exact"

#: Mapped singular value at or above which :func:`ns_variant_cell` counts a
#: gradient direction as orthogonalised. Converged Newton-Schulz directions land in
#: about 0.7..1.2 (optax's quintic) or at 1; a direction left in the iteration's
#: linear regime maps to ``(prod_t a_t) s / ||G||_F``, far below it.
DIRECTION_THRESHOLD = 0.5


# --------------------------------------------------------------------------------------
# Slicing the records.


def _last_step(table: Table) -> Table:
    if "step" in table.data and len(table):
        return table.where(step=int(np.max(table.data["step"])))
    return table


def _py(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def group_label(groups: Sequence[str], key: Sequence[Any]) -> str:
    """``"rule=muon, alpha=1.5"`` for the group ``key`` of the columns ``groups``."""
    return ", ".join(f"{g}={_py(v)}" for g, v in zip(groups, key, strict=True))


def _check_columns(table: Table, names: Sequence[str]) -> None:
    missing = [n for n in names if n not in table.data]
    if missing:
        raise ValueError(
            f"no column(s) {missing} in the records; columns are {table.columns}"
        )


def group_keys(table: Table, groups: Sequence[str]) -> list[tuple[Any, ...]]:
    """Distinct values of the ``groups`` columns, in order of first appearance."""
    cols = [table.data[g] for g in groups]
    seen: dict[tuple[Any, ...], None] = {}
    for i in range(len(table)):
        seen.setdefault(tuple(_py(c[i]) for c in cols), None)
    return list(seen)


def local_slopes(
    table: Table, *, groups: Sequence[str], measure: str = "count", x: str = "d"
) -> dict[str, list[float | None]]:
    """Slopes of ``log mean(measure)`` between consecutive ``x``, per group.

    A slope that still changes with ``x`` shows curvature on the log-log plot
    (constants, log factors, a pre-asymptotic range) that one straight-line fit
    over the whole range averages away.

    Returns:
        ``{group label: [slope between x_i and x_(i+1), ...]}`` (``None`` where a
        mean is 0).
    """
    groups = tuple(groups)
    _check_columns(table, (*groups, x, measure, "seed"))
    out = {}
    for key in group_keys(_last_step(table), groups):
        sub = table.where(**dict(zip(groups, key, strict=True)))
        xs, vals, _ = seed_matrix(sub, x=x, measure=measure)
        means = [v.mean() for v in vals]
        out[group_label(groups, key)] = local_log_slopes(xs, means)
    return out


def seed_matrix(
    table: Table, *, x: str = "d", measure: str = "count"
) -> tuple[np.ndarray, list[np.ndarray], list[np.ndarray]]:
    """The values of ``measure`` per ``x`` value and seed, seeds in increasing order.

    Args:
        table: records of ONE group (filter first with :meth:`muonjax.Table.where`),
            one row per ``(x, seed)`` at the last step.
        x: the size column.
        measure: the measured column.

    Returns:
        ``(xs, values, seeds)``: ``(k,)`` increasing ``x`` values, and per ``x`` a
        ``(s,)`` array of the measure and the ``(s,)`` seed indices, sorted by seed
        (so that the same position means the same seed, hence the same task).

    Raises:
        ValueError: a missing column, an empty table, or a repeated ``(x, seed)``.
    """
    _check_columns(table, (x, measure, "seed"))
    table = _last_step(table)
    if len(table) == 0:
        raise ValueError("the records hold no rows for this group")
    xv = table.data[x].astype(np.float64)
    xs = np.unique(xv)
    values, seeds = [], []
    for v in xs:
        rows = np.nonzero(xv == v)[0]
        s = table.data["seed"][rows].astype(np.int64)
        order = np.argsort(s, kind="stable")
        if np.unique(s).shape[0] != s.shape[0]:
            raise ValueError(f"seed repeated at {x}={v:g}: one row per seed expected")
        seeds.append(s[order])
        values.append(table.data[measure][rows][order].astype(np.float64))
    return xs, values, seeds


# --------------------------------------------------------------------------------------
# Exponent fits per group.


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
) -> GroupFits:
    """Fit ``measure ~ a x^C`` per group of the records, bootstrap over seeds.

    Every group is fitted with :func:`muonjax.fit_power_law` on the seeds' values at
    each ``x`` (least squares of ``log mean`` on ``log x``). Points are left out,
    with their reason in the fit's ``excluded``, when ``x < x_min`` (a
    pre-asymptotic range chosen by the caller), when every seed is 0, or when a
    seed reaches the saturation ceiling.

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

    Returns:
        A :class:`GroupFits`.

    References:
        SPEC Part D (power-law fits with a bootstrap over seeds; exclusions are
        flagged, never silent); SPEC A.6, Figure 2 (per-alpha fits).
    """
    groups = tuple(groups)
    if not groups:
        raise ValueError("groups must name at least one column, got ()")
    _check_columns(table, (*groups, x, measure, "seed"))
    if x_min is not None:
        _validate.real("x_min", x_min, lower=0.0)
    if isinstance(saturation, str) and saturation != "n":
        raise ValueError(
            f"saturation must be 'n', a number or None, got {saturation!r}"
        )
    table = _last_step(table)
    fits: dict[tuple[Any, ...], FitResult] = {}
    for key in group_keys(table, groups):
        sub = table.where(**dict(zip(groups, key, strict=True)))
        xs, values, _ = seed_matrix(sub, x=x, measure=measure)
        exclude = None
        if x_min is not None:
            exclude = {
                float(v): f"{x}={v:g} < x_min={x_min:g} (pre-asymptotic range, "
                "excluded by the experiment's settings)"
                for v in xs
                if v < x_min
            } or None
        ceiling: float | None
        if saturation == "n":
            _check_columns(sub, ("n",))
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
            exclude=exclude,
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
    tail = 100 * (1 - confidence) / 2
    lo, hi = np.percentile(diff[ok], [tail, 100 - tail])
    return Difference(
        float(fit_a.exponent - fit_b.exponent),
        (float(lo), float(hi)),
        paired,
        tuple(notes),
    )


# --------------------------------------------------------------------------------------
# Capacity ratios between two slices of the records.


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
            **{k: _py(v) for k, v in self.keys.items()},
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
    variant), and the ratio of means gets a percentile bootstrap interval that
    resamples the matched seeds jointly.

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
    _check_columns(table, (*by, *numerator, *denominator, measure, "seed"))
    if n_boot < 100:
        raise ValueError(f"n_boot must be >= 100, got n_boot={n_boot!r}")
    table = _last_step(table)
    num_t, den_t = table.where(**numerator), table.where(**denominator)
    rng = np.random.default_rng(seed)
    tail = 100 * (1 - confidence) / 2
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
        if mb == 0:
            rows.append(
                RatioRow(where, math.nan, (math.nan, math.nan), ma, mb, len(common))
            )
            continue
        idx = rng.integers(0, len(common), size=(n_boot, len(common)))
        ra, rb = va[idx].mean(axis=1), vb[idx].mean(axis=1)
        good = rb > 0
        lo, hi = np.percentile(ra[good] / rb[good], [tail, 100 - tail])
        rows.append(
            RatioRow(where, ma / mb, (float(lo), float(hi)), ma, mb, len(common))
        )
    return rows


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


# --------------------------------------------------------------------------------------
# Sweeps: Newton-Schulz variants beside exact Muon, and kappa-paired tasks.


def parse_ns_variant(variant: str) -> tuple[str, int] | None:
    """``"jordan:5" -> ("jordan", 5)``; ``"exact" -> None`` (the exact polar factor).

    The coefficient name is one of :func:`muonjax.newton_schulz_coefficients`'s
    names (``jordan`` is optax's quintic (3.4445, -4.7750, 2.0315)).

    Raises:
        ValueError: naming the variant, when it does not parse.
    """
    if variant == EXACT:
        return None
    name, sep, steps = str(variant).partition(":")
    try:
        n_steps = int(steps)
        newton_schulz_coefficients(name, n_steps)
    except ValueError as err:
        raise ValueError(
            f"variant must be 'exact' or 'COEFFS:STEPS' (e.g. 'jordan:5'), got "
            f"variant={variant!r}: {err}"
        ) from None
    if not sep:
        raise ValueError(f"variant must be 'exact' or 'COEFFS:STEPS', got {variant!r}")
    return name, n_steps


def ns_variant_cell(config: Mapping[str, Any], key: jax.Array) -> dict[str, jax.Array]:
    """Cell function: one Muon step with the exact polar factor or a Newton-Schulz one.

    Reads ``variant`` (``"exact"`` or ``"COEFFS:STEPS"``) and everything
    :func:`muonjax.one_step_cell` reads; the step and its metrics are exactly
    :func:`muonjax.one_step_cell`'s with ``rule="muon"`` or ``rule="muon_ns"``.
    Adds ``directions``: how many of the gradient's ``d`` singular directions the
    variant maps to at least :data:`DIRECTION_THRESHOLD` (the directions it
    orthogonalises; the exact polar factor keeps all of them unless they fall
    below its rank tolerance). It is computed from the same task's gradient in the
    update dtype: ``O(n d^2 + d^3)``, small beside the capacity pass.

    Returns:
        ``{"step", "loss", "count", "prefix", "weighted_accuracy", "directions"}``.

    References:
        SPEC A.3, Muon, practical [derived]; SPEC E (optax's quintic does not
        converge to the polar factor).
    """
    parsed = parse_ns_variant(config["variant"])
    cfg = dict(config)
    if parsed is None:
        cfg["rule"] = "muon"
    else:
        cfg.update(rule="muon_ns", ns_coeffs=parsed[0], ns_steps=parsed[1])
    out = one_step_cell(cfg, key)
    # The task of one_step_cell (same key split, same sampler).
    key_task, _ = jax.random.split(key)
    task = sample_task(
        config["n"],
        config["d"],
        config["alpha"],
        key=key_task,
        dtype=config.get("dtype", "float32"),
    )
    dt = config.get("update_dtype") or task.u.dtype
    g = grad_at_zero(jax.tree.map(lambda x: x.astype(dt), task))
    if parsed is None:
        direction = polar(g)
    else:
        direction = newton_schulz(g, steps=parsed[1], coeffs=parsed[0])
    mapped = _singular_value_map(g, direction)
    out["directions"] = jnp.sum(mapped >= DIRECTION_THRESHOLD, dtype=jnp.int32)
    return out


def ns_variant_sweep(
    *,
    n: int,
    dims: Sequence[int],
    alphas: Sequence[float],
    variants: Sequence[str],
    update_dtype: str | None = "float64",
    muon_lr_scale: float = 2.0,
    with_loss: bool = True,
    dtype: str = "float32",
    chunk_size: int = 16,
) -> Sweep:
    """Exact Muon beside Newton-Schulz variants: the grid ``d x variant x alpha``.

    The task key is ``(n, d, alpha, dtype)``, as in :func:`muonjax.one_step_sweep`,
    so every variant sees the same task for a seed (ratios and exponent differences
    are paired) and the tasks are those of Figure 2's sweep with the same ``n``,
    ``dims``, ``alphas`` and root seed.

    Args:
        n: number of associations N.
        dims: embedding dimensions.
        alphas: frequency exponents.
        variants: ``"exact"`` and ``"COEFFS:STEPS"`` strings (see
            :func:`parse_ns_variant`).
        update_dtype: the dtype of the gradient and update (float64 needs x64 mode).
        muon_lr_scale: Muon's step over ``sqrt(d)`` (recovery does not depend on it).
        with_loss: also record the population loss.
        dtype: task dtype.
        chunk_size: the chunk size the sweep runs with (sets the block size).

    Returns:
        A :class:`muonjax.Sweep` of :func:`ns_variant_cell`.

    References:
        SPEC A.3 (Muon, practical [derived]); issue 5 ("beyond the paper").
    """
    n = _validate.positive_int("n", n)
    dims = tuple(_validate.positive_int("dims", d) for d in dims)
    for a in alphas:
        _validate.real("alphas", a, lower=0.0)
    variants = tuple(variants)
    if not variants:
        raise ValueError("variants must hold at least one variant, got ()")
    for v in variants:
        parse_ns_variant(v)
    fixed: dict[str, Scalar] = {
        "n": n,
        "muon_lr_scale": float(muon_lr_scale),
        "with_loss": bool(with_loss),
        "dtype": str(dtype),
    }
    if update_dtype:
        fixed["update_dtype"] = str(update_dtype)
    return Sweep(
        ns_variant_cell,
        axes={
            "d": dims,
            "variant": variants,
            "alpha": tuple(float(a) for a in alphas),
        },
        fixed=fixed,
        batched=("alpha",),
        key_axes=("n", "d", "alpha", "dtype"),
        options={"block_size": sweep_block_size(n, chunk_size)},
    )


def paired_kappa_sweep(sweep: Sweep) -> Sweep:
    """The same sweep with ``kappa_v`` left out of the task key (paired kappas).

    :func:`muonjax.sample_task` draws ``v = z * sqrt(spectrum(kappa_v))`` from one
    normal draw ``z``, so without ``kappa_v`` in the key every ``kappa_v`` of a seed
    scales the SAME ``z`` and ``u``: the comparison across ``kappa_v`` is paired, and
    ``kappa_v = 0`` is the isotropic task of Figure 2 with the same seed. Newton's
    step is invariant under ``v -> A v`` for an invertible ``A`` (up to its ridge),
    so on paired tasks its recovered set can only change through the ridge
    [derived].

    Args:
        sweep: a :func:`muonjax.one_step_sweep` with ``kappas``.

    Returns:
        A new :class:`muonjax.Sweep`.
    """
    if "kappa_v" not in sweep.axes:
        raise ValueError("the sweep has no kappa_v axis: build it with kappas=...")
    keys = tuple(k for k in (sweep.key_axes or sweep.config_names) if k != "kappa_v")
    return Sweep(
        sweep.cell_fn,
        axes=sweep.axes,
        fixed=sweep.fixed,
        batched=sweep.batched,
        key_axes=keys,
        options=sweep.options,
    )


# --------------------------------------------------------------------------------------
# Figure panels.


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
    table = _last_step(table)
    values = list(dict.fromkeys(_py(v) for v in table.data[series]))
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


# --------------------------------------------------------------------------------------
# Diagnostics of Newton's ridge.


#: File name of :func:`newton_ridge_diagnostic`'s output beside the records.
RIDGE_FILE = "newton_ridge.json"


def newton_ridge_diagnostic(
    sweep: Sweep,
    *,
    root_seed: int = 0,
    seed: int = 0,
    out_dir: str | os.PathLike | None = None,
) -> list[dict[str, Any]]:
    """How much of the Hessian at zero lies below Newton's ridge, per Newton cell.

    For every cell of ``sweep`` whose rule is ``"newton"``, the task of seed
    ``seed`` (the same key as the sweep's, so the very task that seed measured) is
    drawn again, its Hessian factors ``Sigma_V``, ``Sigma_U`` are built in float64,
    and the eigenvalue products ``ev_v[k] ev_u[l]`` (the Hessian's eigenvalues) are
    compared with the ridge: a direction whose eigenvalue is below the ridge gets a
    gradient-like step ``g / ridge`` instead of Newton's ``g / ev``. Costs
    ``O(n d^2 + d^3)`` per cell, no capacity pass. Needs JAX's x64 mode.

    Args:
        sweep: a :func:`muonjax.one_step_sweep` (with or without ``kappa_v``).
        root_seed: the sweep's root seed.
        seed: which seed's task to inspect.
        out_dir: if given, also write the list to ``out_dir/newton_ridge.json``
            (atomically), where :func:`read_newton_ridge_diagnostic` finds it.

    Returns:
        One dict per Newton cell: ``d``, ``alpha``, ``kappa_v`` (0 when absent),
        ``ridge``, ``fraction_below_ridge``, ``fraction_below_10x_ridge`` (where the
        ridge damps Newton's step ``1 / ev`` to ``1 / (ev + ridge)`` by more than
        9%), ``min_eigenvalue``, ``max_eigenvalue``.

    References:
        SPEC A.3 (Newton with ridge [derived]; ridge 1e-8 in Figure 6 [seed]).
    """
    if not jax.config.read("jax_enable_x64"):
        raise ValueError(
            "newton_ridge_diagnostic needs JAX's 64-bit mode: run inside "
            "`with jax.enable_x64(True):`"
        )
    from muonjax.engine.sweep import cell_key
    from muonjax.gaussian.updates import hessian_factors_at_zero

    key = jax.random.key(root_seed)
    out = []
    for cell in sweep.cells():
        cfg = cell.config
        if cfg.get("rule") != "newton":
            continue
        key_task, _ = jax.random.split(cell_key(key, cell, seed))
        task = sample_task(
            int(cfg["n"]),  # type: ignore[arg-type]
            int(cfg["d"]),  # type: ignore[arg-type]
            float(cfg["alpha"]),  # type: ignore[arg-type]
            key=key_task,
            kappa_v=float(cfg.get("kappa_v") or 0.0),  # type: ignore[arg-type]
            dtype=cfg.get("dtype", "float32"),
        )
        task64 = jax.tree.map(lambda x: x.astype(jnp.float64), task)
        sigma_v, sigma_u = hessian_factors_at_zero(task64)
        ev_v = np.clip(np.linalg.eigvalsh(np.asarray(sigma_v)), 0, None)
        ev_u = np.clip(np.linalg.eigvalsh(np.asarray(sigma_u)), 0, None)
        prod = np.outer(ev_v, ev_u)
        ridge = float(cfg.get("newton_ridge", 1e-8))  # type: ignore[arg-type]
        out.append(
            {
                "d": int(cfg["d"]),  # type: ignore[arg-type]
                "alpha": float(cfg["alpha"]),  # type: ignore[arg-type]
                "kappa_v": float(cfg.get("kappa_v") or 0.0),  # type: ignore[arg-type]
                "ridge": ridge,
                "fraction_below_ridge": float(np.mean(prod < ridge)),
                # Below 10 x ridge the step ev / (ev + ridge) is damped by > 9%.
                "fraction_below_10x_ridge": float(np.mean(prod < 10 * ridge)),
                "min_eigenvalue": float(prod.min()),
                "max_eigenvalue": float(prod.max()),
            }
        )
    if out_dir is not None:
        atomic_write_text(Path(out_dir) / RIDGE_FILE, json.dumps(out, indent=1) + "\n")
    return out


def read_newton_ridge_diagnostic(out_dir: str | os.PathLike) -> list[dict[str, Any]]:
    """The diagnostic written by :func:`newton_ridge_diagnostic` (``[]`` if none)."""
    path = Path(out_dir) / RIDGE_FILE
    return json.loads(path.read_text()) if path.exists() else []
