"""Figure 2 of Kim et al. (2026): capacity after one population GD, Muon, Newton step.

One step from ``W_0 = 0`` on the population loss, over a grid of dimensions ``d``
and frequency exponents ``alpha``; capacity (count, prefix, weighted accuracy) and
loss of ``W_1`` per seed (:func:`muonjax.one_step_sweep`). The fits, verdicts and
findings are :mod:`muonjax.gaussian.figures.fig2`'s: per rule and alpha
``capacity ~ d^(C_alpha)``, then ``C_alpha = c1 + c2 / alpha``, against Muon
``(1, 1/2)`` [seed; quoted], GD ``(0, 1/2)`` [derived] and Newton as Muon [seed,
abstract v2], with the Newton-ridge diagnostic (``newton_ridge.json``).

Precision: registered with ``x64=True`` (the run is scoped inside
``jax.enable_x64(True)``, never a global switch), it computes the gradient, the
update and Newton's preconditioner in float64 (``update_dtype``), because the
gradient's singular values span more than float32 resolves at alpha >= 2; the capacity
pass stays in float32.

Run: ``muonjax run fig2 --preset quick`` or ``python experiments/fig2.py``;
``muonjax plot DIR`` redraws the figure and the fit summary from the records.

References:
    Kim, Nichani, Wu, Bietti, Lee (2026), arXiv 2603.26554, Figure 2; SPEC A.5,
    A.6, Part D.
"""

from __future__ import annotations

import dataclasses

import muonjax as mj
from muonjax.gaussian import figures


@dataclasses.dataclass(frozen=True)
class Fig2Config:
    """Settings of Figure 2 (every one can be changed with ``--set key=value``).

    Attributes:
        n: number of associations N (the paper: 100,000).
        dims: embedding dimensions d.
        alphas: frequency exponents alpha.
        rules: update rules, among ``gd``, ``muon``, ``muon_ns``, ``newton`` (the
            paper's absolute ridge, a sensitivity row) and ``newton_rel`` (the ridge
            ``newton_ridge * lambda_max(H)``, the verdicts' Newton, SPEC A.3
            [derived]).
        seeds: repeats per (d, alpha, rule) (the paper: 16).
        muon_lr_scale: Muon's step is ``muon_lr_scale * sqrt(d)`` (2 as in Fig. 4).
        newton_ridge: Newton's ridge: absolute for ``newton`` (1e-8 as in Fig. 6
            [seed]), relative to the Hessian's largest eigenvalue for
            ``newton_rel``.
        update_dtype: dtype of the gradient, update and Newton's preconditioner
            (``"float64"``; ``"float32"`` to see what float32 loses).
        n_boot: bootstrap replicates of every fit.
        with_loss: also record the population loss of ``W_1``.
        chunk_size: (cell, seed) pairs per vmapped call; sets the memory per call.
        root_seed: the sweep's PRNG key is ``jax.random.key(root_seed)``.
    """

    n: int = 10_000
    dims: tuple[int, ...] = (32, 64, 128, 256)
    alphas: tuple[float, ...] = (1.25, 1.5, 2.0, 3.0)
    rules: tuple[str, ...] = ("gd", "muon", "newton", "newton_rel")
    seeds: int = 4
    muon_lr_scale: float = 2.0
    newton_ridge: float = 1e-8
    update_dtype: str = "float64"
    n_boot: int = 2000
    with_loss: bool = True
    chunk_size: int = 16
    root_seed: int = 0

    def __post_init__(self) -> None:
        figures.check_settings(self, rules=mj.RULES)


PRESETS = {
    # 5.3 min measured on the shared 2-core CPU (load average ~5.5 from other jobs).
    "quick": Fig2Config(),
    # The paper's sizes (for a GPU): N = 100,000, 16 repeats.
    "paper": Fig2Config(
        n=100_000,
        dims=(32, 64, 128, 256, 512, 1024),
        alphas=(1.25, 1.5, 1.75, 2.0, 2.5, 3.0),
        seeds=16,
    ),
}


def sweep(config: Fig2Config) -> mj.Sweep:
    """The grid of Figure 2: ``d x rule x alpha``, one population step each."""
    return mj.one_step_sweep(
        n=config.n,
        dims=config.dims,
        alphas=config.alphas,
        rules=config.rules,
        update_dtype=config.update_dtype,
        muon_lr_scale=config.muon_lr_scale,
        newton_ridge=config.newton_ridge,
        with_loss=config.with_loss,
        chunk_size=config.chunk_size,
    )


EXPERIMENT = mj.register_experiment(
    "fig2",
    summary="one population GD / Muon / Newton step: capacity against d and alpha, "
    "per-alpha exponents and the two-stage fit (Kim et al. 2026, Fig. 2)",
    presets=PRESETS,
    sweep=sweep,
    plot=figures.fig2.write,
    x64=True,
    # Fits and figures only: changing them reuses the stored cells.
    presentation=("n_boot",),
    limits={
        "alphas": "(0, inf)",
        "muon_lr_scale": "(0, inf)",
        "newton_ridge": "[0, inf)",
        "update_dtype": ("float32", "float64"),
    },
)


if __name__ == "__main__":
    raise SystemExit(mj.experiment_main(EXPERIMENT))
