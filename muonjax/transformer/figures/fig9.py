"""Figure 9: OOD accuracy against d, per optimizer, for power-law exponents.

Kim et al. (2026), Fig. 9 [seed]: "OOD accuracy as a function of model dimension for
Muon, AdamW, and SGD (columns left to right), with batch size 256 at iteration 512.
Each curve corresponds to a different power-law exponent for (a) the output
distribution alpha_0; (b) the trigger distribution alpha_t, with alpha = 0 being
the uniform distribution and larger alpha concentrating probability mass on fewer
tokens (where we expect adaptive optimizers to be beneficial)." Row (a) varies
``alpha_0`` at ``alpha_t = 0``, row (b) ``alpha_t`` at ``alpha_0 = 0``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from muonjax.engine.table import Table
from muonjax.stats.summary import FitSummary
from muonjax.transformer.analysis import final_step
from muonjax.transformer.figures import _panels, _summary

if TYPE_CHECKING:
    from matplotlib.figure import Figure

#: The two exponents and the slice each row holds the other one at.
ROWS = (("alpha_0", {"alpha_t": 0.0}), ("alpha_t", {"alpha_0": 0.0}))


def _values(table: Table, name: str, where: dict) -> list[float]:
    return sorted({float(v) for v in table.where(**where).data[name]})


def summary(table: Table, *, step: int | None = None) -> FitSummary:
    """The SPEC C.1 claims per exponent, at the last step (or ``step``)."""
    step = final_step(table) if step is None else int(step)
    rows, findings = [], []
    for name, other in ROWS:
        for a in _values(table, name, other):
            if name != "alpha_0" and a == 0.0:
                continue  # (alpha_0, alpha_t) = (0, 0) is already in row (a)
            r, f = _summary.claim_rows(table, steps=[step], where={**other, name: a})
            rows += r
            findings += f
    return FitSummary(
        experiment="fig9",
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
                by=("optimizer", "dim", "alpha_0", "alpha_t"),
                metrics=("ood_acc", "id_acc", "recall"),
                steps=[step],
            ),
        },
    )


def figure(table: Table, *, step: int | None = None, metric: str = "ood_acc") -> Figure:
    """``metric`` against d: rows alpha_0 / alpha_t, columns optimizers."""
    step = final_step(table) if step is None else int(step)
    optimizers = list(dict.fromkeys(table.data["optimizer"].tolist()))
    fig, axes = _panels.new_figure(len(ROWS), len(optimizers))
    for i, (name, other) in enumerate(ROWS):
        for j, opt in enumerate(optimizers):
            _panels.accuracy_panel(
                axes[i, j],
                table,
                x="dim",
                metric=metric,
                step=step,
                line=name,
                where={**other, "optimizer": opt},
                title=f"({'ab'[i]}) {_panels.style(opt)[1]}, "
                f"{next(iter(other))}={next(iter(other.values())):g}",
            )
        axes[i, 0].legend(fontsize=7)
    seeds = len(np.unique(table.data["seed"]))
    fig.suptitle(
        f"Fig. 9: {_panels.METRIC_LABELS[metric]} against d per exponent, step {step}\n"
        f"mean over {seeds} seeds at each point's chosen learning rate; bars: 95% "
        "bootstrap over seeds",
        fontsize=9,
    )
    return fig
