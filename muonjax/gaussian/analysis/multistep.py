"""Several steps from ``W_0 = 0`` from their records: curves, exponents, gains, ratios.

Kim et al. (2026) Figures 4 and 5 follow ``T`` steps of Muon (and GD) on the
population or minibatch loss, with the exact gradient or the thresholded one
(recovered items removed), and read the capacity off every step
(:func:`muonjax.multi_step_sweep`). From such records:

- :func:`step_curves` (capacity against step per seed), :func:`capacity_after`
  (capacity after ``T`` steps), :func:`stopping_steps`, :func:`final_capacity`;
- :func:`step_exponent_fits` (one power law in ``d`` per step, Figure 4e) and
  :func:`step_gain_fits` (the exponent of ``d_T / d_1``);
- :func:`capacity_ratio` (one rule's capacity over another's per group, e.g.
  Newton-Schulz over exact Muon, with a paired bootstrap over seeds) and
  :func:`newton_schulz_reach` (the smallest relative singular value a
  Newton-Schulz iteration lifts to a level).

Rows after an early stop (``step > stop_step``) hold ``count = prefix = -1`` and NaN
loss; the analyses carry the stopped state forward (the run's capacity after ``T``
steps is the capacity at its stop when it stopped earlier) unless told otherwise.

References:
    Kim, Nichani, Wu, Bietti, Lee (2026), arXiv 2603.26554, Theorems 5.4 and 5.5,
    Figures 4 and 5; SPEC A.4 (measures), A.5 (multi-step predictions), Part D (fits).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from muonjax import _validate, theory
from muonjax._polar import newton_schulz_coefficients
from muonjax.engine.table import Table
from muonjax.gaussian.analysis.policy import ExponentPolicy, PolicyFit, policy_fit
from muonjax.gaussian.analysis.tables import group_rows
from muonjax.stats.bootstrap import bootstrap_interval, paired_ratio
from muonjax.stats.fit import FitResult, fit_power_law, fit_step_exponents
from muonjax.stats.verdict import Comparison, compare

_MEASURES = ("count", "prefix", "weighted_accuracy", "loss")


def _check_measure(table: Table, measure: str) -> None:
    if measure not in _MEASURES:
        raise ValueError(f"measure must be one of {_MEASURES}, got {measure=!r}")
    for col in ("seed", "step", measure):
        if col not in table.data:
            raise ValueError(f"no column {col!r}; columns are {table.columns}")


def step_curves(
    table: Table,
    *,
    by: Sequence[str],
    measure: str = "count",
    carry_forward: bool = True,
) -> dict[tuple[Any, ...], tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Per group, a measure against step for every seed.

    Args:
        table: records of :func:`multi_step_sweep` (columns ``seed``, ``step``, the
            measure and, for early-stopped runs, ``stop_step``).
        by: the config columns that name a group (e.g. ``("d", "rule", "alpha")``).
        measure: ``"count"``, ``"prefix"``, ``"weighted_accuracy"`` or ``"loss"``.
        carry_forward: rows after a seed's ``stop_step`` (not run) take the value
            at the stop (the kept ``W``); when False they are NaN.

    Returns:
        ``{group: (seeds (K,), steps (S,), values (K, S) float)}``.
    """
    _check_measure(table, measure)
    stop_col = table.data.get("stop_step")
    out = {}
    for key, rows in group_rows(table, by).items():
        seeds = np.unique(table.data["seed"][rows])
        steps = np.unique(table.data["step"][rows])
        vals = np.full((seeds.size, steps.size), np.nan)
        stop = np.full(seeds.size, steps[-1])
        si = np.searchsorted(seeds, table.data["seed"][rows])
        ti = np.searchsorted(steps, table.data["step"][rows])
        vals[si, ti] = table.data[measure][rows].astype(float)
        if stop_col is not None:
            stop[si] = stop_col[rows]
        after = steps[None, :] > stop[:, None]
        if carry_forward:
            at_stop = vals[np.arange(seeds.size), np.searchsorted(steps, stop)]
            vals = np.where(after, at_stop[:, None], vals)
        else:
            vals = np.where(after, np.nan, vals)
        out[key] = (seeds, steps, vals)
    return out


