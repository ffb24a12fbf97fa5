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

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from muonjax.engine.table import Table
from muonjax.orthogonal.analysis import group_excess_at_progress
from muonjax.orthogonal.claims.signs import (
    every_multiplier_row,
    imbalance_row,
    signgd_excess_row,
    tra_control_row,
    tra_gap_row,
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
from muonjax.stats.summary import FitSummary, SummaryRow

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def summary(table: Table, experiment: str = "orth_signgd") -> FitSummary:
    """TRA-SignGD(eta) against Muon(2 eta) (Thm 6.3); SignGD in a random basis
    against Muon at matched update norms ([seed]), by the checks' rows
    (:func:`~muonjax.orthogonal.claims.signs.tra_gap_row`,
    :func:`~muonjax.orthogonal.claims.signs.signgd_excess_row`,
    :func:`~muonjax.orthogonal.claims.signs.imbalance_row`,
    :func:`~muonjax.orthogonal.claims.signs.every_multiplier_row`).

    References:
        SPEC B.3, Thm 6.3 [summary] and the SignGD row [seed].
    """
    rows: list[SummaryRow] = []
    findings: list[str] = []
    scales = column_values(table, "scale")
    rules = column_values(table, "rule")
    tra_claim = "TRA-SignGD(eta) follows Muon(2 eta) (Thm 6.3) [summary]"
    sign_claim = (
        "SignGD in a random basis does not match Muon without the oracle: higher "
        "loss and uneven progress over groups [seed]"
    )
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
                group = f"alpha={a}, {len(gaps)} step sizes"
                rows.append(
                    SummaryRow(
                        tra_claim,
                        group,
                        tra_gap_row(
                            gaps, where=f"{len(gaps)} step sizes, recorded steps"
                        ),
                    )
                )
                rows.append(
                    SummaryRow(
                        tra_claim,
                        f"{group} (info)",
                        tra_control_row(np.asarray(ctrl) / np.asarray(gaps)),
                    )
                )
                findings.append(
                    f"alpha={a}: TRA-SignGD(eta) stays within {max(gaps):.2g} "
                    f"(relative to the initial excess) of Muon(2 eta), against "
                    f"{min(ctrl):.2g} or more from Muon(eta)."
                )
        if {"muon", "signgd"} <= set(rules) and 1.0 in scales:
            _, sg = cell_curves(table, "excess", rule="signgd", alpha=a, scale=1.0)
            _, mu = cell_curves(table, "excess", rule="muon", alpha=a, scale=1.0)
            group = f"alpha={a}, matched Frobenius step"
            rows.append(
                SummaryRow(
                    sign_claim,
                    group,
                    signgd_excess_row(
                        sg[:, -1] / mu[0, -1],
                        label="SignGD excess / Muon excess at T (matched Frobenius "
                        "step)",
                    ),
                )
            )
            _, sgg = group_curves(table, rule="signgd", alpha=a, scale=1.0)
            _, mug = group_curves(table, rule="muon", alpha=a, scale=1.0)
            sign_rows, _ = group_excess_at_progress(sg, sgg)
            mu_rows, _ = group_excess_at_progress(mu[:1], mug[:1])
            rows.append(
                SummaryRow(
                    sign_claim, group, imbalance_row(sign_rows, mu_rows, rule="signgd")
                )
            )
            same = {}
            for s in scales:
                _, sgs = cell_curves(table, "excess", rule="signgd", alpha=a, scale=s)
                _, mus = cell_curves(table, "excess", rule="muon", alpha=a, scale=s)
                same[s] = sgs[:, -1] / mus[0, -1]
            rows.append(
                SummaryRow(
                    sign_claim,
                    f"alpha={a}, every common step multiplier (info)",
                    every_multiplier_row(same),
                )
            )
            if "tra_signgd" in rules and 0.5 in scales:
                _, tra = cell_curves(
                    table, "excess", rule="tra_signgd", alpha=a, scale=0.5
                )
                _, trag = group_curves(table, rule="tra_signgd", alpha=a, scale=0.5)
                tra_rows, _ = group_excess_at_progress(tra[:1], trag[:1])
                rows.append(
                    SummaryRow(
                        sign_claim,
                        f"alpha={a}, oracle TRA-SignGD(eta/2) (info)",
                        imbalance_row(
                            tra_rows, mu_rows, rule="tra_signgd", relation="=="
                        ),
                    )
                )
            means = {s: float(np.mean(v)) for s, v in same.items()}
            findings.append(
                f"alpha={a}: SignGD's excess at T over Muon's at the same step "
                "multiplier: "
                + ", ".join(f"{s:g}x: {v:.3g}" for s, v in means.items())
                + (
                    " (SignGD is behind at every common multiplier)."
                    if all(v > 1 for v in means.values())
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
            "policy": "the rows of the orth_tra_signgd and orth_signgd_random_basis "
            "checks; the TRA gap over the recorded steps",
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
