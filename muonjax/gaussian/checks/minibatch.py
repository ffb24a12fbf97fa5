"""Part A's check of one minibatch step: no more items than the batch holds.

References:
    SPEC A.5 (one minibatch step [seed names the line; derived formula]); Kim et
    al. (2026), Figures 1b and 3.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from muonjax import theory
from muonjax.engine.registry import (
    CheckContext,
    CheckOutcome,
    register_check,
)
from muonjax.engine.table import Table
from muonjax.gaussian.analysis.critical import out_of_batch_comparison
from muonjax.gaussian.analysis.tables import per_seed
from muonjax.gaussian.cells import critical_batch_sweep
from muonjax.gaussian.checks.measure import measure, with_precision
from muonjax.stats.bootstrap import bootstrap_interval
from muonjax.stats.fit import fit_power_law
from muonjax.stats.verdict import compare, compare_fit

_BATCH_SIZES = {
    "tiny": {"n": 600, "d": 16, "seeds": 3, "batches": (8,)},
    "quick": {"n": 4000, "d": 64, "seeds": 8, "batches": (16, 256, 4096)},
    "paper": {
        "n": 100_000,
        "d": 256,
        "seeds": 16,
        "batches": (16, 64, 256, 1024, 4096, 16384, 65536),
    },
}
_BATCH_SIZES = with_precision(_BATCH_SIZES)


def minibatch_outcome(table: Table, sizes: Mapping[str, Any]) -> CheckOutcome:
    """The check from the records of a :func:`muonjax.critical_batch_sweep` (columns
    ``rule, batch_size, seed, count, distinct, out_of_batch``)."""
    n, alpha = sizes["n"], float(sizes["alpha"])
    batches = tuple(sizes["batches"])
    out_of = table.data["out_of_batch"].astype(float)
    excess = table.data["count"] - table.data["distinct"]
    lo, hi = bootstrap_interval(out_of, lambda v: v.mean(axis=-1), seed=1)
    row = out_of_batch_comparison(float(out_of.mean()), (lo, hi))
    frac = float(np.mean(excess > 0))
    top = float(excess.max())
    literal = compare(
        top,
        (top, top),
        0.0,
        relation="<=",
        tolerance=0.0,
        max_width=math.inf,
        label=(
            "literal 'never': max over runs of count - distinct "
            f"({100 * frac:.0f}% of runs exceed)"
        ),
    )
    muon = table.where(rule="muon")
    distinct = np.stack([per_seed(muon, "distinct", batch_size=b) for b in batches])
    cols = ("count", "distinct", "out_of_batch")
    details = {
        "claim_id": "minibatch_step",
        "batches": batches,
        "runs": {
            f"{rule} B={b}": {
                k: per_seed(table, k, rule=rule, batch_size=b) for k in cols
            }
            for rule in ("muon", "gd")
            for b in batches
        },
        "fraction_of_runs_count_exceeds_distinct": frac,
        "mean_distinct": distinct.mean(axis=1),
        "expected_distinct_exact": theory.expected_distinct_items(
            n, alpha, np.asarray(batches, float)
        ),
        "B_to_1_over_alpha": theory.distinct_items_scaling(
            np.asarray(batches, float), alpha
        ),
    }
    infos = [literal]
    if len(batches) >= 3:
        fit = fit_power_law(np.asarray(batches, float), distinct)
        infos.append(
            compare_fit(
                fit,
                theory.distinct_items_exponent(alpha),
                label="exponent of distinct items in the batch ~ B^e",
            )
        )
        details["distinct_fit"] = fit.to_dict()
    return CheckOutcome((row,), tuple(infos), details)


@register_check(
    "minibatch_within_batch",
    claim="one minibatch step (Muon or SGD) recovers no more items than the batch "
    "holds (distinct items ~ B^(1/alpha)), up to chance recoveries outside the batch",
    spec_tag="[seed names the line; derived formula]",
    sizes=_BATCH_SIZES,
)
def _minibatch(ctx: CheckContext) -> CheckOutcome:
    sz = ctx.sizes
    n, d, alpha, seeds = sz["n"], sz["d"], float(sz["alpha"]), sz["seeds"]
    batches = tuple(sz["batches"])
    ctx.progress(f"  muon, gd: n={n} d={d} B={batches} x{seeds}")
    # The cells of Figures 1b and 3 (nested batches of one draw per seed).
    table = measure(
        critical_batch_sweep(
            n=n,
            dims=(d,),
            alphas=(alpha,),
            batch_sizes=batches,
            rules=("muon", "gd"),
            update_dtype=sz["update_dtype"],
            dtype=sz["dtype"],
        ),
        seeds=seeds,
        cache=ctx.cache,
    )
    return minibatch_outcome(table, sz)