def capacity_after(
    table: Table, step: int, *, by: Sequence[str], measure: str = "count"
) -> dict[tuple[Any, ...], np.ndarray]:
    """Per group, the ``(K,)`` values of a measure after ``step`` steps, per seed.

    A seed stopped earlier contributes its value at the stop (its kept ``W``).
    Raises ``ValueError`` when a group has no row at ``step``.
    """
    step = _validate.nonnegative_int("step", step)
    out = {}
    for key, (_, steps, vals) in step_curves(table, by=by, measure=measure).items():
        j = np.searchsorted(steps, step)
        if j >= steps.size or steps[j] != step:
            raise ValueError(
                f"group {key} has no step {step}; its steps run to {steps[-1]}"
            )
        out[key] = vals[:, j]
    return out


def stopping_steps(
    table: Table, *, by: Sequence[str]
) -> dict[tuple[Any, ...], np.ndarray]:
    """Per group, the ``(K,)`` stopping step of every seed (from ``stop_step``)."""
    if "stop_step" not in table.data:
        raise ValueError(f"no column 'stop_step'; columns are {table.columns}")
    out = {}
    for key, rows in group_rows(table, by).items():
        _, first = np.unique(table.data["seed"][rows], return_index=True)
        out[key] = table.data["stop_step"][rows][first].astype(np.int64)
    return out


def final_capacity(
    table: Table, *, by: Sequence[str], measure: str = "count"
) -> dict[tuple[Any, ...], np.ndarray]:
    """Per group, the ``(K,)`` values of a measure at each seed's stopping step."""
    return {
        key: vals[:, -1]
        for key, (_, _, vals) in step_curves(table, by=by, measure=measure).items()
    }


def _ceiling(table: Table, rows: np.ndarray, measure: str) -> float | None:
    if measure in ("count", "prefix") and "n" in table.data:
        return float(np.max(table.data["n"][rows]))
    return None


def capacity_fits(
    table: Table,
    *,
    by: Sequence[str],
    step: int | None = None,
    x: str = "d",
    measure: str = "count",
    **fit_kwargs: Any,
) -> dict[tuple[Any, ...], FitResult]:
    """Per group, the power law of a measure against ``x`` after ``step`` steps.

    The values are :func:`capacity_after` (``step`` given) or :func:`final_capacity`
    (``step=None``: each seed at its stop, e.g. the long runs of Figure 4); counts
    and prefixes saturate at ``n`` (points there are excluded and listed).

    Args:
        table: records of :func:`muonjax.multi_step_sweep`.
        by: columns naming a group, without ``x``.
        step: the step ``T``, or ``None`` for each seed's stopping step.
        x: the size column.
        measure: the measure fitted.
        **fit_kwargs: passed to :func:`muonjax.fit_power_law`.

    Returns:
        ``{group: FitResult}`` for the groups with at least two ``x`` values, e.g.
        to compare with the information limit ``~ d^2`` (SPEC A.5, many steps [seed]).
    """
    if x in by:
        raise ValueError(f"x={x!r} must not be among by={tuple(by)}")
    keys = (*by, x)
    if step is None:
        per = final_capacity(table, by=keys, measure=measure)
    else:
        per = capacity_after(table, step, by=keys, measure=measure)
    grouped: dict[tuple[Any, ...], dict[Any, np.ndarray]] = {}
    for key, vals in per.items():
        grouped.setdefault(key[:-1], {})[key[-1]] = vals
    rows_of = group_rows(table, by)
    out = {}
    for gkey, per_x in grouped.items():
        xs = sorted(per_x)
        if len(xs) < 2:
            continue
        kwargs = dict(fit_kwargs)
        ceiling = _ceiling(table, rows_of[gkey], measure)
        if ceiling is not None:
            kwargs.setdefault("saturation", ceiling)
        out[gkey] = fit_power_law(
            np.asarray(xs, float), [per_x[v] for v in xs], **kwargs
        )
    return out


