"""Panels shared by Figures 7-9: accuracy at the chosen step size, and the lr grid.

matplotlib is imported on the first call (``import muonjax`` stays light); figures
are drawn on a new ``matplotlib.figure.Figure`` (no pyplot state).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from muonjax.engine.table import Table
from muonjax.stats.bootstrap import bootstrap_mean
from muonjax.transformer.analysis import grid_means, select_lr

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

#: Colours and labels of the optimizers (one per optimizer, everywhere).
OPTIMIZER_STYLE: Mapping[str, tuple[str, str]] = {
    "muon": ("tab:red", "Muon"),
    "muon_exact": ("tab:purple", "Muon (exact polar)"),
    "adamw": ("tab:blue", "AdamW"),
    "sgd": ("tab:green", "SGD"),
}

#: Axis labels of the metrics.
METRIC_LABELS: Mapping[str, str] = {
    "id_acc": "ID in-context accuracy",
    "ood_acc": "OOD in-context accuracy",
    "recall": "memory recall",
    "id_loss": "ID in-context loss",
    "ood_loss": "OOD in-context loss",
    "train_loss": "training loss",
}


def new_figure(rows: int, cols: int, *, width: float = 3.2, height: float = 2.6):
    """A constrained-layout figure with a ``rows x cols`` grid of axes."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width * cols, height * rows), layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False)
    return fig, axes


def style(name: Any, index: int = 0) -> tuple[str, str]:
    """Colour and label of an optimizer (or a cycle colour for anything else)."""
    if name in OPTIMIZER_STYLE:
        return OPTIMIZER_STYLE[name]
    return f"C{index % 10}", str(name)


def chosen_curve(
    table: Table,
    *,
    x: str,
    metric: str,
    step: int,
    where: Mapping[str, Any],
    select_by: str | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(x, mean, lo, hi, lr)`` of ``metric`` at the chosen step size of each ``x``.

    The step size of each ``x`` maximises the mean of ``select_by`` (default
    ``metric``) over seeds (:func:`muonjax.transformer.analysis.select_lr`); the
    interval is a 95% bootstrap over seeds.
    """
    sub = table.where(**where)
    choices = select_lr(sub, by=(x,), metric=select_by or metric, step=step)
    choices.sort(key=lambda c: c.group[x])
    xs, mean, lo, hi, lrs = [], [], [], [], []
    for c in choices:
        m, (a, b) = bootstrap_mean(c.values[metric])
        xs.append(c.group[x])
        mean.append(m)
        lo.append(a if np.isfinite(a) else m)
        hi.append(b if np.isfinite(b) else m)
        lrs.append(c.lr)
    return tuple(np.asarray(v, float) for v in (xs, mean, lo, hi, lrs))  # type: ignore[return-value]


def accuracy_panel(
    ax: Axes,
    table: Table,
    *,
    x: str,
    metric: str,
    step: int,
    line: str,
    where: Mapping[str, Any] | None = None,
    log_x: bool = True,
    title: str | None = None,
) -> None:
    """``metric`` against ``x``, one line per value of ``line``, at the chosen steps."""
    where = dict(where or {})
    values = list(dict.fromkeys(table.where(**where).data[line].tolist()))
    for i, value in enumerate(values):
        xs, mean, lo, hi, _ = chosen_curve(
            table, x=x, metric=metric, step=step, where={**where, line: value}
        )
        colour, label = style(value, i)
        if line != "optimizer":
            label = (
                f"{line}={value:g}" if isinstance(value, float) else f"{line}={value}"
            )
        ax.errorbar(
            xs,
            mean,
            yerr=[mean - lo, hi - mean],
            color=colour,
            marker="o",
            ms=3.5,
            capsize=2,
            label=label,
        )
    if log_x:
        ax.set_xscale("log", base=2)
    ax.set_xlabel(x)
    ax.set_ylabel(METRIC_LABELS.get(metric, metric))
    ax.set_ylim(-0.03, 1.03)
    ax.grid(alpha=0.3)
    if title:
        ax.set_title(title, fontsize=9)


def lr_grid_figure(
    table: Table,
    *,
    metric: str,
    step: int,
    line: str = "dim",
    panels: str = "optimizer",
    where: Mapping[str, Any] | None = None,
    title: str = "",
) -> Figure:
    """The whole learning-rate grid: mean ``metric`` against the step size.

    One panel per value of ``panels`` (the optimizers), one line per value of
    ``line``; the chosen step of each line (the maximum) is ringed.
    """
    where = dict(where or {})
    sub = table.where(**where)
    panel_values = list(dict.fromkeys(sub.data[panels].tolist()))
    line_values = sorted(set(sub.data[line].tolist()))
    from matplotlib.ticker import NullFormatter

    fig, axes = new_figure(1, len(panel_values))
    for ax, pv in zip(axes[0], panel_values, strict=True):
        for i, lv in enumerate(line_values):
            grid = grid_means(
                sub, group={panels: pv, line: lv}, step=step, metric=metric
            )
            if not grid:
                continue
            lr = np.asarray([g[1] for g in grid])
            mean = np.asarray([g[2] for g in grid])
            ax.plot(lr, mean, marker=".", color=f"C{i % 10}", label=f"{line}={lv}")
            if np.any(np.isfinite(mean)):
                best = int(np.nanargmax(mean))
                ax.plot(lr[best], mean[best], "o", mfc="none", ms=9, color=f"C{i % 10}")
        ax.set_xscale("log")
        ax.xaxis.set_minor_formatter(NullFormatter())  # decade labels only
        ax.set_xlabel("learning rate")
        ax.set_ylabel(METRIC_LABELS.get(metric, metric))
        ax.set_title(style(pv)[1], fontsize=9)
        ax.grid(alpha=0.3)
    axes[0, -1].legend(fontsize=7)
    seeds = len(np.unique(sub.data["seed"]))
    fig.suptitle(
        f"{title}learning-rate grid at step {step} (mean over {seeds} seeds; "
        "ringed: the chosen step)",
        fontsize=9,
    )
    return fig


def finish(fig: Figure, axes: Sequence[Any], title: str, table: Table) -> Figure:
    """Legend on the first panel and a title with the seed count."""
    axes[0].legend(fontsize=7, loc="best")
    seeds = len(np.unique(table.data["seed"]))
    fig.suptitle(
        f"{title}\nmean over {seeds} seeds at each curve's chosen learning rate; "
        "bars: 95% bootstrap over seeds",
        fontsize=9,
    )
    return fig
