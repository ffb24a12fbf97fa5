"""Figure 1 of Kim et al. (2026): capacity against alpha; critical batch sizes.

From the two parts of a Figure 1 run (:func:`muonjax.record_parts`):

(a) ``population``: the capacity after one population Muon and GD step against
``alpha`` (including ``alpha <= 1``, outside the theory) at a few ``d``, with the
predicted levels ``d^(1 + 1/(2 alpha))`` (Muon) and ``d^(1/(2 alpha))`` (GD) where
``alpha > 1``; per ``alpha > 1`` the count's exponent in ``d``, the second stage
``C_alpha = c1 + c2 / alpha``, and Muon over GD (> 1 claimed for ``alpha > 1``
[seed, Fig. 1 caption]).

(b) ``minibatch``: the critical batch size ``B*`` of the first minibatch step
against ``d`` (:func:`muonjax.analyze_critical_batch`, shared with Figure 3).

References:
    Kim, Nichani, Wu, Bietti, Lee (2026), arXiv 2603.26554, Figure 1; SPEC A.5-A.6.
"""

from __future__ import annotations

import functools
import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from muonjax import theory
from muonjax.engine.parts import read_part
from muonjax.engine.table import Table
from muonjax.gaussian.analysis.critical import CriticalAnalysis
from muonjax.gaussian.analysis.policy import (
    POLICIES,
    claim_text,
    policy_group_fits,
    two_stage_comparisons,
)
from muonjax.gaussian.analysis.tables import per_seed
from muonjax.gaussian.figures._common import (
    Source,
    first,
    load,
    seeds,
    sorted_values,
    values,
    write_outputs,
)
from muonjax.gaussian.figures.critical import findings as critical_findings
from muonjax.gaussian.figures.fig3 import analyses
from muonjax.stats.bootstrap import paired_ratio
from muonjax.stats.slopes import local_log_slopes
from muonjax.stats.summary import FitSummary, SummaryRow
from muonjax.stats.verdict import compare

#: Fit settings and their defaults (the experiment's config overrides them).
SETTINGS = {"n_boot": 500}
#: Rule names as printed.
NAMES = {"gd": "GD", "muon": "Muon"}

MEASURE_NOTE = (
    "Fitted measure: count (the number of recovered items), what the captions call "
    "capacity. Panel (b) also fits the prefix (rows with measure=prefix): a "
    "minibatch's prefix is limited at small B by the longest run 1..k the batch "
    "holds, so its rise is noisy. Prefix and weighted accuracy are in the records; "
    "weighted accuracy (frequency mass, at most 1) has no scaling law in SPEC A.5."
)


def _parts(source: Source) -> dict[str, Any]:
    rec = load(source, SETTINGS)
    out = rec.out_dir
    pop, mini = (
        read_part(out, name) if out is not None else rec.table.where(part=name)
        for name in ("population", "minibatch")
    )
    n_boot = rec.settings["n_boot"]
    return {"population": pop, "found": analyses(mini, n_boot), "n_boot": n_boot}


#: The claim (and so the policy: measure, window, tolerance) of each rule's exponent;
#: the same as Figure 2's and the checks'.
RULE_CLAIMS = {"muon": "muon_one_step", "gd": "gd_one_step"}


def _predict(g: Mapping[str, Any], *, rule: str, above: list[float]) -> float | None:
    """The rule's one-step exponent at the group's alpha, for the alphas > 1."""
    if g["alpha"] not in above:
        return None
    return float(theory.one_step_exponent(rule, g["alpha"]))


def _exponent_fits(table: Table, above: list[float], n_boot: int):
    """Per rule, the policy fits of the alphas > 1 (measure, window, tolerance of
    the claim's policy, :data:`muonjax.gaussian.analysis.policy.POLICIES`)."""
    out = {}
    for rule in (r for r in values(table, "rule") if r in RULE_CLAIMS):
        sub = table.where(rule=rule)
        fits = policy_group_fits(
            sub,
            groups=("alpha",),
            policy=POLICIES[RULE_CLAIMS[rule]],
            predict=functools.partial(_predict, rule=rule, above=above),
            n_boot=n_boot,
        )
        out[rule] = {k[0]: v for k, v in fits.items()}
    return out


def _muon_over_gd(table: Table, alpha: float, d: int, n_boot: int):
    return paired_ratio(
        per_seed(table, "count", rule="muon", alpha=alpha, d=d),
        per_seed(table, "count", rule="gd", alpha=alpha, d=d),
        n_boot=n_boot,
    )


