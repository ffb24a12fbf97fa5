"""The SPEC B.3 checks of ``muonjax check``: one per row of the table.

(Over 500 lines: half of them the size tables of ten checks for three presets, and
the claims ledger's table :data:`CLAIMS`.)

Importing this module registers ten checks (part ``"B"``) with
:func:`muonjax.register_check`; :data:`muonjax.engine.registry.CHECK_MODULES` lists
it, so ``muonjax check`` runs them after Part A's. Each check is its sizes per preset
and two calls: a ``measure_*`` of :mod:`muonjax.orthogonal.claims` (float64) and the
claim's ``*_outcome`` (predictions from :mod:`muonjax.theory`, verdicts from
:mod:`muonjax.stats`), the rows ``result.comparisons()`` lists too.

Intervals, and what they mean here (regression intervals from one deterministic
trajectory are far too narrow):

- GD, Muon and TRA-SignGD from ``W_0 = 0`` do not depend on the embedding's basis,
  so their runs have no seeds. A slope along one run gets the range of its values
  over several fit windows (:func:`muonjax.stats.window_slope`): the interval
  measures the curve's bend (log factors, a pre-asymptotic start), not noise. A
  slope across separate runs (``T*`` against ``eta``) gets the regression interval
  of those runs, widened the same way. Every such row says so in its notes.
- Exact quantities (a bound evaluated along a run, a gap between two runs) have no
  interval: it is the point itself, and the worst case over the cases measured.
- Bound claims (``<~``, ``>~``: Thms 5.7, 5.8) are tested as bounds: the ratio of the
  measured excess to the bound along ``T`` must not drift the wrong way by more than
  a stated factor (:mod:`muonjax.stats.bounds`), not by a slope.
- One claim, one policy: a figure's fit summary that tests the same claim calls the
  same row functions (:data:`CLAIMS` lists which figures).
- SignGD (and Adam) act entrywise in a random basis: there the bases are seeds, the
  runs go through the sweep engine with the experiments' sweeps (the same basis for
  the same sizes, root seed and seed), and the intervals are bootstraps over them
  (:func:`muonjax.bootstrap_mean`, :func:`muonjax.fit_power_law`).

Every check states, in ``details["sizes_needed"]``, which sizes it needed to
separate the claim from its alternatives and what happens at smaller ones (from
runs on the 2-core CPU; see ``docs/partb.md``). Presets: ``tiny`` (the test suite:
seconds), ``quick`` (a 2-core CPU: 2-5 min for all ten, by load), ``paper`` (larger K, M
and T, for a GPU).

References:
    SPEC B.3 [summary, seed where marked]; Li, Wang, Zhong, Lu, Wang (2026), arXiv
    2602.05725; SPEC Part D (verdicts).
"""

# Size: over 500 lines because the Part B catalogue: ten checks, each with sizes for
# three presets and its ledger entry.

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from muonjax.engine.registry import CheckContext, CheckOutcome, register_check
from muonjax.orthogonal.claims import (
    noiseless,
    noisy,
    scaling,
    signs,
    stability,
    symmetry,
)
from muonjax.stats.slopes import log_grid

PART = "B"


#: The claims ledger's data for Part B (``docs/claims.md`` is built from it): per
#: check, the SPEC B.3 row it tests (the table's "claim" column, verbatim) and the
#: experiments whose fit summaries test the same claim with the same policy (the
#: same ``*_outcome`` / row functions of :mod:`muonjax.orthogonal.claims`). The
#: provenance tag is the check's ``spec_tag``.
CLAIMS: dict[str, dict[str, Any]] = {
    "orth_gd_noiseless": {
        "spec": "B.3",
        "row": "GD, noiseless (Thm 4.1)",
        "figures": ("orth_groups",),
    },
    "orth_muon_noiseless": {
        "spec": "B.3",
        "row": "Muon, noiseless (Thm 4.2)",
        "figures": ("orth_groups",),
    },
    "orth_muon_noisy": {
        "spec": "B.3",
        "row": "Muon, noisy (Thm 5.1)",
        "figures": ("orth_groups",),
    },
    "orth_gd_stability": {
        "spec": "B.3",
        "row": "GD stability (Prop. 5.4)",
        "figures": (),
    },
    "orth_gd_scaling_law": {
        "spec": "B.3",
        "row": "GD scaling law, power law beta (Thm 5.7)",
        "figures": ("orth_scaling",),
    },
    "orth_muon_scaling_law": {
        "spec": "B.3",
        "row": "Muon scaling law (Thm 5.8)",
        "figures": ("orth_scaling",),
    },
    "orth_block_symmetry": {
        "spec": "B.3",
        "row": "block symmetry (Prop. 6.1)",
        "figures": (),
    },
    "orth_preconditioner": {
        "spec": "B.3",
        "row": "preconditioner (Sec. 6)",
        "figures": (),
    },
    "orth_tra_signgd": {
        "spec": "B.3",
        "row": "TRA-SignGD (Thm 6.3)",
        "figures": ("orth_signgd", "orth_groups"),
    },
    "orth_signgd_random_basis": {
        "spec": "B.3",
        "row": "SignGD in the original basis",
        "figures": ("orth_signgd", "orth_groups"),
    },
}


