"""Figure 6 of Kim et al. (2026): one Muon and Newton step with anisotropic outputs.

One population step from ``W_0 = 0`` with inputs ``u_i ~ N(0, I_d / d)`` and outputs
``v_i ~ N(0, Xi_v)``, ``Xi_v`` diagonal, trace one, eigenvalues ``~ k^(-kappa)``
(``kappa = 0`` is Figure 2's isotropic task), over ``d``, ``alpha`` and ``kappa``;
Newton with ridge 1e-8 [seed]. The claim (SPEC A.5, anisotropic outputs [seed, Fig.
6 caption, partly derived]): Newton is unaffected by ``kappa``; Muon's advantage
shrinks as ``kappa`` grows.

Paired tasks: the task key leaves out ``kappa_v`` (:func:`muonjax.paired_kappa_sweep`),
so for a seed every ``kappa`` rescales the same Gaussian draws, ``v = z
sqrt(spectrum)``, and ``kappa = 0`` is the task of ``fig2`` with the same seed.
Newton's step is invariant under ``v -> A v`` for invertible ``A`` (the Hessian
factor ``Sigma_V`` transforms with it) [derived], so on paired tasks Newton's
recovered set can only move through its ridge: ``plot`` redoes, from the manifest, a
diagnostic of how many Hessian eigenvalues lie below (and within 10x of) the ridge
(``newton_ridge.json``).

From the records, ``plot`` (:mod:`muonjax.gaussian.figures.fig6`) fits
``capacity ~ d^C`` per (rule, kappa, alpha) and tests: Newton, ``C(kappa) - C(0) = 0``
(paired bootstrap) and its count ratio to ``kappa = 0`` at the largest ``d``; Muon,
``C(kappa) - C(0) < 0`` and its count ratio to ``kappa = 0`` at the largest ``d``
below 1; and lists Muon over Newton.

Precision: the run is scoped in JAX's 64-bit mode (``x64=True``) and computes
gradient, update and Newton's preconditioner in float64 (``update_dtype``); the
capacity pass stays in float32.

Run: ``muonjax run fig6 --preset quick``; ``muonjax plot DIR`` redraws.

References:
    Kim, Nichani, Wu, Bietti, Lee (2026), arXiv 2603.26554, Figure 6; SPEC A.1
    (anisotropic case), A.3 (Newton with ridge), A.5.
"""

from __future__ import annotations

import dataclasses

import muonjax as mj
from muonjax.gaussian import figures


@dataclasses.dataclass(frozen=True)
class Fig6Config:
    """Settings of Figure 6 (every one can be changed with ``--set key=value``).

    Attributes:
        n: number of associations N (the paper: 100,000).
        dims: embedding dimensions d.
        alphas: frequency exponents.
        kappas: output-spectrum exponents ``kappa`` (must include 0, the reference).
        rules: update rules: ``muon``, ``newton_rel`` (Newton with the ridge
            ``newton_ridge * lambda_max(H)``: the verdicts' Newton) and ``newton``
            (the paper's absolute ridge, a sensitivity row); ``gd`` may be added.
        seeds: repeats per cell.
        newton_ridge: Newton's ridge: absolute for ``newton`` (1e-8 [seed]),
            relative to the Hessian's largest eigenvalue for ``newton_rel``
            (SPEC A.3 [derived]).
        update_dtype: dtype of the gradient, update and Newton's preconditioner.
        paired: leave ``kappa_v`` out of the task key (paired kappas; see above).
        n_boot: bootstrap replicates.
        with_loss: also record the population loss.
        chunk_size: (cell, seed) pairs per vmapped call.
        root_seed: the sweep's root seed.
    """

    n: int = 10_000
    dims: tuple[int, ...] = (64, 128, 256)
    alphas: tuple[float, ...] = (1.5, 2.0)
    kappas: tuple[float, ...] = (0.0, 0.5, 1.0, 2.0)
    rules: tuple[str, ...] = ("muon", "newton_rel", "newton")
    seeds: int = 4
    newton_ridge: float = 1e-8
    update_dtype: str = "float64"
    paired: bool = True
    n_boot: int = 2000
    with_loss: bool = False
    chunk_size: int = 16
    root_seed: int = 0

    def __post_init__(self) -> None:
        figures.check_settings(self, rules=("gd", "muon", "newton", "newton_rel"))
        if min(self.kappas, default=-1.0) < 0 or 0.0 not in self.kappas:
            raise ValueError(
                f"kappas must be >= 0 and include 0 (the reference), got {self.kappas}"
            )


PRESETS = {
    # 5.8 min measured on the shared 2-core CPU (load average ~6-7 from other jobs).
    "quick": Fig6Config(),
    # The caption's sizes (for a GPU): N = 100,000, 16 repeats.
    "paper": Fig6Config(
        n=100_000,
        dims=(32, 64, 128, 256, 512, 1024),
        alphas=(1.5, 2.0, 3.0),
        kappas=(0.0, 0.5, 1.0, 1.5, 2.0),
        seeds=16,
        with_loss=True,
    ),
}


def sweep(config: Fig6Config) -> mj.Sweep:
    """The grid ``d x rule x alpha x kappa_v`` (alpha and kappa vmapped)."""
    grid = mj.one_step_sweep(
        n=config.n,
        dims=config.dims,
        alphas=config.alphas,
        rules=config.rules,
        kappas=config.kappas,
        update_dtype=config.update_dtype,
        newton_ridge=config.newton_ridge,
        with_loss=config.with_loss,
        chunk_size=config.chunk_size,
    )
    return mj.paired_kappa_sweep(grid) if config.paired else grid


EXPERIMENT = mj.register_experiment(
    "fig6",
    summary="one population Muon / Newton step with anisotropic outputs "
    "(spectrum ~ k^-kappa): capacity against d, alpha and kappa (Kim et al. "
    "2026, Fig. 6)",
    presets=PRESETS,
    sweep=sweep,
    plot=figures.fig6.write,
    x64=True,
    # Fits and figures only: changing them reuses the stored cells.
    presentation=("n_boot",),
    limits={
        "alphas": "(0, inf)",
        "kappas": "[0, inf)",
        "newton_ridge": "[0, inf)",
        "update_dtype": ("float32", "float64"),
    },
)


if __name__ == "__main__":
    raise SystemExit(mj.experiment_main(EXPERIMENT))