def step_exponent_fits(
    table: Table,
    *,
    by: Sequence[str],
    x: str = "d",
    measure: str = "count",
    steps: Sequence[int] | None = None,
    **fit_kwargs: Any,
) -> dict[tuple[Any, ...], dict[int, FitResult]]:
    """Per group, one power law ``measure ~ a x^C_T`` per step ``T`` (Figure 4e).

    Each group (``by`` values, without ``x``) gathers its seeds at every ``x``; the
    capacity after ``T`` steps (carried forward from an early stop) is fitted
    against ``x`` by :func:`muonjax.fit_step_exponents`, with the saturation
    ceiling ``n`` for counts and prefixes (points at ``N`` are excluded and listed).

    Args:
        table: records of :func:`multi_step_sweep`.
        by: columns naming a group (e.g. ``("rule", "deflate", "alpha")``).
        x: the size column (``"d"``).
        measure: ``"count"`` or ``"prefix"`` (or another measure).
        steps: the steps ``T`` to fit (default ``1 .. T_max``).
        **fit_kwargs: passed to :func:`muonjax.fit_power_law`.

    Returns:
        ``{group: {T: FitResult}}``, to compare with
        :func:`muonjax.theory.multi_step_exponent` ``(T, alpha)``.

    References:
        SPEC A.5, t Muon steps [quoted]; SPEC Part D; Kim et al. (2026), Figure 4e.
    """
    if x in by:
        raise ValueError(f"x={x!r} must not be among by={tuple(by)}")
    curves = step_curves(table, by=(*by, x), measure=measure)
    groups: dict[tuple[Any, ...], dict[Any, np.ndarray]] = {}
    for key, (_, _, vals) in curves.items():
        groups.setdefault(key[:-1], {})[key[-1]] = vals
    rows_of = group_rows(table, by)
    out = {}
    for gkey, per_x in groups.items():
        xs = sorted(per_x)
        if len(xs) < 2:
            continue
        # Every x must hold the same seeds and steps (one cell per x of a sweep).
        shapes = {v.shape for v in per_x.values()}
        if len(shapes) != 1:
            raise ValueError(
                f"group {gkey}: seeds x steps differ between {x} values: {shapes}"
            )
        y = np.stack([per_x[xv] for xv in xs])  # (k, s, T+1)
        kwargs = dict(fit_kwargs)
        ceiling = _ceiling(table, rows_of[gkey], measure)
        if ceiling is not None:
            kwargs.setdefault("saturation", ceiling)
        t_max = y.shape[2] - 1
        want = None if steps is None else [int(t) for t in steps if t <= t_max]
        out[gkey] = fit_step_exponents(np.asarray(xs, float), y, steps=want, **kwargs)
    return out


def step_gain_fits(
    table: Table,
    *,
    by: Sequence[str],
    x: str = "d",
    measure: str = "count",
    steps: Sequence[int] = (2, 3, 4),
    base_step: int = 1,
    **fit_kwargs: Any,
) -> dict[tuple[Any, ...], dict[int, FitResult]]:
    """Per group, the power law of the gain ``d_T / d_base`` against ``x``.

    The ratio is formed per seed (the same run at both steps), so the constant of
    the one-step law and part of its pre-asymptotic curvature cancel. The predicted
    exponent is ``C_T - C_base`` (for Muon from zero and ``base = 1``:
    ``(1 - 1/(2 alpha)) - (1 - 1/(2 alpha))^T`` [derived from the quoted law]).
    Seeds with ``d_base = 0`` are dropped from their point (and counted in the
    fit's flags through the remaining seeds).

    Returns:
        ``{group: {T: FitResult}}``.

    References:
        SPEC A.5, t Muon steps [quoted]; the ratio form is [derived].
    """
    if x in by:
        raise ValueError(f"x={x!r} must not be among by={tuple(by)}")
    curves = step_curves(table, by=(*by, x), measure=measure)
    groups: dict[tuple[Any, ...], dict[Any, tuple[np.ndarray, np.ndarray]]] = {}
    for key, (_, st, vals) in curves.items():
        groups.setdefault(key[:-1], {})[key[-1]] = (st, vals)
    out: dict[tuple[Any, ...], dict[int, FitResult]] = {}
    for gkey, per_x in groups.items():
        xs = sorted(per_x)
        if len(xs) < 2:
            continue
        fits = {}
        for t in steps:
            ratios = []
            for xv in xs:
                st, vals = per_x[xv]
                if t not in st or base_step not in st:
                    break
                num = vals[:, np.searchsorted(st, t)]
                den = vals[:, np.searchsorted(st, base_step)]
                ok = den > 0
                ratios.append(num[ok] / den[ok] if ok.any() else np.array([np.nan]))
            else:
                fits[int(t)] = fit_power_law(
                    np.asarray(xs, float), ratios, **fit_kwargs
                )
        out[gkey] = fits
    return out


