"""From records to estimates: learning-rate choice and paired optimizer comparisons.

Tables in, numbers out (no plotting, no files). Both the figures' summaries and the
checks of Part C call these functions, so a figure and a check of the same claim
cannot disagree.

**Learning-rate rule** (:func:`select_lr`): for each group (an optimizer, a width,
a batch size, an exponent, ...) and each evaluation step, the chosen step size is
the grid value with the largest mean over seeds of the metric compared (ties: the
smaller step; a NaN mean never wins). Kim et al.'s captions say the learning rate
is "chosen to maximize accuracy" [seed]; which accuracy is ours [derived]: each
panel or comparison selects by its own metric. The whole grid stays in the records
and in :func:`grid_means`.

**Paired comparison** (:func:`paired_advantage`): every optimizer and step size sees
the same task, batches and evaluation set for a given seed (common random numbers,
:data:`muonjax.transformer.KEY_FIELDS`), so ``metric(muon) - metric(baseline)`` is
taken seed by seed at each optimizer's chosen step, then averaged over the widths
``d`` of the grid with a percentile bootstrap over seeds. Widths where both
optimizers sit at the ceiling (mean >= ``ceiling``) or at the floor (mean <=
``floor``) carry no information about the difference and are left out, with a
note (SPEC Part D: flagged, never silently).

References:
    SPEC C.1, Part D; Kim et al. (2026), Figs. 7-9 captions.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from muonjax.engine.table import Table
from muonjax.stats.bootstrap import bootstrap_mean
from muonjax.stats.verdict import Comparison, compare
from muonjax.theory.transformer import BASELINES, CLAIMS, Claim

#: Default ceiling and floor of :func:`paired_advantage` (accuracies in [0, 1]).
CEILING = 0.98
FLOOR = 0.02


@dataclass(frozen=True)
class LrChoice:
    """The chosen step size of one group at one evaluation step.

    Attributes:
        group: the group's values (e.g. ``{"optimizer": "muon", "dim": 32}``).
        step: the evaluation step.
        metric: the metric maximised.
        lr_scale: the chosen grid multiplier.
        lr: the chosen step size.
        grid: ``(lr_scale, lr, mean, seeds)`` for every grid value, increasing.
        seeds: seed indices at the chosen step size.
        values: ``{metric: (seeds,)}`` every metric of the table at the chosen step
            size, per seed.
    """

    group: Mapping[str, Any]
    step: int
    metric: str
    lr_scale: float
    lr: float
    grid: tuple[tuple[float, float, float, int], ...]
    seeds: np.ndarray
    values: Mapping[str, np.ndarray] = field(default_factory=dict)

    @property
    def at_grid_edge(self) -> bool:
        """Whether the choice is the smallest or largest grid value (widen the grid)."""
        scales = [g[0] for g in self.grid]
        return len(scales) > 1 and self.lr_scale in (min(scales), max(scales))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (for a summary's meta)."""
        return {
            **{k: _py(v) for k, v in self.group.items()},
            "step": int(self.step),
            "metric": self.metric,
            "lr_scale": self.lr_scale,
            "lr": self.lr,
            "grid_lr": [g[1] for g in self.grid],
            "grid_mean": [None if math.isnan(g[2]) else g[2] for g in self.grid],
            "at_grid_edge": self.at_grid_edge,
        }


def _py(v: Any) -> Any:
    return v.item() if hasattr(v, "item") else v


def _groups(table: Table, by: Sequence[str]) -> list[dict[str, Any]]:
    for name in by:
        if name not in table.data:
            raise ValueError(f"no column {name!r}; columns are {table.columns}")
    seen: dict[tuple, dict[str, Any]] = {}
    for i in range(len(table)):
        key = tuple(_py(table.data[b][i]) for b in by)
        seen.setdefault(key, dict(zip(by, key, strict=True)))
    return list(seen.values())


def final_step(table: Table) -> int:
    """The last evaluation step of the records."""
    return int(np.max(table.data["step"]))