def _presets(tiny: Mapping, quick: Mapping, paper: Mapping) -> dict[str, dict]:
    return {"tiny": dict(tiny), "quick": dict(quick), "paper": dict(paper)}


def _cached(ctx: CheckContext, key: tuple, fn: Callable[[], Any]) -> Any:
    """Memoise a measurement in the run's cache (shared by the checks of a run)."""
    full = ("orthogonal", *key)
    if full not in ctx.cache:
        ctx.cache[full] = fn()
    return ctx.cache[full]


#: Size names of the check tables -> keyword names of the measurements.
_KEYWORDS = {"M": "num_groups", "C": "group_size", "d": "dim", "Cs": "group_sizes"}


def _tuples(value: Any) -> Any:
    """Lists (from JSON) as tuples, recursively: the measurements take tuples."""
    if isinstance(value, (list, tuple)):
        return tuple(_tuples(v) for v in value)
    return value


def _measure_args(sizes: Mapping[str, Any], skip: tuple[str, ...] = ()) -> dict:
    """A measurement's keyword arguments from a check's sizes."""
    return {_KEYWORDS.get(k, k): _tuples(v) for k, v in sizes.items() if k not in skip}


def _measured(
    measure: Callable[..., Any], outcome: Callable[[Any], CheckOutcome]
) -> Callable[[CheckContext], CheckOutcome]:
    """The check function ``outcome(measure(**sizes))`` of a one-measurement claim."""

    def check(ctx: CheckContext) -> CheckOutcome:
        ctx.progress(f"  {measure.__name__}: {dict(ctx.sizes)}")
        return outcome(measure(**_measure_args(ctx.sizes)))

    return check


# Thm 4.1: GD, noiseless: L_j(t) ~ 1 / (eta p_j t); total ~ K / (eta t).

_GD_NOISELESS = _presets(
    {"M": 4, "C": 4, "beta": 1.5, "lr_p1": 1.0, "steps": 2000},
    {"M": 8, "C": 16, "beta": 1.5, "lr_p1": 1.0, "steps": 20_000},
    {"M": 32, "C": 256, "beta": 1.5, "lr_p1": 1.0, "steps": 200_000},
)


register_check(
    "orth_gd_noiseless",
    claim="GD without label noise: per-query loss L_j(t) ~ 1/(eta p_j t) in every "
    "frequency group; total loss ~ K/(eta t) (Thm 4.1)",
    spec_tag="[summary]",
    sizes=_GD_NOISELESS,
    part=PART,
)(_measured(noiseless.measure_gd_noiseless, noiseless.gd_noiseless_outcome))


# Thm 4.2: Muon, noiseless: L_j(t) ~ K exp(-eta t) for every j.

_MUON_NOISELESS = _presets(
    {"M": 4, "C": 4, "beta": 1.5, "lr": 0.1, "steps": 300},
    {"M": 8, "C": 16, "beta": 1.5, "lr": 0.1, "steps": 600},
    {"M": 64, "C": 256, "beta": 1.5, "lr": 0.1, "steps": 600},
)


register_check(
    "orth_muon_noiseless",
    claim="Muon without label noise: L_j(t) ~ K exp(-eta t) for every query "
    "(uniform progress across frequency groups; exponential speedup) (Thm 4.2)",
    spec_tag='[summary; seed for "exponential speedup"]',
    sizes=_MUON_NOISELESS,
    part=PART,
)(_measured(noiseless.measure_muon_noiseless, noiseless.muon_noiseless_outcome))


# Thm 5.1: Muon with label noise: descent until T* ~ log K / eta, then an
# oscillation ~ eta^2 above L*.

