"""The ``orth_signgd`` figure and fit summary: the sign rules against Muon.

From the records of :func:`~muonjax.orthogonal.signgd_sweep` (``rule x alpha x
scale``, a random orthonormal basis per seed): TRA-SignGD(eta) against Muon(2 eta)
(Thm 6.3, exact), and SignGD in the random basis against Muon at matched update
norms and at every common step multiplier, with its imbalance over the frequency
groups at matched progress ([seed]; bootstraps over the bases). :func:`figure`
draws the excess against step and the per-group excess at the last step.

References:
    SPEC B.3, Thm 6.3 [summary] and the SignGD row [seed].
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from muonjax.engine.table import Table
from muonjax.orthogonal.analysis import (
    IMBALANCE_PROGRESS,
    imbalance_exponent,
    progress_index,
)
from muonjax.orthogonal.curves import (
    cell_curves,
    column_values,
    group_curves,
    num_groups,
    num_queries,
)
from muonjax.orthogonal.figures.style import (
    RULE_LABELS,
    new_figure,
    not_consistent,
    positive,
)
from muonjax.stats.bootstrap import bootstrap_mean
from muonjax.stats.summary import FitSummary, SummaryRow
from muonjax.stats.verdict import compare

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def summary(table: Table, experiment: str = "orth_signgd") -> FitSummary:
    """TRA-SignGD(eta) against Muon(2 eta) (Thm 6.3); SignGD in a random basis
    against Muon at matched update norms ([seed]).

    References:
        SPEC B.3, Thm 6.3 [summary] and the SignGD row [seed].
    """
    rows: list[SummaryRow] = []
    findings: list[str] = []
    scales = column_values(table, "scale")
    rules = column_values(table, "rule")
    for a in column_values(table, "alpha"):
        if {"muon", "tra_signgd"} <= set(rules):
            gaps, ctrl = [], []
            for s in scales:
                if 2 * s not in scales:
                    continue
                _, tra = cell_curves(
                    table, "excess", rule="tra_signgd", alpha=a, scale=s
                )
                _, mu2 = cell_curves(table, "excess", rule="muon", alpha=a, scale=2 * s)
                _, mu1 = cell_curves(table, "excess", rule="muon", alpha=a, scale=s)
                scale0 = tra[0, 0]
                gaps.append(np.abs(tra[0] - mu2[0]).max() / scale0)
                ctrl.append(np.abs(tra[0] - mu1[0]).max() / scale0)
            if gaps:
                worst = float(max(gaps))
                rows.append(
                    SummaryRow(
                        "TRA-SignGD(eta) follows Muon(2 eta) (Thm 6.3) [summary]",
                        f"alpha={a}, {len(gaps)} step sizes",
                        compare(
                            worst,
                            (worst, worst),
                            0.0,
                            relation="<=",
                            tolerance=0.05,
                            max_width=math.inf,
                            label="max over recorded t of |L_TRA - L_Muon(2 eta)| / "
                            "(L0 - L*), worst step size",
                            notes=["deterministic; 'follows' read as within 0.05"],
                        ),
                    )
                )
                findings.append(
                    f"alpha={a}: TRA-SignGD(eta) stays within {worst:.2g} (relative "
                    f"to the initial excess) of Muon(2 eta), against "
                    f"{min(ctrl):.2g} or more from Muon(eta)."
                )
        if {"muon", "signgd"} <= set(rules) and 1.0 in scales:
            _, sg = cell_curves(table, "excess", rule="signgd", alpha=a, scale=1.0)
            _, mu = cell_curves(table, "excess", rule="muon", alpha=a, scale=1.0)
            ratio = sg[:, -1] / mu[0, -1]
            mean, (lo, hi) = bootstrap_mean(ratio)
            rows.append(
                SummaryRow(
                    "SignGD in a random basis does not match Muon without the oracle "
                    "[seed]",
                    f"alpha={a}, matched Frobenius step",
                    compare(
                        mean,
                        (lo, hi),
                        1.0,
                        relation=">",
                        tolerance=1.0,
                        max_width=math.inf,
                        label="SignGD excess / Muon excess at T",
                        notes=[
                            f"bootstrap over {ratio.size} random bases; 'does not "
                            "match' read as > 2x"
                        ],
                    ),
                )
            )
            # At matched progress (as in groups_summary): per run, the first step
            # where its total excess is down to IMBALANCE_PROGRESS of the initial.
            _, sgg = group_curves(table, rule="signgd", alpha=a, scale=1.0)
            _, mug = group_curves(table, rule="muon", alpha=a, scale=1.0)
            i_s = [progress_index(e) for e in sg]
            i_m = progress_index(mu[0])
            e_s = imbalance_exponent(
                np.stack([sgg[k, i, :] for k, i in enumerate(i_s)])
            )
            e_m = imbalance_exponent(mug[:1, i_m, :])
            lo_s, hi_s = e_s.interval if e_s.ok else (e_s.exponent, e_s.exponent)
            rows.append(
                SummaryRow(
                    "SignGD in a random basis progresses unevenly over groups, unlike "
                    "Muon [seed; summary]",
                    f"alpha={a}, matched Frobenius step",
                    compare(
                        e_s.exponent - e_m.exponent,
                        (lo_s - e_m.exponent, hi_s - e_m.exponent),
                        0.0,
                        relation=">",
                        tolerance=0.5,
                        max_width=math.inf,
                        label="imbalance exponent (excess_g ~ g^e at matched "
                        "progress): SignGD - Muon",
                        notes=[
                            "bootstrap over random bases; tolerance 0.5; at the "
                            f"first step where the excess is down to "
                            f"{IMBALANCE_PROGRESS:g} of its initial value"
                        ],
                    ),
                )
            )
            # At every common multiplier s: SignGD(s x matched) against Muon(s eta).
            same: dict[float, tuple[float, tuple[float, float]]] = {}
            for s in scales:
                _, sgs = cell_curves(table, "excess", rule="signgd", alpha=a, scale=s)
                _, mus = cell_curves(table, "excess", rule="muon", alpha=a, scale=s)
                same[s] = bootstrap_mean(sgs[:, -1] / mus[0, -1])
            s_min = min(same, key=lambda s: same[s][0])
            mean, (lo, hi) = same[s_min]
            rows.append(
                SummaryRow(
                    "SignGD in a random basis does not match Muon without the oracle "
                    "[seed]",
                    f"alpha={a}, every common step multiplier",
                    compare(
                        mean,
                        (lo, hi),
                        1.0,
                        relation=">",
                        tolerance=1.0,
                        max_width=math.inf,
                        label="min over s of SignGD(s x matched) / Muon(s eta) excess "
                        "at T",
                        notes=[
                            f"the minimum is at s = {s_min:g}; bootstrap over bases"
                        ],
                    ),
                )
            )
            findings.append(
                f"alpha={a}: SignGD's excess at T over Muon's at the same step "
                "multiplier: "
                + ", ".join(f"{s:g}x: {v[0]:.3g}" for s, v in same.items())
                + (
                    " (SignGD is behind at every common multiplier)."
                    if all(v[0] > 1 for v in same.values())
                    else " (SignGD is ahead at some multiplier)."
                )
            )
    findings += not_consistent(rows)
    return FitSummary(
        experiment=experiment,
        rows=rows,
        fits={},
        findings=findings,
        meta={
            "measure": "excess loss L - L* (records columns 'excess', 'excess_g*')",
            "scales": scales,
            "matched step": "SignGD's step gives its first update the Frobenius norm "
            "of Muon's (step 'sign_lr')",
        },
    )


def figure(table: Table) -> Figure:
    """Left: excess against step for Muon(eta), Muon(2 eta), TRA-SignGD(eta),
    SignGD in a random basis (mean and range over bases) and GD. Right: per-group
    excess at the last step (flat = uniform progress). One row per noise level."""
    alphas = column_values(table, "alpha")
    rules = column_values(table, "rule")
    scales = column_values(table, "scale")
    m = num_groups(table)
    fig = new_figure(figsize=(11.0, 4.2 * len(alphas)))
    axes = fig.subplots(len(alphas), 2, squeeze=False)
    grays = ["0.75", "0.55", "0.35", "0.15", "0.0"]
    groups = np.arange(1, m + 1)
    for i, a in enumerate(alphas):
        ax, bx = axes[i]
        lines: Sequence[tuple[str, float, str, str]] = [
            ("muon", 1.0, "C3", "-"),
            ("muon", 2.0, "C1", "-"),
            ("tra_signgd", 1.0, "C2", "--"),
            ("gd", 1.0, "C0", "-"),
        ]
        for rule, s, color, ls in lines:
            if rule not in rules or s not in scales:
                continue
            st, y = cell_curves(table, "excess", rule=rule, alpha=a, scale=s)
            _, lr = cell_curves(table, "lr", rule=rule, alpha=a, scale=s)
            ax.plot(
                np.maximum(st, 0.8),
                positive(y.mean(axis=0)),
                ls,
                color=color,
                lw=1.6,
                label=f"{RULE_LABELS[rule]}, eta={lr[0, 0]:.3g}",
            )
        if "signgd" in rules:
            for j, s in enumerate(scales):
                st, y = cell_curves(table, "excess", rule="signgd", alpha=a, scale=s)
                x = np.maximum(st, 0.8)
                color = grays[min(j, len(grays) - 1)]
                ax.plot(
                    x,
                    positive(y.mean(axis=0)),
                    color=color,
                    lw=1.1,
                    label=f"SignGD random basis, {s:g}x matched step",
                )
                ax.fill_between(
                    x,
                    positive(y.min(axis=0)),
                    positive(y.max(axis=0)),
                    color=color,
                    alpha=0.2,
                    lw=0,
                )
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("step t")
        ax.set_ylabel("excess loss L - L*")
        ax.set_title(
            f"label noise {a:g}: TRA-SignGD(eta) vs Muon(2 eta), and SignGD", fontsize=9
        )
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=6.5, loc="lower left")
        for rule, s, color in (
            ("muon", 1.0, "C3"),
            ("tra_signgd", 0.5, "C2"),
            ("signgd", 1.0, "k"),
            ("gd", 1.0, "C0"),
        ):
            if rule not in rules or s not in scales:
                continue
            _, g = group_curves(table, rule=rule, alpha=a, scale=s)
            last = g[:, -1, :]
            y = last.mean(axis=0)
            if last.shape[0] > 1 and rule == "signgd":
                err = np.stack([y - last.min(axis=0), last.max(axis=0) - y])
                bx.errorbar(
                    groups,
                    positive(y),
                    yerr=err,
                    fmt="o-",
                    color=color,
                    ms=4,
                    capsize=2,
                    label=f"{RULE_LABELS[rule]} ({s:g}x)",
                )
            else:
                bx.plot(
                    groups,
                    positive(y),
                    "o-",
                    color=color,
                    ms=4,
                    label=f"{RULE_LABELS[rule]} ({s:g}x)",
                )
        bx.set_yscale("log")
        bx.set_xlabel("frequency group g (1 = most frequent)")
        bx.set_ylabel("group excess loss at the last step")
        bx.set_title("uniform progress: a flat line is Muon-like", fontsize=9)
        bx.grid(True, alpha=0.3)
        bx.legend(fontsize=7)
    k = num_queries(table)
    d = int(table.data["d"][0]) or k
    n_seeds = np.unique(table.data["seed"]).size
    fig.suptitle(
        f"SignGD and the task-aligned oracle: K={k}, M={m}, d={d}, {n_seeds} random "
        "bases (Li et al. 2026, Thm 6.3)",
        fontsize=10,
    )
    return fig
