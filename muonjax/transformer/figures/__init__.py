"""Figures 7-9 of Kim et al. (2026) from the records: ``summary`` and ``figure``.

Each module holds ``summary(table, ...) -> muonjax.FitSummary`` and ``figure(table,
...) -> matplotlib.figure.Figure``; :func:`lr_grid_figure` draws the whole
learning-rate grid behind any of them.
"""

from muonjax.transformer.figures import fig7, fig8, fig9
from muonjax.transformer.figures._panels import (
    METRIC_LABELS,
    OPTIMIZER_STYLE,
    accuracy_panel,
    chosen_curve,
    lr_grid_figure,
)
from muonjax.transformer.figures._summary import LR_RULE, claim_rows

__all__ = [
    "LR_RULE",
    "METRIC_LABELS",
    "OPTIMIZER_STYLE",
    "accuracy_panel",
    "chosen_curve",
    "claim_rows",
    "fig7",
    "fig8",
    "fig9",
    "lr_grid_figure",
]

# --- issue 15: the long-tailed facts figure (SPEC C.2) ------------------------------
from muonjax.transformer.figures import longtail

__all__ += ["longtail"]
