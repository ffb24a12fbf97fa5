"""Beyond Figure 2: how much of Muon's one-step capacity practical Newton-Schulz keeps.

The grid of Figure 2 (one population step from ``W_0 = 0`` over ``d`` and
``alpha``) with Muon's exact polar factor beside Newton-Schulz iterations as used
in practice: optax's quintic (3.4445, -4.7750, 2.0315) for 3, 5 and 10 steps, and
the Polar Express schedule (SPEC A.3, Muon, practical [derived]; SPEC E). Every
variant sees the same tasks for a seed (and the same tasks as ``fig2`` with the same
``n``, ``dims``, ``alphas`` and root seed), so ratios and exponent differences are
paired over seeds.

Why it can matter here: the population gradient's singular values follow the power
law of the frequencies and span many orders of magnitude, while ``k`` Newton-Schulz
steps from ``G / ||G||_F`` lift a small singular value ``s`` only to about
``(prod_t a_t) s / ||G||_F`` (``3.4445^k`` for optax's quintic); directions below
that stay gradient-like. Each cell records ``directions``: how many of the ``d``
gradient directions the variant maps to at least 0.5.

From the records, ``plot`` fits ``count ~ d^C`` per variant and alpha, compares the
exact step with ``1 + 1/(2 alpha)`` [seed; quoted] and each Newton-Schulz variant
with the exact step (paired difference of exponents; not a paper claim, our
question), and tabulates the capacity ratio NS / exact per ``d`` and alpha.

Precision: ``run`` runs in JAX's 64-bit mode (scoped) and computes gradient and update
in float64 (``update_dtype``); the capacity pass stays in float32.

Run: ``muonjax run fig2_ns --preset quick``; ``muonjax plot DIR`` redraws.

References:
    SPEC A.3 (Muon, practical), SPEC E (optax's quintic does not converge to the
    polar factor); Kim et al. (2026), Figure 2; issue 5 ("beyond the paper").
"""

from __future__ import annotations

import dataclasses
import functools
from pathlib import Path
from typing import Any

import numpy as np

import muonjax as mj


