"""Beyond Figure 2: how much of Muon's one-step capacity practical Newton-Schulz keeps.

From the records of :func:`muonjax.ns_variant_sweep` (exact polar factor beside
Newton-Schulz variants on the same tasks): ``count ~ d^C`` per variant and alpha;
the exact step against ``1 + 1/(2 alpha)`` [seed; quoted], each Newton-Schulz variant
against the exact step (paired difference of exponents; our question, not a paper
claim), and the capacity ratio NS / exact per ``d`` and alpha, beside the number of
gradient directions each variant orthogonalises (``directions``).

Why it can matter here: the population gradient's singular values follow the power
law of the frequencies and span many orders of magnitude, while ``k`` Newton-Schulz
steps from ``G / ||G||_F`` lift a small singular value ``s`` only to about
``(prod_t a_t) s / ||G||_F`` (``3.4445^k`` for optax's quintic); directions below
that stay gradient-like.

References:
    SPEC A.3 (Muon, practical), SPEC E (optax's quintic does not converge to the
    polar factor); Kim et al. (2026), Figure 2; issue 5 ("beyond the paper").
"""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from muonjax import theory
from muonjax.gaussian.analysis.onestep import GroupFits
from muonjax.gaussian.analysis.pairs import (
    capacity_ratios,
    difference_comparison,
    exponent_difference,
)
from muonjax.gaussian.analysis.policy import (
    LOG_FACTOR_REASON,
    POLICIES,
    as_group_fits,
    claim_text,
    policy_group_fits,
    policy_rows,
)
from muonjax.gaussian.analysis.tables import group_keys, group_label, seed_matrix
from muonjax.gaussian.figures._common import (
    Source,
    first,
    load,
    not_consistent,
    seeds,
    sorted_values,
    values,
    verdict_counts,
    write_outputs,
)
from muonjax.gaussian.figures.panels import capacity_panel, exponent_panel
from muonjax.gaussian.rules import parse_ns_variant
from muonjax.stats.summary import FitSummary, SummaryRow

#: Fit settings and their defaults (the experiment's config overrides them).
SETTINGS = {"n_boot": 2000}

_EXACT_CLAIM = claim_text(
    "muon_one_step",
    "one population Muon step (exact polar factor): capacity ~ d^(1 + 1/(2 alpha)) "
    '[seed, Fig. 3 caption "ceiling"; quoted]',
)
_NS_CLAIM = claim_text(
    "newton_schulz",
    "Newton-Schulz Muon keeps exact Muon's capacity exponent (our question, not a "
    "paper claim; SPEC A.3 practical Muon [derived])",
)


def variant_label(v: str) -> str:
    """``"optax quintic, 5 steps"`` for ``"jordan:5"``; ``"exact polar"``."""
    parsed = parse_ns_variant(v)
    if parsed is None:
        return "exact polar"
    name = {"jordan": "optax quintic", "polar_express": "Polar Express"}.get(
        parsed[0], parsed[0]
    )
    return f"{name}, {parsed[1]} steps"


def _analyse(source: Source) -> dict[str, Any]:
    """Exact Muon under the Muon claim's policy; every variant on exact's windows
    (so that ``C_ns - C_exact`` is paired)."""
    rec = load(source, SETTINGS)
    table, n_boot = rec.table, rec.settings["n_boot"]
    policy = POLICIES["muon_one_step"]

    def predict(g: Mapping[str, Any]) -> float | None:
        return float(theory.muon_one_step_exponent(g["alpha"]))

    fits = {}
    variants = values(table, "variant")
    exact = None
    if "exact" in variants:
        exact = policy_group_fits(
            table.where(variant="exact"),
            groups=("alpha",),
            policy=policy,
            predict=predict,
            n_boot=n_boot,
        )
    for v in variants:
        per = policy_group_fits(
            table.where(variant=v),
            groups=("alpha",),
            policy=policy,
            predict=predict,
            windows=None if exact is None else {k: f.window for k, f in exact.items()},
            n_boot=n_boot,
        )
        fits.update({(v, *k): f for k, f in per.items()})
    ratios = {
        v: capacity_ratios(
            table, numerator={"variant": v}, denominator={"variant": "exact"}
        )
        for v in variants
        if v != "exact" and "exact" in variants
    }
    directions = {
        key: float(
            np.mean(
                table.where(variant=key[0], alpha=key[1], d=key[2]).data["directions"]
            )
        )
        for key in group_keys(table, ("variant", "alpha", "d"))
    }
    return {"records": rec, "fits": fits, "ratios": ratios, "directions": directions}


def _count_fits(res: dict[str, Any]) -> GroupFits:
    return as_group_fits(res["fits"], groups=("variant", "alpha"), measure="count")