def population_analysis(
    table: Table, *, n_boot: int
) -> tuple[list[SummaryRow], dict[str, Any], list[str]]:
    """Rows, fits and findings of panel (a).

    Per ``alpha > 1`` and rule: the exponent in ``d`` under the claim's policy (the
    one Figure 2 and the checks use: Muon's count, GD's prefix; the window of
    testable sizes from where the local slopes settle) against ``1 + 1/(2 alpha)``
    (Muon) or ``1/(2 alpha)`` (GD), and the two-stage fit. Per ``alpha``: Muon's
    count over GD's at the largest ``d`` (> 1 claimed for ``alpha > 1``), paired
    over seeds. ``alpha <= 1`` (outside the theory) is reported in findings only.
    """
    rules = values(table, "rule")
    dims, alphas = sorted_values(table, "d"), sorted_values(table, "alpha")
    rows: list[SummaryRow] = []
    fits: dict[str, Any] = {}
    findings: list[str] = []
    above = [a for a in alphas if a > 1]
    per_rule = _exponent_fits(table, above, n_boot) if len(dims) >= 2 else {}
    for rule, per_alpha in per_rule.items():
        claim = RULE_CLAIMS[rule]
        tag = (
            "1 + 1/(2 alpha) [seed, quoted]"
            if rule == "muon"
            else "1/(2 alpha) [derived]"
        )
        measure = POLICIES[claim].measure
        for alpha, pf in per_alpha.items():
            fits[f"{rule} alpha={alpha:g}"] = pf.fit
            rows.append(
                SummaryRow(
                    claim_text(
                        claim, f"one population {NAMES[rule]} step ~ d^C, C = {tag}"
                    ),
                    f"rule={rule}, alpha={alpha:g}, measure={measure}",
                    pf.comparison,
                )
            )
        if len(per_alpha) >= 2:
            (c1, c2), two = two_stage_comparisons(per_alpha, rule=rule, measure=measure)
            fits[f"{rule} two_stage"] = two
            text = claim_text(
                "two_stage",
                f"C_alpha = c1 + c2 / alpha, {NAMES[rule]} [seed for the fit form; "
                "derived values]",
            )
            group = f"rule={rule}, alphas={above}, measure={measure}"
            rows += [SummaryRow(text, group, c1), SummaryRow(text, group, c2)]
            findings.append(
                f"{NAMES[rule]} ({measure}, policy window per alpha): "
                + "; ".join(
                    f"alpha={a:g}: C = {pf.fit.exponent:.3g} on d = "
                    f"{', '.join(f'{v:g}' for v in pf.window.window) or 'none'} "
                    f"(predicted {float(theory.one_step_exponent(rule, a)):.3g}; "
                    f"local slopes {pf.window.slopes_text()})"
                    for a, pf in per_alpha.items()
                )
                + f". Second stage: c1 = {two.c1:.3g} [{two.c1_interval[0]:.3g}, "
                f"{two.c1_interval[1]:.3g}], c2 = {two.c2:.3g} "
                f"[{two.c2_interval[0]:.3g}, {two.c2_interval[1]:.3g}]."
            )
    for alpha in (a for a in alphas if a <= 1):
        for rule in rules:
            y = [per_seed(table, "count", rule=rule, alpha=alpha, d=d) for d in dims]
            mean = [float(np.mean(v)) for v in y]
            findings.append(
                f"alpha={alpha:g} (outside the theory, alpha <= 1): {NAMES[rule]}'s "
                f"mean count over d={dims}: "
                + ", ".join(f"{m:.3g}" for m in mean)
                + " (local slopes "
                + ", ".join(
                    "-" if v is None else f"{v:.2f}"
                    for v in local_log_slopes(dims, mean)
                )
                + ")."
            )
    if not {"gd", "muon"} <= set(rules):
        return rows, fits, findings
    below = [
        f"alpha={a:g}, d={d}: {est:.3g} [{lo:.3g}, {hi:.3g}]"
        for a in alphas
        for d in dims
        for est, (lo, hi) in [_muon_over_gd(table, a, d, n_boot)]
        if hi < 1
    ]
    if below:
        findings.append(
            "GD recovers more items than Muon (Muon / GD count, 95% paired "
            "bootstrap interval below 1) at " + "; ".join(below) + "."
        )
    ratios = []
    for alpha in alphas:
        est, (lo, hi) = _muon_over_gd(table, alpha, dims[-1], n_boot)
        ratios.append(f"{est:.3g} [{lo:.3g}, {hi:.3g}] at alpha={alpha:g}")
        if alpha > 1:
            rows.append(
                SummaryRow(
                    claim_text(
                        "muon_beats_gd",
                        "Muon improves capacity over GD when alpha > 1 [seed, Fig. 1 "
                        "caption]",
                    ),
                    f"d={dims[-1]}, alpha={alpha:g}, measure=count",
                    compare(
                        est,
                        (lo, hi),
                        1.0,
                        relation=">",
                        tolerance=0.0,
                        max_width=math.inf,
                        label="mean count Muon / GD",
                    ),
                )
            )
    findings.append(
        f"Muon / GD count at d={dims[-1]}: " + "; ".join(ratios) + ". The "
        f"predicted ratio of the levels is d^(1 + 1/(2 alpha)) / d^(1/(2 alpha)) "
        f"= d = {dims[-1]} for every alpha > 1 (up to constants)."
    )
    return rows, fits, findings