_MUON_NOISY = _presets(
    {
        "M": 4,
        "Cs": (4, 16, 64),
        "beta": 1.5,
        "alpha": 0.3,
        "lrs": (0.05, 0.1, 0.2, 0.4),
        "tail": 50,
    },
    {
        "M": 8,
        "Cs": (4, 16, 64, 256),
        "beta": 1.5,
        "alpha": 0.3,
        "lrs": tuple(float(v) for v in np.geomspace(0.02, 0.4, 9).round(5)),
        "tail": 200,
        "extra_shapes": ((32, 16),),
    },
    {
        "M": 32,
        "Cs": (8, 32, 128, 512, 2048),
        "beta": 1.5,
        "alpha": 0.3,
        "lrs": tuple(float(v) for v in np.geomspace(0.01, 0.4, 13).round(5)),
        "tail": 400,
    },
)


@register_check(
    "orth_muon_noisy",
    claim="Muon with label noise: descent until T* ~ log K / eta, then an "
    "oscillation ~ eta^2 above L* (Thm 5.1; the eta^2 exponent at the largest K)",
    spec_tag="[summary]",
    sizes=_MUON_NOISY,
    part=PART,
)
def _muon_noisy(ctx: CheckContext) -> CheckOutcome:
    sz = ctx.sizes
    args = _measure_args(sz, skip=("extra_shapes",))
    ctx.progress(f"  Muon noisy: M={sz['M']} C={sz['Cs']} x{len(sz['lrs'])} eta")
    r = noisy.measure_muon_noisy(**args)
    extra = []
    for m2, c2 in sz.get("extra_shapes", ()):
        ctx.progress(f"  Muon noisy: M={m2} C={c2} (C vs K)")
        one = {**args, "num_groups": m2, "group_sizes": (c2,)}
        extra.append(noisy.measure_muon_noisy(**one))
    return noisy.muon_noisy_outcome(r, extra)


# Prop 5.4: GD is stable only if eta p_1 <~ 1; the edge is eta p_1 = 2 / lambda*.

_STABILITY = _presets(
    {
        "cases": ((4, 4, 1.5, 0.3), (4, 16, 3.0, 0.3), (4, 4, 1.5, 0.0)),
        "lr_p1": tuple(float(v) for v in np.geomspace(2.0, 32.0, 9).round(4)),
        "steps": 1000,
        "alpha_ref": 0.3,
    },
    {
        "cases": (
            (4, 4, 1.5, 0.3),
            (4, 16, 1.5, 0.3),
            (4, 16, 3.0, 0.3),
            (8, 32, 2.0, 0.3),
            (4, 16, 1.5, 0.1),
            (4, 16, 1.5, 0.6),
            (4, 16, 1.5, 0.0),
        ),
        "lr_p1": tuple(float(v) for v in np.geomspace(1.0, 256.0, 41).round(4)),
        "steps": 4000,
        "alpha_ref": 0.3,
    },
    {
        "cases": (
            (8, 64, 1.5, 0.3),
            (16, 256, 2.0, 0.3),
            (32, 1024, 3.0, 0.3),
            (16, 256, 2.0, 0.1),
            (16, 256, 2.0, 0.6),
            (16, 256, 2.0, 0.0),
        ),
        "lr_p1": tuple(float(v) for v in np.geomspace(1.0, 8192.0, 157).round(4)),
        "steps": 20_000,
        "alpha_ref": 0.3,
    },
)


@register_check(
    "orth_gd_stability",
    claim="GD (constant step, label noise) is stable only if eta p_1 <~ 1 "
    "(Prop. 5.4): the edge scales as 1/p_1, and sits at eta p_1 = 2/lambda*, "
    "lambda* = alpha (1 - alpha + alpha/K) [derived]",
    spec_tag="[summary; derived for the constant 2/lambda*]",
    sizes=_STABILITY,
    part=PART,
)
def _gd_stability(ctx: CheckContext) -> CheckOutcome:
    sz = ctx.sizes
    cases = tuple(tuple(c) for c in sz["cases"])
    ctx.progress(f"  GD stability: {len(cases)} tasks x {len(sz['lr_p1'])} steps")
    r = stability.measure_gd_stability(
        cases=cases, lr_p1=tuple(sz["lr_p1"]), steps=sz["steps"]
    )
    return stability.gd_stability_outcome(r, alpha_ref=sz["alpha_ref"])


# Thm 5.7: GD's scaling law: L(T) - L* >~ log K / T^(1 - 1/beta), as a ratio, and
# GD's slope against the finite-M sum's.

