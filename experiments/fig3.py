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
it), in :mod:`muonjax.gaussian.figures.fig3`.

The run is scoped in JAX's 64-bit mode (``x64=True``): the gradient and the update
run in float64 (``update_dtype``), the capacity pass in float32.

Run: ``muonjax run fig3 --preset quick`` or ``python experiments/fig3.py``.

References:
    Kim, Nichani, Wu, Bietti, Lee (2026), arXiv 2603.26554, Figure 3; SPEC A.5-A.6.
"""

from __future__ import annotations

import dataclasses

import muonjax as mj
from muonjax.gaussian import figures


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
        figures.check_settings(self, rules=mj.MINIBATCH_RULES)
        if not self.alpha > 0:
            raise ValueError(f"alpha must be > 0, got {self.alpha}")
        if not self.batch_factor > 1:
            raise ValueError(f"batch_factor must be > 1, got {self.batch_factor}")

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


EXPERIMENT = mj.register_experiment(
    "fig3",
    summary="one minibatch SGD / Muon step: capacity against B, ceilings and "
    "critical batch sizes (Kim et al. 2026, Fig. 3)",
    presets=PRESETS,
    sweep=sweep,
    plot=figures.fig3.write,
    x64=True,
    # Fits and figures only: changing them reuses the stored cells.
    presentation=("n_boot",),
    limits={
        "alpha": "(0, inf)",
        "batch_factor": "(1, inf)",
        "muon_lr_scale": "(0, inf)",
        "update_dtype": ("float32", "float64"),
    },
)


if __name__ == "__main__":
    raise SystemExit(mj.experiment_main(EXPERIMENT))
