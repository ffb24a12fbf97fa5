"""The claims of SPEC C.2 measured on long-tailed facts records: verdict rows.

:func:`longtail_comparisons` turns the numbers of
:mod:`muonjax.transformer.longtail_analysis` into the comparisons (estimate,
interval, prediction, verdict: :func:`muonjax.compare`) that the fit summary, the
figure and the checks print; so a check and the figure of one claim use one
measurement and one policy:

- the tail claim: the paired tail-bucket gap (Muon - AdamW) averaged over the
  evaluated steps, ``> 0`` with no tolerance; the run is untestable (inconclusive,
  SPEC D) when the tail bucket ends below :data:`CHANCE_FACTOR` times chance for
  both optimizers;
- the slope claim: the paired difference of the fitted exponents of facts learned
  against steps, ``> 0``;
- info rows: the tail gap at the middle and the last step, against AdamW at its most
  favourable grid value for the tail, and each optimizer's exponents against the
  count-limited baselines of :mod:`muonjax.theory.transformer`.

References:
    SPEC C.2 [derived], Part D (verdicts).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np

from muonjax.engine.table import Table
from muonjax.stats.fit import FitResult
from muonjax.stats.verdict import INCONCLUSIVE, Comparison, compare, compare_fit
from muonjax.theory import transformer as theory
from muonjax.transformer.longtail_analysis import (
    TailGap,
    bucket_count,
    bucket_frequencies,
    facts_fits,
    longtail_curves,
    steps_to_reach_fit,
    tail_gap,
)

__all__ = [
    "CHANCE_FACTOR",
    "MAX_WIDTH",
    "LongtailComparisons",
    "longtail_comparisons",
    "seeds_note",
    "tail_gap_note",
]


def tail_gap_note(gap: TailGap) -> str:
    """One line on a gap's inputs (for comparison notes)."""
    where = "mean over steps" if gap.step == -1 else f"step {gap.step}"
    return (
        f"{gap.optimizer} (lr {gap.lr:g}) {np.round(gap.values, 3).tolist()} vs "
        f"{gap.reference} (lr {gap.reference_lr:g}) "
        f"{np.round(gap.reference_values, 3).tolist()} in bucket {gap.bucket} at "
        f"{where}; {gap.per_seed.size} seeds (paired)"
    )


def seeds_note(n: int) -> Sequence[str]:
    """A caveat for small seed counts."""
    if n >= 5:
        return ()
    return (
        f"only {n} seeds: a percentile bootstrap over so few seeds under-covers; "
        "read the interval as a range of the seeds",
    )


#: The tail claim is untestable when the tail bucket's final mean accuracy stays
#: below this many times chance (``1 / A``) for both optimizers.
CHANCE_FACTOR = 2.0
#: Widest interval of an accuracy gap or an exponent difference that still counts
#: as a measurement (accuracies live in [0, 1]; the exponents near 1 / beta).
MAX_WIDTH = 0.5


class LongtailComparisons(NamedTuple):
    """The claims of SPEC C.2 measured on one ``(beta, optimizer)`` against AdamW.

    Attributes:
        tail: the tail-accuracy claim at the last step (primary).
        slope: the facts-slope claim (primary).
        info: the tail gap at the middle step and over the whole run; each
            optimizer's facts exponent and steps-to-50% exponent against the
            count-limited baselines of :mod:`muonjax.theory.transformer`.
        fits: the power-law fits behind the rows (``"facts, adamw"``, ``"steps to
            50%, muon"``, ...).
        details: the numbers behind them (JSON-ready).
    """

    tail: Comparison
    slope: Comparison
    info: tuple[Comparison, ...]
    fits: dict[str, FitResult]
    details: dict[str, Any]


