"""Figures of measurement results (not records): per-group curves, scaling laws,
SignGD against the oracle.

Each function takes the plain results of :mod:`muonjax.orthogonal.claims` (or
:class:`~muonjax.orthogonal.Dynamics` objects), draws on a new
``matplotlib.figure.Figure``, writes ``<path>.png`` and ``<path>.pdf`` with
:func:`muonjax.save_figure` (atomic) when ``path`` is given, and returns the figure.

References:
    SPEC B.4 [seed: per-group curves, scaling-law fits, the SignGD comparison].
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from muonjax.orthogonal.dynamics import Dynamics
from muonjax.orthogonal.figures.style import (
    RULE_LABELS,
    colormap,
    group_colors,
    new_figure,
    positive,
)
from muonjax.plotting import save_figure

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def _save(fig: Figure, path: str | Path | None) -> list[Path]:
    """Save ``fig`` at ``path`` (a ``.png`` / ``.pdf`` suffix is dropped), if given."""
    if path is None:
        return []
    stem = Path(path)
    return save_figure(
        fig, stem.with_suffix("") if stem.suffix in (".png", ".pdf") else stem
    )


def plot_group_losses(
    rows: Mapping[str, Mapping[str, Dynamics]],
    *,
    optimal_losses: Mapping[str, float] | None = None,
    learning_rates: Mapping[str, float] | None = None,
    accuracy: bool = False,
    log_time: bool = False,
    title: str | None = None,
    path: str | Path | None = None,
) -> Figure:
    """Per-group excess loss (or accuracy) against step, one panel per rule and row.

    Args:
        rows: row label (e.g. ``"noiseless"``, ``"label noise 0.3"``) -> rule name ->
            :class:`Dynamics` (numpy arrays are fine).
        optimal_losses: row label -> ``L*`` subtracted from the per-group losses
            (default 0).
        learning_rates: rule name -> ``eta``, shown in the panel titles.
        accuracy: plot per-group accuracy instead of excess loss.
        log_time: logarithmic step axis.
        title: figure title.
        path: where to save (png and pdf), or ``None``.

    Returns:
        The figure; group 1 (most frequent) is dark purple, the last group yellow.
    """
    rules = list(dict.fromkeys(r for row in rows.values() for r in row))
    n_rows, n_cols = len(rows), len(rules)
    fig = new_figure(figsize=(3.2 * n_cols + 0.6, 2.8 * n_rows + 0.4))
    axes = fig.subplots(n_rows, n_cols, squeeze=False, sharex="row", sharey="row")
    for i, (row_label, runs) in enumerate(rows.items()):
        l_star = 0.0 if optimal_losses is None else optimal_losses.get(row_label, 0.0)
        for j, rule in enumerate(rules):
            ax = axes[i, j]
            if rule not in runs:
                ax.set_visible(False)
                continue
            dyn = runs[rule]
            y = np.asarray(dyn.group_accuracy if accuracy else dyn.group_loss)
            if not accuracy:
                y = positive(y - l_star)
            t = np.arange(y.shape[0])
            colors = group_colors(y.shape[1])
            for g in range(y.shape[1]):
                ax.plot(t, y[:, g], color=colors[g], lw=1.2, label=f"group {g + 1}")
            if not accuracy:
                ax.set_yscale("log")
            if log_time:
                ax.set_xscale("symlog", linthresh=1.0)
            name = RULE_LABELS.get(rule, rule)
            if learning_rates and rule in learning_rates:
                name += f", eta={learning_rates[rule]:.3g}"
            ax.set_title(f"{name}\n{row_label}", fontsize=9)
            ax.set_xlabel("step t")
            if j == 0:
                ax.set_ylabel("group accuracy" if accuracy else "group loss L_g - L*")
            ax.grid(True, which="major", alpha=0.3)
    handles, labels = axes[0, 0].get_legend_handles_labels()
    if handles:
        fig.legend(handles, labels, loc="outside right center", fontsize=8)
    if title:
        fig.suptitle(title)
    _save(fig, path)
    return fig


def plot_scaling_laws(result, *, path: str | Path | None = None) -> Figure:
    """Excess loss against the horizon ``T`` for GD and Muon, with fits and predictions.

    Args:
        result: a :class:`~muonjax.orthogonal.ScalingLawResult`.
        path: where to save (png and pdf), or ``None``.

    Returns:
        The figure: GD's tuned envelope (line) and fit window (dots) with the fitted
        and the predicted slope ``-(1 - 1/beta)``; Muon's excess at ``T`` with
        ``eta = c log K / T`` (dots), its fit and the predicted ``(log K / T)^2``.
    """
    sz = result.sizes
    beta, log_k = sz["beta"], sz["log_k"]
    fig = new_figure(figsize=(6.4, 4.6))
    ax = fig.subplots()
    t = np.arange(1, result.gd_envelope.shape[0])
    ax.plot(
        t,
        positive(result.gd_envelope[1:], 1e-14),
        color="C0",
        lw=1.2,
        label="GD, best constant step per T",
    )
    gd_t = result.gd_t
    if gd_t.size:
        y = result.gd_envelope[gd_t]
        ax.plot(gd_t, y, "o", color="C0", ms=3)
        f = result.gd_fit
        ax.plot(
            gd_t,
            np.exp(f.intercept) * gd_t**f.slope,
            "--",
            color="C0",
            label=f"GD fit: slope {f.slope:.3f} [{f.low:.3f}, {f.high:.3f}]",
        )
        pred = -(1 - 1 / beta)
        ax.plot(
            gd_t,
            y[0] * (gd_t / gd_t[0]) ** pred,
            ":",
            color="k",
            label=f"predicted GD slope -(1-1/beta) = {pred:.3f}",
        )
    hs = result.muon_t
    ax.plot(
        hs,
        positive(result.muon_excess),
        "s",
        color="C3",
        ms=4,
        label="Muon, eta = c log K / T (excess at T)",
    )
    ax.plot(
        hs,
        positive(result.muon_excess_avg),
        "^",
        color="C1",
        ms=4,
        mfc="none",
        label="Muon, mean of steps T-1, T",
    )
    f = result.muon_fit
    if math.isfinite(f.slope):
        ax.plot(
            hs,
            np.exp(f.intercept) * hs.astype(float) ** f.slope,
            "--",
            color="C3",
            label=f"Muon fit: slope {f.slope:.2f} [{f.low:.2f}, {f.high:.2f}]",
        )
    fa = result.muon_fit_avg
    if math.isfinite(fa.slope):
        ax.plot(
            hs,
            np.exp(fa.intercept) * hs.astype(float) ** fa.slope,
            "-.",
            color="C1",
            label=f"2-step mean fit: {fa.slope:.2f} [{fa.low:.2f}, {fa.high:.2f}]",
        )
    ax.plot(
        hs, (log_k / hs) ** 2, ":", color="C3", label="predicted Muon: (log K / T)^2"
    )
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("horizon T (steps)")
    ax.set_ylabel("excess loss L(T) - L*")
    ax.set_title(
        f"Scaling laws: M={sz['M']}, C={sz['C']}, K={sz['K']}, beta={beta}, "
        f"alpha={sz['alpha']}",
        fontsize=10,
    )
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=7, loc="lower left")
    _save(fig, path)
    return fig


def plot_signgd_oracle(result, *, path: str | Path | None = None) -> Figure:
    """SignGD in a random basis against Muon, the TRA-SignGD oracle and GD.

    Args:
        result: a :class:`~muonjax.orthogonal.SignGDResult`.
        path: where to save (png and pdf), or ``None``.

    Returns:
        The figure: left, total excess loss against step (SignGD: seed mean at each
        step multiplier); right, per-group excess at ``T`` against group index.
    """
    l_star = result.l_star
    fig = new_figure(figsize=(10.0, 4.2))
    ax, bx = fig.subplots(1, 2)
    t = np.arange(result.muon_loss.shape[0])
    lr = result.sizes["lr"]
    ax.plot(
        t,
        positive(result.muon_loss - l_star),
        color="C3",
        lw=1.8,
        label=f"Muon (eta={lr:g})",
    )
    ax.plot(
        t,
        positive(result.tra_loss - l_star),
        "--",
        color="C2",
        lw=1.5,
        label=f"TRA-SignGD (eta={lr / 2:g}, oracle basis)",
    )
    gd_label = f"GD (eta p_1 = {result.sizes.get('gd_lr_p1', float('nan')):g})"
    ax.plot(t, positive(result.gd_loss - l_star), color="C0", lw=1.2, label=gd_label)
    cmap = colormap("Greys")
    mults = result.multipliers
    for k, mlt in enumerate(mults):
        y = result.signgd_loss[:, k].mean(axis=0) - l_star
        ax.plot(
            t,
            positive(y),
            color=cmap(0.35 + 0.6 * k / max(len(mults) - 1, 1)),
            lw=1.2,
            label=f"SignGD random basis, {mlt:g} x matched step",
        )
    ax.set_yscale("log")
    ax.set_xlabel("step t")
    ax.set_ylabel("excess loss L - L*")
    ax.legend(fontsize=7)
    ax.grid(True, alpha=0.3)
    sz = result.sizes
    ax.set_title(
        f"M={sz['M']}, C={sz['C']}, d={sz['d']}, alpha={sz['alpha']}, "
        f"{sz['seeds']} bases",
        fontsize=9,
    )
    groups = np.arange(1, result.muon_group_loss.shape[1] + 1)
    i = int(np.argmin(np.abs(mults - 1.0)))
    rows: Sequence[tuple[str, np.ndarray, str]] = (
        ("Muon", result.muon_group_loss[-1], "C3"),
        ("TRA-SignGD", result.tra_group_loss[-1], "C2"),
        (
            "SignGD random, matched",
            result.signgd_group_loss[:, i, -1].mean(axis=0),
            "k",
        ),
        ("GD", result.gd_group_loss[-1], "C0"),
    )
    for label, y, color in rows:
        bx.plot(groups, positive(y - l_star), "o-", color=color, ms=4, label=label)
    bx.set_yscale("log")
    bx.set_xlabel("frequency group g (1 = most frequent)")
    bx.set_ylabel(f"group excess loss at T={t[-1]}")
    bx.legend(fontsize=7)
    bx.grid(True, alpha=0.3)
    bx.set_title("uniform progress: flat is Muon-like", fontsize=9)
    _save(fig, path)
    return fig
