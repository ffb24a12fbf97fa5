"""Figure 2 of Kim et al. (2026): capacity after one population GD, Muon, Newton step.

One step from ``W_0 = 0`` on the population loss, over a grid of dimensions ``d``
and frequency exponents ``alpha``; capacity (count, prefix, weighted accuracy) and
loss of ``W_1`` per seed, and a log-log figure of capacity against ``d``.

Predictions (SPEC A.5): Muon ``~ d^(1 + 1/(2 alpha))`` [seed, quoted]; GD
``~ d^(1/(2 alpha))`` [derived]; Newton, isotropic, as Muon [seed].

Run: ``muonjax run fig2 --preset quick`` or ``python experiments/fig2.py``.

References:
    Kim, Nichani, Wu, Bietti, Lee (2026), arXiv 2603.26554, Figure 2; SPEC A.6.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import muonjax as mj


@dataclasses.dataclass(frozen=True)
class Fig2Config:
    """Settings of Figure 2 (every one can be changed with ``--set key=value``).

    Attributes:
        n: number of associations N (the paper: 100,000).
        dims: embedding dimensions d.
        alphas: frequency exponents alpha.
        rules: update rules, among ``gd``, ``muon``, ``muon_ns``, ``newton``.
        seeds: repeats per (d, alpha, rule) (the paper: 16).
        muon_lr_scale: Muon's step is ``muon_lr_scale * sqrt(d)`` (2 as in Fig. 4).
        newton_ridge: Newton's ridge (1e-8 as in Fig. 6 [seed]).
        with_loss: also record the population loss of ``W_1``.
        chunk_size: (cell, seed) pairs per vmapped call; sets the memory per call.
        root_seed: the sweep's PRNG key is ``jax.random.key(root_seed)``.
    """

    n: int = 10_000
    dims: tuple[int, ...] = (32, 64, 128, 256)
    alphas: tuple[float, ...] = (1.25, 1.5, 2.0)
    rules: tuple[str, ...] = ("gd", "muon", "newton")
    seeds: int = 4
    muon_lr_scale: float = 2.0
    newton_ridge: float = 1e-8
    with_loss: bool = True
    chunk_size: int = 16
    root_seed: int = 0

    def __post_init__(self) -> None:
        for name in ("n", "seeds", "chunk_size"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if not self.dims or min(self.dims) < 1:
            raise ValueError(f"dims must be positive integers, got {self.dims}")
        if not self.alphas or min(self.alphas) < 0:
            raise ValueError(f"alphas must be >= 0, got {self.alphas}")
        bad = [r for r in self.rules if r not in mj.RULES]
        if not self.rules or bad:
            raise ValueError(f"rules must be among {mj.RULES}, got {self.rules}")


PRESETS = {
    # About 1-2 minutes on a 2-core CPU.
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
        muon_lr_scale=config.muon_lr_scale,
        newton_ridge=config.newton_ridge,
        with_loss=config.with_loss,
        chunk_size=config.chunk_size,
    )


def run(
    config: Fig2Config,
    out_dir: str | Path,
    *,
    progress: bool = False,
    meta: dict[str, Any] | None = None,
) -> mj.RecordedSweep:
    """Run (or resume) the sweep and write records and manifest to ``out_dir``."""
    return mj.record_sweep(
        sweep(config),
        out_dir,
        seeds=config.seeds,
        root_seed=config.root_seed,
        chunk_size=config.chunk_size,
        progress=progress,
        meta=meta,
    )


def plot(out_dir: str | Path) -> list[Path]:
    """Log-log capacity (count and prefix) against d, per rule, one line per alpha."""
    table = mj.read_table(out_dir)
    n = int(table.data["n"][0])
    fig = mj.capacity_figure(
        table,
        x="d",
        series="alpha",
        panels="rule",
        measures=("count", "prefix"),
        title=f"Kim et al. (2026) Fig. 2: one population step from W=0, N={n}",
    )
    return mj.save_figure(fig, Path(out_dir) / "fig2")


EXPERIMENT = mj.register_experiment(
    "fig2",
    summary="one population GD / Muon / Newton step: capacity against d and alpha "
    "(Kim et al. 2026, Fig. 2)",
    presets=PRESETS,
    run=run,
    plot=plot,
)


if __name__ == "__main__":
    raise SystemExit(mj.experiment_main(EXPERIMENT))
