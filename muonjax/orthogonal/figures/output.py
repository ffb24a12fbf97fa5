"""An experiment's plot step: fit summary and figures from its records.

:func:`plot_records` is what ``muonjax plot DIR`` runs for the Part B experiments:
read ``records.csv`` (:func:`muonjax.read_table`), write ``fit_summary.json`` /
``.md`` (:func:`muonjax.write_fit_summary`) and each figure as PNG and PDF
(:func:`muonjax.save_figure`, atomic).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from muonjax.engine.table import Table, read_table
from muonjax.plotting import save_figure
from muonjax.stats.summary import FitSummary, write_fit_summary


def plot_records(
    out_dir: str | Path,
    summary: Callable[[Table], FitSummary],
    figures: Mapping[str, Callable[[Table], Any]],
) -> list[Path]:
    """Write the fit summary and the figures of the records in ``out_dir``.

    Args:
        out_dir: a run directory (holds ``records.csv``).
        summary: ``summary(table)``, e.g. :func:`muonjax.orthogonal.groups_summary`.
        figures: file stem -> ``figure(table)``.

    Returns:
        The figure files written (PNG and PDF per figure).
    """
    out = Path(out_dir)
    table = read_table(out)
    write_fit_summary(out, summary(table))
    return [
        p for stem, fig in figures.items() for p in save_figure(fig(table), out / stem)
    ]
