"""Figure 3 of Kim et al. (2026): one minibatch Muon and SGD step against B.

From the records of :func:`muonjax.critical_batch_sweep`: capacity against ``B`` per
``d`` with the information-theoretic line (expected distinct items in the batch,
``~ B^(1/alpha)``), the ceilings ``d^(1 + 1/(2 alpha))`` (Muon) and
``d^(1/(2 alpha))`` (SGD), and the fitted critical batch sizes ``B*`` at the
intersections (:func:`muonjax.analyze_critical_batch`, count as in the captions, the
prefix beside it).

Predictions (SPEC A.5): capacity <= distinct items ``~ B^(1/alpha)`` [seed names the
line; derived formula]; Muon ceiling ``d^(1 + 1/(2 alpha))`` [seed, quoted]; SGD
ceiling ``d^(1/(2 alpha))`` [derived]; ``B* ~ d^(alpha + 1/2)`` (Muon) and ``d^(1/2)``
(SGD) [derived from the seed's "intersections"].

References:
    Kim, Nichani, Wu, Bietti, Lee (2026), arXiv 2603.26554, Figure 3; SPEC A.5-A.6.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from muonjax import theory
from muonjax.engine.table import Table
from muonjax.gaussian.analysis.critical import (
    RULE_NAMES,
    CriticalAnalysis,
    analyze_critical_batch,
)
from muonjax.gaussian.analysis.critical_curves import MEASURE_CEILINGS
from muonjax.gaussian.figures._common import (
    Source,
    first,
    load,
    seeds,
    sorted_values,
    write_outputs,
)
from muonjax.gaussian.figures.critical import findings
from muonjax.plotting import MEASURE_LABELS, group_stats
from muonjax.stats.summary import FitSummary, SummaryRow

#: Fit settings and their defaults (the experiment's config overrides them).
SETTINGS = {"n_boot": 500}
#: The measures fitted: ``count`` is what the captions call capacity (primary);
#: ``prefix`` (the theorems' "all items of rank up to d_t") is fitted beside it.
FIT_MEASURES = ("count", "prefix")

MEASURE_NOTE = (
    "Fitted measure: count (the number of recovered items), what the captions call "
    "capacity; its rising branch is the batch's distinct items, the "
    "information-theoretic line. The prefix is fitted beside it (rows with "
    "measure=prefix), as information: its ceiling at small B is the longest run "
    "1..k the batch happens to hold (often 0 or 1 item; the red line in the lower "
    "panels), which rises more slowly and more raggedly than B^(1/alpha), so the "
    "fixed-slope fit is a rougher model there and many seeds are 0 at small B; for "
    "SGD the checks found the prefix follows the d^(1/(2 alpha)) ceiling better than "
    "the count. Weighted accuracy (the frequency mass recovered) is recorded, not "
    "fitted: it is bounded by 1 and dominated by the head items, and SPEC A.5 gives "
    "it no scaling law."
)


def analyses(table: Table, n_boot: int) -> dict[str, CriticalAnalysis]:
    """The critical-batch analysis of the records, per fitted measure."""
    return {
        m: analyze_critical_batch(table, measure=m, n_boot=n_boot) for m in FIT_MEASURES
    }


def _analyse(source: Source) -> dict[str, Any]:
    rec = load(source, SETTINGS)
    return {"table": rec.table, "found": analyses(rec.table, rec.settings["n_boot"])}


def _summary(res: dict[str, Any]) -> FitSummary:
    table, found = res["table"], res["found"]
    rows = [
        SummaryRow(claim, group, comp)
        for an in found.values()
        for claim, group, comp in an.comparisons()
    ]
    return FitSummary(
        experiment="fig3",
        rows=rows,
        fits={f"critical_{m}": an for m, an in found.items()},
        findings=[MEASURE_NOTE, *(f for an in found.values() for f in findings(an))],
        meta={
            "n": int(first(table, "n")),
            "alpha": found["count"].alpha,
            "dims": found["count"].dims,
            "seeds": seeds(table),
            "batch_sizes": sorted_values(table, "batch_size"),
            "fit": "min(a B^(1/alpha), plateau) per (rule, d), slope fixed at "
            "1/alpha; B* exponent from a line through log B*(d) with the bootstrap "
            "carried through both fits",
            "tolerances": "capacity exponents 0.1 (max interval width 0.25); B* "
            "exponents alpha x 0.1 (max width alpha x 0.25), since B* = "
            "(plateau / a)^alpha",
        },
    )


def _ceiling_scale(analysis: CriticalAnalysis, rule: str, dims: list[int]):
    """One constant ``c`` of the predicted ceiling ``c d^C``, fitted (in log space) to
    the measured population steps: the prediction has no constant."""
    exp = float(theory.one_step_exponent(rule, analysis.alpha))
    pops = [analysis.curves[(rule, d)].population for d in dims]
    means = [0.0 if p is None else float(np.mean(p)) for p in pops]
    if not all(m > 0 for m in means):
        return None
    logs = [np.log(m) - exp * np.log(d) for m, d in zip(means, dims, strict=True)]
    return float(np.exp(np.mean(logs)))


def _information_line(ax: Any, analysis: CriticalAnalysis, rule, table, b) -> None:
    grid = np.geomspace(b.min(), b.max(), 100)
    alpha, measure = analysis.alpha, analysis.measure
    if measure == "count":
        expected = theory.expected_distinct_items(int(first(table, "n")), alpha, grid)
        ax.plot(
            grid,
            expected,
            color="red",
            ls="--",
            lw=1.2,
            label="E[distinct items in batch] [derived]",
        )
        ax.plot(
            grid,
            theory.distinct_items_scaling(grid, alpha),
            color="k",
            ls=":",
            lw=0.8,
            label=f"B^(1/alpha), alpha={alpha:g}",
        )
        return
    stats = group_stats(
        table.where(rule=rule), ("batch_size",), MEASURE_CEILINGS[measure]
    )
    bs = np.asarray([k[0] for k in stats.keys], float)
    ok = (bs > 0) & (stats.mean > 0)
    (line,) = ax.plot(
        bs[ok],
        stats.mean[ok],
        color="red",
        ls="--",
        lw=1.2,
        label=f"{measure} of the batch itself (mean)",
    )
    ax.legend(handles=[line], fontsize=7, loc="upper left")


def critical_panel(
    ax: Any, analysis: CriticalAnalysis, rule: str, table: Table, *, show_line=True
) -> None:
    """One panel: the measure against B per d, ceilings, B*, information line."""
    dims = [d for d in analysis.dims if (rule, d) in analysis.curves]
    ceiling_exp = float(theory.one_step_exponent(rule, analysis.alpha))
    scale = _ceiling_scale(analysis, rule, dims)
    b_all: np.ndarray = np.zeros(0)
    levels: list[float] = []
    for i, d in enumerate(dims):
        color = f"C{i % 10}"
        curve, fit = analysis.curves[(rule, d)], analysis.fits[(rule, d)]
        b = curve.batch_sizes
        b_all = b if b.size > b_all.size else b_all
        mean, sd = curve.values.mean(axis=1), curve.values.std(axis=1, ddof=1)
        keep = mean > 0
        levels += mean[keep].tolist()
        ax.errorbar(
            b[keep],
            mean[keep],
            yerr=(np.minimum(sd, mean * (1 - 1e-3))[keep], sd[keep]),
            marker="o",
            ms=3,
            capsize=2,
            color=color,
            label=f"d={d}",
        )
        if curve.population is not None and np.mean(curve.population) > 0:
            ax.axhline(np.mean(curve.population), color=color, ls=":", lw=1)
        if scale is not None:
            ax.axhline(scale * d**ceiling_exp, color=color, ls="--", lw=0.8, alpha=0.5)
        if fit.ok:
            lo, hi = fit.fit.breakpoint_interval
            bp = fit.fit.breakpoint
            ax.errorbar(
                [bp],
                [fit.fit.plateau],
                xerr=([bp - lo], [hi - bp]),
                marker="X",
                ms=8,
                color=color,
                mec="k",
                capsize=3,
            )
    if show_line and b_all.size:
        _information_line(ax, analysis, rule, table, b_all)
    ax.set_xscale("log")
    ax.set_yscale("log")
    if levels:
        # Limits from the means: an error bar reaching below 0 is cut by the axis.
        ax.set_ylim(0.5 * min(levels), 2.0 * max(levels))
    ax.grid(True, which="both", alpha=0.3)
    tag = "[seed, quoted]" if rule != "gd" else "[derived]"
    ax.set_title(f"{RULE_NAMES[rule]}: ceiling c d^{ceiling_exp:.3g} {tag}", fontsize=9)


def _figure(res: dict[str, Any]):
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

    table, found = res["table"], res["found"]
    rules = list(found["count"].rules)
    fig = Figure(figsize=(4.5 * len(rules), 8.0), layout="constrained")
    fig.suptitle(
        f"Kim et al. (2026) Fig. 3: one minibatch step from W=0, N="
        f"{first(table, 'n')}, alpha={found['count'].alpha:g}\nmean over "
        f"{seeds(table)} seeds, bars: one standard deviation; B* bars: 95% bootstrap "
        "interval",
        fontsize=9,
    )
    axes = np.asarray(fig.subplots(2, len(rules), squeeze=False))
    for r, measure in enumerate(FIT_MEASURES):
        for c, rule in enumerate(rules):
            critical_panel(axes[r, c], found[measure], rule, table)
            if r == 1:
                axes[r, c].set_xlabel("batch size B")
            if c == 0:
                axes[r, c].set_ylabel(MEASURE_LABELS[measure])
    handles, _ = axes[0, -1].get_legend_handles_labels()
    extra = [
        Line2D([], [], color="gray", ls=":", label="one population step (measured)"),
        Line2D([], [], color="gray", ls="--", alpha=0.5, label="c d^C, c fitted to it"),
        Line2D([], [], color="gray", marker="X", ls="", mec="k", label="fitted B*"),
    ]
    fig.legend(
        handles=[*handles, *extra], fontsize=8, loc="outside lower center", ncol=4
    )
    return fig


def summary(source: Source) -> FitSummary:
    """The fit summary of Figure 3 (all claims, both measures)."""
    return _summary(_analyse(source))


def figure(source: Source) -> Any:
    """Capacity (count, prefix) against B per rule, with ceilings and B*."""
    return _figure(_analyse(source))


def write(out_dir: str | os.PathLike) -> list[Path]:
    """Figure and fit summary of a run, from its records."""
    return write_outputs(out_dir, "fig3", _analyse(out_dir), _summary, _figure)