_GD_SCALING = _presets(
    {
        "betas": (2.0,),
        "Ms": {"2.0": (16, 32)},
        "C": 16,
        "alpha": 0.3,
        "lr_p1": (1.0, 2.0, 4.0, 8.0),
        "gd_steps": {"2.0": 1500},
    },
    {
        "betas": (1.5, 2.0, 3.0),
        "Ms": {"1.5": (32, 64, 128), "2.0": (32, 64, 128), "3.0": (16, 32, 64)},
        "C": 64,
        "alpha": 0.3,
        "lr_p1": (1.0, 2.0, 4.0, 8.0),
        "gd_steps": {"1.5": 1500, "2.0": 4000, "3.0": 8000},
    },
    {
        "betas": (1.5, 2.0, 3.0),
        "Ms": {
            "1.5": (64, 128, 256, 512, 1024),
            "2.0": (64, 128, 256, 512),
            "3.0": (32, 64, 128, 256),
        },
        "C": 256,
        "alpha": 0.3,
        "lr_p1": tuple(float(v) for v in np.geomspace(1.0, 8.0, 7).round(4)),
        "gd_steps": {"1.5": 20_000, "2.0": 60_000, "3.0": 100_000},
    },
)


@register_check(
    "orth_gd_scaling_law",
    claim="GD's scaling law with a power-law spectrum (noisy labels, step tuned per "
    "T): L(T) - L* >~ log K / T^(1 - 1/beta) (Thm 5.7), tested as a bound (the ratio "
    "must not keep falling) and, for the slope, against the finite-M sum "
    "sum_(g<=M) ptil_g exp(-T/T_g) [derived] whose M -> infinity limit it is",
    spec_tag="[summary; derived for the finite-M slope]",
    sizes=_GD_SCALING,
    part=PART,
)
def _gd_scaling(ctx: CheckContext) -> CheckOutcome:
    sz = ctx.sizes
    results: dict[float, dict[int, scaling.ScalingLawResult]] = {}
    for beta in sz["betas"]:
        key = f"{float(beta):.1f}"
        steps = sz["gd_steps"][key]
        for m in sz["Ms"][key]:
            ctx.progress(f"  GD scaling: beta={beta} M={m} C={sz['C']} T={steps}")
            results.setdefault(beta, {})[m] = _cached(
                ctx,
                ("gd_scaling", beta, m, sz["C"], sz["alpha"], steps, sz["lr_p1"]),
                functools.partial(
                    scaling.measure_scaling_laws,
                    num_groups=m,
                    group_size=sz["C"],
                    beta=beta,
                    alpha=sz["alpha"],
                    gd_lr_p1=tuple(sz["lr_p1"]),
                    gd_steps=steps,
                    muon_horizons=(),
                ),
            )
    return scaling.gd_scaling_outcome(results)


# Thm 5.8: Muon's scaling law: with eta ~ log K / T, L(T) - L* <~ (log K / T)^2, as
# a ratio.

_MUON_SCALING = _presets(
    {
        "shapes": ((4, 64),),
        "info_shapes": (),
        "beta": 2.0,
        "alpha": 0.3,
        "c": 2.0,
        "horizons": (32, 64, 128, 256),
    },
    {
        "shapes": ((16, 256),),
        "info_shapes": ((16, 16),),
        "beta": 2.0,
        "alpha": 0.3,
        "c": 2.0,
        "horizons": tuple(int(h) for h in log_grid(32, 8192, 9)),
    },
    {
        "shapes": ((64, 1024), (256, 256)),
        "info_shapes": ((16, 16), (4, 64)),
        "beta": 2.0,
        "alpha": 0.3,
        "c": 2.0,
        "horizons": tuple(int(h) for h in log_grid(32, 32_768, 11)),
    },
)


@register_check(
    "orth_muon_scaling_law",
    claim="Muon's scaling law: with eta = c log K / T, L(T) - L* <~ (log K / T)^2 "
    "(Thm 5.8), tested as a bound: the ratio to (log K / T)^2 must not keep rising "
    "(primary rows at the largest K)",
    spec_tag="[summary]",
    sizes=_MUON_SCALING,
    part=PART,
)
def _muon_scaling(ctx: CheckContext) -> CheckOutcome:
    sz = ctx.sizes
    hs = tuple(int(h) for h in sz["horizons"])
    primary = {tuple(s) for s in sz["shapes"]}
    results = []
    for m, c in (*sz["shapes"], *sz["info_shapes"]):
        ctx.progress(f"  Muon scaling: M={m} C={c} horizons {hs[0]}..{hs[-1]}")
        r = scaling.measure_scaling_laws(
            num_groups=m,
            group_size=c,
            beta=sz["beta"],
            alpha=sz["alpha"],
            gd_steps=hs[-1] if (m, c) in primary else 1,
            muon_c=sz["c"],
            muon_horizons=hs,
        )
        results.append((r, (m, c) in primary))
    return scaling.muon_scaling_outcome(results)


# Prop 6.1: Muon from zero keeps the group-block-symmetric structure.

