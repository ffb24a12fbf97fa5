"""The ``orth_scaling`` figure and fit summary: excess loss against the horizon ``T``.

From the records of :func:`~muonjax.orthogonal.scaling_sweep` (``rule x beta x
point``, one-hot, exact): GD's envelope over its constant steps (tuned per ``T``)
and Muon's excess at each horizon with ``eta = c log K / T`` (mean of steps
``T - 1, T``), judged by the checks' own rows (Thm 5.7, a lower bound, and Thm 5.8,
an upper bound, tested as ratios; GD's slope against the finite-``M`` sum's), and
Muon against GD at every horizon. :func:`figure` draws every run, GD's envelope, Muon's
horizons, the fits and the predicted lines, one panel per ``beta``.

References:
    SPEC B.3, Thms 5.7, 5.8 [summary].
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from muonjax import theory
from muonjax._io import jsonable
from muonjax.engine.table import Table
from muonjax.orthogonal.analysis import (
    gd_envelope,
    gd_scaling_slope,
    horizon_windows,
)
from muonjax.orthogonal.claims.scaling import gd_scaling_rows, muon_scaling_rows
from muonjax.orthogonal.curves import (
    cell_curves,
    column_values,
    group_curves,
    num_groups,
    num_queries,
)
from muonjax.orthogonal.figures.style import new_figure, not_consistent, positive
from muonjax.stats.slopes import window_slope
from muonjax.stats.summary import FitSummary, SummaryRow

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def _muon_horizon_points(
    table: Table, beta: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Muon's horizons ``T_i``, excess at ``T_i`` and mean over ``T_i - 1, T_i``."""
    hs, last, mean2 = [], [], []
    for p in column_values(table, "point", rule="muon", beta=beta):
        steps, ex = cell_curves(table, "excess", rule="muon", beta=beta, point=p)
        _, hz = cell_curves(table, "horizon", rule="muon", beta=beta, point=p)
        h = round(float(hz[0, 0]))
        i = int(np.searchsorted(steps, h))
        if i >= steps.size or steps[i] != h or steps[i - 1] != h - 1:
            raise ValueError(f"horizon {h} and {h - 1} are not recorded")
        hs.append(h)
        last.append(float(ex[0, i]))
        mean2.append(float(ex[0, i - 1 : i + 1].mean()))
    order = np.argsort(hs)
    return np.asarray(hs)[order], np.asarray(last)[order], np.asarray(mean2)[order]


def _gd_curves(table: Table, beta: float):
    pts = column_values(table, "point", rule="gd", beta=beta)
    exs, gexs = [], []
    for p in pts:
        steps, ex = cell_curves(table, "excess", rule="gd", beta=beta, point=p)
        _, gex = group_curves(table, rule="gd", beta=beta, point=p)
        exs.append(ex[0])
        gexs.append(gex[0])
    return steps, np.stack(exs), np.stack(gexs)


def summary(table: Table, experiment: str = "orth_scaling") -> FitSummary:
    """The rows of Thms 5.7 and 5.8 per ``beta``, by the checks' policy.

    GD: the envelope over its grid of constant steps (tuned per ``T``), through
    :func:`~muonjax.orthogonal.claims.scaling.gd_scaling_rows` (the bound as a ratio
    over the main learned-group window; the slope against the finite-``M`` sum's).
    Muon: one run per horizon with ``eta = c log K / T``, the excess averaged over
    steps ``T - 1, T``, through
    :func:`~muonjax.orthogonal.claims.scaling.muon_scaling_rows` (the bound as a
    ratio; the slope as context; Muon below GD tuned at every horizon).

    References:
        SPEC B.3, Thms 5.7, 5.8 [summary]; the finite-M sum [derived].
    """
    rows: list[SummaryRow] = []
    findings: list[str] = []
    fits: dict[str, Any] = {}
    finite_m: dict[str, Any] = {}
    m = num_groups(table)
    k = num_queries(table)
    gd_claim = "GD: L(T) - L* >~ log K / T^(1-1/beta) (Thm 5.7) [summary; derived]"
    mu_claim = (
        "Muon (eta = c log K / T): L(T) - L* <~ (log K / T)^2 (Thm 5.8) [summary]"
    )
    for beta in column_values(table, "beta"):
        steps, ex, gex = _gd_curves(table, beta)
        env, _, learned = gd_envelope(ex, gex)
        bound_row, slope_row, ws, details = gd_scaling_rows(
            steps, env, learned, num_groups=m, num_queries=k, beta=beta
        )
        group = f"rule=gd (tuned per T), beta={beta}"
        rows += [SummaryRow(gd_claim, group, bound_row)]
        rows += [SummaryRow(gd_claim, group, slope_row)]
        fits[f"gd_beta{beta}"] = ws
        finite_m[f"beta={beta}"] = jsonable(details)
        hs, _, mean2 = _muon_horizon_points(table, beta)
        inside = hs <= steps[-1]
        gd_at = np.full(hs.shape, np.nan)
        gd_at[inside] = np.interp(hs[inside], steps, env)
        l_star = float(np.median(table.data["loss"] - table.data["excess"]))
        m_bound, m_slope, m_gd = muon_scaling_rows(
            hs, mean2, num_queries=k, gd_at_horizons=gd_at, l_star=l_star
        )
        group = f"rule=muon, beta={beta}"
        rows += [
            SummaryRow(mu_claim, group, m_bound),
            SummaryRow(mu_claim, f"{group} (info)", m_slope),
        ]
        if m_gd is not None:
            rows.append(
                SummaryRow(
                    "Muon's scaling is better than GD's: Muon below GD tuned at every "
                    "horizon [seed: superior scaling efficiency]",
                    f"beta={beta}",
                    m_gd,
                )
            )
        ratio = mean2 / theory.muon_scaling_law(hs, k)
        findings.append(
            f"beta={beta}: Muon's excess / (log K / T)^2 = "
            f"{', '.join(f'{v:.3g}' for v in ratio)} at T = "
            f"{', '.join(str(h) for h in hs)} (bounded if Thm 5.8 holds)."
        )
        findings.append(
            f"beta={beta}, M={m}: GD's slope {ws.estimate:.3f} against the finite-M "
            f"sum's {details['finite_m_slopes_by_window'][0]:.3f} [derived] and the "
            f"M -> infinity exponent {details['m_infinity_exponent']:.3f}."
        )
    findings += not_consistent(rows)
    return FitSummary(
        experiment=experiment,
        rows=rows,
        fits=fits,
        findings=findings,
        meta={
            "measure": "excess loss L(T) - L* (records column 'excess')",
            "K": k,
            "M": m,
            "gd": "envelope over the constant steps of the grid (GD tuned per T)",
            "muon": "mean excess at steps T-1 and T of the run with eta = c log K/T",
            "policy": "the rows of the orth_gd_scaling_law and orth_muon_scaling_law "
            "checks (gd_scaling_rows, muon_scaling_rows)",
            "gd_finite_m": finite_m,
        },
    )


