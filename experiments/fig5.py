"""Figure 5 of Kim et al. (2026): capacity against step, multi-step Muon vs GD.

``T`` steps from ``W_0 = 0`` at ``alpha = 1.5`` [seed] for Muon with the fixed
step ``eta = sqrt(d)`` [seed] and GD with an increasing schedule from
``eta_1 = 0.01 sqrt(d)`` [seed] (its shape is not in the seeds: the default,
``min(0.01 sqrt(d) 2^(t-1), 100 sqrt(d))``, is explained at
:data:`muonjax.DEFAULT_GD_SCHEDULE`; change it with ``--set gd_schedule=...``,
``gd_factor``, ``gd_power``, ``gd_max_lr_scale``), on (a) the population loss and
(b) minibatch losses (a fresh batch of ``B`` items drawn from ``p`` each step;
``batch_sizes`` holds 0 for the population). Both rules see the same task for a
seed (paired). Exact updates (no thresholding), as in the paper's figure.

Claims (SPEC A.5, many steps [seed]): "both Muon and GD approach the
information-theoretic limit ~ d^2; Muon much faster early"; the abstract adds
"both methods eventually converge to the information-theoretic limit at comparable
speeds" [seed]. ``plot`` tests, from the records: Muon's count over GD's at an
early step (> 1), the ratio at the last step (about 1), the exponent of the last
count against ``d`` (2), and, for minibatches, that the count stays below the
number of distinct items the batches have shown (``[derived]``: ``W_t`` depends on
the seen items only, so unseen items are recovered only by chance).

Precision: ``run`` runs in JAX's 64-bit mode (scoped) (float64 gradient, update, ``W``).

Run: ``muonjax run fig5 --preset quick``; ``muonjax plot DIR`` redraws.

References:
    Kim, Nichani, Wu, Bietti, Lee (2026), arXiv 2603.26554, Figure 5, Theorem 5.5;
    SPEC A.3 (learning rates), A.5, A.6.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np

import muonjax as mj
from muonjax import theory

_CLAIM_EARLY = "Muon much faster early [seed]"
_CLAIM_LATE = (
    "both converge to the information-theoretic limit at comparable speeds [seed, "
    "abstract]"
)
_CLAIM_LIMIT = "many steps: capacity approaches the information limit ~ d^2 [seed]"
_CLAIM_BATCH = (
    "minibatch: capacity <= distinct items shown by the batches (+ chance) [derived]"
)

#: Tolerance of the "comparable speeds" ratio (Muon count / GD count at the last
#: step == 1): 20%, an allowance for "comparable", not a number from the paper.
LATE_RATIO_TOLERANCE = 0.2


@dataclasses.dataclass(frozen=True)
class Fig5Config:
    """Settings of Figure 5 (every one can be changed with ``--set key=value``).

    Attributes:
        n: number of associations N (the paper: 100,000).
        dims: embedding dimensions d.
        alphas: frequency exponents (the paper: 1.5).
        batch_sizes: minibatch sizes; 0 is the population gradient (panel a).
        steps: steps T per run.
        rules: ``muon`` (exact polar factor) and ``gd``; ``muon_ns<k>`` allowed.
        muon_lr_scale: Muon's ``eta / sqrt(d)`` (1 [seed]).
        gd_lr_scale: GD's ``eta_1 / sqrt(d)`` (0.01 [seed]).
        gd_schedule: ``geometric``, ``polynomial`` or ``constant``.
        gd_factor: geometric growth per step.
        gd_power: polynomial exponent.
        gd_max_lr_scale: GD's cap over ``sqrt(d)`` (``none``: no cap).
        early_step: the step at which "much faster early" is tested.
        update_dtype: dtype of gradient, update and ``W``.
        seeds: repeats per cell (the paper: not stated; 16 here).
        n_boot: bootstrap replicates.
        chunk_size: (cell, seed) pairs per vmapped call.
        root_seed: the sweep's root seed.
    """

    n: int = 2000
    dims: tuple[int, ...] = (32, 64)
    alphas: tuple[float, ...] = (1.5,)
    batch_sizes: tuple[int, ...] = (0, 64, 512)
    steps: int = 60
    rules: tuple[str, ...] = ("muon", "gd")
    muon_lr_scale: float = 1.0
    gd_lr_scale: float = mj.DEFAULT_GD_SCHEDULE["scale"]
    gd_schedule: str = mj.DEFAULT_GD_SCHEDULE["shape"]
    gd_factor: float = mj.DEFAULT_GD_SCHEDULE["factor"]
    gd_power: float = mj.DEFAULT_GD_SCHEDULE["power"]
    gd_max_lr_scale: float | None = mj.DEFAULT_GD_SCHEDULE["max_scale"]
    early_step: int = 5
    update_dtype: str = "float64"
    seeds: int = 4
    n_boot: int = 1000
    chunk_size: int = 16
    root_seed: int = 0

    def __post_init__(self) -> None:
        for name in ("n", "seeds", "chunk_size", "steps", "early_step"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.early_step > self.steps:
            raise ValueError(
                f"early_step must be <= steps, got {self.early_step} > {self.steps}"
            )
        if not self.dims or min(self.dims) < 1:
            raise ValueError(f"dims must be positive integers, got {self.dims}")
        if not self.alphas or min(self.alphas) <= 0:
            raise ValueError(f"alphas must be > 0, got {self.alphas}")
        if not self.batch_sizes or min(self.batch_sizes) < 0:
            raise ValueError(f"batch_sizes must be >= 0, got {self.batch_sizes}")
        if not self.rules:
            raise ValueError("rules must be non-empty")
        for rule in self.rules:
            mj.parse_rule(rule)
        if self.update_dtype not in ("float32", "float64"):
            raise ValueError(
                f"update_dtype must be 'float32' or 'float64', got {self.update_dtype}"
            )
        if self.n_boot < 100:
            raise ValueError(f"n_boot must be >= 100, got {self.n_boot}")


PRESETS = {
    # A few minutes on a 2-core CPU.
    "quick": Fig5Config(),
    # The caption's sizes (for a GPU): N = 100,000, alpha = 1.5.
    "paper": Fig5Config(
        n=100_000,
        dims=(64, 128, 256),
        batch_sizes=(0, 1024, 8192, 65536),
        steps=500,
        early_step=10,
        seeds=16,
        n_boot=2000,
    ),
}


def sweep(config: Fig5Config) -> mj.Sweep:
    """The grid ``d x rule x alpha x batch size``, ``steps`` steps each."""
    return mj.multi_step_sweep(
        n=config.n,
        dims=config.dims,
        alphas=config.alphas,
        steps=config.steps,
        rules=config.rules,
        batch_sizes=config.batch_sizes,
        muon_lr_scale=config.muon_lr_scale,
        gd_lr_scale=config.gd_lr_scale,
        gd_schedule=config.gd_schedule,
        gd_factor=config.gd_factor,
        gd_power=config.gd_power,
        gd_max_lr_scale=config.gd_max_lr_scale,
        update_dtype=config.update_dtype,
        chunk_size=config.chunk_size,
    )


def run(
    config: Fig5Config,
    out_dir: str | Path,
    *,
    progress: bool = False,
    meta: dict[str, Any] | None = None,
) -> mj.RecordedSweep:
    """Run (or resume) the sweep and write records and manifest to ``out_dir``.

    Runs in JAX's 64-bit mode, scoped by the registry (for ``update_dtype="float64"``).
    """
    meta = {
        **(meta or {}),
        "fit": {"n_boot": config.n_boot, "early_step": config.early_step},
    }
    return mj.record_sweep(
        sweep(config),
        out_dir,
        seeds=config.seeds,
        root_seed=config.root_seed,
        chunk_size=config.chunk_size,
        progress=progress,
        meta=meta,
    )


# --------------------------------------------------------------------------------------
# Analysis (from the records only).


def _batch_label(b: int) -> str:
    return "population" if b == 0 else f"B={b}"


def _mean_interval(x: np.ndarray, n_boot: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    reps = x[rng.integers(0, x.size, (n_boot, x.size))].mean(axis=1)
    return float(x.mean()), (
        float(np.quantile(reps, 0.025)),
        float(np.quantile(reps, 0.975)),
    )


def analyse(out_dir: str | Path) -> mj.FitSummary:
    """Verdicts and findings of Figure 5 from the records in ``out_dir``."""
    out = Path(out_dir)
    table = mj.read_table(out)
    fit = mj.read_manifest(out).get("fit", {})
    n_boot = int(fit.get("n_boot", 1000))
    t_last = int(table.data["step"].max())
    early = min(int(fit.get("early_step", 5)), t_last)
    n = int(table.data["n"][0])
    by = ("rule", "batch_size", "alpha", "d")
    at_early = mj.capacity_after(table, early, by=by)
    at_last = mj.capacity_after(table, t_last, by=by)
    rules = list(dict.fromkeys(table.data["rule"].tolist()))
    dims = sorted(set(table.data["d"].tolist()))
    batches = list(dict.fromkeys(table.data["batch_size"].tolist()))
    alphas = sorted(set(table.data["alpha"].tolist()))
    rows: list[mj.SummaryRow] = []
    fits: dict[str, Any] = {}
    ratios: dict[tuple[Any, ...], tuple[float, float]] = {}
    if {"muon", "gd"} <= set(rules):
        for b in batches:
            for alpha in alphas:
                for d in dims:
                    group = f"{_batch_label(b)}, alpha={alpha:g}, d={d}, measure=count"
                    r, ci = mj.paired_ratio(
                        at_early[("muon", b, alpha, d)],
                        at_early[("gd", b, alpha, d)],
                        n_boot=n_boot,
                    )
                    rows.append(
                        mj.SummaryRow(
                            _CLAIM_EARLY,
                            group,
                            mj.compare(
                                r,
                                ci,
                                1.0,
                                relation=">",
                                tolerance=0.0,
                                max_width=float("inf"),
                                label=f"count(Muon) / count(GD) at step {early}",
                            ),
                        )
                    )
                    r2, ci2 = mj.paired_ratio(
                        at_last[("muon", b, alpha, d)],
                        at_last[("gd", b, alpha, d)],
                        n_boot=n_boot,
                    )
                    ratios[(b, alpha, d)] = (r, r2)
                    rows.append(
                        mj.SummaryRow(
                            _CLAIM_LATE,
                            group,
                            mj.compare(
                                r2,
                                ci2,
                                1.0,
                                tolerance=LATE_RATIO_TOLERANCE,
                                max_width=float("inf"),
                                label=f"count(Muon) / count(GD) at step {t_last}",
                            ),
                        )
                    )
    for rule in rules:
        for b in batches:
            for alpha in alphas:
                if len(dims) < 2:
                    continue
                f = mj.fit_power_law(
                    np.asarray(dims, float),
                    [at_last[(rule, b, alpha, d)] for d in dims],
                    saturation=float(n),
                    n_boot=n_boot,
                    min_points=2,
                )
                fits[
                    f"count at step {t_last}: {rule}, {_batch_label(b)}, a={alpha:g}"
                ] = f
                rows.append(
                    mj.SummaryRow(
                        _CLAIM_LIMIT,
                        f"{rule}, {_batch_label(b)}, alpha={alpha:g}, count at step "
                        f"{t_last}",
                        mj.compare_fit(
                            f,
                            theory.information_limit_exponent(),
                            label=f"C of count at step {t_last} ~ d^C",
                        ),
                    )
                )
    for rule in rules:
        for b in (b for b in batches if b > 0):
            for alpha in alphas:
                seen = float(theory.expected_distinct_items(n, alpha, t_last * b))
                for d in dims:
                    est, ci = _mean_interval(
                        at_last[(rule, b, alpha, d)] / seen, n_boot
                    )
                    rows.append(
                        mj.SummaryRow(
                            _CLAIM_BATCH,
                            f"{rule}, B={b}, alpha={alpha:g}, d={d}, step {t_last}",
                            mj.compare(
                                est,
                                ci,
                                1.0,
                                relation="<=",
                                tolerance=0.0,
                                max_width=float("inf"),
                                label=f"count / E[distinct items in {t_last} x {b} "
                                f"draws] ({seen:.0f})",
                            ),
                        )
                    )
    findings = _findings(table, rows, ratios, early, t_last)
    return mj.FitSummary(
        experiment="fig5",
        rows=rows,
        fits=fits,
        findings=findings,
        meta={
            "n": n,
            "dims": dims,
            "alphas": alphas,
            "batch_sizes": batches,
            "steps": t_last,
            "early_step": early,
            "seeds": len(np.unique(table.data["seed"])),
            "muon_lr_scale": _first(table, "muon_lr_scale"),
            "gd_schedule": {
                k: _first(table, k)
                for k in (
                    "gd_lr_scale",
                    "gd_schedule",
                    "gd_factor",
                    "gd_power",
                    "gd_max_lr_scale",
                )
            },
            "measure": "count (recovered items); prefix and weighted accuracy are "
            "in the records",
            "method": "ratios of mean counts over seeds with a paired 95% bootstrap; "
            "'>' needs the whole interval above 1; the last-step ratio is "
            f"'comparable' within {LATE_RATIO_TOLERANCE:g}; exponents: power law on "
            "the mean vs d, tolerance 0.1, max width 0.25",
        },
    )


def _first(table: mj.Table, col: str) -> Any:
    if col not in table.data:
        return None
    v = table.data[col][0]
    return v.item() if hasattr(v, "item") else v


def _findings(table, rows, ratios, early, t_last) -> list[str]:
    lines = []
    counts: dict[str, int] = {}
    for r in rows:
        counts[r.comparison.verdict] = counts.get(r.comparison.verdict, 0) + 1
    lines.append(
        f"{len(rows)} comparisons: "
        + ", ".join(f"{v} {k}" for k, v in sorted(counts.items()))
        + ". Not consistent: "
        + (
            "; ".join(
                f"[{r.comparison.verdict}] {r.claim.split(' [')[0]} ({r.group}): "
                f"{r.comparison.label} = {r.comparison.measurement_text} "
                f"{r.comparison.interval_text} vs {r.comparison.prediction_text}"
                for r in rows
                if r.comparison.verdict != "consistent"
            )
            or "none"
        )
        + "."
    )
    n = int(table.data["n"][0])
    curves = mj.step_curves(table, by=("rule", "batch_size", "alpha", "d"))
    marks = sorted({1, 3, early, 10, 20, t_last} & set(range(1, t_last + 1)))
    for (rule, b, alpha, d), (_, steps, vals) in curves.items():
        m = vals.mean(axis=0)
        lines.append(
            f"{rule}, {_batch_label(b)}, alpha={alpha:g}, d={d}: mean count at steps "
            + ", ".join(f"{t}: {m[np.searchsorted(steps, t)]:.0f}" for t in marks)
            + f"; {m[-1] / min(d * d, n):.3f} of min(d^2, N) = {min(d * d, n)}."
        )
    for (b, alpha, d), (r_early, r_last) in ratios.items():
        gd = curves[("gd", b, alpha, d)][2].mean(axis=0)
        muon = curves[("muon", b, alpha, d)][2].mean(axis=0)
        reach = np.nonzero(gd >= muon[early])[0]
        when = f"step {int(reach[0])}" if reach.size else f"not within {t_last} steps"
        lines.append(
            f"{_batch_label(b)}, d={d}: Muon / GD count {r_early:.2f} at step {early}, "
            f"{r_last:.2f} at step {t_last}; GD reaches Muon's step-{early} count at "
            f"{when}."
        )
    far = [
        k
        for k, (_, _, v) in curves.items()
        if v.mean(axis=0)[-1] < 0.1 * min(k[3] ** 2, n)
    ]
    if far:
        lines.append(
            f"In {len(far)} of {len(curves)} runs the last count is below 10% of "
            "min(d^2, N): neither rule approaches the information limit within "
            f"{t_last} steps at these sizes. Why we think so: Muon's fixed step "
            "eta = sqrt(d) makes the iterates oscillate (the count alternates "
            "between steps and plateaus); GD's capped schedule keeps growing slowly. "
            "Whether the counts would reach ~ d^2 with more steps or a decaying "
            "Muon step is not measured here."
        )
    return lines


# --------------------------------------------------------------------------------------
# Figure.


def plot(out_dir: str | Path) -> list[Path]:
    """Figure 5 (PNG and PDF) and the fit summary, from the records in ``out_dir``."""
    from matplotlib.figure import Figure

    out = Path(out_dir)
    table = mj.read_table(out)
    paths = mj.write_fit_summary(out, analyse(out))
    n = int(table.data["n"][0])
    batches = list(dict.fromkeys(table.data["batch_size"].tolist()))
    dims = sorted(set(table.data["d"].tolist()))
    alphas = sorted(set(table.data["alpha"].tolist()))
    colors = {d: f"C{i}" for i, d in enumerate(dims)}
    styles = {"muon": "-", "gd": "--"}
    by = ("rule", "batch_size", "alpha", "d")
    measures = (
        ("count", "capacity (count)"),
        ("loss", "population loss"),
        ("lr", "step size eta_t"),
    )
    fig = Figure(figsize=(3.8 * len(batches), 8.2), layout="constrained")
    axes = np.asarray(fig.subplots(len(measures), len(batches), squeeze=False))
    for c, b in enumerate(batches):
        sub = table.where(batch_size=b)
        for r, (measure, label) in enumerate(measures):
            ax = axes[r, c]
            if measure == "lr":
                for (rule, _, _, d), rows in _lr_curves(sub, by).items():
                    ax.plot(
                        rows[0],
                        rows[1],
                        styles.get(rule, ":"),
                        color=colors[d],
                        lw=1,
                        label=f"{rule}, d={d}" if len(alphas) == 1 else None,
                    )
            else:
                curves = mj.step_curves(sub, by=by, measure=measure)
                for (rule, _, alpha, d), (_, steps, vals) in curves.items():
                    m, s = vals.mean(axis=0), vals.std(axis=0, ddof=1)
                    keep = m > 0 if measure == "count" else np.isfinite(m)
                    lab = f"{rule}, d={d}" + (
                        f", a={alpha:g}" if len(alphas) > 1 else ""
                    )
                    ax.plot(
                        steps[keep],
                        m[keep],
                        styles.get(rule, ":"),
                        color=colors[d],
                        lw=1.2,
                        label=lab,
                    )
                    ax.fill_between(
                        steps[keep],
                        np.maximum(m - s, m * 1e-3)[keep],
                        (m + s)[keep],
                        color=colors[d],
                        alpha=0.12,
                        lw=0,
                    )
                if measure == "count":
                    for d in dims:
                        ax.axhline(min(d * d, n), color=colors[d], ls=":", lw=1)
                    ax.plot([], [], "k:", lw=1, label="min(d^2, N) [seed]")
                    if b > 0:
                        t = np.arange(1, int(sub.data["step"].max()) + 1)
                        for alpha in alphas:
                            ax.plot(
                                t,
                                theory.expected_distinct_items(n, alpha, t * b),
                                color="grey",
                                lw=1.5,
                                alpha=0.6,
                                label="distinct items seen [derived]",
                            )
            ax.set_yscale("log")
            ax.grid(True, which="both", alpha=0.3)
            if r == 0:
                ax.set_title(
                    ("(a) " if b == 0 else "(b) ") + _batch_label(b), fontsize=10
                )
            if r == len(measures) - 1:
                ax.set_xlabel("step t")
            if c == 0:
                ax.set_ylabel(label)
            if r == 0 and (c == 0 or (b > 0 and c == len(batches) - 1)):
                ax.legend(fontsize=6)
    seeds = len(np.unique(table.data["seed"]))
    muon_scale = _first(table, "muon_lr_scale")
    fig.suptitle(
        f"Kim et al. (2026) Fig. 5: multi-step Muon (solid, eta={muon_scale:g} "
        f"sqrt(d)) vs GD (dashed, increasing schedule), N={n}, alpha="
        f"{', '.join(f'{a:g}' for a in alphas)}\n"
        f"mean over {seeds} seeds, bands: one standard deviation",
        fontsize=9,
    )
    return [*mj.save_figure(fig, out / "fig5"), *paths]


def _lr_curves(table: mj.Table, by) -> dict[tuple[Any, ...], tuple[Any, Any]]:
    out = {}
    for key in dict.fromkeys(zip(*(table.data[k].tolist() for k in by), strict=True)):
        sub = table.where(**dict(zip(by, key, strict=True)), seed=0)
        order = np.argsort(sub.data["step"])
        st, lr = sub.data["step"][order], sub.data["lr"][order]
        ok = np.isfinite(lr)
        out[key] = (st[ok], lr[ok])
    return out


EXPERIMENT = mj.register_experiment(
    "fig5",
    summary="multi-step Muon vs GD (increasing schedule): capacity against step, "
    "population and minibatch (Kim et al. 2026, Fig. 5)",
    presets=PRESETS,
    run=run,
    plot=plot,
    x64=True,
)


if __name__ == "__main__":
    raise SystemExit(mj.experiment_main(EXPERIMENT))
