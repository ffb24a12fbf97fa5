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

From the records, ``plot`` (:mod:`muonjax.gaussian.figures.fig2_ns`) fits
``count ~ d^C`` per variant and alpha, compares the exact step with
``1 + 1/(2 alpha)`` [seed; quoted] and each Newton-Schulz variant with the exact step
(paired difference of exponents; not a paper claim, our question), and tabulates the
capacity ratio NS / exact per ``d`` and alpha.

Precision: the run is scoped in JAX's 64-bit mode (``x64=True``) and computes
gradient and update in float64 (``update_dtype``); the capacity pass stays in float32.

Run: ``muonjax run fig2_ns --preset quick``; ``muonjax plot DIR`` redraws.

References:
    SPEC A.3 (Muon, practical), SPEC E (optax's quintic does not converge to the
    polar factor); Kim et al. (2026), Figure 2; issue 5 ("beyond the paper").
"""

from __future__ import annotations

import dataclasses

import muonjax as mj
from muonjax.gaussian import figures


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
    n_boot: int = 2000
    with_loss: bool = False
    chunk_size: int = 16
    root_seed: int = 0

    def __post_init__(self) -> None:
        figures.check_settings(self)
        if not self.variants:
            raise ValueError("variants must hold at least one variant")
        for v in self.variants:
            mj.parse_ns_variant(v)


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


EXPERIMENT = mj.register_experiment(
    "fig2_ns",
    summary="one population Muon step: exact polar factor vs Newton-Schulz "
    "(optax's quintic 5/10 steps, Polar Express) over d and alpha (beyond Fig. 2)",
    presets=PRESETS,
    sweep=sweep,
    plot=figures.fig2_ns.write,
    x64=True,
    # Fits and figures only: changing them reuses the stored cells.
    presentation=("n_boot",),
    limits={
        "alphas": "(0, inf)",
        "update_dtype": ("float32", "float64"),
    },
)


if __name__ == "__main__":
    raise SystemExit(mj.experiment_main(EXPERIMENT))
