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
speeds" [seed]. ``plot`` (:mod:`muonjax.gaussian.figures.fig5`) tests, from the
records: Muon's count over GD's at an early step (> 1), the ratio at the last step
(about 1), the exponent of the last count against ``d`` (2), and, for minibatches,
that the count stays below the number of distinct items the batches have shown
(``[derived]``: ``W_t`` depends on the seen items only, so unseen items are
recovered only by chance).

Precision: the run is scoped in JAX's 64-bit mode (``x64=True``): float64 gradient,
update and ``W``.

Run: ``muonjax run fig5 --preset quick``; ``muonjax plot DIR`` redraws.

References:
    Kim, Nichani, Wu, Bietti, Lee (2026), arXiv 2603.26554, Figure 5, Theorem 5.5;
    SPEC A.3 (learning rates), A.5, A.6.
"""

from __future__ import annotations

import dataclasses

import muonjax as mj
from muonjax.gaussian import figures


@dataclasses.dataclass(frozen=True)
class Fig5Config:
    """Settings of Figure 5 (every one can be changed with ``--set key=value``).

    Attributes:
        n: number of associations N (the paper: 100,000).
        dims: embedding dimensions d.
        alphas: frequency exponents (the paper: 1.5).
        batch_sizes: minibatch sizes; 0 is the population gradient (panel a).
        steps: steps T per run.
        rules: ``muon`` (exact polar factor), ``muon_smoothed_c<c>`` (the
            multi-step theorem's smoothed rule, ``lambda_t = c d_{t+1}^(-alpha)
            sqrt(d)``, beside the polar factor) and ``gd``; ``muon_ns<k>`` allowed.
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
    rules: tuple[str, ...] = ("muon", "muon_smoothed_c10", "gd")
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
        figures.check_settings(self)
        if self.early_step > self.steps:
            raise ValueError(
                f"early_step must be <= steps, got {self.early_step} > {self.steps}"
            )
        if min(self.alphas) <= 0:
            raise ValueError(f"alphas must be > 0, got {self.alphas}")
        if not self.batch_sizes or min(self.batch_sizes) < 0:
            raise ValueError(f"batch_sizes must be >= 0, got {self.batch_sizes}")
        if not self.rules:
            raise ValueError("rules must be non-empty")
        for rule in self.rules:
            mj.parse_rule(rule)


PRESETS = {
    # A few minutes on a 2-core CPU.
    "quick": Fig5Config(),
    # The caption's sizes (for a GPU): N = 100,000, alpha = 1.5.
    "paper": Fig5Config(
        n=100_000,
        dims=(64, 128, 256),
        batch_sizes=(0, 1024, 8192, 65536),
        rules=("muon", "muon_smoothed_c3", "muon_smoothed_c10", "gd"),
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


EXPERIMENT = mj.register_experiment(
    "fig5",
    summary="multi-step Muon vs GD (increasing schedule): capacity against step, "
    "population and minibatch (Kim et al. 2026, Fig. 5)",
    presets=PRESETS,
    sweep=sweep,
    plot=figures.fig5.write,
    x64=True,
    # Fits and figures only: changing them reuses the stored cells.
    presentation=("early_step", "n_boot"),
    limits={
        "alphas": "(0, inf)",
        "muon_lr_scale": "(0, inf)",
        "gd_lr_scale": "(0, inf)",
        "gd_schedule": mj.SCHEDULE_SHAPES,
        "gd_factor": "(0, inf)",
        "gd_max_lr_scale": "(0, inf)",
        "update_dtype": ("float32", "float64"),
    },
)


if __name__ == "__main__":
    raise SystemExit(mj.experiment_main(EXPERIMENT))
