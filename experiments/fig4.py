"""Figure 4 of Kim et al. (2026): capacity after T population Muon steps.

``T`` population steps of Muon from ``W_0 = 0`` with the fixed step
``eta = 2 sqrt(d)`` [seed], over a grid of dimensions ``d`` and frequency exponents
``alpha``, for the exact Muon iterates (the true gradient at ``W_t``) and the
thresholded update (items recovered at ``W_t`` left out of the gradient, our
reading of the theorem's "removes already-recovered items from the gradient",
SPEC A.3 [derived]). Capacity (count, prefix, weighted accuracy) and loss are
recorded at every step. Beyond the paper, the same grid with Newton-Schulz Muon
(rules ``muon_ns<k>``, ``k`` Newton-Schulz steps of the quintic used in practice).

Long runs (Figure 4d): up to ``long_max_steps`` steps (the paper: 500), each seed
stopped by the paper's rule, "early stop when the capacity improvement over 10
steps drops below 0.5%" [seed] (:func:`muonjax.train_early_stopping`, a
``lax.while_loop``: a stopped seed costs nothing more), exact and thresholded.
They are recorded in ``OUT/long/`` (records, manifest); the T-step grid in
``OUT/``.

Predictions (SPEC A.5): after ``t`` thresholded Muon steps the capacity grows as
``d^(2 - (1 - 1/(2 alpha))^t)`` [quoted; the paper conjectures the same for exact
Muon]; many steps approach the information-theoretic limit ``~ d^2`` [seed].
``plot`` (:mod:`muonjax.gaussian.figures.fig4`) fits ``capacity ~ d^C_T`` per (rule,
update, alpha, T) from the records, also the gain ``d_T / d_1`` (whose predicted
exponent ``C_T - C_1`` does not depend on the one-step constant) and, for the long
runs, the capacity at the stop against ``d``; and writes ``fit_summary.json`` /
``.md``. A ``run`` of its own (not a ``sweep``): the grid is recorded in ``OUT/`` and
the long runs in ``OUT/long/``, the layout of 0.1.0.

Precision: the run is scoped in JAX's 64-bit mode (``x64=True``); gradient, update and
``W`` are float64 (``update_dtype``), score blocks float32.

Run: ``muonjax run fig4 --preset quick``; ``muonjax plot DIR`` redraws.

References:
    Kim, Nichani, Wu, Bietti, Lee (2026), arXiv 2603.26554, Figure 4, Theorems 5.4
    and 5.5; SPEC A.3, A.5, A.6.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import muonjax as mj
from muonjax.gaussian import figures


@dataclasses.dataclass(frozen=True)
class Fig4Config:
    """Settings of Figure 4 (every one can be changed with ``--set key=value``).

    Attributes:
        n: number of associations N (the paper: 250,000).
        dims: embedding dimensions d of the T-step grid.
        alphas: frequency exponents.
        steps: T, the most steps of the grid (panels T = 1 .. steps).
        rules: ``muon`` (exact polar factor), ``muon_ns<k>`` (k Newton-Schulz steps).
        deflate: the updates: ``false`` exact iterates, ``true`` thresholded.
        long_dims: dimensions of the long runs.
        long_rules: rules of the long runs.
        long_deflate: updates of the long runs (exact and thresholded).
        long_max_steps: most steps of a long run (the paper: 500); 0 skips them.
        window: early-stopping window (10 [seed]).
        min_gain: early-stopping relative gain (0.005 [seed]).
        muon_lr_scale: Muon's ``eta / sqrt(d)`` (2 [seed]).
        muon_schedule: ``constant`` (the paper) or, beyond it, a decaying
            ``polynomial`` / ``geometric`` step from ``eta_1 = muon_lr_scale
            sqrt(d)`` (see :func:`muonjax.lr_schedule`).
        muon_power: exponent of the ``polynomial`` Muon schedule (e.g. -1).
        muon_factor: factor of the ``geometric`` Muon schedule (e.g. 0.9).
        ns_coeffs: Newton-Schulz coefficients of ``muon_ns<k>``.
        update_dtype: dtype of gradient, update and ``W``.
        seeds: repeats per cell (the paper: 16).
        n_boot: bootstrap replicates of the fits.
        chunk_size: (cell, seed) pairs per vmapped call.
        root_seed: the sweeps' root seed.
    """

    n: int = 3000
    dims: tuple[int, ...] = (64, 128, 256)
    alphas: tuple[float, ...] = (1.5, 2.0)
    steps: int = 4
    rules: tuple[str, ...] = ("muon", "muon_ns5", "muon_ns10")
    deflate: tuple[bool, ...] = (False, True)
    long_dims: tuple[int, ...] = (32, 48, 64)
    long_rules: tuple[str, ...] = ("muon",)
    long_deflate: tuple[bool, ...] = (False, True)
    long_max_steps: int = 200
    window: int = 10
    min_gain: float = 0.005
    muon_lr_scale: float = 2.0
    muon_schedule: str = "constant"
    muon_power: float = 0.0
    muon_factor: float = 1.0
    ns_coeffs: str = "jordan"
    update_dtype: str = "float64"
    seeds: int = 4
    n_boot: int = 1000
    chunk_size: int = 16
    root_seed: int = 0

    def __post_init__(self) -> None:
        figures.check_settings(self)
        if self.long_max_steps < 0:
            raise ValueError(f"long_max_steps must be >= 0, got {self.long_max_steps}")
        if min(self.alphas) <= 0:
            raise ValueError(f"alphas must be > 0, got {self.alphas}")
        if not (self.rules and self.long_rules and self.deflate and self.long_deflate):
            raise ValueError(
                "rules, long_rules, deflate and long_deflate must be non-empty"
            )
        for rule in (*self.rules, *self.long_rules):
            if mj.parse_rule(rule)[0] == "gd":
                raise ValueError(f"Figure 4 runs Muon rules only, got rule={rule!r}")
        if self.muon_schedule not in mj.SCHEDULE_SHAPES:
            raise ValueError(
                f"muon_schedule must be one of {mj.SCHEDULE_SHAPES}, got "
                f"{self.muon_schedule!r}"
            )


PRESETS = {
    # A few minutes on a 2-core CPU. Shrunk from the defaults (which took 6.6 min
    # at load average 4-7 on 2 cores: grid 208 s, long runs 180 s): the grid keeps
    # one Newton-Schulz rule (muon_ns5; the paper preset adds ns3 and ns10, or
    # `--set rules=muon,muon_ns5,muon_ns10`) and the long runs use d = 24, 32, 48.
    # Measured: 5.2 min at load average 4.5-5.8 (68% of a core; grid 157 s, long
    # runs 147 s), about 3.5 CPU-minutes.
    "quick": Fig4Config(rules=("muon", "muon_ns5"), long_dims=(24, 32, 48)),
    # The caption's sizes (for a GPU): N = 250,000, 16 repeats, up to 500 steps.
    "paper": Fig4Config(
        n=250_000,
        dims=(64, 128, 256, 512, 1024),
        alphas=(1.25, 1.5, 2.0, 2.5),
        rules=("muon", "muon_ns3", "muon_ns5", "muon_ns10"),
        long_dims=(64, 128, 256, 512),
        long_rules=("muon", "muon_ns5"),
        long_max_steps=500,
        seeds=16,
        n_boot=2000,
    ),
}


def sweeps(config: Fig4Config) -> tuple[mj.Sweep, mj.Sweep | None]:
    """The T-step grid and the long runs (``None`` when ``long_max_steps = 0``)."""
    common: dict[str, Any] = {
        "n": config.n,
        "alphas": config.alphas,
        "muon_lr_scale": config.muon_lr_scale,
        "muon_schedule": config.muon_schedule,
        "muon_power": config.muon_power,
        "muon_factor": config.muon_factor,
        "ns_coeffs": config.ns_coeffs,
        "update_dtype": config.update_dtype,
        "chunk_size": config.chunk_size,
    }
    grid = mj.multi_step_sweep(
        dims=config.dims,
        steps=config.steps,
        rules=config.rules,
        deflate=config.deflate,
        **common,
    )
    if config.long_max_steps == 0:
        return grid, None
    long = mj.multi_step_sweep(
        dims=config.long_dims,
        steps=config.long_max_steps,
        rules=config.long_rules,
        deflate=config.long_deflate,
        early_stopping=True,
        window=config.window,
        min_gain=config.min_gain,
        **common,
    )
    return grid, long


def run(
    config: Fig4Config,
    out_dir: str | Path,
    *,
    progress: bool = False,
    meta: dict[str, Any] | None = None,
) -> mj.RecordedSweep:
    """Run (or resume) both sweeps: the grid in ``out_dir``, long runs in ``long/``.

    Runs in JAX's 64-bit mode, scoped by the registry (for ``update_dtype="float64"``).
    """
    grid, long = sweeps(config)
    meta = dict(meta or {})
    recorded = mj.record_sweep(
        grid,
        out_dir,
        seeds=config.seeds,
        root_seed=config.root_seed,
        chunk_size=config.chunk_size,
        progress=progress,
        meta={**meta, "part": "T-step grid"},
    )
    if long is not None:
        # The long runs' manifest names no experiment: `muonjax plot` takes OUT.
        long_meta = {k: v for k, v in meta.items() if k != "experiment"}
        mj.record_sweep(
            long,
            Path(out_dir) / figures.fig4.LONG_DIR,
            seeds=config.seeds,
            root_seed=config.root_seed,
            chunk_size=config.chunk_size,
            progress=progress,
            meta={**long_meta, "part": "long runs (early stopping)", "of": "fig4"},
        )
    return recorded


EXPERIMENT = mj.register_experiment(
    "fig4",
    summary="T population Muon steps (exact, thresholded, Newton-Schulz) and long "
    "early-stopped runs: capacity against d (Kim et al. 2026, Fig. 4)",
    presets=PRESETS,
    run=run,
    plot=figures.fig4.write,
    x64=True,
    # Fits and figures only: changing them reuses the stored cells.
    presentation=("n_boot",),
    limits={
        "alphas": "(0, inf)",
        "min_gain": "[0, inf)",
        "muon_lr_scale": "(0, inf)",
        "muon_schedule": mj.SCHEDULE_SHAPES,
        "muon_factor": "(0, inf)",
        "ns_coeffs": ("jordan", "cubic", "quintic", "polar_express"),
        "update_dtype": ("float32", "float64"),
    },
)


if __name__ == "__main__":
    raise SystemExit(mj.experiment_main(EXPERIMENT))