def _summary(res: dict[str, Any]) -> FitSummary:
    rec, fits, ratios = res["records"], res["fits"], res["ratios"]
    table = rec.table
    rows: list[SummaryRow] = []
    if "exact" in values(table, "variant"):
        exact = {k: f for k, f in fits.items() if k[0] == "exact"}
        rows += policy_rows(
            exact, groups=("variant", "alpha"), claim=_EXACT_CLAIM, measure="count"
        )
        for v in ratios:
            for (_, alpha), ex in exact.items():
                diff = exponent_difference(fits[(v, alpha)].fit, ex.fit)
                rows.append(
                    SummaryRow(
                        _NS_CLAIM,
                        f"variant={v}, alpha={alpha}, measure=count",
                        ex.window.gate(
                            difference_comparison(diff, label="C_ns - C_exact")
                        ),
                    )
                )
    labelled: dict[str, Any] = {
        f"count: {group_label(('variant', 'alpha'), k)}": f.fit for k, f in fits.items()
    }
    for v, rs in ratios.items():
        labelled.update(
            {
                f"ratio {v}/exact (count): d={r.keys['d']}, alpha={r.keys['alpha']}": r
                for r in rs
            }
        )
    return FitSummary(
        experiment="fig2_ns",
        rows=rows,
        fits=labelled,
        findings=[
            f"{verdict_counts(rows, 'the Muon claim policy window')}. Not "
            f"consistent: {not_consistent(rows)}.",
            *_findings(table, fits, ratios, res["directions"]),
        ],
        meta={
            "n": int(first(table, "n")),
            "dims": sorted_values(table, "d"),
            "alphas": sorted_values(table, "alpha"),
            "variants": values(table, "variant"),
            "seeds": seeds(table),
            "claims": ["muon_one_step", "newton_schulz"],
            "measure": "count (recovered items), as Figure 2's mean capacity",
            "method": "the one-step Muon claim's policy (as Figure 2 and the "
            "checks): exact Muon's window per alpha (testable sizes from where "
            "its local slopes settle), every variant fitted on it; "
            + LOG_FACTOR_REASON,
            "directions": "mean number of the d gradient directions a variant maps "
            "to >= 0.5 (the exact polar factor keeps all)",
            "mean_directions": {
                group_label(("variant", "alpha", "d"), k): v
                for k, v in res["directions"].items()
            },
        },
    )


def _findings(table, fits, ratios, directions) -> list[str]:
    lines = []
    dmax = int(np.max(table.data["d"]))
    for v, rs in ratios.items():
        at = [r for r in rs if r.keys["d"] == dmax]
        lines.append(
            f"{variant_label(v)} ({v}) keeps, of exact Muon's mean count at d={dmax}: "
            + ", ".join(
                f"alpha={r.keys['alpha']:g}: {100 * r.ratio:.0f}% "
                f"[{100 * r.interval[0]:.0f}, {100 * r.interval[1]:.0f}]"
                for r in at
                if np.isfinite(r.ratio)
            )
            + "; directions orthogonalised (of d): "
            + ", ".join(
                f"alpha={r.keys['alpha']:g}: "
                f"{directions[(v, r.keys['alpha'], dmax)]:.0f}"
                for r in at
            )
            + "."
        )
    for v in dict.fromkeys(k[0] for k in fits):
        parts = [
            f"alpha={alpha:g}: {pf.fit.exponent:.2f} [{pf.fit.interval[0]:.2f}, "
            f"{pf.fit.interval[1]:.2f}] on d = "
            f"{', '.join(f'{x:g}' for x in pf.window.window) or 'none'} (local "
            f"slopes {pf.window.slopes_text()})"
            for (var, alpha), pf in fits.items()
            if var == v and pf.fit.ok
        ]
        lines.append(
            f"Fitted count exponent, {variant_label(v)}: " + "; ".join(parts) + "."
        )
    lines.append(
        "Reading: k Newton-Schulz steps from G/||G||_F lift a singular value s to "
        "about (prod of the step coefficients a_t) s/||G||_F, so only the directions "
        "with s/||G||_F above about 1/prod(a_t) are orthogonalised (3.4445^5 = 485 "
        "for 5 quintic steps); the rest keep the gradient's relative weights. The "
        "gradient's spectrum follows the frequencies, so a larger alpha leaves more "
        "directions below that level and more of the tail unamplified: the loss of "
        "capacity grows with alpha and d, and more steps (or Polar Express's larger "
        "first coefficients) recover it."
    )
    return lines


def _fit_key(alpha: float, variant: str) -> dict[str, Any]:
    return {"variant": variant, "alpha": alpha}


def _predict(alpha: float, variant: str) -> float | None:
    # Only the exact polar factor has a prediction (SPEC A.5).
    return float(theory.muon_one_step_exponent(alpha)) if variant == "exact" else None