def _summary(res: dict[str, Any]) -> FitSummary:
    pop, found = res["population"], res["found"]
    rows, fits, findings = population_analysis(pop, n_boot=res["n_boot"])
    for an in found.values():
        for claim, group, comp in an.comparisons():
            if claim.startswith(claim_text("critical_batch")):
                rows.append(SummaryRow(claim, group, comp))
        fits[f"critical_{an.measure}"] = an
    findings = [MEASURE_NOTE, *findings, *critical_findings(found["count"])]
    findings += [
        f for f in critical_findings(found["prefix"]) if "(prefix): B* = " in f
    ]
    return FitSummary(
        experiment="fig1",
        rows=rows,
        fits=fits,
        findings=findings,
        meta={
            "n": int(first(pop, "n")),
            "population_dims": sorted_values(pop, "d"),
            "alphas": sorted_values(pop, "alpha"),
            "critical_dims": found["count"].dims,
            "critical_alpha": found["count"].alpha,
            "seeds": seeds(pop),
            "fit_b": "min(a B^(1/alpha), plateau) per (rule, d); B* exponent "
            "from a line through log B*(d), bootstrap carried through both fits",
            "tolerances": "capacity exponents 0.1 (max interval width 0.25); "
            "B* exponents alpha x 0.1 (max width alpha x 0.25)",
        },
    )


def _panel_alpha(ax: Any, table: Table) -> None:
    alphas = np.asarray(sorted_values(table, "alpha"))
    styles = {"muon": ("-", "o"), "gd": ("--", "s")}
    levels: list[float] = []
    for i, d in enumerate(sorted_values(table, "d")):
        color = f"C{i % 10}"
        for rule in values(table, "rule"):
            ls, mk = styles[rule]
            y = np.asarray(
                [per_seed(table, "count", rule=rule, alpha=a, d=d) for a in alphas]
            )
            mean, sd = y.mean(axis=1), y.std(axis=1, ddof=1)
            keep = mean > 0
            levels += mean[keep].tolist()
            ax.errorbar(
                alphas[keep],
                mean[keep],
                yerr=(np.minimum(sd, mean * (1 - 1e-3))[keep], sd[keep]),
                ls=ls,
                marker=mk,
                ms=3,
                capsize=2,
                color=color,
                label=f"{NAMES[rule]}, d={d}",
            )
            grid = np.linspace(max(1.05, alphas.min()), alphas.max(), 50)
            if grid[0] < grid[-1]:
                pred = d ** np.asarray(theory.one_step_exponent(rule, grid))
                ax.plot(grid, pred, ls=ls, color=color, lw=0.8, alpha=0.45)
    ax.axvspan(alphas.min() - 0.1, 1.0, color="0.9", zorder=0)
    ax.text(0.02, 0.02, "alpha <= 1:\noutside the theory", transform=ax.transAxes)
    ax.set_yscale("log")
    if levels:
        ax.set_ylim(0.5 * min(levels), None)
    ax.set(xlabel="alpha", ylabel="capacity (count of recovered items)")
    ax.set_title(
        "(a) one population step; thin: predicted levels\n"
        "Muon d^(1+1/(2 alpha)) [seed, quoted], GD d^(1/(2 alpha)) [derived], "
        "no constant",
        fontsize=8,
    )
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=6, ncol=2, loc="upper right")