def capacity_ratio(
    table: Table,
    step: int,
    *,
    rule: str,
    reference: str,
    by: Sequence[str] = ("deflate", "alpha", "d"),
    measure: str = "count",
    n_boot: int = 1000,
) -> dict[tuple[Any, ...], tuple[float, tuple[float, float]]]:
    """Per group, one rule's capacity over another's after ``step`` steps.

    E.g. how much of exact Muon's capacity Newton-Schulz Muon keeps (Figure 4,
    beyond the paper): ``mean_k c_rule(k) / mean_k c_reference(k)`` with a paired
    bootstrap over seeds (:func:`paired_ratio`; seed ``k`` of both rules learns the
    same task, since the sweeps' key identity leaves out the rule).

    Args:
        table: records of :func:`multi_step_sweep` holding both rules.
        step: the step ``T`` (a stopped seed counts at its stop).
        rule, reference: values of the ``rule`` column.
        by: the other columns that define a group.
        measure: ``count``, ``prefix``, ``weighted_accuracy`` or ``loss``.
        n_boot: bootstrap replicates (>= 100).

    Returns:
        ``{group: (ratio, (lo, hi))}`` over the groups where both rules ran (a 95%
        interval; NaN where the reference's mean is 0).

    References:
        SPEC A.4 (measures), Part D (bootstrap over seeds).
    """
    if "rule" in by:
        raise ValueError(f"by must not contain 'rule', got by={tuple(by)!r}")
    values = capacity_after(table, step, by=("rule", *by), measure=measure)
    rules = {key[0] for key in values}
    for name, value in (("rule", rule), ("reference", reference)):
        if value not in rules:
            raise ValueError(f"{name}={value!r} not in the records' rules {rules}")
    out = {}
    for key, num in values.items():
        den = values.get((reference, *key[1:]))
        if key[0] == rule and den is not None:
            out[key[1:]] = paired_ratio(num, den, n_boot=n_boot)
    return out


def newton_schulz_reach(
    coeffs: Any = "jordan", steps: int = 5, *, level: float = 0.5
) -> float:
    """Smallest relative singular value that ``steps`` Newton-Schulz steps lift to
    ``level``.

    :func:`muonjax.newton_schulz` divides ``G`` by ``||G||_F`` and then maps each
    singular value ``s = sigma / ||G||_F`` by the scalar iteration
    ``s <- a s + b s^3 + c s^5``; the exact polar factor sends every ``s > 0`` to 1.
    Directions with ``s`` below the returned value come out below ``level``, i.e.
    Newton-Schulz leaves them (much) shorter than Muon does.

    Args:
        coeffs: Newton-Schulz coefficients (name, triple or schedule, see
            :func:`muonjax.newton_schulz_coefficients`).
        steps: number of iterations, >= 1.
        level: the output level, in ``(0, 1)``.

    Returns:
        ``s_min`` in ``(0, 1]`` such that the iterated map is ``>= level`` at
        ``s_min`` (to a relative resolution of 1e-4 on a log grid), and NaN if no
        ``s <= 1`` reaches ``level``.

    References:
        SPEC A.3 (practical Muon) [derived]; Jordan et al. (2024), Muon.
    """
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level=!r}")
    table = newton_schulz_coefficients(coeffs, steps)
    s = np.logspace(-12, 0, 120_001)
    x = s.copy()
    for a, b, c in table:
        x = a * x + b * x**3 + c * x**5
    hit = np.flatnonzero(x >= level)
    return float(s[hit[0]]) if hit.size else math.nan


