"""Figure 7: ID and OOD in-context accuracy against the width d, per optimizer.

Kim et al. (2026), Fig. 7 [seed]: "ID (left two) and OOD (right two) accuracy on
the in-context recall task as a function of model dimension, for Muon, AdamW, and
SGD, with batch size 256 at iterations 128 and 1024. For each (dim, optimizer)
pair, the learning rate and batch size are chosen to maximize accuracy." Here one
column per reported step, rows: ID accuracy, OOD accuracy, and memory recall (the
quantity behind the SPEC C.1 claim).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from muonjax.engine.table import Table
from muonjax.stats.summary import FitSummary
from muonjax.transformer.analysis import final_step
from muonjax.transformer.figures import _panels, _summary

if TYPE_CHECKING:
    from matplotlib.figure import Figure

#: Rows of the figure.
METRICS = ("id_acc", "ood_acc", "recall")


def _steps(table: Table, steps: Sequence[int] | None) -> list[int]:
    return [final_step(table)] if not steps else [int(s) for s in steps]


def summary(table: Table, *, steps: Sequence[int] | None = None) -> FitSummary:
    """The SPEC C.1 claims at each reported step, with the learning-rate choices.

    Args:
        table: the records of ``fig7``.
        steps: the reported steps (default: the last).
    """
    steps = _steps(table, steps)
    rows, findings = _summary.claim_rows(table, steps=steps)
    return FitSummary(
        experiment="fig7",
        rows=rows,
        findings=[*_summary.structural_findings(table), *findings],
        meta={
            "lr_rule": _summary.LR_RULE,
            "steps": steps,
            "sizes": _summary.sizes(table, _summary.SIZE_COLUMNS),
        },
        fits={
            "lr_choices": _summary.lr_choices(
                table, by=("optimizer", "dim"), metrics=METRICS, steps=steps
            ),
        },
    )


def figure(table: Table, *, steps: Sequence[int] | None = None) -> Figure:
    """ID, OOD accuracy and memory recall against d, one column per step."""
    steps = _steps(table, steps)
    fig, axes = _panels.new_figure(len(METRICS), len(steps))
    for j, step in enumerate(steps):
        for i, metric in enumerate(METRICS):
            _panels.accuracy_panel(
                axes[i, j],
                table,
                x="dim",
                metric=metric,
                step=step,
                line="optimizer",
                title=f"{_panels.METRIC_LABELS[metric]}, step {step}",
            )
    return _panels.finish(
        fig, axes.ravel(), "Fig. 7: in-context recall against the width d", table
    )
