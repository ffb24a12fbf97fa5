"""Part A's check of smoothed Muon: ``h_lambda(G)`` tends to the polar factor.

References:
    SPEC A.3, Muon, smoothed [quoted].
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from muonjax.engine.registry import (
    CheckContext,
    CheckOutcome,
    register_check,
)
from muonjax.engine.table import Table
from muonjax.gaussian.analysis.tables import per_seed
from muonjax.gaussian.cells import smoothing_sweep
from muonjax.gaussian.checks.measure import (
    measure,
    one_step_table,
    with_precision,
)
from muonjax.stats.fit import fit_power_law
from muonjax.stats.verdict import compare, compare_fit

_SMOOTH_SIZES = {
    "tiny": {"n": 600, "d": 16, "seeds": 3, "rho": (1e-3, 1e-2, 1e-1)},
    "quick": {"n": 4000, "d": 64, "seeds": 4, "rho": (1e-3, 1e-2, 1e-1)},
    "paper": {"n": 100_000, "d": 256, "seeds": 16, "rho": (1e-4, 1e-3, 1e-2, 1e-1)},
}
_SMOOTH_SIZES = with_precision(_SMOOTH_SIZES)


def _gap(runs: Mapping[str, Table], a: str, b: str, label: str):
    gap = float(np.max(np.abs(runs[a].data["count"] - runs[b].data["count"])))
    return compare(
        gap,
        (gap, gap),
        0.0,
        relation="<=",
        tolerance=0.0,
        max_width=math.inf,
        label=label,
    )


def smoothing_outcome(
    err: Table, runs: Mapping[str, Table], sizes: Mapping[str, Any]
) -> CheckOutcome:
    """The check from its measurements: the spectral errors per ``rho`` and seed
    (``err``: columns ``rho, seed, error, s_min, s_max``) and the one-step counts of
    ``runs["muon"]``, ``["gd"]``, ``["small_lam"]``, ``["large_lam"]``."""
    rho = np.asarray(sizes["rho"], np.float64)
    errors = np.stack([per_seed(err, "error", rho=r) for r in rho])
    s_min = per_seed(err, "s_min", rho=rho[0])
    s_max = per_seed(err, "s_max", rho=rho[0])
    fit = fit_power_law(rho, errors)
    # [derived]: h(s) = s / sqrt(s^2 + lam^2) = 1 - lam^2 / (2 s^2) + O(lam^4), so the
    # spectral error is 1 - 1/sqrt(1 + rho^2) ~ rho^2 / 2 at lam = rho s_min: exponent
    # 2 as lam -> 0. The tolerance 0.05 covers the O(rho^2) curvature at rho = 0.1.
    row_exp = compare_fit(
        fit,
        2.0,
        tolerance=0.05,
        label="exponent of ||h_lam(G) - polar(G)||_2 in lam = rho s_min(G)",
    )
    lam_small = float(rho[0] * s_min.min())
    row_cap = _gap(
        runs,
        "small_lam",
        "muon",
        f"max over seeds |count(h_lam step) - count(Muon step)|, lam={lam_small:.3g}",
    )
    info = _gap(
        runs,
        "large_lam",
        "gd",
        "max over seeds |count(h_lam step, lam -> inf) - count(GD step)|",
    )
    details = {
        "claim_id": "smoothed_muon",
        "rho": rho,
        "s_min_per_seed": s_min,
        "lambda_of_the_capacity_step": lam_small,
        "s_max_over_seeds": float(s_max.max()),
        "spectral_error_mean": errors.mean(axis=1),
        "predicted_error_at_s_min": 1 - 1 / np.sqrt(1 + rho**2),
        "fit": fit.to_dict(),
        "counts": {k: per_seed(v, "count") for k, v in runs.items()},
    }
    return CheckOutcome((row_exp, row_cap), (info,), details)


@register_check(
    "h_lambda_tends_to_polar",
    claim="smoothed Muon h_lambda(G) = G (G^T G + lambda^2 I)^(-1/2) tends to the "
    "polar factor as lambda -> 0 (error ~ lambda^2), and its one-step capacity to "
    "Muon's",
    spec_tag="[quoted]",
    sizes=_SMOOTH_SIZES,
)
def _h_lambda(ctx: CheckContext) -> CheckOutcome:
    sz = {**ctx.sizes, "dims": (ctx.sizes["d"],)}
    n, d, alpha, seeds = sz["n"], sz["d"], float(sz["alpha"]), sz["seeds"]
    rho = tuple(float(r) for r in sz["rho"])
    ctx.progress(f"  h_lambda: n={n} d={d} alpha={alpha} x{seeds}")
    # lambda = rho * s_min(G) per seed (smoothing_cell), so that every seed is in the
    # small-lambda regime at the same rho (a common absolute grid would put the seeds
    # with a large s_min at the rounding floor, where the error stops falling).
    err = measure(
        smoothing_sweep(n=n, dims=(d,), alphas=(alpha,), rhos=rho),
        seeds=seeds,
        cache=ctx.cache,
    )
    lam_small = float(rho[0] * per_seed(err, "s_min", rho=rho[0]).min())
    # lam far above every singular value: h_lam(G) ~ G / lam, one GD step.
    lam_large = float(1e3 * per_seed(err, "s_max", rho=rho[0]).max())
    step = one_step_table(sz, ("muon", "gd"), cache=ctx.cache)
    smooth = one_step_table(
        sz, ("muon_smoothed",), lams=(lam_small, lam_large), cache=ctx.cache
    )
    runs = {
        "muon": step.where(rule="muon"),
        "gd": step.where(rule="gd"),
        "small_lam": smooth.where(lam=lam_small),
        "large_lam": smooth.where(lam=lam_large),
    }
    return smoothing_outcome(err, runs, sz)
