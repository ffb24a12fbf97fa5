"""The ``orth_groups`` figure and fit summary: per-group curves of five rules.

From the records of :func:`~muonjax.orthogonal.groups_sweep` (``rule x alpha``, a
random orthonormal basis per seed): :func:`summary` fits GD's per-group slope in
``t`` (Thm 4.1), Muon's per-group decay rate (Thm 4.2), Muon's noisy descent time
(Thm 5.1) and the imbalance exponent of each rule at matched progress (uniform
progress); :func:`figure` draws per-group excess loss (or accuracy) against step.
Intervals: ranges over fit windows for the deterministic rules, bootstraps over
random bases for SignGD and Adam.

References:
    SPEC B.3, B.4 [summary; seed for the experiment].
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from muonjax import theory
from muonjax.engine.table import Table
from muonjax.orthogonal.analysis import (
    IMBALANCE_PROGRESS,
    first_rise,
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
    band,
    group_colors,
    new_figure,
    not_consistent,
)
from muonjax.stats.deterministic import compare_window, loglog_slope
from muonjax.stats.slopes import fraction_windows, window_slope
from muonjax.stats.summary import FitSummary, SummaryRow
from muonjax.stats.verdict import compare

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def summary(table: Table, experiment: str = "orth_groups") -> FitSummary:
    """Fits of the per-group curves: Thm 4.1 (GD), 4.2 (Muon), uniform progress.

    Rows (when the rule and noise level were recorded): GD's per-group slope in
    ``t`` (noiseless; -1), Muon's per-group decay rate over ``eta`` (noiseless; 1),
    Muon's ``T* eta / log K`` (noisy), and the imbalance exponent ``e`` of the group
    excess (``~ g^e``; Muon uniform: 0) per rule and noise level, at matched
    progress: the first step where the run's total excess is down to
    :data:`IMBALANCE_PROGRESS` of its initial value.

    References:
        SPEC B.3, Thms 4.1, 4.2, 5.1 [summary].
    """
    rows: list[SummaryRow] = []
    findings: list[str] = []
    m = num_groups(table)
    rules = column_values(table, "rule")
    alphas = column_values(table, "alpha")
    k = num_queries(table)
    if 0.0 in alphas and "gd" in rules:
        steps, gex = group_curves(table, rule="gd", alpha=0.0)
        _, lr = cell_curves(table, "lr", rule="gd", alpha=0.0)
        eta = float(lr[0, 0])
        t_max = float(steps[-1])
        windows = fraction_windows(
            int(t_max), ((0.1, 1), (0.05, 0.5), (0.2, 1), (0.5, 1))
        )
        pred = loglog_slope(lambda x: theory.gd_noiseless_query_loss(x, eta, 0.1), 1e3)
        for g in (0, m - 1):
            ws = window_slope(steps.astype(float), gex[0, :, g], windows)
            rows.append(
                SummaryRow(
                    "GD noiseless: L_g ~ 1/(eta p_g t) (Thm 4.1) [summary]",
                    f"rule=gd, alpha=0, group {g + 1}",
                    compare_window(ws, pred, label="slope of log L_g vs log t"),
                )
            )
    if 0.0 in alphas and "muon" in rules:
        steps, gex = group_curves(table, rule="muon", alpha=0.0)
        _, lr = cell_curves(table, "lr", rule="muon", alpha=0.0)
        eta = float(lr[0, 0])
        t_max = int(steps[-1])
        # The loss falls as K exp(-eta t): stop where it nears float64's floor.
        t_stop = min(t_max, int(600 / eta))
        windows = fraction_windows(
            t_stop, ((0.5, 1), (0.25, 0.75), (0.75, 1), (0.1, 0.5))
        )
        for g in (0, m - 1):
            ws = window_slope(steps.astype(float), gex[0, :, g], windows, log_x=False)
            rows.append(
                SummaryRow(
                    "Muon noiseless: L_g ~ K exp(-eta t) for every group (Thm 4.2) "
                    "[summary]",
                    f"rule=muon, alpha=0, group {g + 1}",
                    compare_window(
                        ws, 1.0, label="decay rate of L_g / eta", scale=-1.0 / eta
                    ),
                )
            )
    noisy = [a for a in alphas if a > 0]
    if noisy and "muon" in rules:
        a = noisy[0]
        steps, ex = cell_curves(table, "excess", rule="muon", alpha=a)
        _, lr = cell_curves(table, "lr", rule="muon", alpha=a)
        eta = float(lr[0, 0])
        x = ex[0]
        rise = first_rise(x)
        if rise < x.size - 1:
            t_star = float(steps[rise])
            ratio = t_star * eta / float(theory.muon_noisy_descent_time(k, 1.0))
            rows.append(
                SummaryRow(
                    "Muon noisy: descent until T* ~ log K / eta (Thm 5.1) [summary]",
                    f"rule=muon, alpha={a}",
                    compare(
                        math.log10(ratio),
                        (math.log10(ratio), math.log10(ratio)),
                        0.0,
                        tolerance=math.log10(2.0),
                        max_width=math.inf,
                        label="log10 (T* eta / log K)",
                        notes=[
                            "'~' read as within a factor 2; T* = first recorded step "
                            f"where the loss rises ({t_star:.0f}); one eta, so no "
                            "exponent (see the orth_muon_noisy check)"
                        ],
                    ),
                )
            )
            tail = x[steps >= 2 * t_star]
            if tail.size:
                findings.append(
                    f"Muon (alpha={a}, eta={eta:g}): the excess falls until step "
                    f"~{t_star:.0f} (log K / eta = {math.log(k) / eta:.0f}), then "
                    f"oscillates at {np.mean(tail):.3g} = {np.mean(tail) / eta**2:.3g} "
                    "eta^2 above L*."
                )
    imb: dict[tuple[str, float], Any] = {}
    at_step: dict[tuple[str, float], list[int]] = {}
    for a in alphas:
        for rule in rules:
            steps, gex = group_curves(table, rule=rule, alpha=a)
            _, ex = cell_curves(table, "excess", rule=rule, alpha=a)
            # Compare the rules at matched progress, not at the last step: by then
            # the fast rules have converged to float64's floor in every group (the
            # floor makes any run look uniform). Per seed, the first step where the
            # total excess is down to IMBALANCE_PROGRESS of its initial value.
            idx = [progress_index(e) for e in ex]
            at_step[(rule, a)] = [int(steps[i]) for i in idx]
            rows_at = np.stack([gex[i, j, :] for i, j in enumerate(idx)])
            imb[(rule, a)] = imbalance_exponent(rows_at)
        if ("muon", a) in imb:
            e_mu = imb[("muon", a)]
            rows.append(
                SummaryRow(
                    "uniform progress: group excess at T ~ g^e with e ~ 0 for Muon "
                    "(Thm 4.2) [summary]",
                    f"rule=muon, alpha={a}",
                    compare(
                        e_mu.exponent,
                        (e_mu.exponent, e_mu.exponent),
                        0.0,
                        tolerance=0.5,
                        max_width=math.inf,
                        label="imbalance exponent e of Muon",
                        notes=[
                            "deterministic; tolerance 0.5 (stated); at step "
                            f"{at_step[('muon', a)][0]} (excess down to "
                            f"{IMBALANCE_PROGRESS:g} of its initial value)"
                        ],
                    ),
                )
            )
            for rule in rules:
                if rule == "muon":
                    continue
                f = imb[(rule, a)]
                lo, hi = f.interval if f.ok else (f.exponent, f.exponent)
                seeded = f.ok and lo != hi
                rows.append(
                    SummaryRow(
                        "rules other than Muon progress unevenly (GD: Thm 4.1; SignGD "
                        "without the oracle: [seed]); TRA-SignGD like Muon (Thm 6.3)",
                        f"rule={rule}, alpha={a}",
                        compare(
                            f.exponent - e_mu.exponent,
                            (lo - e_mu.exponent, hi - e_mu.exponent),
                            0.0,
                            relation="==" if rule == "tra_signgd" else ">",
                            tolerance=0.5,
                            max_width=math.inf,
                            label=f"imbalance exponent of {rule} minus Muon's",
                            notes=[
                                "bootstrap over random bases"
                                if seeded
                                else "deterministic (no interval)",
                                f"at steps {sorted(set(at_step[(rule, a)]))} (excess "
                                f"down to {IMBALANCE_PROGRESS:g} of its initial value)",
                            ],
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
            "imbalance_exponents": {
                f"{rule}, alpha={a}": f.exponent for (rule, a), f in imb.items()
            },
            "imbalance_at_steps": {
                f"{rule}, alpha={a}": v for (rule, a), v in at_step.items()
            },
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
