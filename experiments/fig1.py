"""Figure 1 of Kim et al. (2026): Muon's capacity against alpha; critical batch sizes.

(a) Capacity after one *population* Muon and GD step from ``W_0 = 0``, against the
frequency exponent ``alpha`` (including ``alpha <= 1``, outside the theory), at a few
``d``, with the predicted levels ``d^(1 + 1/(2 alpha))`` (Muon) and ``d^(1/(2 alpha))``
(GD) where ``alpha > 1``.

(b) The critical batch size ``B*`` of the *first minibatch* Muon and SGD step at
``alpha = 1.5``, against ``d``: per ``d``, a sweep over ``B``, the broken power law
``min(a B^(1/alpha), plateau)`` fitted to the capacity (``B*`` with a bootstrap
interval), and ``B* ~ d^e`` fitted across ``d`` (:func:`muonjax.analyze_critical_batch`,
shared with ``fig3``; the same settings give the same cells as ``fig3``).

Predictions (SPEC A.5): Muon ``d^(1 + 1/(2 alpha))`` [seed, quoted]; GD
``d^(1/(2 alpha))`` [derived]; Muon improves capacity for ``alpha > 1`` [seed, Fig. 1
caption]; ``B* ~ d^(alpha + 1/2)`` (Muon) and ``d^(1/2)`` (SGD) [derived from the
seed's "intersections"]; Muon saturates at a larger ``B*`` [seed, abstract].

The experiment is recorded in two parts (:func:`muonjax.record_parts`):
``DIR/population`` (panel a) and ``DIR/minibatch`` (panel b), and the combined
``DIR/records.csv``. ``run`` runs in JAX's 64-bit mode (scoped): the gradient and the
update run in float64 (Muon's direction needs it at ``alpha >= 2``), the capacity pass
in float32.

Run: ``muonjax run fig1 --preset quick`` or ``python experiments/fig1.py``. The
minibatch part has the cells of ``fig3`` with the same settings: copying
``runs/fig3-quick/cells/*`` into ``runs/fig1-quick/minibatch/cells/`` skips them.

References:
    Kim, Nichani, Wu, Bietti, Lee (2026), arXiv 2603.26554, Figure 1; SPEC A.5-A.6.
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from typing import Any

import numpy as np

import muonjax as mj

#: Rule names as printed.
NAMES = {"gd": "GD", "muon": "Muon"}


@dataclasses.dataclass(frozen=True)
class Fig1Config:
    """Settings of Figure 1 (every one can be changed with ``--set key=value``).

    Attributes:
        n: number of associations N (the paper: 100,000).
        alphas: frequency exponents of panel (a) (the theory assumes alpha > 1).
        population_dims: embedding dimensions of panel (a).
        critical_dims: embedding dimensions of panel (b).
        critical_alpha: the alpha of panel (b) (the paper: 1.5).
        max_batch_size: largest B of panel (b); the grid is geometric from 1 and
            includes ``B = 0`` (one population step, the measured ceiling).
        batch_factor: ratio of consecutive batch sizes.
        rules: ``gd`` and ``muon`` (exact polar factor).
        seeds: repeats per cell (the paper: 16).
        muon_lr_scale: Muon's step is ``muon_lr_scale * sqrt(d)`` (one step from zero:
            recovery does not depend on it, SPEC A.3 [derived]).
        update_dtype: dtype of the gradient and update.
        with_loss: also record the population loss of ``W_1``.
        n_boot: bootstrap replicates of each fit.
        chunk_size: (cell, seed) pairs per vmapped call; sets the memory per call.
        root_seed: the sweeps' PRNG key is ``jax.random.key(root_seed)``.
    """

    n: int = 10_000
    alphas: tuple[float, ...] = (0.5, 0.75, 1.0, 1.25, 1.5, 2.0, 2.5, 3.0)
    population_dims: tuple[int, ...] = (32, 64, 128)
    critical_dims: tuple[int, ...] = (32, 64, 128)
    critical_alpha: float = 1.5
    max_batch_size: int = 16_384
    batch_factor: float = 2.0
    rules: tuple[str, ...] = ("gd", "muon")
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
        for name in ("population_dims", "critical_dims"):
            dims = getattr(self, name)
            if not dims or min(dims) < 1:
                raise ValueError(f"{name} must be positive integers, got {dims}")
        if not self.alphas or min(self.alphas) <= 0:
            raise ValueError(f"alphas must be > 0, got {self.alphas}")
        if not self.critical_alpha > 0:
            raise ValueError(f"critical_alpha must be > 0, got {self.critical_alpha}")
        if not self.batch_factor > 1:
            raise ValueError(f"batch_factor must be > 1, got {self.batch_factor}")
        bad = [r for r in self.rules if r not in ("gd", "muon")]
        if not self.rules or bad:
            raise ValueError(f"rules must be among ('gd', 'muon'), got {self.rules}")

    @property
    def batch_sizes(self) -> tuple[int, ...]:
        """``(0,)`` (population) and the geometric grid ``1 .. max_batch_size``."""
        return (0, *mj.batch_grid(self.max_batch_size, factor=self.batch_factor))


PRESETS = {
    # About 3-4 minutes on an idle 2-core CPU (twice that shared with 3 other jobs).
    # Panel (b) is fig3's quick grid (see fig3.py for the choice of N, d and B).
    "quick": Fig1Config(),
    # The paper's sizes (for a GPU): N = 100,000, 16 repeats; B up to 2^22.
    "paper": Fig1Config(
        n=100_000,
        population_dims=(64, 256, 1024),
        critical_dims=(64, 128, 256, 512, 1024),
        max_batch_size=2**22,
        seeds=16,
        with_loss=True,
    ),
}


def sweeps(config: Fig1Config) -> dict[str, mj.Sweep]:
    """The two grids: ``population`` (panel a) and ``minibatch`` (panel b)."""
    return {
        "population": mj.one_step_sweep(
            n=config.n,
            dims=config.population_dims,
            alphas=config.alphas,
            rules=config.rules,
            update_dtype=config.update_dtype,
            muon_lr_scale=config.muon_lr_scale,
            with_loss=config.with_loss,
            chunk_size=config.chunk_size,
        ),
        "minibatch": mj.critical_batch_sweep(
            n=config.n,
            dims=config.critical_dims,
            alphas=(config.critical_alpha,),
            batch_sizes=config.batch_sizes,
            rules=config.rules,
            update_dtype=config.update_dtype,
            muon_lr_scale=config.muon_lr_scale,
            with_loss=config.with_loss,
            chunk_size=config.chunk_size,
        ),
    }


def run(
    config: Fig1Config,
    out_dir: str | Path,
    *,
    progress: bool = False,
    meta: dict[str, Any] | None = None,
) -> mj.RecordedParts:
    """Run (or resume) both parts and write records and manifests to ``out_dir``.

    Runs in JAX's 64-bit mode, scoped by the registry (for the float64 update).
    """
    return mj.record_parts(
        sweeps(config),
        out_dir,
        seeds=config.seeds,
        root_seed=config.root_seed,
        chunk_size=config.chunk_size,
        progress=progress,
        meta=meta,
    )


# --------------------------------------------------------------------------------------
# Panel (a): capacity against alpha.


def _per_seed(table: mj.Table, measure: str, **where: Any) -> np.ndarray:
    t = table.where(**where)
    order = np.argsort(t.data["seed"], kind="stable")
    return t.data[measure][order].astype(np.float64)


def ratio_with_interval(
    top: np.ndarray, bottom: np.ndarray, *, n_boot: int, seed: int = 0
) -> tuple[float, tuple[float, float]]:
    """``mean(top) / mean(bottom)`` with a paired bootstrap over seeds (95%).

    The seeds are paired (Muon and GD see the same task for the same seed), so they
    are resampled jointly.
    """
    if bottom.mean() <= 0:
        return math.nan, (math.nan, math.nan)
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, top.shape[0], (n_boot, top.shape[0]))
    with np.errstate(divide="ignore", invalid="ignore"):
        reps = top[idx].mean(axis=1) / bottom[idx].mean(axis=1)
    reps = reps[np.isfinite(reps)]
    if reps.size < 0.5 * n_boot:
        return float(top.mean() / bottom.mean()), (math.nan, math.nan)
    lo, hi = np.percentile(reps, [2.5, 97.5])
    return float(top.mean() / bottom.mean()), (float(lo), float(hi))


def population_analysis(
    table: mj.Table, *, n_boot: int
) -> tuple[list[mj.SummaryRow], dict[str, Any], list[str]]:
    """Rows, fits and findings of panel (a).

    Per ``alpha > 1`` and rule: the exponent of the count in ``d`` against
    ``1 + 1/(2 alpha)`` (Muon) or ``1/(2 alpha)`` (GD), and the count at the largest
    ``d`` over the predicted level (the unknown constant). Per ``alpha``: Muon's count
    over GD's at the largest ``d`` (> 1 claimed for ``alpha > 1``).
    """
    n = int(table.data["n"][0])
    rules = list(dict.fromkeys(table.data["rule"].tolist()))
    dims = sorted({int(d) for d in table.data["d"]})
    alphas = sorted({float(a) for a in table.data["alpha"]})
    rows: list[mj.SummaryRow] = []
    fits: dict[str, Any] = {}
    findings: list[str] = []
    constants: dict[str, list[str]] = {r: [] for r in rules}
    for alpha in alphas:
        for rule in rules:
            y = [_per_seed(table, "count", rule=rule, alpha=alpha, d=d) for d in dims]
            if len(dims) < 2:
                continue
            fit = mj.fit_power_law(
                np.asarray(dims, float), y, saturation=n, n_boot=n_boot
            )
            fits[f"{rule} alpha={alpha:g}"] = fit
            pred = float(mj.theory.one_step_exponent(rule, alpha))
            if alpha > 1:
                rows.append(
                    mj.SummaryRow(
                        f"one population {NAMES[rule]} step ~ d^C, C = "
                        + (
                            "1 + 1/(2 alpha) [seed, quoted]"
                            if rule == "muon"
                            else "1/(2 alpha) [derived]"
                        ),
                        f"rule={rule}, alpha={alpha:g}, measure=count",
                        mj.compare_fit(fit, pred, label="exponent C of count ~ d^C"),
                    )
                )
                level = float(mj.theory.one_step_exponent(rule, alpha))
                c = float(np.mean(y[-1])) / dims[-1] ** level
                constants[rule].append(f"{c:.3g} (alpha={alpha:g})")
            else:
                findings.append(
                    f"alpha={alpha:g} (outside the theory, alpha <= 1): "
                    f"{NAMES[rule]}'s count grows as d^{fit.exponent:.3g} "
                    f"[{fit.interval[0]:.3g}, {fit.interval[1]:.3g}] over d={dims} "
                    f"(the formula would give {pred:.3g})."
                )
    for rule in rules:
        above = [a for a in alphas if a > 1 and f"{rule} alpha={a:g}" in fits]
        if len(above) >= 2:
            # alpha-dependence: Figure 2's second stage on the alphas > 1.
            two = mj.fit_two_stage(above, [fits[f"{rule} alpha={a:g}"] for a in above])
            fits[f"{rule} two_stage"] = two
            c1, c2 = mj.theory.two_stage_coefficients(rule)
            for name, est, interval, pred in (
                ("c1", two.c1, two.c1_interval, c1),
                ("c2", two.c2, two.c2_interval, c2),
            ):
                rows.append(
                    mj.SummaryRow(
                        f"alpha-dependence of the exponent: C_alpha = c1 + c2 / alpha, "
                        f"{name} [seed for the fit form; derived values]",
                        f"rule={rule}, alphas={above}, measure=count",
                        mj.compare(est, interval, pred, label=f"{name} ({rule})"),
                    )
                )
            exps = ", ".join(
                f"{fits[f'{rule} alpha={a:g}'].exponent:.3g} (alpha={a:g})"
                for a in above
            )
            findings.append(
                f"{NAMES[rule]}: count exponents in d over d={dims}: {exps}; "
                f"predicted "
                + ", ".join(
                    f"{float(mj.theory.one_step_exponent(rule, a)):.3g}" for a in above
                )
                + f". Second stage C_alpha = c1 + c2/alpha: c1 = {two.c1:.3g} "
                f"[{two.c1_interval[0]:.3g}, {two.c1_interval[1]:.3g}], c2 = "
                f"{two.c2:.3g} [{two.c2_interval[0]:.3g}, {two.c2_interval[1]:.3g}] "
                f"against ({c1:g}, {c2:g})."
            )
        if constants[rule]:
            findings.append(
                f"{NAMES[rule]}: mean count at d={dims[-1]} over the predicted level "
                f"d^C (the unknown constant): " + ", ".join(constants[rule]) + "."
            )
    if {"gd", "muon"} <= set(rules):
        below_one = []
        for alpha in alphas:
            for d in dims:
                m = _per_seed(table, "count", rule="muon", alpha=alpha, d=d)
                g = _per_seed(table, "count", rule="gd", alpha=alpha, d=d)
                est, (lo, hi) = ratio_with_interval(m, g, n_boot=n_boot)
                if hi < 1:
                    below_one.append(
                        f"alpha={alpha:g}, d={d}: {est:.3g} [{lo:.3g}, {hi:.3g}]"
                    )
        if below_one:
            findings.append(
                "GD recovers more items than Muon (Muon / GD count, 95% paired "
                "bootstrap interval below 1) at " + "; ".join(below_one) + "."
            )
        ratios = []
        for alpha in alphas:
            m = _per_seed(table, "count", rule="muon", alpha=alpha, d=dims[-1])
            g = _per_seed(table, "count", rule="gd", alpha=alpha, d=dims[-1])
            est, (lo, hi) = ratio_with_interval(m, g, n_boot=n_boot)
            ratios.append(f"{est:.3g} [{lo:.3g}, {hi:.3g}] at alpha={alpha:g}")
            if alpha > 1:
                rows.append(
                    mj.SummaryRow(
                        "Muon improves capacity over GD when alpha > 1 [seed, Fig. 1 "
                        "caption]",
                        f"d={dims[-1]}, alpha={alpha:g}, measure=count",
                        mj.compare(
                            est,
                            (lo, hi),
                            1.0,
                            relation=">",
                            tolerance=0.0,
                            max_width=math.inf,
                            label="mean count Muon / GD",
                        ),
                    )
                )
        findings.append(
            f"Muon / GD count at d={dims[-1]}: " + "; ".join(ratios) + ". The "
            f"predicted ratio of the levels is d^(1 + 1/(2 alpha)) / d^(1/(2 alpha)) "
            f"= d = {dims[-1]} for every alpha > 1 (up to constants)."
        )
    return rows, fits, findings


# --------------------------------------------------------------------------------------
# Summary and figure.


def analyses(out_dir: str | Path) -> dict[str, mj.CriticalAnalysis]:
    """Panel (b): the critical-batch analysis of the minibatch part, per measure."""
    table = mj.read_part(out_dir, "minibatch")
    n_boot = int(mj.read_manifest(out_dir).get("config", {}).get("n_boot", 500))
    return {
        m: mj.analyze_critical_batch(table, measure=m, n_boot=n_boot)
        for m in ("count", "prefix")
    }


MEASURE_NOTE = (
    "Fitted measure: count (the number of recovered items), what the captions call "
    "capacity. Panel (b) also fits the prefix (rows with measure=prefix): a "
    "minibatch's prefix is limited at small B by the longest run 1..k the batch "
    "holds, so its rise is noisy. Prefix and weighted accuracy are in the records; "
    "weighted accuracy (frequency mass, at most 1) has no scaling law in SPEC A.5."
)


def summary(out_dir: str | Path) -> tuple[Any, dict[str, mj.CriticalAnalysis]]:
    """The fit summary of Figure 1 and the panel (b) analyses."""
    pop = mj.read_part(out_dir, "population")
    n_boot = int(mj.read_manifest(out_dir).get("config", {}).get("n_boot", 500))
    rows, fits, findings = population_analysis(pop, n_boot=n_boot)
    found = analyses(out_dir)
    for an in found.values():
        for claim, group, comp in an.comparisons():
            if claim.startswith(("critical batch size", "B* sits", "Muon saturates")):
                rows.append(mj.SummaryRow(claim, group, comp))
        fits[f"critical_{an.measure}"] = an
    findings = [MEASURE_NOTE, *findings, *found["count"].findings()]
    findings += [f for f in found["prefix"].findings() if "(prefix): B* = " in f]
    return (
        mj.FitSummary(
            experiment="fig1",
            rows=rows,
            fits=fits,
            findings=findings,
            meta={
                "n": int(pop.data["n"][0]),
                "population_dims": sorted({int(d) for d in pop.data["d"]}),
                "alphas": sorted({float(a) for a in pop.data["alpha"]}),
                "critical_dims": found["count"].dims,
                "critical_alpha": found["count"].alpha,
                "seeds": len(np.unique(pop.data["seed"])),
                "fit_b": "min(a B^(1/alpha), plateau) per (rule, d); B* exponent "
                "from a line through log B*(d), bootstrap carried through both fits",
                "tolerances": "capacity exponents 0.1 (max interval width 0.25); "
                "B* exponents alpha x 0.1 (max width alpha x 0.25)",
            },
        ),
        found,
    )


def _panel_alpha(ax: Any, table: mj.Table) -> None:
    dims = sorted({int(d) for d in table.data["d"]})
    alphas = np.asarray(sorted({float(a) for a in table.data["alpha"]}))
    rules = list(dict.fromkeys(table.data["rule"].tolist()))
    styles = {"muon": ("-", "o"), "gd": ("--", "s")}
    levels: list[float] = []
    for i, d in enumerate(dims):
        color = f"C{i % 10}"
        for rule in rules:
            ls, mk = styles[rule]
            y = np.asarray(
                [_per_seed(table, "count", rule=rule, alpha=a, d=d) for a in alphas]
            )
            mean, sd = y.mean(axis=1), y.std(axis=1, ddof=1)
            keep = mean > 0
            levels += mean[keep].tolist()
            ax.errorbar(
                alphas[keep],
                mean[keep],
                yerr=(np.minimum(sd, mean * (1 - 1e-3))[keep], sd[keep]),
                ls=ls,
                marker=mk,
                ms=3,
                capsize=2,
                color=color,
                label=f"{NAMES[rule]}, d={d}",
            )
            grid = np.linspace(max(1.05, alphas.min()), alphas.max(), 50)
            if grid[0] < grid[-1]:
                pred = d ** np.asarray(mj.theory.one_step_exponent(rule, grid))
                ax.plot(grid, pred, ls=ls, color=color, lw=0.8, alpha=0.45)
    ax.axvspan(alphas.min() - 0.1, 1.0, color="0.9", zorder=0)
    ax.text(
        0.02,
        0.02,
        "alpha <= 1:\noutside the theory",
        transform=ax.transAxes,
        fontsize=7,
    )
    ax.set_yscale("log")
    if levels:
        ax.set_ylim(0.5 * min(levels), None)
    ax.set_xlabel("alpha")
    ax.set_ylabel("capacity (count of recovered items)")
    ax.set_title(
        "(a) one population step; thin: predicted levels\n"
        "Muon d^(1+1/(2 alpha)) [seed, quoted], GD d^(1/(2 alpha)) [derived], "
        "no constant",
        fontsize=8,
    )
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=6, ncol=2, loc="upper right")


def _panel_ratio(ax: Any, table: mj.Table) -> None:
    dims = sorted({int(d) for d in table.data["d"]})
    alphas = np.asarray(sorted({float(a) for a in table.data["alpha"]}))
    for i, d in enumerate(dims):
        color = f"C{i % 10}"
        est, lo, hi = [], [], []
        for a in alphas:
            m = _per_seed(table, "count", rule="muon", alpha=a, d=d)
            g = _per_seed(table, "count", rule="gd", alpha=a, d=d)
            e, (e_lo, e_hi) = ratio_with_interval(m, g, n_boot=200)
            est.append(e)
            lo.append(e_lo)
            hi.append(e_hi)
        e_arr, lo_arr, hi_arr = (np.asarray(v) for v in (est, lo, hi))
        ok = np.isfinite(e_arr) & np.isfinite(lo_arr) & np.isfinite(hi_arr)
        ax.errorbar(
            alphas[ok],
            e_arr[ok],
            yerr=(e_arr[ok] - lo_arr[ok], hi_arr[ok] - e_arr[ok]),
            marker="o",
            ms=3,
            capsize=2,
            color=color,
            label=f"d={d}",
        )
        ax.axhline(d, color=color, ls=":", lw=0.8)
    ax.axhline(1.0, color="k", lw=0.8)
    ax.axvspan(alphas.min() - 0.1, 1.0, color="0.9", zorder=0)
    ax.set_yscale("log")
    ax.set_xlabel("alpha")
    ax.set_ylabel("mean count, Muon / GD")
    ax.set_title(
        "(a') Muon over GD (95% paired bootstrap)\ndotted: predicted ratio of "
        "levels, d (no constant)",
        fontsize=8,
    )
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7)


def _panel_critical(ax: Any, analysis: mj.CriticalAnalysis) -> None:
    alpha = analysis.alpha
    for i, rule in enumerate(analysis.rules):
        color = f"C{i + 3}"
        fits = [analysis.fits[(rule, d)] for d in analysis.dims]
        ok = [f for f in fits if f.ok]
        if not ok:
            continue
        d = np.asarray([f.d for f in ok], float)
        bp = np.asarray([f.fit.breakpoint for f in ok])
        lo = np.asarray([f.fit.breakpoint_interval[0] for f in ok])
        hi = np.asarray([f.fit.breakpoint_interval[1] for f in ok])
        crit = analysis.critical_exponents[rule]
        ax.errorbar(
            d,
            bp,
            yerr=(bp - lo, hi - bp),
            marker="o",
            ls="",
            capsize=3,
            color=color,
            label=f"{'SGD' if rule == 'gd' else 'Muon'}: fitted B*",
        )
        if crit.ok:
            grid = np.geomspace(d.min(), d.max(), 20)
            ax.plot(
                grid,
                crit.predict(grid),
                color=color,
                lw=1.2,
                label=f"fit: d^{crit.exponent:.2f} "
                f"[{crit.interval[0]:.2f}, {crit.interval[1]:.2f}]",
            )
            pred = float(mj.theory.critical_batch_exponent(rule, alpha))
            # Anchor the predicted slope at the fitted line's centre: the prediction
            # has no constant.
            mid = math.exp(np.mean(np.log(crit.x)))
            anchor = float(crit.predict(mid))
            ax.plot(
                grid,
                anchor * (grid / mid) ** pred,
                color=color,
                ls="--",
                lw=1.0,
                label=f"predicted slope {pred:g} "
                + ("(alpha + 1/2)" if rule != "gd" else "(1/2)")
                + " [derived]",
            )
    ax.set_xscale("log")
    ax.set_yscale("log")
    dims = analysis.dims
    ax.set_xticks(dims, [str(v) for v in dims])
    ax.minorticks_off()
    ax.set_xlabel("d")
    ax.set_ylabel(f"critical batch size B* ({analysis.measure})")
    ax.set_title(
        f"(b) first minibatch step, alpha={alpha:g}: B* where\n"
        "min(a B^(1/alpha), plateau) breaks (95% bootstrap)",
        fontsize=8,
    )
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=6, loc="upper left")


def plot(out_dir: str | Path) -> list[Path]:
    """Panels (a), (a') and (b), and the fit summary."""
    from matplotlib.figure import Figure

    out = Path(out_dir)
    pop = mj.read_part(out, "population")
    fit_summary, found = summary(out)
    seeds = len(np.unique(pop.data["seed"]))
    fig = Figure(figsize=(15.0, 4.8), layout="constrained")
    ax_a, ax_r, ax_b = fig.subplots(1, 3)
    _panel_alpha(ax_a, pop)
    if {"gd", "muon"} <= set(pop.data["rule"].tolist()):
        _panel_ratio(ax_r, pop)
    else:
        ax_r.set_axis_off()
    _panel_critical(ax_b, found["count"])
    fig.suptitle(
        f"Kim et al. (2026) Fig. 1: N={int(pop.data['n'][0])}, mean over {seeds} "
        "seeds, bars: one standard deviation unless stated",
        fontsize=9,
    )
    paths = mj.save_figure(fig, out / "fig1")
    paths += mj.write_fit_summary(out, fit_summary)
    return paths


EXPERIMENT = mj.register_experiment(
    "fig1",
    summary="one population Muon / GD step against alpha, and the critical batch "
    "size of the first minibatch step against d (Kim et al. 2026, Fig. 1)",
    presets=PRESETS,
    run=run,
    plot=plot,
    x64=True,
)


if __name__ == "__main__":
    raise SystemExit(mj.experiment_main(EXPERIMENT))
