"""Figure 3 of Kim et al. (2026): one minibatch Muon and SGD step against B.

One step from ``W_0 = 0`` on the minibatch loss of ``B`` i.i.d. draws, at
``alpha = 1.5``, for several ``d``; capacity (count, prefix, weighted accuracy) per
seed, the batch's own distinct items, and one population step (``B = 0``) per ``d``
as the ceiling the curve should level off at. The figure shows capacity against
``B`` with the information-theoretic line (expected distinct items in the batch,
``~ B^(1/alpha)``), the ceilings ``d^(1 + 1/(2 alpha))`` (Muon) and ``d^(1/(2 alpha))``
(SGD), and the fitted critical batch sizes ``B*`` at the intersections.

Predictions (SPEC A.5): capacity <= distinct items ``~ B^(1/alpha)`` [seed names the
line; derived formula]; Muon ceiling ``d^(1 + 1/(2 alpha))`` [seed, quoted]; SGD
ceiling ``d^(1/(2 alpha))`` [derived]; ``B* ~ d^(alpha + 1/2)`` (Muon) and ``d^(1/2)``
(SGD) [derived from the seed's "intersections"]. Fits:
:func:`muonjax.analyze_critical_batch` (count, as in the captions; the prefix beside
it).

``run`` runs in JAX's 64-bit mode (scoped): the gradient and the update run in float64
(``update_dtype``), the capacity pass in float32.

Run: ``muonjax run fig3 --preset quick`` or ``python experiments/fig3.py``.

References:
    Kim, Nichani, Wu, Bietti, Lee (2026), arXiv 2603.26554, Figure 3; SPEC A.5-A.6.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np

import muonjax as mj


@dataclasses.dataclass(frozen=True)
class Fig3Config:
    """Settings of Figure 3 (every one can be changed with ``--set key=value``).

    Attributes:
        n: number of associations N (the paper: 100,000).
        dims: embedding dimensions d.
        alpha: frequency exponent (the paper: 1.5).
        rules: ``gd`` (SGD) and/or ``muon`` (exact polar factor) or ``muon_ns``.
        max_batch_size: the largest B; the grid is geometric from 1 (see
            :func:`muonjax.batch_grid`) and should reach well past Muon's plateau at
            the largest d.
        batch_factor: ratio of consecutive batch sizes.
        population: add ``B = 0``, one population step per d (the measured ceiling).
        seeds: repeats per cell (the paper: 16).
        muon_lr_scale: Muon's step is ``muon_lr_scale * sqrt(d)`` (one step from zero:
            recovery does not depend on it, SPEC A.3 [derived]).
        update_dtype: dtype of the gradient and update (float64: see the module doc).
        with_loss: also record the population loss of ``W_1``.
        n_boot: bootstrap replicates of each fit.
        chunk_size: (cell, seed) pairs per vmapped call; sets the memory per call.
        root_seed: the sweep's PRNG key is ``jax.random.key(root_seed)``.
    """

    n: int = 10_000
    dims: tuple[int, ...] = (32, 64, 128)
    alpha: float = 1.5
    rules: tuple[str, ...] = ("gd", "muon")
    max_batch_size: int = 16_384
    batch_factor: float = 2.0
    population: bool = True
    seeds: int = 4
    muon_lr_scale: float = 2.0
    update_dtype: str = "float64"
    with_loss: bool = False
    n_boot: int = 500
    chunk_size: int = 16
    root_seed: int = 0

    def __post_init__(self) -> None:
        for name in ("n", "seeds", "chunk_size", "max_batch_size"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.n_boot < 100:
            raise ValueError(f"n_boot must be >= 100, got {self.n_boot}")
        if not self.dims or min(self.dims) < 1:
            raise ValueError(f"dims must be positive integers, got {self.dims}")
        if not self.alpha > 0:
            raise ValueError(f"alpha must be > 0, got {self.alpha}")
        if not self.batch_factor > 1:
            raise ValueError(f"batch_factor must be > 1, got {self.batch_factor}")
        bad = [r for r in self.rules if r not in mj.MINIBATCH_RULES]
        if not self.rules or bad:
            raise ValueError(
                f"rules must be among {mj.MINIBATCH_RULES}, got {self.rules}"
            )

    @property
    def batch_sizes(self) -> tuple[int, ...]:
        """``(0,)`` (population) and the geometric grid ``1 .. max_batch_size``."""
        grid = mj.batch_grid(self.max_batch_size, factor=self.batch_factor)
        return ((0,) if self.population else ()) + grid


PRESETS = {
    # About 2-3 minutes on an idle 2-core CPU (6 on one shared with 3 other jobs):
    # N = 10,000 keeps Muon's plateau (~140 items at d = 128) far below N; d >= 32
    # because at d = 16 one population Muon step recovers ~3 items (pre-asymptotic);
    # B up to 2^14 reaches Muon's plateau at d = 128 (B* ~ 10^3).
    "quick": Fig3Config(),
    # The paper's sizes (for a GPU): N = 100,000, 16 repeats, B up to 2^22 (Muon's
    # B* grows like d^2: ~10^5 expected at d = 1024).
    "paper": Fig3Config(
        n=100_000,
        dims=(64, 128, 256, 512, 1024),
        max_batch_size=2**22,
        seeds=16,
        with_loss=True,
    ),
}


def sweep(config: Fig3Config) -> mj.Sweep:
    """The grid of Figure 3: ``d x rule x B`` at one alpha, one step each."""
    return mj.critical_batch_sweep(
        n=config.n,
        dims=config.dims,
        alphas=(config.alpha,),
        batch_sizes=config.batch_sizes,
        rules=config.rules,
        update_dtype=config.update_dtype,
        muon_lr_scale=config.muon_lr_scale,
        with_loss=config.with_loss,
        chunk_size=config.chunk_size,
    )


def run(
    config: Fig3Config,
    out_dir: str | Path,
    *,
    progress: bool = False,
    meta: dict[str, Any] | None = None,
) -> mj.RecordedSweep:
    """Run (or resume) the sweep and write records and manifest to ``out_dir``.

    Runs in JAX's 64-bit mode, scoped by the registry (for the float64 update).
    """
    return mj.record_sweep(
        sweep(config),
        out_dir,
        seeds=config.seeds,
        root_seed=config.root_seed,
        chunk_size=config.chunk_size,
        progress=progress,
        meta=meta,
    )


MEASURE_LABELS = {
    "count": "capacity (count of recovered items)",
    "prefix": "capacity (recovered prefix)",
}

#: The measures fitted: ``count`` is what the captions call capacity (primary);
#: ``prefix`` (the theorems' "all items of rank up to d_t") is fitted beside it.
FIT_MEASURES = ("count", "prefix")

MEASURE_NOTE = (
    "Fitted measure: count (the number of recovered items), what the captions call "
    "capacity; its rising branch is the batch's distinct items, the "
    "information-theoretic line. The prefix is fitted beside it (rows with "
    "measure=prefix), as information: its ceiling at small B is the longest run "
    "1..k the batch happens to hold (often 0 or 1 item; the red line in the lower "
    "panels), which rises more slowly and more raggedly than B^(1/alpha), so the "
    "fixed-slope fit is a rougher model there and many seeds are 0 at small B; for "
    "SGD the checks found the prefix follows the d^(1/(2 alpha)) ceiling better than "
    "the count. Weighted accuracy (the frequency mass recovered) is recorded, not "
    "fitted: it is bounded by 1 and dominated by the head items, and SPEC A.5 gives "
    "it no scaling law."
)


def analyses(out_dir: str | Path) -> dict[str, mj.CriticalAnalysis]:
    """The critical-batch analysis of the records, per fitted measure."""
    table = mj.read_table(out_dir)
    config = mj.read_manifest(out_dir).get("config", {})
    n_boot = int(config.get("n_boot", 500))
    return {
        m: mj.analyze_critical_batch(table, measure=m, n_boot=n_boot)
        for m in FIT_MEASURES
    }


def summary(out_dir: str | Path, found: dict[str, mj.CriticalAnalysis]) -> Any:
    """The fit summary of Figure 3 (all claims, both measures)."""
    rows = [
        mj.SummaryRow(claim, group, comp)
        for an in found.values()
        for claim, group, comp in an.comparisons()
    ]
    findings = [MEASURE_NOTE]
    for an in found.values():
        findings += an.findings()
    table = mj.read_table(out_dir)
    return mj.FitSummary(
        experiment="fig3",
        rows=rows,
        fits={f"critical_{m}": an for m, an in found.items()},
        findings=findings,
        meta={
            "n": int(table.data["n"][0]),
            "alpha": next(iter(found.values())).alpha,
            "dims": next(iter(found.values())).dims,
            "seeds": len(np.unique(table.data["seed"])),
            "batch_sizes": sorted({int(b) for b in table.data["batch_size"]}),
            "fit": "min(a B^(1/alpha), plateau) per (rule, d), slope fixed at "
            "1/alpha; B* exponent from a line through log B*(d) with the bootstrap "
            "carried through both fits",
            "tolerances": "capacity exponents 0.1 (max interval width 0.25); B* "
            "exponents alpha x 0.1 (max width alpha x 0.25), since B* = "
            "(plateau / a)^alpha",
        },
    )


def critical_panel(
    ax: Any,
    analysis: mj.CriticalAnalysis,
    rule: str,
    table: mj.Table,
    *,
    show_line: bool = True,
) -> None:
    """One panel: the measure against B per d, ceilings, B*, information line."""
    alpha, measure = analysis.alpha, analysis.measure
    dims = [d for d in analysis.dims if (rule, d) in analysis.curves]
    ceiling_exp = float(mj.theory.one_step_exponent(rule, alpha))
    pops = [analysis.curves[(rule, d)].population for d in dims]
    scale = None
    if all(p is not None and np.mean(p) > 0 for p in pops):
        # One constant for the predicted ceiling c d^C, fitted (in log space) to the
        # measured population steps: the prediction has no constant.
        logs = [
            np.log(np.mean(p)) - ceiling_exp * np.log(d)
            for p, d in zip(pops, dims, strict=True)
        ]
        scale = float(np.exp(np.mean(logs)))
    b_all: np.ndarray = np.zeros(0)
    levels: list[float] = []
    for i, d in enumerate(dims):
        color = f"C{i % 10}"
        curve = analysis.curves[(rule, d)]
        fit = analysis.fits[(rule, d)]
        b = curve.batch_sizes
        b_all = b if b.size > b_all.size else b_all
        mean, sd = curve.values.mean(axis=1), curve.values.std(axis=1, ddof=1)
        keep = mean > 0
        levels += mean[keep].tolist()
        lower = np.minimum(sd, mean * (1 - 1e-3))
        ax.errorbar(
            b[keep],
            mean[keep],
            yerr=(lower[keep], sd[keep]),
            marker="o",
            ms=3,
            capsize=2,
            color=color,
            label=f"d={d}",
        )
        if curve.population is not None and np.mean(curve.population) > 0:
            ax.axhline(np.mean(curve.population), color=color, ls=":", lw=1)
        if scale is not None:
            ax.axhline(scale * d**ceiling_exp, color=color, ls="--", lw=0.8, alpha=0.5)
        if fit.ok:
            lo, hi = fit.fit.breakpoint_interval
            bp = fit.fit.breakpoint
            ax.errorbar(
                [bp],
                [fit.fit.plateau],
                xerr=([bp - lo], [hi - bp]),
                marker="X",
                ms=8,
                color=color,
                mec="k",
                capsize=3,
            )
    if show_line and b_all.size:
        grid = np.geomspace(b_all.min(), b_all.max(), 100)
        n = int(table.data["n"][0])
        if measure == "count":
            ax.plot(
                grid,
                mj.theory.expected_distinct_items(n, alpha, grid),
                color="red",
                ls="--",
                lw=1.2,
                label="E[distinct items in batch] [derived]",
            )
            ax.plot(
                grid,
                mj.theory.distinct_items_scaling(grid, alpha),
                color="k",
                ls=":",
                lw=0.8,
                label=f"B^(1/alpha), alpha={alpha:g}",
            )
        else:
            col = mj.MEASURE_CEILINGS[measure]
            stats = mj.group_stats(table.where(rule=rule), ("batch_size",), col)
            bs = np.asarray([k[0] for k in stats.keys], float)
            ok = (bs > 0) & (stats.mean > 0)
            (line,) = ax.plot(
                bs[ok],
                stats.mean[ok],
                color="red",
                ls="--",
                lw=1.2,
                label=f"{measure} of the batch itself (mean)",
            )
            ax.legend(handles=[line], fontsize=7, loc="upper left")
    ax.set_xscale("log")
    ax.set_yscale("log")
    if levels:
        # Limits from the means: an error bar reaching below 0 is cut by the axis.
        ax.set_ylim(0.5 * min(levels), 2.0 * max(levels))
    ax.grid(True, which="both", alpha=0.3)
    name = {"gd": "SGD", "muon": "Muon", "muon_ns": "Muon (Newton-Schulz)"}[rule]
    tag = "[seed, quoted]" if rule != "gd" else "[derived]"
    ax.set_title(
        f"{name}: ceiling c d^{ceiling_exp:.3g} {tag}",
        fontsize=9,
    )


def plot(out_dir: str | Path) -> list[Path]:
    """Capacity (count, prefix) against B per rule, and the fit summary."""
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

    out = Path(out_dir)
    table = mj.read_table(out)
    found = analyses(out)
    rules = list(found["count"].rules)
    n = int(table.data["n"][0])
    seeds = len(np.unique(table.data["seed"]))
    fig = Figure(figsize=(4.5 * len(rules), 8.0), layout="constrained")
    axes = np.asarray(fig.subplots(2, len(rules), squeeze=False))
    for r, measure in enumerate(FIT_MEASURES):
        for c, rule in enumerate(rules):
            ax = axes[r, c]
            critical_panel(ax, found[measure], rule, table)
            if r == 1:
                ax.set_xlabel("batch size B")
            if c == 0:
                ax.set_ylabel(MEASURE_LABELS[measure])
    handles, _ = axes[0, -1].get_legend_handles_labels()
    extra = [
        Line2D([], [], color="gray", ls=":", label="one population step (measured)"),
        Line2D([], [], color="gray", ls="--", alpha=0.5, label="c d^C, c fitted to it"),
        Line2D([], [], color="gray", marker="X", ls="", mec="k", label="fitted B*"),
    ]
    fig.legend(
        handles=[*handles, *extra], fontsize=8, loc="outside lower center", ncol=4
    )
    fig.suptitle(
        f"Kim et al. (2026) Fig. 3: one minibatch step from W=0, N={n}, "
        f"alpha={found['count'].alpha:g}\nmean over {seeds} seeds, bars: one "
        "standard deviation; B* bars: 95% bootstrap interval",
        fontsize=9,
    )
    paths = mj.save_figure(fig, out / "fig3")
    paths += mj.write_fit_summary(out, summary(out, found))
    return paths


EXPERIMENT = mj.register_experiment(
    "fig3",
    summary="one minibatch SGD / Muon step: capacity against B, ceilings and "
    "critical batch sizes (Kim et al. 2026, Fig. 3)",
    presets=PRESETS,
    run=run,
    plot=plot,
    x64=True,
)


if __name__ == "__main__":
    raise SystemExit(mj.experiment_main(EXPERIMENT))
