"""What the Part B figures and summaries share: labels, colours, log-axis values.

matplotlib is imported only when a figure is made (``new_figure``), through its
object-oriented API (a ``matplotlib.figure.Figure`` rendered by the Agg canvas), so
``import muonjax`` stays light and no global backend is switched.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from muonjax.stats.summary import FitSummary, SummaryRow, summary_to_markdown

if TYPE_CHECKING:
    from matplotlib.figure import Figure

#: Display names of the update rules.
RULE_LABELS = {
    "gd": "GD",
    "muon": "Muon",
    "signgd": "SignGD",
    "tra_signgd": "TRA-SignGD (oracle)",
    "adam": "Adam",
}


def new_figure(**kwargs: Any) -> Figure:
    """A ``matplotlib.figure.Figure`` with constrained layout."""
    from matplotlib.figure import Figure

    return Figure(layout="constrained", **kwargs)


def colormap(name: str) -> Any:
    """A matplotlib colormap by name."""
    from matplotlib import colormaps

    return colormaps[name]


def group_colors(m: int) -> list:
    """``m`` colours from viridis: group 1 (most frequent) dark, the last yellow."""
    cmap = colormap("viridis")
    return [cmap(g / max(m - 1, 1)) for g in range(m)]


def positive(x: Any, floor: float = 1e-300) -> np.ndarray:
    """Values for a log axis: non-positive (or rounding-level) values become nan."""
    x = np.asarray(x, np.float64)
    return np.where(x > floor, x, np.nan)


def band(y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean, min and max over seeds (axis 0) of the finite values; ``nan`` where a
    step has none (a loss at ``L*`` to rounding), without numpy's empty-slice
    warnings."""
    ok = np.isfinite(y)
    n = ok.sum(axis=0)
    none = n == 0
    mean = np.where(ok, y, 0.0).sum(axis=0) / np.maximum(n, 1)
    low = np.where(ok, y, np.inf).min(axis=0)
    high = np.where(ok, y, -np.inf).max(axis=0)
    nan = np.full(mean.shape, np.nan)
    return (
        np.where(none, nan, mean),
        np.where(none, nan, low),
        np.where(none, nan, high),
    )


def not_consistent(
    rows: Sequence[SummaryRow], explain: Callable[[SummaryRow], str] | None = None
) -> list[str]:
    """One finding per row whose verdict is not "consistent", with ``explain(row)``
    appended when given."""
    out = []
    for r in rows:
        c = r.comparison
        if c.verdict != "consistent":
            out.append(
                f"NOT consistent ({c.verdict}): {r.claim}, {r.group}: {c.label} = "
                f"{c.measurement_text} {c.interval_text} vs {c.prediction_text}."
                + (explain(r) if explain is not None else "")
            )
    return out


def summary_table_markdown(summary: FitSummary) -> str:
    """The summary's rows as a Markdown table (for the gallery fragments): the
    table of :func:`muonjax.stats.summary.summary_to_markdown`, without its title,
    findings and settings."""
    bare = dataclasses.replace(summary, findings=(), meta={})
    return "\n".join(summary_to_markdown(bare).splitlines()[2:])
