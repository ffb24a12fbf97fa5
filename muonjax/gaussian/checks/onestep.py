"""Part A's one-population-step checks: exponents, two-stage fits, Newton, Muon > GD.

Each measures with :func:`~muonjax.gaussian.checks.measure.one_step_table` (the
cells of Figure 2 at the check's sizes) and fits with the figures' analyses.

References:
    SPEC A.5 (one population step); Kim et al. (2026), Figure 2.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from muonjax import theory
from muonjax.engine.registry import (
    CHECK_PRESETS,
    CheckContext,
    CheckOutcome,
    register_check,
)
from muonjax.gaussian.analysis.onestep import (
    fit_exponents,
    precision_exclusions,
    two_stage_fits,
)
from muonjax.gaussian.analysis.pairs import (
    difference_comparison,
    exponent_difference,
)
from muonjax.gaussian.analysis.tables import per_seed, seed_matrix
from muonjax.gaussian.checks.measure import (
    count_fit,
    means,
    table_for,
    with_precision,
)
from muonjax.stats.bootstrap import bootstrap_interval
from muonjax.stats.slopes import local_log_slopes
from muonjax.stats.verdict import compare, compare_fit

_MUON_TAG = '[seed, Fig. 3 caption "ceiling"; quoted, t = 1 of the multi-step theorem]'
_GD_TAG = "[derived]"
_TWO_STAGE_TAG = "[seed for the fit form; derived values]"

# One population step, Muon and Newton: N = 10,000 keeps the largest capacity in
# the quick grid (~400 items at d = 256, alpha = 1.25) far below N; the exponent is
# fitted on d >= 64, where the count has left its pre-asymptotic start (d = 16 and 32
# recover 2 and 13 items at alpha = 1.5, local slopes 2.7 and 1.9; reported in
# details). Float32 tasks, float64 updates: see the module docstring.
_POP_SIZES = {
    "tiny": {"n": 600, "dims": (16, 32, 64), "fit_dims": (16, 32, 64), "seeds": 3},
    "quick": {
        "n": 10_000,
        "dims": (16, 32, 64, 128, 256),
        "fit_dims": (64, 128, 256),
        "seeds": 6,
    },
    "paper": {
        "n": 100_000,
        "dims": (16, 32, 64, 128, 256, 512, 1024),
        "fit_dims": (128, 256, 512, 1024),
        "seeds": 16,
        "seed_chunk": 4,
    },
}

# One population GD step: its capacity d^(1/(2 alpha)) is tiny (d^(1/3) = 4..10 for
# d = 64..1024), so the grid spans a factor 16 in d to resolve the exponent, and N can
# be small (the capacity is far below it).
_GD_SIZES = {
    "tiny": {"n": 600, "dims": (16, 32, 64), "seeds": 3},
    "quick": {"n": 4_000, "dims": (64, 128, 256, 512, 1024), "seeds": 8},
    "paper": {
        "n": 100_000,
        "dims": (128, 256, 512, 1024, 2048, 4096),
        "seeds": 16,
        "seed_chunk": 4,
    },
}

_POP_SIZES = with_precision(_POP_SIZES)
_GD_SIZES = with_precision(_GD_SIZES)

_ALPHAS = {
    "tiny": (1.5, 2.0),
    "quick": (1.25, 1.5, 2.0),
    "paper": (1.25, 1.5, 2.0, 3.0),
}


def _fit_dims(sizes: Mapping[str, Any]) -> tuple[int, ...]:
    return tuple(sizes.get("fit_dims", sizes["dims"]))


def _exponent_check(
    ctx: CheckContext,
    rule: str,
    primary: str,
    secondary: str,
    *,
    polar_type: bool,
    why: str,
) -> CheckOutcome:
    sz = ctx.sizes
    alpha, dims, fdims = float(sz["alpha"]), tuple(sz["dims"]), _fit_dims(sz)
    table = table_for(ctx, (rule,))
    pred = theory.one_step_exponent(rule, alpha)
    fits = {
        m: count_fit(table, rule, m, fdims, polar_type)[alpha]
        for m in (primary, secondary)
    }
    rows = {
        m: compare_fit(fits[m], pred, label=f"exponent C of {m} ~ d^C (alpha={alpha})")
        for m in (primary, secondary)
    }
    count, prefix = means(table, "count"), means(table, "prefix")
    details = {
        "measure_used": primary,
        "why": why,
        "alpha": alpha,
        "dims": dims,
        "fit_dims": fdims,
        "prediction": pred,
        "mean_count": count,
        "mean_prefix": prefix,
        "local_slopes_count": local_log_slopes(dims, count),
        "local_slopes_prefix": local_log_slopes(dims, prefix),
        "fit": {m: fits[m].to_dict() for m in fits},
    }
    if polar_type:
        ranks = seed_matrix(table, measure="rank")[1]
        details["min_rank_of_W1"] = [int(r.min()) for r in ranks]
    return CheckOutcome(
        comparisons=(rows[primary],), info=(rows[secondary],), details=details
    )


@register_check(
    "muon_one_step_exponent",
    claim="one population Muon step recovers ~ d^(1 + 1/(2 alpha)) items",
    spec_tag=_MUON_TAG,
    sizes=_POP_SIZES,
)
def _muon_one_step_exponent(ctx: CheckContext) -> CheckOutcome:
    return _exponent_check(
        ctx,
        "muon",
        "count",
        "prefix",
        polar_type=True,
        why=(
            "count: Figure 2 fits the mean capacity; Muon's recovered set is not a "
            "clean prefix (a few early misses), so the prefix is noisier; it is "
            "reported as info"
        ),
    )


@register_check(
    "gd_one_step_exponent",
    claim="one population GD step recovers ~ d^(1/(2 alpha)) items "
    "(item i recovered when p_i >~ p_1 / sqrt(d))",
    spec_tag=_GD_TAG,
    sizes=_GD_SIZES,
)
def _gd_one_step_exponent(ctx: CheckContext) -> CheckOutcome:
    return _exponent_check(
        ctx,
        "gd",
        "prefix",
        "count",
        polar_type=False,
        why=(
            "prefix: the derived claim is a frequency threshold (every item with "
            "p_i >~ p_1/sqrt(d) is recovered), i.e. a statement about the recovered "
            "prefix; beyond it GD also recovers scattered items whose interference "
            "happens to be small (ranks up to ~5x the prefix at d=1024), which makes "
            "the count grow faster; the count is reported as info"
        ),
    )


def _two_stage(ctx: CheckContext, rule: str, measure: str, polar_type: bool):
    sz = ctx.sizes
    fdims = _fit_dims(sz)
    alphas = tuple(float(a) for a in sz["alphas"])
    table = table_for(ctx, (rule,), dims=fdims, alphas=alphas)
    group = fit_exponents(
        table,
        groups=("rule", "alpha"),
        measure=measure,
        exclude=precision_exclusions if polar_type else None,
    )
    per_alpha = {}
    for a in alphas:
        f = group.get(rule=rule, alpha=a)
        per_alpha[str(a)] = {
            "exponent": f.exponent,
            "interval": f.interval,
            "prediction": theory.one_step_exponent(rule, a),
            "mean": means(table.where(alpha=a), measure),
            "excluded": [dataclasses.asdict(e) for e in f.excluded],
            "flags": list(f.flags),
        }
    two = two_stage_fits(group)[(rule,)]
    c1, c2 = theory.two_stage_coefficients(rule)
    notes = list(two.flags) + [
        f"excluded alpha={e.x:g}: {e.reason}" for e in two.excluded
    ]
    # c1 absorbs a log factor common to all alphas (tolerance as for one exponent);
    # c2 is a slope over 1/alpha in [0.5, 0.8], so its interval is ~3x wider than
    # each C_alpha's: max_width 0.5 for it.
    rows = (
        compare(two.c1, two.c1_interval, c1, label=f"c1 ({measure})", notes=notes),
        compare(
            two.c2,
            two.c2_interval,
            c2,
            label=f"c2 ({measure})",
            max_width=0.5,
            notes=notes,
        ),
    )
    return rows, {
        "alphas": alphas,
        "fit_dims": fdims,
        "per_alpha": per_alpha,
        "two_stage": two.to_dict(),
    }


def _two_stage_sizes(base: Mapping[str, Mapping[str, Any]]):
    return {p: {**base[p], "alphas": _ALPHAS[p]} for p in CHECK_PRESETS}


def _register_two_stage(
    rule: str, name: str, coeffs: str, measures: tuple[str, str], sizes, polar: bool
):
    """Register Figure 2's two-stage check of one rule (primary, info measures)."""

    @register_check(
        f"{rule}_two_stage_fit",
        claim=f"Figure 2: {name}'s per-alpha exponents follow C_alpha = c1 + "
        f"c2/alpha with (c1, c2) = {coeffs}",
        spec_tag=_TWO_STAGE_TAG,
        sizes=_two_stage_sizes(sizes),
    )
    def check(ctx: CheckContext) -> CheckOutcome:
        primary, d1 = _two_stage(ctx, rule, measures[0], polar)
        info, d2 = _two_stage(ctx, rule, measures[1], polar)
        return CheckOutcome(primary, info, {measures[0]: d1, measures[1]: d2})

    return check