@dataclasses.dataclass(frozen=True)
class Fig2NSConfig:
    """Settings (every one can be changed with ``--set key=value``).

    Attributes:
        n: number of associations N.
        dims: embedding dimensions d.
        alphas: frequency exponents.
        variants: ``"exact"`` (the polar factor) and ``"COEFFS:STEPS"`` Newton-Schulz
            variants; COEFFS among ``jordan`` (optax's quintic), ``quintic`` (the
            convergent degree-5 iteration), ``cubic``, ``polar_express``.
        seeds: repeats per cell.
        update_dtype: dtype of the gradient and update.
        fit_min_d: smallest d in the exponent fits (as in ``fig2``).
        n_boot: bootstrap replicates.
        with_loss: also record the population loss.
        chunk_size: (cell, seed) pairs per vmapped call.
        root_seed: the sweep's root seed (the same as ``fig2``'s gives its tasks).
    """

    n: int = 10_000
    dims: tuple[int, ...] = (64, 128, 256)
    alphas: tuple[float, ...] = (1.5, 2.0, 3.0)
    variants: tuple[str, ...] = ("exact", "jordan:5", "jordan:10", "polar_express:5")
    seeds: int = 4
    update_dtype: str = "float64"
    fit_min_d: int = 64
    n_boot: int = 2000
    with_loss: bool = False
    chunk_size: int = 16
    root_seed: int = 0

    def __post_init__(self) -> None:
        for name in ("n", "seeds", "chunk_size", "fit_min_d"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if not self.dims or min(self.dims) < 1:
            raise ValueError(f"dims must be positive integers, got {self.dims}")
        if not self.alphas or min(self.alphas) < 0:
            raise ValueError(f"alphas must be >= 0, got {self.alphas}")
        if not self.variants:
            raise ValueError("variants must hold at least one variant")
        for v in self.variants:
            mj.parse_ns_variant(v)
        if self.update_dtype not in ("float32", "float64"):
            raise ValueError(
                f"update_dtype must be 'float32' or 'float64', got {self.update_dtype}"
            )
        if self.n_boot < 100:
            raise ValueError(f"n_boot must be >= 100, got {self.n_boot}")


PRESETS = {
    # A modest subset: 4 variants, 3 alphas, d = 64..256 (4.2 min measured on the
    # shared 2-core CPU, load average ~6).
    "quick": Fig2NSConfig(),
    # Figure 2's paper sizes with 3/5/10 quintic steps and two Polar Express runs.
    "paper": Fig2NSConfig(
        n=100_000,
        dims=(64, 128, 256, 512, 1024),
        alphas=(1.25, 1.5, 2.0, 2.5, 3.0),
        variants=(
            "exact",
            "jordan:3",
            "jordan:5",
            "jordan:10",
            "polar_express:5",
            "polar_express:10",
        ),
        seeds=16,
        with_loss=True,
    ),
}


def sweep(config: Fig2NSConfig) -> mj.Sweep:
    """The grid ``d x variant x alpha`` (alpha vmapped with the seeds)."""
    return mj.ns_variant_sweep(
        n=config.n,
        dims=config.dims,
        alphas=config.alphas,
        variants=config.variants,
        update_dtype=config.update_dtype,
        with_loss=config.with_loss,
        chunk_size=config.chunk_size,
    )


def run(
    config: Fig2NSConfig,
    out_dir: str | Path,
    *,
    progress: bool = False,
    meta: dict[str, Any] | None = None,
) -> mj.RecordedSweep:
    """Run (or resume) the sweep and write records and manifest.

    Runs in JAX's 64-bit mode, scoped by the registry (needed for
    ``update_dtype="float64"``).
    """
    meta = {
        **(meta or {}),
        "fit": {"fit_min_d": config.fit_min_d, "n_boot": config.n_boot},
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
# Analysis and figure (from the records only).

_EXACT_CLAIM = (
    "one population Muon step (exact polar factor): capacity ~ d^(1 + 1/(2 alpha)) "
    '[seed, Fig. 3 caption "ceiling"; quoted]'
)
_NS_CLAIM = (
    "Newton-Schulz Muon keeps exact Muon's capacity exponent (our question, not a "
    "paper claim; SPEC A.3 practical Muon [derived])"
)


def _variant_label(v: str) -> str:
    parsed = mj.parse_ns_variant(v)
    if parsed is None:
        return "exact polar"
    name = {"jordan": "optax quintic", "polar_express": "Polar Express"}.get(
        parsed[0], parsed[0]
    )
    return f"{name}, {parsed[1]} steps"


def _fit_settings(out: Path) -> tuple[int, int]:
    fit = mj.read_manifest(out).get("fit", {})
    return int(fit.get("fit_min_d", 64)), int(fit.get("n_boot", 2000))


def analyse(out_dir: str | Path) -> tuple[mj.FitSummary, dict[str, Any]]:
    """Fits, ratios, verdicts and findings from the records in ``out_dir``."""
    out = Path(out_dir)
    table = mj.read_table(out)
    fit_min_d, n_boot = _fit_settings(out)
    variants = list(dict.fromkeys(table.data["variant"].tolist()))
    groups = ("variant", "alpha")
    fits = {
        m: mj.fit_exponents(
            table, groups=groups, measure=m, x_min=fit_min_d, n_boot=n_boot
        )
        for m in ("count", "prefix")
    }
    rows: list[mj.SummaryRow] = []
    ratios: dict[str, list[mj.RatioRow]] = {}
    if "exact" in variants:
        exact = dataclasses.replace(
            fits["count"],
            fits={k: f for k, f in fits["count"].fits.items() if k[0] == "exact"},
        )
        rows += mj.exponent_rows(
            exact,
            claim=_EXACT_CLAIM,
            predict=lambda g: float(mj.theory.muon_one_step_exponent(g["alpha"])),
        )
        for v in variants:
            if v == "exact":
                continue
            for alpha in fits["count"].values("alpha"):
                diff = mj.exponent_difference(
                    fits["count"].get(variant=v, alpha=alpha),
                    fits["count"].get(variant="exact", alpha=alpha),
                )
                rows.append(
                    mj.SummaryRow(
                        _NS_CLAIM,
                        f"variant={v}, alpha={alpha}, measure=count",
                        mj.difference_comparison(diff, label="C_ns - C_exact"),
                    )
                )
            ratios[v] = mj.capacity_ratios(
                table, numerator={"variant": v}, denominator={"variant": "exact"}
            )
    directions = _directions(table)
    findings = _findings(table, fits["count"], ratios, directions, fit_min_d)
    labelled: dict[str, Any] = {}
    for m, f in fits.items():
        labelled.update(f.labelled(f"{m}: "))
    for v, rs in ratios.items():
        labelled.update(
            {
                f"ratio {v}/exact (count): d={r.keys['d']}, alpha={r.keys['alpha']}": r
                for r in rs
            }
        )
    summary = mj.FitSummary(
        experiment="fig2_ns",
        rows=rows,
        fits=labelled,
        findings=findings,
        meta={
            "n": int(table.data["n"][0]),
            "dims": sorted(set(table.data["d"].tolist())),
            "alphas": sorted(set(table.data["alpha"].tolist())),
            "variants": variants,
            "seeds": len(np.unique(table.data["seed"])),
            "fit_min_d": fit_min_d,
            "measure": "count (recovered items), as Figure 2's mean capacity; "
            "prefix fits are in fits",
            "directions": "mean number of the d gradient directions a variant maps "
            "to >= 0.5 (the exact polar factor keeps all)",
            "mean_directions": {
                mj.group_label(("variant", "alpha", "d"), k): v
                for k, v in directions.items()
            },
        },
    )
    return summary, {**fits, "ratios": ratios}


def _directions(table: mj.Table) -> dict[tuple[Any, ...], float]:
    """Mean ``directions`` per (variant, alpha, d)."""
    out = {}
    for key in mj.group_keys(table, ("variant", "alpha", "d")):
        sub = table.where(variant=key[0], alpha=key[1], d=key[2])
        out[key] = float(np.mean(sub.data["directions"]))
    return out


def _findings(table, fits, ratios, directions, fit_min_d) -> list[str]:
    lines = []
    dmax = int(np.max(table.data["d"]))
    for v, rs in ratios.items():
        at = [r for r in rs if r.keys["d"] == dmax]
        lines.append(
            f"{_variant_label(v)} ({v}) keeps, of exact Muon's mean count at d={dmax}: "
            + ", ".join(
                f"alpha={r.keys['alpha']:g}: {100 * r.ratio:.0f}% "
                f"[{100 * r.interval[0]:.0f}, {100 * r.interval[1]:.0f}]"
                for r in at
                if np.isfinite(r.ratio)
            )
            + "; directions orthogonalised (of d): "
            + ", ".join(
                f"alpha={r.keys['alpha']:g}: "
                f"{directions[(v, r.keys['alpha'], dmax)]:.0f}"
                for r in at
            )
            + "."
        )
    for v in fits.values("variant"):
        parts = []
        for alpha in fits.values("alpha"):
            f = fits.get(variant=v, alpha=alpha)
            if f.ok:
                parts.append(
                    f"alpha={alpha:g}: {f.exponent:.2f} [{f.interval[0]:.2f}, "
                    f"{f.interval[1]:.2f}]"
                )
        lines.append(
            f"Fitted count exponent (d >= {fit_min_d}), {_variant_label(v)}: "
            + "; ".join(parts)
            + "."
        )
    lines.append(
        "Reading: k Newton-Schulz steps from G/||G||_F lift a singular value s to "
        "about (prod of the step coefficients a_t) s/||G||_F, so only the directions "
        "with s/||G||_F above about 1/prod(a_t) are orthogonalised (3.4445^5 = 485 "
        "for 5 quintic steps); the rest keep the gradient's relative weights. The "
        "gradient's spectrum follows the frequencies, so a larger alpha leaves more "
        "directions below that level and more of the tail unamplified: the loss of "
        "capacity grows with alpha and d, and more steps (or Polar Express's larger "
        "first coefficients) recover it."
    )
    return lines


def _fit_key(alpha: float, variant: str) -> dict[str, Any]:
    return {"variant": variant, "alpha": alpha}


def _predict(alpha: float, variant: str) -> float | None:
    # Only the exact polar factor has a prediction (SPEC A.5).
    if variant != "exact":
        return None
    return float(mj.theory.muon_one_step_exponent(alpha))


def _figure(table: mj.Table, fits: dict[str, Any]):
    from matplotlib.figure import Figure
    from matplotlib.ticker import NullFormatter

    alphas = sorted(set(table.data["alpha"].tolist()))
    variants = list(dict.fromkeys(table.data["variant"].tolist()))
    dims = sorted(set(table.data["d"].tolist()))
    colors = {v: f"C{i}" for i, v in enumerate(variants)}
    ncol = len(alphas) + 1
    fig = Figure(figsize=(3.6 * ncol, 9.4), layout="constrained")
    axes = np.asarray(fig.subplots(3, ncol, squeeze=False))
    for c, alpha in enumerate(alphas):
        sub = table.where(alpha=alpha)
        ax = axes[0, c]
        mj.capacity_panel(
            ax,
            sub,
            series="variant",
            measure="count",
            fits=fits["count"],
            fit_key=functools.partial(_fit_key, alpha),
            predict=functools.partial(_predict, alpha),
            label=_variant_label,
            colors=colors,
        )
        ax.set_title(f"α = {alpha:g}")
        if c == 0:
            ax.set_ylabel("capacity (count of recovered items)")
            ax.legend(fontsize=7, loc="lower right")
        ax = axes[1, c]
        for v, rs in fits["ratios"].items():
            pts = [r for r in rs if r.keys["alpha"] == alpha]
            x = np.array([r.keys["d"] for r in pts], float)
            y = np.array([r.ratio for r in pts])
            lo = np.array([r.interval[0] for r in pts])
            hi = np.array([r.interval[1] for r in pts])
            ax.errorbar(
                x,
                y,
                yerr=(np.maximum(y - lo, 0), np.maximum(hi - y, 0)),
                marker="o",
                ms=3,
                capsize=2,
                color=colors[v],
                label=_variant_label(v),
            )
        ax.axhline(1.0, color="0.5", lw=0.8)
        ax.set_xscale("log")
        ax.set_ylim(0, 1.15)
        ax.grid(True, which="both", alpha=0.3)
        if c == 0:
            ax.set_ylabel("capacity ratio NS / exact (paired)")
        ax = axes[2, c]
        for v in variants:
            s = sub.where(variant=v)
            xs, vals, _ = mj.seed_matrix(s, measure="directions")
            ax.plot(
                xs,
                [v_.mean() / x for v_, x in zip(vals, xs, strict=True)],
                "o-",
                ms=3,
                color=colors[v],
                label=_variant_label(v),
            )
        ax.set_xscale("log")
        ax.set_ylim(0, 1.05)
        ax.grid(True, which="both", alpha=0.3)
        ax.set_xlabel("embedding dimension d")
        if c == 0:
            ax.set_ylabel("directions orthogonalised / d")
        for r in range(3):
            axes[r, c].set_xticks(dims, [f"{v:g}" for v in dims])
            axes[r, c].xaxis.set_minor_formatter(NullFormatter())
    # Right column: exponents against 1/alpha, and the ratio at the largest d.
    ax = axes[0, -1]
    for v in variants:
        mj.exponent_panel(
            ax,
            [(1 / a, fits["count"].get(variant=v, alpha=a)) for a in alphas],
            color=colors[v],
            label=_variant_label(v),
        )
    inv = np.linspace(0, 1.05 / min(alphas), 50)
    ax.plot(inv, 1 + inv / 2, ":", color="0.3", lw=1.5, label="1 + 1/(2α) [seed]")
    ax.set_xlabel("1 / α")
    ax.set_ylabel("fitted exponent C (count)")
    ax.set_title("exponents")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=7)
    ax = axes[1, -1]
    dmax = max(dims)
    for v, rs in fits["ratios"].items():
        pts = [r for r in rs if r.keys["d"] == dmax]
        ax.plot(
            [r.keys["alpha"] for r in pts],
            [r.ratio for r in pts],
            "o-",
            ms=3,
            color=colors[v],
            label=_variant_label(v),
        )
    ax.set_ylim(0, 1.15)
    ax.set_xlabel("α")
    ax.set_ylabel(f"ratio NS / exact at d = {dmax}")
    ax.grid(True, alpha=0.3)
    axes[2, -1].axis("off")
    n = int(table.data["n"][0])
    seeds = len(np.unique(table.data["seed"]))
    fig.suptitle(
        f"One population Muon step from W=0: exact polar factor vs Newton-Schulz, "
        f"N={n}, mean over {seeds} seeds (bars: one s.d.; ratios: 95% paired "
        "bootstrap)\ndashed: per-variant fit d^C; dotted: exact Muon's predicted "
        "slope 1 + 1/(2α) [seed; quoted] through the fitted points",
        fontsize=9,
    )
    return fig


def plot(out_dir: str | Path) -> list[Path]:
    """The figure (PNG, PDF) and the fit summary (JSON, Markdown) from the records."""
    out = Path(out_dir)
    summary, fits = analyse(out)
    paths = mj.write_fit_summary(out, summary)
    fig = _figure(mj.read_table(out), fits)
    return [*mj.save_figure(fig, out / "fig2_ns"), *paths]


EXPERIMENT = mj.register_experiment(
    "fig2_ns",
    summary="one population Muon step: exact polar factor vs Newton-Schulz "
    "(optax's quintic 5/10 steps, Polar Express) over d and alpha (beyond Fig. 2)",
    presets=PRESETS,
    run=run,
    plot=plot,
    x64=True,
)


if __name__ == "__main__":
    raise SystemExit(mj.experiment_main(EXPERIMENT))
