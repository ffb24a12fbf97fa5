"""The panels of Figure 4: count after T steps, long runs, exponents against T.

References:
    Kim et al. (2026), Figure 4; SPEC A.5 (t Muon steps [quoted]; many steps [seed]).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from muonjax import theory
from muonjax.engine.table import Table
from muonjax.gaussian.analysis.multistep import (
    capacity_after,
    final_capacity,
    step_curves,
)
from muonjax.gaussian.figures._common import first, seeds, sorted_values, values
from muonjax.stats.fit import FitResult

BY = ("rule", "deflate", "alpha", "d")

#: Labels of the thresholded update's readings (SPEC A.3 [derived]).
READING_NAMES = {
    "none": "exact",
    "margin": "thresholded (a) margin > 0",
    "rank": "thresholded (b) rank <= d_t",
    "threshold": "thresholded (c) margin > k eta_t sqrt(2 log N/d)",
}


def rule_kind(rule: str) -> str:
    """``"polar"`` (exact Muon), ``"smoothed"`` (``muon_smoothed_c<c>``) or ``"ns"``."""
    if rule.startswith("muon_smoothed"):
        return "smoothed"
    if rule.startswith("muon_ns") or ":" in rule:
        return "ns"
    return "polar"


def _reading(deflate: Any) -> str:
    if isinstance(deflate, (bool, np.bool_)):
        return "margin" if deflate else "none"
    return str(deflate)


def variant(rule: str, deflate: Any) -> str:
    """``"muon, thresholded (b) rank <= d_t"``: a rule and its update."""
    return f"{rule}, {READING_NAMES.get(_reading(deflate), str(deflate))}"


def _style(rule: str, deflate: Any, marker: bool = True) -> dict[str, Any]:
    reading = _reading(deflate)
    out: dict[str, Any] = {
        "linestyle": {"none": "-", "margin": "--", "rank": "-.", "threshold": ":"}.get(
            reading, "--"
        ),
        "alpha": 1.0 if rule_kind(rule) != "ns" else 0.6,
    }
    if marker:
        out["marker"] = {"polar": "o", "smoothed": "D", "ns": "s"}[rule_kind(rule)]
    return out


def _colors(tables: Sequence[Table | None]) -> dict[tuple[str, float], str]:
    """One colour per (rule, alpha) over every part."""
    keys: list[tuple[str, float]] = []
    for t in tables:
        if t is None:
            continue
        for rule in values(t, "rule"):
            for alpha in sorted_values(t, "alpha"):
                if (rule, alpha) not in keys:
                    keys.append((rule, alpha))
    return {k: f"C{i % 10}" for i, k in enumerate(keys)}


def _mean_sd(per_d: dict[Any, np.ndarray], ds: list[int]):
    m = np.array([np.mean(per_d[d]) for d in ds])
    s = np.array([np.std(per_d[d], ddof=1) for d in ds])
    return m, s


def _log_d_axis(ax: Any, dims: list[Any]) -> None:
    from matplotlib.ticker import NullFormatter

    ax.set_xticks(dims)
    ax.set_xticklabels([str(int(d)) for d in dims])
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.grid(True, which="both", alpha=0.3)


def _panel_step(ax: Any, table: Table, t: int, colors) -> None:
    """Count against d after ``t`` steps, every rule, with the predicted slope."""
    vals = capacity_after(table, t, by=BY)
    drawn: set[float] = set()
    for rule in values(table, "rule"):
        for deflate in values(table, "deflate"):
            for alpha in sorted_values(table, "alpha"):
                per_d = {
                    k[3]: v for k, v in vals.items() if k[:3] == (rule, deflate, alpha)
                }
                ds = sorted(per_d)
                m, s = _mean_sd(per_d, ds)
                keep = m > 0
                color = colors[(rule, alpha)]
                ax.errorbar(
                    np.asarray(ds)[keep],
                    m[keep],
                    yerr=np.minimum(s[keep], 0.999 * m[keep]),
                    color=color,
                    capsize=2,
                    ms=3,
                    label=f"{variant(rule, deflate)}, alpha={alpha:g}",
                    **_style(rule, deflate),
                )
                if alpha in drawn or not keep.any():
                    continue
                drawn.add(alpha)
                e = theory.multi_step_exponent(t, alpha)
                x0, y0 = ds[0], m[0] if m[0] > 0 else m[keep][0]
                xx = np.asarray(ds, float)
                ax.plot(
                    xx,
                    y0 * (xx / x0) ** e,
                    ":",
                    color="0.3",
                    lw=1,
                    label=f"d^{e:.2f} (SPEC A.5 [quoted])",
                )
    ax.axhline(int(first(table, "n")), color="grey", lw=0.8, ls="-.")
    ax.set(xscale="log", yscale="log", xlabel="d", title=f"({chr(96 + t)}) T = {t}")
    _log_d_axis(ax, sorted_values(table, "d"))


def _panel_long(ax: Any, long: Table | None, colors) -> None:
    """(e) the long runs: count at the early stop against d, with ``d^2``."""
    ax.set(xscale="log", yscale="log", xlabel="d", ylabel="capacity (count)")
    if long is None:
        ax.text(0.5, 0.5, "no long runs", ha="center", transform=ax.transAxes)
        ax.grid(True, which="both", alpha=0.3)
        return
    finals = final_capacity(long, by=BY)
    for rule in values(long, "rule"):
        for deflate in values(long, "deflate"):
            for alpha in sorted_values(long, "alpha"):
                per_d = {
                    k[3]: v
                    for k, v in finals.items()
                    if k[:3] == (rule, deflate, alpha)
                }
                if not per_d:
                    continue
                ds = sorted(per_d)
                m, s = _mean_sd(per_d, ds)
                ax.errorbar(
                    ds,
                    m,
                    yerr=np.minimum(s, 0.999 * m),
                    color=colors.get((rule, alpha), "k"),
                    capsize=2,
                    ms=3,
                    label=f"{variant(rule, deflate)}, alpha={alpha:g}",
                    **_style(rule, deflate),
                )
    ld = np.asarray(sorted_values(long, "d"), float)
    ax.plot(ld, ld**2, "k:", label="d^2 limit (SPEC A.5 [seed])")
    ax.axhline(int(first(long, "n")), color="grey", lw=0.8, ls="-.", label="N")
    _log_d_axis(ax, list(ld))
    ax.legend(fontsize=6)
    ms = int(first(long, "steps"))
    ax.set_title(f"(e) long runs: count at early stop (<= {ms} steps)", fontsize=9)


def _panel_exponents(ax: Any, fits, rules, alphas, t_max, colors) -> None:
    """(f) fitted exponents against T, with the prediction."""
    ts = np.arange(1, t_max + 1)
    for alpha in alphas:
        tt = np.linspace(1, t_max, 50)
        ax.plot(
            tt,
            theory.multi_step_exponent(tt, alpha),
            color="0.3",
            lw=2,
            alpha=0.35,
            label=f"2-(1-1/(2a))^T, a={alpha:g} [quoted]",
        )
    offsets = {v: 0.05 * (i - 1) for i, v in enumerate(rules)}
    shown = [float(theory.multi_step_exponent(t, a)) for t in ts for a in alphas]
    for (rule, deflate, alpha), per_t in fits.items():
        est = np.array([per_t[t].exponent for t in ts])
        lo = np.array([per_t[t].interval[0] for t in ts])
        hi = np.array([per_t[t].interval[1] for t in ts])
        shown += [v for v in (*est, *lo, *hi) if np.isfinite(v)]
        ax.errorbar(
            ts + offsets[rule] + (0.02 if _reading(deflate) != "none" else -0.02),
            est,
            yerr=(np.maximum(est - lo, 0), np.maximum(hi - est, 0)),
            color=colors[(rule, alpha)],
            capsize=2,
            ms=3,
            label=f"{variant(rule, deflate)}, a={alpha:g}",
            **_style(rule, deflate),
        )
    ax.set(xlabel="T (steps)", ylabel="fitted exponent C_T (count)", xticks=ts)
    ax.set_title("(f) fitted exponents vs prediction", fontsize=9)
    ax.grid(True, alpha=0.3)
    # Room below the data for the legend, so that it hides no point.
    low, high = min(shown), max(shown)
    span = max(high - low, 0.1)
    ax.set_ylim(low - 0.75 * span, high + 0.05 * span)
    ax.legend(fontsize=5, ncol=2, loc="lower right")


def _panel_curves(
    ax: Any, src: Table, measure: str, letter: str, colors, what: str = "long runs"
) -> None:
    """(g, h) a measure against step at the largest d (long runs, readings)."""
    dm = int(src.data["d"].max())
    curves = step_curves(
        src.where(d=dm), by=BY[:3], measure=measure, carry_forward=False
    )
    for (rule, deflate, alpha), (_, steps, per_seed) in curves.items():
        # Mean over the seeds still running at each step (NaN once all stopped).
        live = np.isfinite(per_seed)
        total = np.where(live, per_seed, 0).sum(axis=0)
        m = np.where(live.any(axis=0), total / np.maximum(live.sum(axis=0), 1), np.nan)
        ax.plot(
            steps,
            np.where(m > 0, m, np.nan),
            color=colors.get((rule, alpha), "k"),
            lw=1,
            label=f"{variant(rule, deflate)}, a={alpha:g}",
            **_style(rule, deflate, marker=False),
        )
    ax.set(xlabel="step t", ylabel=f"capacity ({measure})", yscale="log")
    ax.set_title(f"({letter}) {what}: {measure} vs step, d={dm}", fontsize=9)
    ax.grid(True, which="both", alpha=0.3)


def draw(
    table: Table,
    long: Table | None,
    fits: dict[tuple[Any, ...], dict[int, FitResult]],
    eta: str,
    readings: Table | None = None,
) -> Any:
    """Figure 4 from the T-step grid, the long runs, the readings part and the count
    exponents."""
    from matplotlib.figure import Figure

    t_max = int(table.data["step"].max())
    alphas, rules = sorted_values(table, "alpha"), values(table, "rule")
    colors = _colors([table, long, readings])
    ncol = max(t_max, 4)
    fig = Figure(figsize=(3.4 * ncol, 7.6), layout="constrained")
    axes = np.asarray(fig.subplots(2, ncol, squeeze=False))
    for t in range(1, t_max + 1):
        _panel_step(axes[0, t - 1], table, t, colors)
    axes[0, 0].set_ylabel("capacity (count)")
    axes[0, 0].legend(fontsize=5, loc="upper left")
    for j in range(t_max, ncol):
        axes[0, j].axis("off")
    _panel_long(axes[1, 0], long, colors)
    _panel_exponents(axes[1, 1], fits, rules, alphas, t_max, colors)
    src = long if long is not None else table
    _panel_curves(axes[1, 2], src, "count", "g", colors)
    axes[1, 2].legend(fontsize=5)
    if readings is not None:
        _panel_curves(
            axes[1, 3], readings, "prefix", "h", colors, what="thresholded readings"
        )
        axes[1, 3].legend(fontsize=4, ncol=2)
    else:
        _panel_curves(axes[1, 3], src, "prefix", "h", colors)
    for j in range(4, ncol):
        axes[1, j].axis("off")
    fig.suptitle(
        f"Kim et al. (2026) Fig. 4: T population Muon steps, N={first(table, 'n')}, "
        f"eta_t={eta}; muon: polar factor (lambda = 0), muon_smoothed_c<c>: "
        "h_lambda_t with lambda_t = c d_(t+1)^-alpha sqrt(d) [quoted schedule]; "
        "line style: update (exact, thresholded readings)\n"
        f"mean over {seeds(table)} seeds, bars: one standard deviation (fits: 95% "
        "bootstrap); (h): the readings part's prefix (SPEC A.3)",
        fontsize=9,
    )
    return fig