def longtail_comparisons(
    table: Table, *, beta: float, optimizer: str = "muon", reference: str = "adamw"
) -> LongtailComparisons:
    """Both claims and the info rows for one ``beta`` (see the module docstring)."""
    steps = longtail_curves(table, beta=beta, optimizer=reference).steps
    # "At equal steps": the paired gap at every evaluated step, averaged over the
    # run (late in a long run both optimizers may have saturated the tail; the gap
    # at the last and the middle step are info rows).
    gap = tail_gap(table, beta=beta, step=-1, optimizer=optimizer, reference=reference)
    n = gap.per_seed.size
    tail = compare(
        gap.estimate,
        gap.interval,
        0.0,
        relation=">",
        tolerance=0.0,
        max_width=MAX_WIDTH,
        label=f"tail-bucket accuracy, {optimizer} - {reference}, mean over the "
        "evaluated steps",
        notes=[tail_gap_note(gap), *seeds_note(n)],
    )
    # SPEC D: a size that cannot test a claim says so instead of a verdict. Here:
    # the tail never leaves chance level (1 / A) for either optimizer.
    chance = 1.0 / float(table.where(beta=beta).data["values"][0])
    tail_end = max(
        float(longtail_curves(table, beta=beta, optimizer=o).bucket[:, -1, -1].mean())
        for o in (optimizer, reference)
    )
    if tail_end < CHANCE_FACTOR * chance:
        tail = dataclasses.replace(
            tail,
            verdict=INCONCLUSIVE,
            reason=f"untestable at this size: the tail bucket ends at accuracy "
            f"{tail_end:.3g} < {CHANCE_FACTOR:g} x chance (1/A = {chance:.3g}) for "
            "both optimizers",
        )

    ff = facts_fits(table, beta=beta, optimizer=optimizer, reference=reference)
    slope = compare(
        ff.difference.estimate,
        ff.difference.interval,
        0.0,
        relation=">",
        tolerance=0.0,
        max_width=MAX_WIDTH,
        label=f"exponent of facts learned ~ t^C, {optimizer} - {reference}",
        notes=[
            f"shared window: steps {ff.steps.tolist()} (mean facts in "
            f"[{ff.window[0]:g}, {ff.window[1]:g}])",
            *ff.difference.notes,
            *seeds_note(n),
        ],
    )
    info = []
    middle, last = int(steps[len(steps) // 2]), int(steps[-1])
    for at, what in ((middle, f"at step {middle}"), (last, f"at step {last}")):
        g = tail_gap(
            table, beta=beta, step=at, optimizer=optimizer, reference=reference
        )
        info.append(
            compare(
                g.estimate,
                g.interval,
                0.0,
                relation=">",
                tolerance=0.0,
                max_width=MAX_WIDTH,
                label=f"tail-bucket accuracy, {optimizer} - {reference}, {what}",
                notes=[tail_gap_note(g)],
            )
        )
    # Robustness to the choice rule: the reference at the grid value that is best
    # for it on this very metric (its most favourable choice).
    grid = sorted(
        {float(v) for v in table.where(beta=beta, optimizer=reference).data["lr"]}
    )
    tails = [
        longtail_curves(table, beta=beta, optimizer=reference, lr=v)
        .bucket[:, -1, -1]
        .mean()
        for v in grid
    ]
    best = grid[int(np.argmax(tails))]
    g = tail_gap(
        table, beta=beta, optimizer=optimizer, reference=reference, reference_lr=best
    )
    info.append(
        compare(
            g.estimate,
            g.interval,
            0.0,
            relation=">",
            tolerance=0.0,
            max_width=MAX_WIDTH,
            label=f"tail-bucket accuracy at step {g.step}, {optimizer} - {reference} "
            f"at its best grid value for the tail (lr {best:g})",
            notes=[tail_gap_note(g)],
        )
    )
    subjects = int(table.where(beta=beta).data["subjects"][0])
    freqs = bucket_frequencies(subjects, beta, bucket_count(table))
    reach = {}
    for opt in (reference, optimizer):
        fit = ff.fits[opt]
        info.append(
            compare_fit(
                fit,
                theory.facts_learned_exponent(beta) if beta > 0 else 0.0,
                tolerance=0.1,
                max_width=MAX_WIDTH,
                label=f"exponent of facts learned ~ t^C, {opt} (baseline 1/beta)",
            )
        )
        reach[opt] = steps_to_reach_fit(
            longtail_curves(table, beta=beta, optimizer=opt), freqs
        )
        info.append(
            compare_fit(
                reach[opt],
                theory.steps_to_learn_exponent(),
                tolerance=0.1,
                max_width=MAX_WIDTH,
                label=f"exponent of steps to 50% ~ p^e across buckets, {opt} "
                "(baseline -1)",
            )
        )
    details = {
        "beta": beta,
        "chosen_lr": {
            o: longtail_curves(table, beta=beta, optimizer=o).lr for o in reach
        },
        "tail_gap_per_seed": gap.per_seed.tolist(),
        "facts_window_steps": ff.steps.tolist(),
        "facts_fits": {o: f.to_dict() for o, f in ff.fits.items()},
        "steps_to_50_fits": {o: f.to_dict() for o, f in reach.items()},
        "bucket_frequencies": freqs.tolist(),
    }
    fits = {f"facts, {o}": f for o, f in ff.fits.items()}
    fits.update({f"steps to 50%, {o}": f for o, f in reach.items()})
    return LongtailComparisons(tail, slope, tuple(info), fits, details)
