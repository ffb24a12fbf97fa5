"""The long-tailed facts records, read: chosen steps, curves, thresholds, fits, gaps.

Tables in, numbers out (no plotting, no files, no verdicts: those are
:mod:`muonjax.transformer.longtail_verdicts`, which the figure, the fit summary and
the checks all call, so they measure each claim the same way):

- the learning rate of each ``(beta, optimizer)`` is the one
  :func:`muonjax.transformer.choose_lr` picks from the records (lowest mean
  held-out loss at the last step);
- **tail gap**: Muon's accuracy on the last (rarest) bucket minus AdamW's, per seed
  (seed ``k`` of both saw the same corpus and tokens), averaged over seeds with a
  percentile bootstrap over seeds, at one evaluated step or averaged over the run;
- **facts slope**: ``facts_learned ~ a t^C`` fitted with :func:`muonjax.fit_power_law`
  over a window of steps shared by both optimizers: every step where both means lie
  between ``floor_factor`` times the chance count (``S R / A``: a model that only
  learned the attributes' marginal) and ``ceiling`` times all facts (saturation);
  the difference ``C_muon - C_adamw`` by :func:`paired_exponent_difference`, a
  paired bootstrap (same steps, same seeds);
- **steps to 50%** per bucket (the first evaluated step at or above the threshold;
  NaN if never), against the bucket's mean subject frequency.

References:
    SPEC C.2 [derived], Part D (fits with bootstrap intervals, verdicts).
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np

from muonjax.engine.table import Table
from muonjax.stats.bootstrap import bootstrap_mean, percentile_interval
from muonjax.stats.fit import FitResult, fit_power_law
from muonjax.transformer.facts import FactsSpec, frequency_buckets
from muonjax.transformer.longtail_records import choose_lr

__all__ = [
    "BUCKET_PREFIX",
    "ExponentDifference",
    "FactsFits",
    "LongtailCurves",
    "TailGap",
    "bucket_count",
    "bucket_frequencies",
    "chosen_lrs",
    "facts_fits",
    "longtail_curves",
    "paired_exponent_difference",
    "steps_to_reach",
    "steps_to_reach_fit",
    "tail_gap",
]

#: Metric columns of per-bucket accuracy: ``acc_b0`` (most frequent) ...
BUCKET_PREFIX = "acc_b"


def _column(table: Table, name: str) -> np.ndarray:
    if name not in table.data:
        raise ValueError(f"no column {name!r}; columns are {table.columns}")
    return table.data[name]


def bucket_count(table: Table) -> int:
    """Number of ``acc_b*`` columns."""
    return sum(c.startswith(BUCKET_PREFIX) for c in table.columns)


def _values(table: Table, name: str) -> list[Any]:
    return sorted({v.item() if hasattr(v, "item") else v for v in _column(table, name)})


def chosen_lrs(table: Table) -> dict[tuple[float, str], float]:
    """``{(beta, optimizer): chosen lr}`` by :func:`choose_lr` on the records."""
    out = {}
    for beta in _values(table, "beta"):
        for opt in _values(table.where(beta=beta), "optimizer"):
            sub = table.where(beta=beta, optimizer=opt)
            last = sub.where(step=int(np.max(_column(sub, "step"))))
            lrs = _values(last, "lr")
            final = [
                last.where(lr=lr).data["loss"][
                    np.argsort(last.where(lr=lr).data["seed"])
                ]
                for lr in lrs
            ]
            out[(float(beta), str(opt))] = choose_lr(lrs, np.stack(final))
    return out


class LongtailCurves(NamedTuple):
    """One ``(beta, optimizer, lr)``'s evaluations, seeds in increasing order.

    Attributes:
        steps: ``(E,)`` evaluated steps.
        seeds: ``(K,)`` seed indices.
        bucket: ``(K, E, nb)`` accuracy per frequency bucket.
        facts: ``(K, E)`` facts learned.
        accuracy: ``(K, E)`` accuracy over all facts.
        loss: ``(K, E)`` held-out next-token loss.
        total: number of facts ``S R``.
        chance: facts a model that knows only the attributes' marginal gets right,
            ``S R / A``.
        lr: the learning rate.
    """

    steps: np.ndarray
    seeds: np.ndarray
    bucket: np.ndarray
    facts: np.ndarray
    accuracy: np.ndarray
    loss: np.ndarray
    total: int
    chance: float
    lr: float


def longtail_curves(
    table: Table, *, beta: float, optimizer: str, lr: float | None = None
) -> LongtailCurves:
    """The curves of one optimizer at ``beta`` (at its chosen ``lr`` by default).

    Raises:
        ValueError: no such rows, or a seed missing at some step.
    """
    if lr is None:
        lr = chosen_lrs(table)[(float(beta), optimizer)]
    sub = table.where(beta=beta, optimizer=optimizer, lr=lr)
    if len(sub) == 0:
        raise ValueError(f"no records for beta={beta}, {optimizer=}, {lr=}")
    steps = np.unique(sub.data["step"])
    seeds = np.unique(sub.data["seed"])
    if len(sub) != steps.size * seeds.size:
        raise ValueError(f"records of {optimizer} at beta={beta} are incomplete")
    order = np.lexsort((sub.data["step"], sub.data["seed"]))

    def grid(name: str) -> np.ndarray:
        return sub.data[name][order].astype(np.float64).reshape(seeds.size, -1)

    nb = bucket_count(table)
    bucket = np.stack([grid(f"{BUCKET_PREFIX}{b}") for b in range(nb)], axis=-1)
    subjects, relations = int(sub.data["subjects"][0]), int(sub.data["relations"][0])
    total = subjects * relations
    return LongtailCurves(
        steps=steps.astype(np.int64),
        seeds=seeds.astype(np.int64),
        bucket=bucket,
        facts=grid("facts_learned"),
        accuracy=grid("accuracy"),
        loss=grid("loss"),
        total=total,
        chance=total / float(sub.data["values"][0]),
        lr=float(lr),
    )


def bucket_frequencies(subjects: int, beta: float, buckets: int) -> np.ndarray:
    """``(buckets,)`` mean subject frequency ``p_s`` of each bucket."""
    p = FactsSpec(subjects=subjects, beta=beta).subject_frequencies()
    which, _ = frequency_buckets(subjects, buckets)
    return np.array([p[which == b].mean() for b in range(buckets)])


def steps_to_reach(c: LongtailCurves, threshold: float = 0.5) -> np.ndarray:
    """``(K, nb)`` first evaluated step with bucket accuracy ``>= threshold`` (NaN if
    never)."""
    reached = c.bucket >= threshold
    first = np.argmax(reached, axis=1)  # (K, nb)
    out = c.steps[first].astype(np.float64)
    return np.where(np.any(reached, axis=1), out, np.nan)


def steps_to_reach_fit(
    c: LongtailCurves, frequencies: np.ndarray, threshold: float = 0.5
) -> FitResult:
    """``steps to threshold ~ a p^e`` across buckets (those every seed reached).

    Buckets that some seed never reached, or reached at step 0, are excluded and
    listed in the fit's ``excluded``.
    """
    steps = steps_to_reach(c, threshold)  # (K, nb)
    exclude = {}
    for b in range(steps.shape[1]):
        col = steps[:, b]
        if np.any(np.isnan(col)):
            exclude[float(frequencies[b])] = f"bucket {b}: not reached by every seed"
        elif np.any(col <= 0):
            exclude[float(frequencies[b])] = f"bucket {b}: reached at step 0"
    y = np.where(np.isnan(steps), 1.0, np.maximum(steps, 1.0)).T  # excluded anyway
    return fit_power_law(frequencies, y, exclude=exclude or None, min_points=2)


class TailGap(NamedTuple):
    """Muon minus AdamW in one bucket's accuracy, per seed and on average.

    Attributes:
        estimate: the mean over seeds of the paired differences.
        interval: percentile bootstrap interval over seeds (95%).
        per_seed: ``(K,)`` the differences.
        step: the step (``-1`` for the average over all evaluated steps).
        bucket: the bucket index.
        optimizer, reference: the two optimizers; their learning rates.
        lr, reference_lr: learning rates.
        values, reference_values: ``(K,)`` the two accuracies.
    """

    estimate: float
    interval: tuple[float, float]
    per_seed: np.ndarray
    step: int
    bucket: int
    optimizer: str
    reference: str
    lr: float
    reference_lr: float
    values: np.ndarray
    reference_values: np.ndarray


def tail_gap(
    table: Table,
    *,
    beta: float,
    step: int | None = None,
    bucket: int = -1,
    optimizer: str = "muon",
    reference: str = "adamw",
    lr: float | None = None,
    reference_lr: float | None = None,
) -> TailGap:
    """Accuracy of ``optimizer`` minus ``reference`` in ``bucket`` at ``step``.

    Args:
        table: the records.
        beta: the corpus.
        step: an evaluated step; ``None``: the last; ``-1``: the mean over every
            evaluated step after 0 (the area between the curves over the run).
        bucket: bucket index (``-1``: the tail).
        optimizer, reference: values of the ``optimizer`` column.
        lr, reference_lr: their learning rates (default: the chosen ones).

    Returns:
        A :class:`TailGap` (paired by seed).
    """
    a = longtail_curves(table, beta=beta, optimizer=optimizer, lr=lr)
    b = longtail_curves(table, beta=beta, optimizer=reference, lr=reference_lr)
    if not (np.array_equal(a.seeds, b.seeds) and np.array_equal(a.steps, b.steps)):
        raise ValueError("the two optimizers' records have different seeds or steps")
    nb = a.bucket.shape[-1]
    k = bucket % nb
    if step == -1:
        va, vb = a.bucket[:, 1:, k].mean(axis=1), b.bucket[:, 1:, k].mean(axis=1)
        at = -1
    else:
        at = int(a.steps[-1]) if step is None else int(step)
        if at not in a.steps:
            raise ValueError(f"step {at} was not evaluated; steps are {a.steps}")
        j = int(np.flatnonzero(a.steps == at)[0])
        va, vb = a.bucket[:, j, k], b.bucket[:, j, k]
    diff = va - vb
    mean, interval = bootstrap_mean(diff)
    return TailGap(
        mean, interval, diff, at, k, optimizer, reference, a.lr, b.lr, va, vb
    )


class ExponentDifference(NamedTuple):
    """``C_a - C_b`` of two power-law fits, with a paired bootstrap interval.

    Attributes:
        estimate: the difference of the fitted exponents.
        interval: percentile interval (95%) of the replicate differences.
        notes: the fits' flags.
    """

    estimate: float
    interval: tuple[float, float]
    notes: tuple[str, ...]


def paired_exponent_difference(a: FitResult, b: FitResult) -> ExponentDifference:
    """``C_a - C_b`` from two fits that resampled the same seeds in each replicate.

    :func:`muonjax.fit_power_law` with one bootstrap ``seed``, the same used points
    and the same seeds per point draws the same seed indices in replicate ``i`` of
    both fits, so ``bootstrap_a[i] - bootstrap_b[i]`` is a paired bootstrap of the
    difference (seed ``k`` of both optimizers saw the same tokens). (Part A's
    :func:`muonjax.exponent_difference` does the same; families do not import each
    other.)

    Raises:
        ValueError: the fits used different points, seeds or replicate counts.
    """
    notes = tuple(f"{o}: {f}" for o, fit in (("a", a), ("b", b)) for f in fit.flags)
    if not (a.ok and b.ok):
        return ExponentDifference(
            math.nan, (math.nan, math.nan), (*notes, "a fit failed")
        )
    if not (
        np.array_equal(a.x, b.x)
        and np.array_equal(a.n_seeds, b.n_seeds)
        and a.n_boot == b.n_boot
    ):
        raise ValueError("the fits must share their points, seeds and n_boot")
    diff = a.bootstrap - b.bootstrap
    ok = np.isfinite(diff)
    if ok.sum() < 0.5 * diff.size:
        return ExponentDifference(
            a.exponent - b.exponent, (math.nan, math.nan), (*notes, "failed replicates")
        )
    interval = percentile_interval(diff[ok], a.confidence)
    return ExponentDifference(
        float(a.exponent - b.exponent), interval, (*notes, "paired bootstrap")
    )


class FactsFits(NamedTuple):
    """Power laws of facts learned against steps, and their paired difference.

    Attributes:
        fits: ``optimizer -> FitResult`` (``facts ~ a t^C``).
        difference: ``C_optimizer - C_reference`` with a paired bootstrap.
        window: ``(lo, hi)`` the facts range of the shared window.
        steps: the steps inside it.
    """

    fits: dict[str, FitResult]
    difference: ExponentDifference
    window: tuple[float, float]
    steps: np.ndarray


def facts_fits(
    table: Table,
    *,
    beta: float,
    optimizer: str = "muon",
    reference: str = "adamw",
    floor_factor: float = 2.0,
    ceiling: float = 0.9,
    seed: int = 0,
) -> FactsFits:
    """Fit ``facts_learned ~ a t^C`` for both optimizers over one shared window.

    Args:
        table: the records.
        beta: the corpus.
        optimizer, reference: the two optimizers.
        floor_factor: the window starts where both means exceed this many times the
            chance count ``S R / A``.
        ceiling: and ends where either mean exceeds this share of all facts.
        seed: the bootstrap seed shared by both fits (so they are paired).

    Returns:
        :class:`FactsFits`; a fit with fewer than 3 steps in the window is NaN and
        flagged ``too_few_points``.
    """
    if not (floor_factor > 0 and 0 < ceiling <= 1):
        raise ValueError(f"need floor_factor > 0, 0 < ceiling <= 1, got {ceiling=}")
    cs = {
        o: longtail_curves(table, beta=beta, optimizer=o)
        for o in (optimizer, reference)
    }
    a = cs[optimizer]
    lo, hi = floor_factor * a.chance, ceiling * a.total
    means = np.stack([c.facts.mean(axis=0) for c in cs.values()])  # (2, E)
    inside = (a.steps > 0) & np.all(means >= lo, axis=0) & np.all(means <= hi, axis=0)
    exclude = {
        float(t): f"outside the shared window [{lo:g}, {hi:g}] facts"
        for t in a.steps[(a.steps > 0) & ~inside]
    }
    x = a.steps[a.steps > 0].astype(np.float64)
    fits = {
        o: fit_power_law(
            x,
            np.maximum(c.facts[:, a.steps > 0], 0.0).T,
            exclude=exclude or None,
            seed=seed,
        )
        for o, c in cs.items()
    }
    diff = paired_exponent_difference(fits[optimizer], fits[reference])
    return FactsFits(fits, diff, (lo, hi), a.steps[inside])