def _panel_ratio(ax: Any, table: Table) -> None:
    alphas = np.asarray(sorted_values(table, "alpha"))
    for i, d in enumerate(sorted_values(table, "d")):
        color = f"C{i % 10}"
        est = np.asarray([_muon_over_gd(table, a, d, 200) for a in alphas], object)
        e = np.asarray([v[0] for v in est], float)
        lo = np.asarray([v[1][0] for v in est], float)
        hi = np.asarray([v[1][1] for v in est], float)
        ok = np.isfinite(e) & np.isfinite(lo) & np.isfinite(hi)
        ax.errorbar(
            alphas[ok],
            e[ok],
            yerr=(e[ok] - lo[ok], hi[ok] - e[ok]),
            marker="o",
            ms=3,
            capsize=2,
            color=color,
            label=f"d={d}",
        )
        ax.axhline(d, color=color, ls=":", lw=0.8)
    ax.axhline(1.0, color="k", lw=0.8)
    ax.axvspan(alphas.min() - 0.1, 1.0, color="0.9", zorder=0)
    ax.set(yscale="log", xlabel="alpha", ylabel="mean count, Muon / GD")
    ax.set_title(
        "(a') Muon over GD (95% paired bootstrap)\ndotted: predicted ratio of "
        "levels, d (no constant)",
        fontsize=8,
    )
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7)


def _panel_critical(ax: Any, analysis: CriticalAnalysis) -> None:
    for i, rule in enumerate(analysis.rules):
        color = f"C{i + 3}"
        ok = [f for d in analysis.dims if (f := analysis.fits[(rule, d)]).ok]
        if not ok:
            continue
        d = np.asarray([f.d for f in ok], float)
        bp = np.asarray([f.fit.breakpoint for f in ok])
        lo = np.asarray([f.fit.breakpoint_interval[0] for f in ok])
        hi = np.asarray([f.fit.breakpoint_interval[1] for f in ok])
        crit = analysis.critical_exponents[rule]
        name = "SGD" if rule == "gd" else "Muon"
        ax.errorbar(
            d,
            bp,
            yerr=(bp - lo, hi - bp),
            marker="o",
            ls="",
            capsize=3,
            color=color,
            label=f"{name}: fitted B*",
        )
        if not crit.ok:
            continue
        grid = np.geomspace(d.min(), d.max(), 20)
        ax.plot(
            grid,
            crit.predict(grid),
            color=color,
            lw=1.2,
            label=f"fit: d^{crit.exponent:.2f} "
            f"[{crit.interval[0]:.2f}, {crit.interval[1]:.2f}]",
        )
        pred = float(theory.critical_batch_exponent(rule, analysis.alpha))
        # Anchor the predicted slope at the fitted line's centre: the prediction
        # has no constant.
        mid = math.exp(np.mean(np.log(crit.x)))
        ax.plot(
            grid,
            float(crit.predict(mid)) * (grid / mid) ** pred,
            color=color,
            ls="--",
            lw=1.0,
            label=f"predicted slope {pred:g} "
            + ("(alpha + 1/2)" if rule != "gd" else "(1/2)")
            + " [derived]",
        )
    ax.set(xscale="log", yscale="log", xlabel="d")
    ax.set_xticks(analysis.dims, [str(v) for v in analysis.dims])
    ax.minorticks_off()
    ax.set_ylabel(f"critical batch size B* ({analysis.measure})")
    ax.set_title(
        f"(b) first minibatch step, alpha={analysis.alpha:g}: B* where\n"
        "min(a B^(1/alpha), plateau) breaks (95% bootstrap)",
        fontsize=8,
    )
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=6, loc="upper left")


def _figure(res: dict[str, Any]):
    from matplotlib.figure import Figure

    pop = res["population"]
    fig = Figure(figsize=(15.0, 4.8), layout="constrained")
    fig.suptitle(
        f"Kim et al. (2026) Fig. 1: N={first(pop, 'n')}, mean over {seeds(pop)} "
        "seeds, bars: one standard deviation unless stated",
        fontsize=9,
    )
    ax_a, ax_r, ax_b = fig.subplots(1, 3)
    _panel_alpha(ax_a, pop)
    if {"gd", "muon"} <= set(values(pop, "rule")):
        _panel_ratio(ax_r, pop)
    else:
        ax_r.set_axis_off()
    _panel_critical(ax_b, res["found"]["count"])
    return fig


def summary(source: Source) -> FitSummary:
    """The fit summary of Figure 1 (panel (a) and the B* rows of panel (b))."""
    return _summary(_parts(source))


def figure(source: Source) -> Any:
    """Panels (a), (a') and (b)."""
    return _figure(_parts(source))


def write(out_dir: str | os.PathLike) -> list[Path]:
    """Figure and fit summary of a run, from its records."""
    return write_outputs(out_dir, "fig1", _parts(out_dir), _summary, _figure)