def grid_means(
    table: Table, *, group: Mapping[str, Any], step: int, metric: str
) -> list[tuple[float, float, float, int]]:
    """``(lr_scale, lr, mean over seeds, seeds)`` of one group at one step, per lr."""
    rows = table.where(**group, step=step)
    out = []
    for scale in sorted({float(s) for s in rows.data["lr_scale"]}):
        sub = rows.where(lr_scale=scale)
        vals = sub.data[metric].astype(float)
        mean = (
            float(np.mean(vals))
            if len(vals) and np.all(np.isfinite(vals))
            else math.nan
        )
        out.append((scale, float(sub.data["lr"][0]), mean, len(vals)))
    return out


def select_lr(
    table: Table,
    *,
    by: Sequence[str],
    metric: str,
    step: int | None = None,
) -> list[LrChoice]:
    """The best step size of every group at one step (the rule in the module docstring).

    Args:
        table: recall records (columns ``lr_scale``, ``lr``, ``seed``, ``step``).
        by: the group columns (e.g. ``("optimizer", "dim")``).
        metric: the metric to maximise.
        step: the evaluation step; default the last.

    Returns:
        One :class:`LrChoice` per group, in order of first appearance.
    """
    if metric not in table.data:
        raise ValueError(f"no metric column {metric!r}; columns are {table.columns}")
    step = final_step(table) if step is None else int(step)
    if not np.any(table.data["step"] == step):
        raise ValueError(f"no records at step={step}")
    choices = []
    for group in _groups(table, by):
        grid = grid_means(table, group=group, step=step, metric=metric)
        means = np.asarray([g[2] for g in grid])
        ranked = np.where(np.isfinite(means), means, -np.inf)
        best = int(np.argmax(ranked))  # first maximum: the smaller step on ties
        scale, lr = grid[best][0], grid[best][1]
        rows = table.where(**group, step=step, lr_scale=scale)
        order = np.argsort(rows.data["seed"])
        values = {
            name: rows.data[name][order].astype(float)
            for name in rows.columns
            if name not in (*by, "seed", "step")
            and np.issubdtype(rows.data[name].dtype, np.number)
        }
        choices.append(
            LrChoice(
                group=group,
                step=step,
                metric=metric,
                lr_scale=scale,
                lr=lr,
                grid=tuple(grid),
                seeds=rows.data["seed"][order],
                values=values,
            )
        )
    return choices


@dataclass(frozen=True)
class Advantage:
    """``metric(optimizer) - metric(baseline)``, paired by seed, averaged over widths.

    Attributes:
        metric: the compared metric.
        optimizer, baseline: the two optimizers.
        step: the evaluation step.
        estimate: mean over seeds of the per-seed mean over used widths.
        interval: percentile bootstrap interval over seeds (95%).
        per_width: ``{d: (mean difference, interval, mean optimizer, mean baseline)}``
            for every width of the grid.
        used: the widths averaged over.
        notes: widths left out and why; choices at the grid's edge.
        choices: the learning-rate choices behind it.
    """

    metric: str
    optimizer: str
    baseline: str
    step: int
    estimate: float
    interval: tuple[float, float]
    per_width: Mapping[int, tuple[float, tuple[float, float], float, float]]
    used: tuple[int, ...]
    notes: tuple[str, ...]
    choices: tuple[LrChoice, ...]