_muon_two_stage = _register_two_stage(
    "muon", "Muon", "(1, 1/2)", ("count", "prefix"), _POP_SIZES, True
)
_gd_two_stage = _register_two_stage(
    "gd", "GD", "(0, 1/2)", ("prefix", "count"), _GD_SIZES, False
)


@register_check(
    "newton_matches_muon",
    claim="one Newton step (ridge 1e-8) has the same capacity scaling as one Muon "
    "step, isotropic embeddings",
    spec_tag="[seed, abstract v2]",
    sizes={p: {**_POP_SIZES[p], "ridge": 1e-8} for p in CHECK_PRESETS},
)
def _newton_matches_muon(ctx: CheckContext) -> CheckOutcome:
    sz = ctx.sizes
    alpha, dims, fdims = float(sz["alpha"]), tuple(sz["dims"]), _fit_dims(sz)
    table = table_for(ctx, ("muon", "newton"), newton_ridge=float(sz["ridge"]))
    muon, newton = table.where(rule="muon"), table.where(rule="newton")
    # Same tasks and the same bootstrap generator seed: replicate b of both fits
    # resamples the same seeds, so the difference of the replicates is a paired
    # bootstrap of the difference of exponents. A point where the float cut Muon's
    # directions is left out of both fits.
    cut = precision_exclusions(muon)
    fits = {
        rule: fit_exponents(t, groups=("alpha",), x_min=min(fdims), exclude=cut).fits[
            (alpha,)
        ]
        for rule, t in (("muon", muon), ("newton", newton))
    }
    diff = exponent_difference(fits["newton"], fits["muon"])
    row = difference_comparison(
        diff, 0.0, label=f"C_newton - C_muon (count, alpha={alpha})"
    )
    mean_muon, mean_newton = means(muon, "count"), means(newton, "count")
    info = compare_fit(
        fits["newton"],
        theory.newton_one_step_exponent(alpha),
        label=f"exponent C of Newton count (alpha={alpha})",
    )
    details = {
        "dims": dims,
        "fit_dims": fdims,
        "ridge": sz["ridge"],
        "mean_count_muon": mean_muon,
        "mean_count_newton": mean_newton,
        "count_ratio_newton_over_muon": [
            nw / mu if mu else None
            for nw, mu in zip(mean_newton, mean_muon, strict=True)
        ],
        "fit_muon": fits["muon"].to_dict(),
        "fit_newton": fits["newton"].to_dict(),
    }
    return CheckOutcome((row,), (info,), details)


