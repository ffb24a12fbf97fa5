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

The experiment is recorded in two parts (``sweep`` returns both; the registry records
them with :func:`muonjax.record_parts`): ``DIR/population`` (panel a) and
``DIR/minibatch`` (panel b), and the combined ``DIR/records.csv``; the fits are
:mod:`muonjax.gaussian.figures.fig1`'s. The run is scoped in JAX's 64-bit mode
(``x64=True``): the gradient and the update run in float64 (Muon's direction needs it
at ``alpha >= 2``), the capacity pass in float32.

Run: ``muonjax run fig1 --preset quick`` or ``python experiments/fig1.py``. The
minibatch part has the cells of ``fig3`` with the same settings: copying
``runs/fig3-quick/cells/*`` into ``runs/fig1-quick/minibatch/cells/`` skips them.

References:
    Kim, Nichani, Wu, Bietti, Lee (2026), arXiv 2603.26554, Figure 1; SPEC A.5-A.6.
"""

from __future__ import annotations

import dataclasses

import muonjax as mj
from muonjax.gaussian import figures


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
    population_dims: tuple[int, ...] = (32, 64, 128, 256)
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
        figures.check_settings(self, rules=("gd", "muon"))
        if min(self.alphas) <= 0 or not self.critical_alpha > 0:
            raise ValueError(
                f"alphas must be > 0, got {self.alphas} and {self.critical_alpha}"
            )
        if not self.batch_factor > 1:
            raise ValueError(f"batch_factor must be > 1, got {self.batch_factor}")

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


def sweep(config: Fig1Config) -> dict[str, mj.Sweep]:
    """The two grids: ``population`` (panel a) and ``minibatch`` (panel b).

    Panel (b) is :mod:`fig3`'s grid at the same settings (the same cells).
    """
    shared = {
        "n": config.n,
        "rules": config.rules,
        "update_dtype": config.update_dtype,
        "muon_lr_scale": config.muon_lr_scale,
        "with_loss": config.with_loss,
        "chunk_size": config.chunk_size,
    }
    population = mj.one_step_sweep(
        dims=config.population_dims, alphas=config.alphas, **shared
    )
    minibatch = mj.critical_batch_sweep(
        dims=config.critical_dims,
        alphas=(config.critical_alpha,),
        batch_sizes=config.batch_sizes,
        **shared,
    )
    return {"population": population, "minibatch": minibatch}


EXPERIMENT = mj.register_experiment(
    "fig1",
    summary="one population Muon / GD step against alpha, and the critical batch "
    "size of the first minibatch step against d (Kim et al. 2026, Fig. 1)",
    presets=PRESETS,
    sweep=sweep,
    plot=figures.fig1.write,
    x64=True,
    # Fits and figures only: changing them reuses the stored cells.
    presentation=("n_boot",),
    limits={
        "alphas": "(0, inf)",
        "critical_alpha": "(0, inf)",
        "batch_factor": "(1, inf)",
        "muon_lr_scale": "(0, inf)",
        "update_dtype": ("float32", "float64"),
    },
)


if __name__ == "__main__":
    raise SystemExit(mj.experiment_main(EXPERIMENT))