def step_policy_fits(
    table: Table,
    *,
    by: Sequence[str],
    policy: ExponentPolicy,
    x: str = "d",
    steps: Sequence[int] | None = None,
    n_boot: int = 1000,
    seed: int = 0,
) -> dict[tuple[Any, ...], dict[int, PolicyFit]]:
    """Per group and step ``T``, the multi-step law under the claim's policy.

    As :func:`step_exponent_fits`, but each ``(group, T)`` is fitted on its policy
    window (:func:`muonjax.gaussian.analysis.policy.policy_fit`: sizes whose mean
    count is >= 20 and <= N/10, from where the local slopes settle) and compared
    with ``2 - (1 - 1/(2 alpha))^T`` (the group must hold ``alpha``).

    Returns:
        ``{group: {T: PolicyFit}}``.

    References:
        SPEC A.5, t Muon steps [quoted]; SPEC Part D (windows, sizes).
    """
    if x in by or "alpha" not in by:
        raise ValueError(f"by must hold 'alpha' and not x={x!r}, got by={tuple(by)}")
    curves = step_curves(table, by=(*by, x), measure=policy.measure)
    groups: dict[tuple[Any, ...], dict[Any, tuple[np.ndarray, np.ndarray]]] = {}
    for key, (_, st, vals) in curves.items():
        groups.setdefault(key[:-1], {})[key[-1]] = (st, vals)
    rows_of = group_rows(table, by)
    ia = list(by).index("alpha")
    out: dict[tuple[Any, ...], dict[int, PolicyFit]] = {}
    for gkey, per_x in groups.items():
        xs = sorted(per_x)
        if len(xs) < 2:
            continue
        n = _ceiling(table, rows_of[gkey], policy.measure)
        st = per_x[xs[0]][0]
        want = [int(t) for t in (steps or st[1:]) if t in st and t >= 1]
        out[gkey] = {}
        for t in want:
            values = [per_x[xv][1][:, np.searchsorted(per_x[xv][0], t)] for xv in xs]
            pred = float(theory.multi_step_exponent(t, float(gkey[ia])))
            out[gkey][t] = policy_fit(
                np.asarray(xs, float),
                values,
                policy=policy,
                prediction=pred,
                n=n,
                label=f"C_T of {policy.measure} ~ d^C_T, T={t}",
                n_boot=n_boot,
                seed=seed,
            )
    return out


def prefix_growth(
    table: Table,
    *,
    by: Sequence[str],
    measure: str = "prefix",
    n_boot: int = 1000,
    seed: int = 0,
) -> dict[tuple[Any, ...], tuple[np.ndarray, Comparison]]:
    """Per group, whether the mean prefix grows every step (the multi-step theorem
    guarantees "all items of rank up to d_t" [quoted], a growing prefix).

    The statistic is the smallest step-to-step change of the mean measure over
    ``t = 1 .. T``, with a percentile bootstrap over seeds; the claim ``>= 0`` is
    inconsistent only when the whole interval lies below 0 (a fall that the seeds
    agree on).

    Returns:
        ``{group: (mean measure per step 0..T, Comparison)}``.

    References:
        SPEC A.3 (thresholded update: the readings), A.5 (t Muon steps [quoted]).
    """
    out = {}
    for key, (_, _, vals) in step_curves(table, by=by, measure=measure).items():
        mean = vals.mean(axis=0)
        if vals.shape[1] < 3:
            continue

        def stat(v: np.ndarray) -> np.ndarray:
            m = v.mean(axis=-2)
            return np.min(np.diff(m[..., 1:], axis=-1), axis=-1)

        est = float(stat(vals))
        lo, hi = bootstrap_interval(vals, stat, n_boot=n_boot, seed=seed)
        out[key] = (
            mean,
            compare(
                est,
                (lo, hi),
                0.0,
                relation=">=",
                tolerance=0.0,
                max_width=math.inf,
                label=f"smallest step-to-step change of the mean {measure}, t >= 1",
            ),
        )
    return out
