"""Figures from records: capacity against a size on log-log axes, with error bars.

matplotlib is imported only when a figure is made, through its object-oriented API
(``matplotlib.figure.Figure``), so no GUI backend or global state is involved.

Error bars are the standard deviation over seeds around the mean (stated on each
figure). Points whose mean is 0 cannot sit on a log axis: they are left out and
counted in the panel's corner, never dropped silently (SPEC D).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from muonjax._io import atomic_write_bytes
from muonjax.engine.table import Table

#: Labels of the capacity measures (SPEC A.4).
MEASURE_LABELS = {
    "count": "capacity (count of recovered items)",
    "prefix": "capacity (recovered prefix)",
    "weighted_accuracy": "weighted accuracy",
    "loss": "population loss",
}


class GroupStats(NamedTuple):
    """Mean and spread of a value over seeds, per group.

    Attributes:
        keys: the group's values of the ``by`` columns, one tuple per group.
        mean, std, sem: ``(groups,)`` mean, standard deviation (``ddof=1``, 0 for
            one seed) and standard error over the rows of each group.
        size: ``(groups,)`` rows per group.
    """

    keys: list[tuple[Any, ...]]
    mean: np.ndarray
    std: np.ndarray
    sem: np.ndarray
    size: np.ndarray


def group_stats(table: Table, by: Sequence[str], value: str) -> GroupStats:
    """Mean, standard deviation and standard error of ``value`` grouped by ``by``.

    Groups come in order of first appearance (the grid order of the records).
    """
    for name in (*by, value):
        if name not in table.data:
            raise ValueError(f"no column {name!r}; columns are {table.columns}")
    keys: list[tuple[Any, ...]] = []
    rows: dict[tuple[Any, ...], list[int]] = {}
    cols = [table.data[b] for b in by]
    for i in range(len(table)):
        key = tuple(c[i].item() if hasattr(c[i], "item") else c[i] for c in cols)
        if key not in rows:
            keys.append(key)
            rows[key] = []
        rows[key].append(i)
    vals = table.data[value].astype(float)
    mean, std, count = [], [], []
    for key in keys:
        v = vals[rows[key]]
        mean.append(v.mean())
        std.append(v.std(ddof=1) if len(v) > 1 else 0.0)
        count.append(len(v))
    count_arr = np.asarray(count)
    std_arr = np.asarray(std)
    return GroupStats(
        keys, np.asarray(mean), std_arr, std_arr / np.sqrt(count_arr), count_arr
    )


def capacity_figure(
    table: Table,
    *,
    x: str = "d",
    series: str = "alpha",
    panels: str = "rule",
    measures: Sequence[str] = ("count", "prefix"),
    step: int | None = None,
    title: str | None = None,
) -> Any:
    """Log-log plot of capacity against ``x``: one line per ``series`` value.

    Rows of the figure are ``measures``, columns are the values of ``panels``; each
    point is the mean over seeds with a standard-deviation error bar.

    Args:
        table: records (see :func:`muonjax.read_table`).
        x: the column on the horizontal axis (e.g. ``"d"``).
        series: the column that makes one line per value (e.g. ``"alpha"``).
        panels: the column that makes one panel per value (e.g. ``"rule"``).
        measures: metric columns, one row of panels each.
        step: keep only this step (default: the last step in the table).
        title: figure title.

    Returns:
        A ``matplotlib.figure.Figure``.
    """
    from matplotlib.figure import Figure
    from matplotlib.ticker import NullFormatter

    if len(table) == 0:
        raise ValueError("the table is empty: nothing to plot")
    if "step" in table.data:
        step = int(table.data["step"].max()) if step is None else step
        table = table.where(step=step)
    panel_values = list(dict.fromkeys(table.data[panels].tolist()))
    series_values = list(dict.fromkeys(table.data[series].tolist()))
    x_values = sorted(set(table.data[x].tolist()))
    ncol, nrow = len(panel_values), len(measures)
    fig = Figure(figsize=(3.6 * ncol, 3.0 * nrow + 0.6), layout="constrained")
    axes = np.asarray(fig.subplots(nrow, ncol, squeeze=False, sharex=True))
    colors = [f"C{i % 10}" for i in range(len(series_values))]
    for r, measure in enumerate(measures):
        stats = group_stats(table, (panels, series, x), measure)
        for c, pv in enumerate(panel_values):
            ax = axes[r, c]
            zeros = 0
            for color, sv in zip(colors, series_values, strict=True):
                pts = [
                    (k[2], m, s)
                    for k, m, s in zip(stats.keys, stats.mean, stats.std, strict=True)
                    if k[0] == pv and k[1] == sv
                ]
                kept = [p for p in pts if p[1] > 0]
                zeros += len(pts) - len(kept)
                if not kept:
                    continue
                xs, ms, ss = (np.asarray(v, float) for v in zip(*kept, strict=True))
                # A bar reaching below zero cannot be drawn on a log axis: clip it.
                lower = np.minimum(ss, ms * (1 - 1e-3))
                ax.errorbar(
                    xs,
                    ms,
                    yerr=(lower, ss),
                    marker="o",
                    ms=3,
                    capsize=2,
                    color=color,
                    label=f"{series}={sv}",
                )
            ax.set_xscale("log")
            ax.set_yscale("log")
            # Label the measured sizes themselves, not powers of ten.
            ax.set_xticks(x_values, [f"{v:g}" for v in x_values])
            ax.xaxis.set_minor_formatter(NullFormatter())
            ax.grid(True, which="both", alpha=0.3)
            if zeros:
                ax.text(
                    0.02,
                    0.98,
                    f"{zeros} zero mean(s) not shown",
                    transform=ax.transAxes,
                    va="top",
                    fontsize=7,
                )
            if r == 0:
                ax.set_title(f"{panels} = {pv}")
            if r == nrow - 1:
                ax.set_xlabel(x)
            if c == 0:
                ax.set_ylabel(MEASURE_LABELS.get(measure, measure))
    axes[0, -1].legend(fontsize=7, loc="lower right")
    seeds = len(np.unique(table.data["seed"])) if "seed" in table.data else "?"
    suffix = f"mean over {seeds} seeds, bars: one standard deviation"
    fig.suptitle(f"{title}\n{suffix}" if title else suffix, fontsize=9)
    return fig


def save_figure(
    fig: Any, stem: str | os.PathLike, *, formats: Sequence[str] = ("png", "pdf")
) -> list[Path]:
    """Save ``fig`` as ``stem.png`` and ``stem.pdf`` (atomically); return the paths."""
    import io

    paths = []
    for fmt in formats:
        buf = io.BytesIO()
        fig.savefig(buf, format=fmt, dpi=150)
        paths.append(atomic_write_bytes(Path(f"{stem}.{fmt}"), buf.getvalue()))
    return paths
