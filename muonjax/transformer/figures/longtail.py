"""The long-tailed facts figure and fit summary, from the records.

:func:`figure`: one row per ``beta``; per optimizer, first-token accuracy per
frequency bucket against the step (mean over seeds, band: range over seeds); then
the steps each bucket took to reach 50% against the bucket's subject frequency; then
facts learned against steps on log-log axes with the power laws fitted over the
shared window. :func:`summary`: the two claims of SPEC C.2 and the info rows, for
every ``beta`` and Muon variant (:func:`muonjax.transformer.longtail_comparisons`).

References:
    SPEC C.2 [derived]; Li, Wang, Zhong, Lu, Wang (2026), arXiv 2602.05725.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from muonjax.engine.table import Table
from muonjax.stats.summary import FitSummary, SummaryRow
from muonjax.theory import transformer as theory
from muonjax.transformer import longtail_analysis as la
from muonjax.transformer.facts import frequency_buckets
from muonjax.transformer.longtail_records import LR_CHOICE_RULE
from muonjax.transformer.longtail_verdicts import longtail_comparisons

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["EXPERIMENT", "figure", "summary"]

#: The experiment's name in summaries.
EXPERIMENT = "longtail_facts"
#: Display names and line styles.
LABELS = {
    "adamw": "AdamW",
    "muon": "Muon (Newton-Schulz)",
    "muon_exact": "Muon (exact)",
}
STYLES = {
    "adamw": ("tab:blue", "--"),
    "muon": ("tab:red", "-"),
    "muon_exact": ("tab:purple", ":"),
}


def _values(table: Table, name: str) -> list[Any]:
    return sorted({v.item() if hasattr(v, "item") else v for v in table.data[name]})


def _optimizers(table: Table, beta: float) -> list[str]:
    present = _values(table.where(beta=beta), "optimizer")
    return [o for o in ("adamw", "muon", "muon_exact") if o in present]


def summary(table: Table) -> FitSummary:
    """Both claims, per ``beta`` and Muon variant against AdamW, with info rows."""
    rows, fits, findings = [], {}, []
    for beta in _values(table, "beta"):
        for opt in _optimizers(table, beta):
            if opt == "adamw":
                continue
            res = longtail_comparisons(table, beta=beta, optimizer=opt)
            group = f"beta={beta:g}, {opt} vs adamw"
            rows.append(SummaryRow(theory.TAIL_ACCURACY_CLAIM, group, res.tail))
            rows.append(SummaryRow(theory.FACTS_SLOPE_CLAIM, group, res.slope))
            rows.extend(SummaryRow("(info) " + c.label, group, c) for c in res.info)
            fits.update({f"{group}: {name}": f for name, f in res.fits.items()})
            findings.append(
                f"beta={beta:g}, {opt}: tail gap {res.tail.estimate:+.3f} "
                f"{res.tail.interval_text} ({res.tail.verdict}); facts exponent "
                f"difference {res.slope.estimate:+.3f} {res.slope.interval_text} "
                f"({res.slope.verdict}); tail gap per seed "
                f"{[round(v, 3) for v in res.details['tail_gap_per_seed']]}; facts "
                f"window steps {res.details['facts_window_steps']}"
            )
    return FitSummary(
        experiment=EXPERIMENT,
        rows=rows,
        fits=fits,
        findings=findings,
        meta={
            "lr_choice_rule": LR_CHOICE_RULE,
            "chosen_lr": {
                f"beta={b:g},{o}": v for (b, o), v in la.chosen_lrs(table).items()
            },
            "tag": theory.LONGTAIL_TAG,
        },
    )


def _band(ax: Any, x: np.ndarray, y: np.ndarray, color: Any, **kw: Any) -> None:
    ax.plot(x, y.mean(axis=0), color=color, lw=1.3, **kw)
    if y.shape[0] > 1:
        ax.fill_between(x, y.min(axis=0), y.max(axis=0), color=color, alpha=0.15, lw=0)


def _no_minor_labels(ax: Any) -> None:
    """Log axes spanning less than a decade label their minor ticks; not here."""
    from matplotlib.ticker import NullFormatter

    ax.xaxis.set_minor_formatter(NullFormatter())


def _grid_panel(ax: Any, table: Table, beta: float) -> None:
    """Final held-out loss (solid) and tail accuracy (dotted, right axis) against
    the learning rate; the chosen value circled."""
    chosen = la.chosen_lrs(table)
    right = ax.twinx()
    for opt in _optimizers(table, beta):
        color, _ = STYLES[opt]
        lrs = _values(table.where(beta=beta, optimizer=opt), "lr")
        cs = [la.longtail_curves(table, beta=beta, optimizer=opt, lr=lr) for lr in lrs]
        loss = [c.loss[:, -1].mean() for c in cs]
        tail = [c.bucket[:, -1, -1].mean() for c in cs]
        ax.plot(lrs, loss, "o-", color=color, ms=3, label=LABELS[opt])
        right.plot(lrs, tail, "s:", color=color, ms=3)
        pick = lrs.index(chosen[(float(beta), opt)])
        ax.plot(lrs[pick], loss[pick], "o", mfc="none", mec="k", ms=9)
    ax.set_xscale("log")
    _no_minor_labels(ax)
    grid = _values(table.where(beta=beta), "lr")
    ax.set_xticks(grid, [f"{v:g}" for v in grid], fontsize=6, rotation=45)
    ax.set_xlabel("learning rate (grid)")
    ax.set_ylabel("held-out loss at the end (solid)")
    right.set_ylabel("tail accuracy at the end (dotted)")
    ax.set_title("learning-rate grids (circled: chosen)", fontsize=9)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=6)


def figure(table: Table) -> Figure:
    """Accuracy by bucket, steps to 50%, facts learned: one row per ``beta``."""
    from matplotlib import colormaps
    from matplotlib.figure import Figure

    betas = _values(table, "beta")
    opts = max((_optimizers(table, b) for b in betas), key=len)
    cols = len(opts) + 3
    fig = Figure(layout="constrained", figsize=(3.3 * cols, 3.1 * len(betas) + 0.4))
    axes = fig.subplots(len(betas), cols, squeeze=False)
    nb = la.bucket_count(table)
    colors = [colormaps["viridis"](b / max(nb - 1, 1)) for b in range(nb)]
    for i, beta in enumerate(betas):
        subjects = int(table.where(beta=beta).data["subjects"][0])
        freqs = la.bucket_frequencies(subjects, beta, nb)
        _, edges = frequency_buckets(subjects, nb)
        row = axes[i]
        for j, opt in enumerate(_optimizers(table, beta)):
            c = la.longtail_curves(table, beta=beta, optimizer=opt)
            ax = row[j]
            for b in range(nb):
                label = f"ranks {edges[b]}-{edges[b + 1] - 1}"
                _band(ax, c.steps, c.bucket[:, :, b], colors[b], label=label)
            ax.set_ylim(-0.02, 1.02)
            ax.set_title(f"{LABELS[opt]}, lr {c.lr:g}\nbeta = {beta:g}", fontsize=9)
            ax.set_xlabel("step")
            ax.set_ylabel("first-token accuracy")
            ax.grid(True, alpha=0.3)
            if i == 0 and j == 0:
                ax.legend(fontsize=6, title="subject bucket", title_fontsize=6)
        _grid_panel(row[-3], table, beta)
        ax_reach, ax_facts = row[-2], row[-1]
        ff = la.facts_fits(table, beta=beta)
        for opt in _optimizers(table, beta):
            color, ls = STYLES[opt]
            c = la.longtail_curves(table, beta=beta, optimizer=opt)
            reach = la.steps_to_reach(c)
            # a bucket some seed never reached has no mean (left out of the plot)
            mean = np.where(np.isnan(reach).any(axis=0), np.nan, reach.mean(axis=0))
            ax_reach.plot(freqs, mean, "o" + ls, color=color, label=LABELS[opt], ms=4)
            x = c.steps[1:]
            _band(ax_facts, x, c.facts[:, 1:], color, ls=ls, label=LABELS[opt])
            fit = (
                ff.fits.get(opt)
                or la.facts_fits(table, beta=beta, optimizer=opt).fits[opt]
            )
            if fit.ok:
                xs = fit.x
                ax_facts.plot(
                    xs,
                    fit.predict(xs),
                    color="k",
                    lw=0.8,
                    ls=ls,
                    label=f"fit C = {fit.exponent:.2f}",
                )
        ax_reach.set_xscale("log")
        ax_reach.set_yscale("log")
        ax_reach.set_xlabel("bucket mean subject frequency p")
        ax_reach.set_ylabel("steps to 50% accuracy")
        ax_reach.set_title("buckets reached by every seed", fontsize=9)
        ax_reach.grid(True, alpha=0.3, which="both")
        ax_reach.legend(fontsize=6)
        ax_facts.set_xscale("log")
        ax_facts.set_yscale("log")
        _no_minor_labels(ax_facts)
        ax_facts.axhline(c.total, color="gray", lw=0.6, ls=":")
        ax_facts.axhspan(*ff.window, color="gray", alpha=0.07, lw=0)
        ax_facts.set_xlabel("step")
        ax_facts.set_ylabel(f"facts learned (of {c.total})")
        ax_facts.set_title(
            f"facts ~ t^C (baseline C = 1/beta = "
            f"{theory.facts_learned_exponent(beta) if beta > 0 else float('nan'):.2f})",
            fontsize=9,
        )
        ax_facts.grid(True, alpha=0.3, which="both")
        ax_facts.legend(fontsize=6)
    seeds = len(np.unique(table.data["seed"]))
    fig.suptitle(
        f"Long-tailed facts: Muon against AdamW (mean over {seeds} seeds, band: range; "
        "shaded: fit window)",
        fontsize=10,
    )
    return fig