def figure(table: Table) -> Figure:
    """Excess loss against ``T``: GD runs and envelope, Muon's horizons, fits and
    predicted lines, one panel per ``beta`` (log-log)."""
    betas = column_values(table, "beta")
    m = num_groups(table)
    k = num_queries(table)
    fig = new_figure(figsize=(6.2 * len(betas), 4.8))
    axes = np.atleast_1d(fig.subplots(1, len(betas)))
    for ax, beta in zip(axes, betas, strict=True):
        steps, ex, gex = _gd_curves(table, beta)
        env, _, learned = gd_envelope(ex, gex)
        t = np.maximum(steps, 0.8)
        for row in ex:
            ax.plot(t, positive(row, 1e-14), color="C0", lw=0.6, alpha=0.35)
        ax.plot(
            t,
            positive(env, 1e-14),
            color="C0",
            lw=1.8,
            label="GD, best constant step per T (thin: each step)",
        )
        ws = gd_scaling_slope(steps, env, learned, m)
        pred = float(theory.gd_scaling_law_exponent(beta))
        if ws.ok:
            a, b = ws.windows[0]
            sel = (steps >= a) & (steps <= b)
            x = steps[sel].astype(float)
            f = ws.fits[0]
            ax.plot(
                x,
                np.exp(f.intercept) * x**f.slope,
                "--",
                color="navy",
                lw=1.5,
                label=f"GD fit: slope {ws.estimate:.3f} "
                f"[{ws.interval[0]:.3f}, {ws.interval[1]:.3f}]",
            )
            ax.plot(
                x,
                env[sel][0] * (x / x[0]) ** pred,
                ":",
                color="k",
                lw=1.5,
                label=f"M -> infinity GD slope -(1-1/beta) = {pred:.3f} [summary, "
                "Thm 5.7]",
            )
            pred_m = float(theory.gd_finite_m_slope(m, beta))
            ax.plot(
                x,
                env[sel][0] * (x / x[0]) ** pred_m,
                "-.",
                color="C2",
                lw=1.5,
                label=f"finite-M sum's slope (M={m}) = {pred_m:.3f} [derived]",
            )
        hs, _, mean2 = _muon_horizon_points(table, beta)
        for p in column_values(table, "point", rule="muon", beta=beta):
            st, mex = cell_curves(table, "excess", rule="muon", beta=beta, point=p)
            ax.plot(
                np.maximum(st, 0.8),
                positive(mex[0], 1e-14),
                color="C3",
                lw=0.5,
                alpha=0.3,
            )
        ax.plot(
            hs,
            positive(mean2),
            "s",
            color="C3",
            ms=5,
            label="Muon, eta = c log K / T: excess at T (mean of T-1, T); thin: "
            "each run",
        )
        mws = window_slope(hs, mean2, horizon_windows(hs))
        if mws.ok:
            f = mws.fits[0]
            ax.plot(
                hs,
                np.exp(f.intercept) * hs.astype(float) ** f.slope,
                "--",
                color="darkred",
                lw=1.5,
                label=f"Muon fit: slope {mws.estimate:.2f} "
                f"[{mws.interval[0]:.2f}, {mws.interval[1]:.2f}]",
            )
        ax.plot(
            hs,
            theory.muon_scaling_law(hs, k),
            ":",
            color="C3",
            lw=1.5,
            label="predicted Muon bound (log K / T)^2 [summary, Thm 5.8]",
        )
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("horizon T (steps)")
        ax.set_ylabel("excess loss L(T) - L*")
        alpha = float(table.data["alpha"][0])
        ax.set_title(f"K={k}, M={m}, beta={beta:g}, label noise {alpha:g}", fontsize=10)
        ax.grid(True, which="major", alpha=0.3)
        ax.legend(fontsize=7, loc="lower left")
    fig.suptitle(
        "Scaling laws of the orthogonal memory (Li et al. 2026, SPEC B.3)", fontsize=10
    )
    return fig
