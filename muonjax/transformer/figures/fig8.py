"""Figure 8: OOD accuracy and memory recall against the batch size B.

Kim et al. (2026), Fig. 8 [seed]: "OOD and memory recall accuracy as a function of
batch size B, for Muon, AdamW, and SGD (columns left to right), with different
curves per model dimension, at iteration 1024. For Figure 8b, we use a two-layer
transformer with no feed-forward layers to avoid redundancies between the value
matrix and the subsequent MLP layer. For each (B, dim) pair, the learning rate is
chosen to maximize accuracy." Rows: (a) OOD accuracy, (b) memory recall; columns:
optimizers; one curve per width d.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from muonjax.engine.table import Table
from muonjax.stats.summary import FitSummary
from muonjax.transformer.analysis import final_step
from muonjax.transformer.figures import _panels, _summary

if TYPE_CHECKING:
    from matplotlib.figure import Figure

#: Rows of the figure.
METRICS = ("ood_acc", "recall")


def _batch_sizes(table: Table) -> list[int]:
    return sorted({int(b) for b in table.data["batch_size"]})


def summary(table: Table, *, step: int | None = None) -> FitSummary:
    """The SPEC C.1 claims at each batch size, at the last step (or ``step``)."""
    step = final_step(table) if step is None else int(step)
    rows, findings = [], []
    for b in _batch_sizes(table):
        r, f = _summary.claim_rows(table, steps=[step], where={"batch_size": b})
        rows += r
        findings += f
    return FitSummary(
        experiment="fig8",
        rows=rows,
        findings=[*_summary.structural_findings(table), *findings],
        meta={
            "lr_rule": _summary.LR_RULE,
            "step": step,
            "sizes": _summary.sizes(table, _summary.SIZE_COLUMNS),
        },
        fits={
            "lr_choices": _summary.lr_choices(
                table,
                by=("optimizer", "dim", "batch_size"),
                metrics=METRICS,
                steps=[step],
            ),
        },
    )


def figure(table: Table, *, step: int | None = None) -> Figure:
    """OOD accuracy (top) and memory recall (bottom) against B, per optimizer."""
    step = final_step(table) if step is None else int(step)
    optimizers = list(dict.fromkeys(table.data["optimizer"].tolist()))
    fig, axes = _panels.new_figure(len(METRICS), len(optimizers))
    for j, opt in enumerate(optimizers):
        for i, metric in enumerate(METRICS):
            _panels.accuracy_panel(
                axes[i, j],
                table,
                x="batch_size",
                metric=metric,
                step=step,
                line="dim",
                where={"optimizer": opt},
                title=f"({'ab'[i]}) {_panels.style(opt)[1]}",
            )
    return _panels.finish(
        fig,
        axes.ravel(),
        f"Fig. 8: OOD accuracy and memory recall against the batch size, step {step}",
        table,
    )