_BLOCK_SYMMETRY = _presets(
    {
        "M": 2,
        "C": 4,
        "d": 12,
        "steps": 20,
        "seeds": 2,
        "rules": ("muon", "gd", "signgd"),
    },
    {
        "M": 4,
        "C": 8,
        "d": 48,
        "steps": 100,
        "seeds": 3,
        "rules": ("muon", "gd", "tra_signgd", "signgd", "adam"),
    },
    {
        "M": 16,
        "C": 32,
        "d": 768,
        "steps": 500,
        "seeds": 8,
        "rules": ("muon", "gd", "tra_signgd", "signgd", "adam"),
    },
)


register_check(
    "orth_block_symmetry",
    claim="Muon from W_0 = 0 keeps the group-block-symmetric structure of the "
    "iterates in task coordinates, in any orthonormal basis (Prop. 6.1)",
    spec_tag="[summary]",
    sizes=_BLOCK_SYMMETRY,
    part=PART,
)(_measured(symmetry.measure_block_symmetry, symmetry.block_symmetry_outcome))


# Sec. 6: max-norm of msgn(P - Phat_t) - I <= 1/C + M/C.

_PRECONDITIONER = _presets(
    {"shapes": ((4, 8),), "noisy_shapes": ((2, 4),), "beta": 2.0, "steps": 100},
    {
        "shapes": ((2, 8), (4, 4), (8, 8), (8, 64), (16, 4), (32, 32)),
        "noisy_shapes": ((4, 16), (8, 64)),
        "beta": 2.0,
        "steps": 300,
    },
    {
        "shapes": ((4, 4), (8, 64), (16, 256), (32, 32), (64, 64), (64, 1024)),
        "noisy_shapes": ((8, 64), (64, 1024)),
        "beta": 2.0,
        "steps": 1000,
    },
)


@register_check(
    "orth_preconditioner",
    claim="Muon as a preconditioner: max-norm of msgn(P - Phat_t) - I <= 1/C + M/C "
    "along Muon's run (before any query overshoots its noisy optimum) (Sec. 6)",
    spec_tag="[summary]",
    sizes=_PRECONDITIONER,
    part=PART,
)
def _preconditioner(ctx: CheckContext) -> CheckOutcome:
    sz = ctx.sizes
    results = []
    for key, alpha in (("shapes", 0.0), ("noisy_shapes", 0.3)):
        ctx.progress(f"  preconditioner: shapes {sz[key]} (alpha={alpha})")
        results.append(
            symmetry.measure_preconditioner(
                shapes=tuple(map(tuple, sz[key])),
                beta=sz["beta"],
                alpha=alpha,
                steps=sz["steps"],
            )
        )
    return symmetry.preconditioner_outcome(*results)


# Thm 6.3: TRA-SignGD with step eta follows Muon with step 2 eta.

_TRA = _presets(
    {
        "shapes": ((4, 4), (4, 16)),
        "alphas": (0.0, 0.3),
        "beta": 2.0,
        "lr": 0.05,
        "steps": 150,
    },
    {
        "shapes": ((4, 4), (8, 8), (8, 64), (32, 32)),
        "alphas": (0.0, 0.3),
        "beta": 2.0,
        "lr": 0.05,
        "steps": 400,
    },
    {
        "shapes": ((4, 4), (8, 64), (32, 32), (64, 1024), (256, 256)),
        "alphas": (0.0, 0.3),
        "beta": 2.0,
        "lr": 0.05,
        "steps": 2000,
    },
)


register_check(
    "orth_tra_signgd",
    claim="TRA-SignGD (sign in the task basis, an oracle) with step eta follows Muon "
    "with step 2 eta (Thm 6.3)",
    spec_tag="[summary]",
    sizes=_TRA,
    part=PART,
)(_measured(signs.measure_tra_signgd, signs.tra_signgd_outcome))


# SignGD in the original basis does not match Muon [seed].

_SIGNGD = _presets(
    {"M": 4, "C": 4, "d": 20, "beta": 2.0, "lr": 0.05, "steps": 150, "seeds": 3},
    {"M": 8, "C": 8, "d": 64, "beta": 2.0, "lr": 0.05, "steps": 400, "seeds": 6},
    {"M": 16, "C": 64, "d": 2048, "beta": 2.0, "lr": 0.05, "steps": 2000, "seeds": 16},
)


register_check(
    "orth_signgd_random_basis",
    claim="SignGD in the original (random) basis does not match Muon without the "
    "oracle basis, at matched update norms: higher loss and uneven progress over "
    "frequency groups",
    spec_tag="[seed]",
    sizes=_SIGNGD,
    part=PART,
)(_measured(signs.measure_signgd_random_basis, signs.signgd_outcome))