def _superiority(diff: float, interval: tuple[float, float], label: str):
    # Strict superiority: consistent only when the whole interval lies above 0;
    # max_width inf: the sign is what is tested.
    return compare(
        diff,
        interval,
        0.0,
        relation=">",
        tolerance=0.0,
        max_width=math.inf,
        label=label,
    )


@register_check(
    "muon_beats_gd",
    claim="one population Muon step recovers more items than one GD step at every d "
    "of the grid",
    spec_tag=_MUON_TAG + "; " + _GD_TAG,
    sizes=_POP_SIZES,
)
def _muon_beats_gd(ctx: CheckContext) -> CheckOutcome:
    sz = ctx.sizes
    alpha, dims = float(sz["alpha"]), tuple(sz["dims"])
    table = table_for(ctx, ("muon", "gd"))
    rows, ratios = [], []
    for d in dims:
        mu, g = (per_seed(table, "count", rule=r, d=d) for r in ("muon", "gd"))
        pair = np.stack([mu, g], axis=1)
        lo, hi = bootstrap_interval(
            pair, lambda v: np.mean(v[..., 0] - v[..., 1], axis=-1), seed=d
        )
        rows.append(
            _superiority(
                float(np.mean(mu - g)), (lo, hi), f"count_muon - count_gd at d={d}"
            )
        )
        ratios.append(float(np.mean(mu)) / float(np.mean(g)) if np.mean(g) else None)
    muon, gd = table.where(rule="muon"), table.where(rule="gd")
    details = {
        "dims": dims,
        "alpha": alpha,
        "mean_count_muon": means(muon, "count"),
        "mean_count_gd": means(gd, "count"),
        "mean_prefix_muon": means(muon, "prefix"),
        "mean_prefix_gd": means(gd, "prefix"),
        "ratio_of_means": ratios,
    }
    return CheckOutcome(tuple(rows), (), details)
