"""The ``orth_groups`` figure and fit summary: per-group curves of five rules.

From the records of :func:`~muonjax.orthogonal.groups_sweep` (``rule x alpha``, a
random orthonormal basis per seed). :func:`summary` applies the policy of each
claim's check to the records (one fit policy per claim: the same windows, measures
and tolerances as ``muonjax check``): Thm 4.1 through
:func:`~muonjax.orthogonal.gd_noiseless_outcome`, Thm 4.2 through
:func:`~muonjax.orthogonal.muon_noiseless_outcome`, Thm 5.1's descent time through
:func:`~muonjax.orthogonal.claims.noisy.descent_time_row`, and the imbalance over
groups at matched progress through
:func:`~muonjax.orthogonal.claims.signs.imbalance_row`. :func:`figure` draws
per-group excess loss (or accuracy) against step. GD, Muon and TRA-SignGD do not
depend on the basis (seed 0's curve is the measurement); SignGD and Adam get
bootstraps over the bases.

References:
    SPEC B.3, B.4 [summary; seed for the experiment].
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from muonjax.engine.table import Table
from muonjax.orthogonal.analysis import (
    IMBALANCE_PROGRESS,
    first_rise,
    group_excess_at_progress,
)
from muonjax.orthogonal.claims.noiseless import (
    gd_noiseless_outcome,
    gd_noiseless_result,
    muon_noiseless_outcome,
    muon_noiseless_result,
)
from muonjax.orthogonal.claims.noisy import descent_time_row
from muonjax.orthogonal.claims.signs import imbalance_row
from muonjax.orthogonal.curves import (
    cell_curves,
    column_values,
    group_curves,
    num_groups,
    num_queries,
)
from muonjax.orthogonal.figures.style import (
    RULE_LABELS,
    band,
    group_colors,
    new_figure,
    not_consistent,
)
from muonjax.orthogonal.task import optimal_margin, power_law_task
from muonjax.stats.summary import FitSummary, SummaryRow

if TYPE_CHECKING:
    from matplotlib.figure import Figure

#: The claims of the summary's rows (with their SPEC tags), by the rule measured.
CLAIMS = {
    "gd": "GD noiseless: L_g ~ 1/(eta p_g t) (Thm 4.1) [summary]",
    "muon": "Muon noiseless: L_g ~ K exp(-eta t) for every group (Thm 4.2) [summary]",
    "muon_noisy": "Muon noisy: descent until T* ~ log K / eta (Thm 5.1) [summary; "
    "derived constant m*]",
    "signgd": "SignGD in a random basis progresses unevenly over groups, unlike Muon "
    "[seed]",
    "tra_signgd": "TRA-SignGD progresses like Muon (it follows Muon(2 eta), Thm 6.3) "
    "[summary]",
    "gd_uneven": "GD progresses unevenly over groups (Thm 4.1: L_g ~ 1/(eta p_g t)) "
    "[summary]",
    "adam": "Adam (a baseline, no claim) against Muon's uniform progress",
}


def _task_columns(table: Table) -> dict:
    d = table.data
    return {
        "M": int(d["M"][0]),
        "C": int(d["C"][0]),
        "K": num_queries(table),
        "beta": float(d["beta"][0]),
        "r": float(d["r"][0]) if "r" in d else 1.0,
    }


def _rows(claim: str, group: str, outcome) -> list[SummaryRow]:
    return [SummaryRow(claim, group, c) for c in outcome.comparisons] + [
        SummaryRow(claim, f"{group} (info)", c) for c in outcome.info
    ]


def summary(table: Table, experiment: str = "orth_groups") -> FitSummary:
    """Each claim's check policy applied to the per-group curves.

    Rows (when the rule and noise level were recorded): the rows of
    :func:`~muonjax.orthogonal.gd_noiseless_outcome` (GD, noiseless) and
    :func:`~muonjax.orthogonal.muon_noiseless_outcome` (Muon, noiseless) on the
    recorded steps; Muon's ``T* eta / m*`` (noisy,
    :func:`~muonjax.orthogonal.claims.noisy.descent_time_row`); and, per noise
    level, the imbalance exponent of every rule minus Muon's at matched progress
    (:func:`~muonjax.orthogonal.claims.signs.imbalance_row`).

    References:
        SPEC B.3, Thms 4.1, 4.2, 5.1, 6.3 and the SignGD row [summary; seed].
    """
    rows: list[SummaryRow] = []
    findings: list[str] = []
    m = num_groups(table)
    rules = column_values(table, "rule")
    alphas = column_values(table, "alpha")
    k = num_queries(table)
    task = _task_columns(table)
    r = task["r"]
    if 0.0 in alphas and "gd" in rules:
        steps, gl = group_curves(table, rule="gd", alpha=0.0)
        _, loss = cell_curves(table, "loss", rule="gd", alpha=0.0)
        _, lr = cell_curves(table, "lr", rule="gd", alpha=0.0)
        w = np.arange(1, m + 1, dtype=np.float64) ** -task["beta"]
        eta = float(lr[0, 0])
        res = gd_noiseless_result(
            steps,
            gl[0],
            loss[0],
            p=w / w.sum() / task["C"],
            effective_lr=eta * r**4,
            learning_rate=eta,
            sizes={**task, "steps": int(steps[-1]), "alpha": 0.0},
        )
        rows += _rows(CLAIMS["gd"], "rule=gd, alpha=0", gd_noiseless_outcome(res))
    if 0.0 in alphas and "muon" in rules:
        steps, gl = group_curves(table, rule="muon", alpha=0.0)
        _, loss = cell_curves(table, "loss", rule="muon", alpha=0.0)
        _, lr = cell_curves(table, "lr", rule="muon", alpha=0.0)
        eta = float(lr[0, 0])
        res_mu = muon_noiseless_result(
            steps,
            gl[0],
            loss[0],
            learning_rate=eta,
            effective_lr=eta * r**2,
            sizes={**task, "steps": int(steps[-1]), "alpha": 0.0},
        )
        rows += _rows(
            CLAIMS["muon"], "rule=muon, alpha=0", muon_noiseless_outcome(res_mu)
        )
    noisy = [a for a in alphas if a > 0]
    if noisy and "muon" in rules:
        a = noisy[0]
        steps, ex = cell_curves(table, "excess", rule="muon", alpha=a)
        _, lr = cell_curves(table, "lr", rule="muon", alpha=a)
        eta = float(lr[0, 0]) * r**2
        x = ex[0]
        rise = first_rise(x)
        m_star = float(
            optimal_margin(power_law_task(task["M"], task["C"], task["beta"], alpha=a))
        )
        if rise < x.size - 1:
            t_star = float(steps[rise])
            rows.append(
                SummaryRow(
                    CLAIMS["muon_noisy"],
                    f"rule=muon, alpha={a}",
                    descent_time_row(
                        t_star * eta / m_star,
                        where=f"one run (eta = {eta:g}): T* = {t_star:.0f}, the "
                        "first recorded step where the loss rises",
                    ),
                )
            )
            tail = x[steps >= 2 * t_star]
            if tail.size:
                findings.append(
                    f"Muon (alpha={a}, eta={eta:g}): the excess falls until step "
                    f"~{t_star:.0f} (m* / eta = {m_star / eta:.0f}, log K / eta = "
                    f"{np.log(k) / eta:.0f}), then oscillates at {np.mean(tail):.3g}"
                    f" = {np.mean(tail) / eta**2:.3g} eta^2 above L*."
                )
    at_step: dict[str, list[int]] = {}
    for a in alphas:
        if "muon" not in rules:
            break
        _, mu_ex = cell_curves(table, "excess", rule="muon", alpha=a)
        steps, mu_gex = group_curves(table, rule="muon", alpha=a)
        mu_rows, mu_at = group_excess_at_progress(mu_ex[:1], mu_gex[:1])
        at_step[f"muon, alpha={a}"] = [int(steps[i]) for i in mu_at]
        for rule in rules:
            if rule == "muon":
                continue
            _, ex = cell_curves(table, "excess", rule=rule, alpha=a)
            _, gex = group_curves(table, rule=rule, alpha=a)
            seeded = rule in ("signgd", "adam")
            if not seeded:  # basis-independent: seed 0 is the measurement
                ex, gex = ex[:1], gex[:1]
            rule_rows, idx = group_excess_at_progress(ex, gex)
            at_step[f"{rule}, alpha={a}"] = sorted({int(steps[i]) for i in idx})
            key = "gd_uneven" if rule == "gd" else rule
            rows.append(
                SummaryRow(
                    CLAIMS.get(key, CLAIMS["adam"]),
                    f"rule={rule}, alpha={a}",
                    imbalance_row(
                        rule_rows,
                        mu_rows,
                        rule=rule,
                        relation="==" if rule == "tra_signgd" else ">",
                    ),
                )
            )
    findings.append(
        "Per-group accuracy is uninformative for the block-symmetric rules (GD, Muon, "
        "TRA-SignGD): all queries of a group are identical, so a group's accuracy "
        "jumps from 0 to 1 at one step; the loss curves carry the information."
    )
    findings += not_consistent(rows)
    return FitSummary(
        experiment=experiment,
        rows=rows,
        fits={},
        findings=findings,
        meta={
            "measure": "per-group mean per-query loss minus L* (excess_g columns)",
            "K": k,
            "M": m,
            "rules": rules,
            "alphas": alphas,
            "policy": "each row is the policy of its claim's check (muonjax check)",
            "imbalance_at_steps": at_step,
            "imbalance_progress": IMBALANCE_PROGRESS,
        },
    )


def figure(table: Table, *, accuracy: bool = False) -> Figure:
    """Per-group excess loss (or accuracy) against step: rows = noise, cols = rules.

    Lines are the mean over seeds (random bases); the shaded band is the range over
    seeds (visible for SignGD and Adam, whose runs depend on the basis).
    """
    rules = column_values(table, "rule")
    alphas = column_values(table, "alpha")
    m = num_groups(table)
    k = num_queries(table)
    colors = group_colors(m)
    fig = new_figure(figsize=(3.1 * len(rules) + 0.8, 2.7 * len(alphas) + 0.5))
    axes = fig.subplots(len(alphas), len(rules), squeeze=False, sharex=True)
    metric = "acc_g" if accuracy else "excess_g"
    for i, a in enumerate(alphas):
        for j, rule in enumerate(rules):
            ax = axes[i, j]
            _, lr = cell_curves(table, "lr", rule=rule, alpha=a)
            for g in range(m):
                steps, y = cell_curves(table, f"{metric}{g + 1}", rule=rule, alpha=a)
                x = np.maximum(steps, 0.8)
                if not accuracy:
                    y = np.where(y > 1e-300, y, np.nan)
                mean, low, high = band(y)
                ax.plot(
                    x,
                    mean,
                    color=colors[g],
                    lw=1.2,
                    label=f"group {g + 1}",
                )
                if y.shape[0] > 1:
                    ax.fill_between(
                        x,
                        low,
                        high,
                        color=colors[g],
                        alpha=0.2,
                        lw=0,
                    )
            ax.set_xscale("log")
            if not accuracy:
                ax.set_yscale("log")
            eta = float(np.mean(lr[:, 0]))
            ax.set_title(
                f"{RULE_LABELS.get(rule, rule)} (eta={eta:.3g})\nlabel noise {a:g}",
                fontsize=9,
            )
            if i == len(alphas) - 1:
                ax.set_xlabel("step t")
            if j == 0:
                ax.set_ylabel("group accuracy" if accuracy else "group loss L_g - L*")
            ax.grid(True, alpha=0.3)
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(
        handles,
        labels,
        loc="outside right center",
        fontsize=8,
        title="1 = most frequent",
        title_fontsize=7,
    )
    fig.suptitle(
        f"Orthogonal memory, K={k}, M={m} groups: per-group "
        + ("accuracy" if accuracy else "excess loss")
        + " (Li et al. 2026, SPEC B.4)",
        fontsize=10,
    )
    return fig