def paired_advantage(
    table: Table,
    *,
    metric: str,
    optimizer: str = "muon",
    baseline: str = "adamw",
    step: int | None = None,
    where: Mapping[str, Any] | None = None,
    width: str = "dim",
    ceiling: float = CEILING,
    floor: float = FLOOR,
) -> Advantage:
    """Paired difference of ``metric`` between two optimizers, over the widths.

    Args:
        table: recall records.
        metric: ``"recall"``, ``"id_acc"``, ``"ood_acc"``, ...
        optimizer, baseline: the optimizers compared (``optimizer - baseline``).
        step: evaluation step; default the last.
        where: a slice of the table (e.g. ``{"batch_size": 256}``).
        width: the column of widths (``"dim"``).
        ceiling, floor: widths where both means are >= ceiling or <= floor are left
            out of the average.

    Returns:
        An :class:`Advantage`.
    """
    sub = table.where(**dict(where or {}))
    if not len(sub):
        raise ValueError(f"no records where {dict(where or {})}")
    step = final_step(sub) if step is None else int(step)
    by = ("optimizer", width)
    choices = {
        (c.group["optimizer"], c.group[width]): c
        for c in select_lr(sub, by=by, metric=metric, step=step)
    }
    widths = sorted({d for (_, d) in choices})
    per_width: dict[int, tuple[float, tuple[float, float], float, float]] = {}
    diffs: dict[int, dict[int, float]] = {}
    used, notes = [], []
    for d in widths:
        a, b = choices.get((optimizer, d)), choices.get((baseline, d))
        if a is None or b is None:
            notes.append(f"{width}={d}: no records of {optimizer} or {baseline}")
            continue
        for c in (a, b):
            if c.at_grid_edge:
                notes.append(
                    f"{width}={d}: {c.group['optimizer']}'s chosen step {c.lr:.3g} is "
                    "at the edge of its grid"
                )
        va = dict(zip(a.seeds.tolist(), a.values[metric], strict=True))
        vb = dict(zip(b.seeds.tolist(), b.values[metric], strict=True))
        common = sorted(set(va) & set(vb))
        diff = {s: va[s] - vb[s] for s in common}
        est, ci = bootstrap_mean(list(diff.values()))
        ma, mb = float(np.mean(list(va.values()))), float(np.mean(list(vb.values())))
        per_width[d] = (est, ci, ma, mb)
        if ma >= ceiling and mb >= ceiling:
            notes.append(
                f"{width}={d} left out: both at the ceiling ({ma:.3f}, {mb:.3f})"
            )
        elif ma <= floor and mb <= floor:
            notes.append(
                f"{width}={d} left out: both at the floor ({ma:.3f}, {mb:.3f})"
            )
        else:
            used.append(d)
            diffs[d] = diff
    if used:
        seeds = sorted(set.intersection(*(set(diffs[d]) for d in used)))
        per_seed = [float(np.mean([diffs[d][s] for d in used])) for s in seeds]
        estimate, interval = bootstrap_mean(per_seed)
    else:
        estimate, interval = math.nan, (math.nan, math.nan)
        notes.append("no width left: every width is at the ceiling or the floor")
    return Advantage(
        metric=metric,
        optimizer=optimizer,
        baseline=baseline,
        step=step,
        estimate=estimate,
        interval=interval,
        per_width=per_width,
        used=tuple(used),
        notes=tuple(notes),
        choices=tuple(choices.values()),
    )


def advantage_comparison(advantage: Advantage, claim: Claim) -> Comparison:
    """The :class:`muonjax.Comparison` of a measured advantage with a claim."""
    if advantage.metric != claim.metric:
        raise ValueError(
            f"claim {claim.name!r} is about {claim.metric!r}, the advantage about "
            f"{advantage.metric!r}"
        )
    used = ", ".join(str(d) for d in advantage.used) or "none"
    return compare(
        advantage.estimate,
        advantage.interval,
        claim.prediction,
        relation=claim.relation,
        tolerance=claim.tolerance,
        max_width=claim.max_width,
        label=(
            f"{claim.metric}({advantage.optimizer}) - {claim.metric}"
            f"({advantage.baseline}) at step {advantage.step}, mean over d in [{used}]"
        ),
        notes=advantage.notes,
    )


def claim_comparisons(
    table: Table,
    *,
    claims: Sequence[Claim] = CLAIMS,
    baselines: Sequence[str] = BASELINES,
    optimizer: str = "muon",
    step: int | None = None,
    where: Mapping[str, Any] | None = None,
) -> list[tuple[Claim, Advantage, Comparison]]:
    """Every claim against every baseline present in the records.

    Returns:
        ``(claim, advantage, comparison)`` for each claim and each baseline found in
        the table's ``optimizer`` column (baselines absent are skipped).
    """
    present = {str(o) for o in table.data["optimizer"]}
    if optimizer not in present:
        raise ValueError(
            f"no records of optimizer={optimizer!r}; found {sorted(present)}"
        )
    out = []
    for claim in claims:
        for base in baselines:
            if base not in present:
                continue
            adv = paired_advantage(
                table,
                metric=claim.metric,
                optimizer=optimizer,
                baseline=base,
                step=step,
                where=where,
            )
            out.append((claim, adv, advantage_comparison(adv, claim)))
    return out