def _ratio_panel(ax: Any, ratios: dict[str, Any], colors, alpha: float) -> None:
    for v, rs in ratios.items():
        pts = [r for r in rs if r.keys["alpha"] == alpha]
        y = np.array([r.ratio for r in pts])
        lo = np.array([r.interval[0] for r in pts])
        hi = np.array([r.interval[1] for r in pts])
        ax.errorbar(
            np.array([r.keys["d"] for r in pts], float),
            y,
            yerr=(np.maximum(y - lo, 0), np.maximum(hi - y, 0)),
            marker="o",
            ms=3,
            capsize=2,
            color=colors[v],
            label=variant_label(v),
        )
    ax.axhline(1.0, color="0.5", lw=0.8)
    ax.set_xscale("log")
    ax.set_ylim(0, 1.15)
    ax.grid(True, which="both", alpha=0.3)


def _figure(res: dict[str, Any]):
    from matplotlib.figure import Figure
    from matplotlib.ticker import NullFormatter

    table, fits, ratios = res["records"].table, _count_fits(res), res["ratios"]
    alphas, variants = sorted_values(table, "alpha"), values(table, "variant")
    dims = sorted_values(table, "d")
    colors = {v: f"C{i}" for i, v in enumerate(variants)}
    ncol = len(alphas) + 1
    fig = Figure(figsize=(3.6 * ncol, 9.4), layout="constrained")
    axes = np.asarray(fig.subplots(3, ncol, squeeze=False))
    for c, alpha in enumerate(alphas):
        sub = table.where(alpha=alpha)
        capacity_panel(
            axes[0, c],
            sub,
            series="variant",
            fits=fits,
            fit_key=functools.partial(_fit_key, alpha),
            predict=functools.partial(_predict, alpha),
            label=variant_label,
            colors=colors,
        )
        axes[0, c].set_title(f"α = {alpha:g}")
        _ratio_panel(axes[1, c], ratios, colors, alpha)
        ax = axes[2, c]
        for v in variants:
            xs, vals, _ = seed_matrix(sub.where(variant=v), measure="directions")
            ax.plot(
                xs,
                [v_.mean() / x for v_, x in zip(vals, xs, strict=True)],
                "o-",
                ms=3,
                color=colors[v],
                label=variant_label(v),
            )
        ax.set_xscale("log")
        ax.set_ylim(0, 1.05)
        ax.grid(True, which="both", alpha=0.3)
        ax.set_xlabel("embedding dimension d")
        for r in range(3):
            axes[r, c].set_xticks(dims, [f"{v:g}" for v in dims])
            axes[r, c].xaxis.set_minor_formatter(NullFormatter())
    axes[0, 0].set_ylabel("capacity (count of recovered items)")
    axes[0, 0].legend(fontsize=7, loc="lower right")
    axes[1, 0].set_ylabel("capacity ratio NS / exact (paired)")
    axes[2, 0].set_ylabel("directions orthogonalised / d")
    # Right column: exponents against 1/alpha, and the ratio at the largest d.
    ax = axes[0, -1]
    for v in variants:
        exponent_panel(
            ax,
            [(1 / a, fits.get(variant=v, alpha=a)) for a in alphas],
            color=colors[v],
            label=variant_label(v),
        )
    inv = np.linspace(0, 1.05 / min(alphas), 50)
    ax.plot(inv, 1 + inv / 2, ":", color="0.3", lw=1.5, label="1 + 1/(2α) [seed]")
    ax.set(xlabel="1 / α", ylabel="fitted exponent C (count)", title="exponents")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=7)
    ax = axes[1, -1]
    for v, rs in ratios.items():
        pts = [r for r in rs if r.keys["d"] == max(dims)]
        ax.plot(
            [r.keys["alpha"] for r in pts],
            [r.ratio for r in pts],
            "o-",
            ms=3,
            color=colors[v],
            label=variant_label(v),
        )
    ax.set(ylim=(0, 1.15), xlabel="α", ylabel=f"ratio NS / exact at d = {max(dims)}")
    ax.grid(True, alpha=0.3)
    axes[2, -1].axis("off")
    fig.suptitle(
        f"One population Muon step from W=0: exact polar factor vs Newton-Schulz, "
        f"N={first(table, 'n')}, mean over {seeds(table)} seeds (bars: one s.d.; "
        "ratios: 95% paired bootstrap)\ndashed: per-variant fit d^C; dotted: exact "
        "Muon's predicted slope 1 + 1/(2α) [seed; quoted] through the fitted points",
        fontsize=9,
    )
    return fig


def summary(source: Source) -> FitSummary:
    """Fits, ratios, verdicts and findings of the Newton-Schulz comparison."""
    return _summary(_analyse(source))


def figure(source: Source) -> Any:
    """Capacity, ratio NS / exact and directions against d, per alpha; exponents."""
    return _figure(_analyse(source))


def write(out_dir: str | os.PathLike) -> list[Path]:
    """Figure and fit summary of a run, from its records."""
    return write_outputs(out_dir, "fig2_ns", _analyse(out_dir), _summary, _figure)
