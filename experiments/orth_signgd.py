"""The SignGD oracle: TRA-SignGD(eta) against Muon(2 eta), and SignGD in a random basis.

On a power-law task with a random orthonormal embedding in ``d >= K``: Muon,
TRA-SignGD (the sign taken in the task basis, an oracle), SignGD (the sign in the
original, random basis) and GD, each at a grid of step multipliers ``scale``. The
base steps: Muon and TRA-SignGD ``lr``; SignGD the step whose first update has the
Frobenius norm of Muon's (``lr ||msgn(G_0)||_F / ||sign(G_0)||_F``); GD ``eta p_1 =
gd_lr_p1``. With ``scale`` in ``(0.5, 1, 2, 4)``, TRA-SignGD at ``s`` and Muon at
``2 s`` are the pairs of Thm 6.3 (SPEC B.3 [summary]), and SignGD at ``s = 1`` is
the matched comparison of the [seed] claim that SignGD does not match Muon without
the oracle.

Seeds are random bases: SignGD's runs depend on them (full ``d x d`` path, vmapped
over bases and multipliers); Muon, TRA-SignGD and GD do not (exact block path).

Precision: float64 (registered with ``x64=True``: the sweep runs inside
``jax.enable_x64(True)``).

Run: ``muonjax run orth_signgd --preset quick``.

References:
    Li, Wang, Zhong, Lu, Wang (2026), arXiv 2602.05725, Section 6; SPEC B.2, B.3.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import muonjax as mj
from muonjax import orthogonal as og


@dataclasses.dataclass(frozen=True)
class OrthSignGDConfig:
    """Settings (every one can be changed with ``--set key=value``).

    Attributes:
        num_groups: ``M``.
        group_size: ``C``.
        dim: random basis dimension ``d >= K`` (0: ``d = K``).
        beta: power-law exponent.
        alphas: label-noise levels.
        rules: among ``muon``, ``tra_signgd``, ``signgd``, ``gd``, ``adam``.
        lr: Muon's and TRA-SignGD's base step (SignGD's is matched to Muon's).
        scales: step multipliers (vmapped).
        gd_lr_p1: GD's base step in units of ``eta p_1``.
        steps: training steps.
        record_points: log-spaced recorded steps.
        record_linear: further linearly spaced recorded steps (for the maximum gap
            of Thm 6.3 over time).
        seeds: random bases.
        chunk_size: (cell, seed) pairs per vmapped call.
        root_seed: the sweep's PRNG key.
    """

    num_groups: int = 8
    group_size: int = 8
    dim: int = 64
    beta: float = 2.0
    alphas: tuple[float, ...] = (0.0, 0.3)
    rules: tuple[str, ...] = ("muon", "tra_signgd", "signgd", "gd")
    lr: float = 0.05
    scales: tuple[float, ...] = (0.5, 1.0, 2.0, 4.0)
    gd_lr_p1: float = 1.0
    steps: int = 400
    record_points: int = 100
    record_linear: int = 101
    seeds: int = 6
    chunk_size: int = 24
    root_seed: int = 0

    def __post_init__(self) -> None:
        sweep(self)  # the library validates every setting (ValueError naming it)


def sweep(config: OrthSignGDConfig) -> mj.Sweep:
    """``rule x alpha x scale``: each rule compiles once; noise, multipliers and
    bases vmap."""
    return og.signgd_sweep(**og.sweep_settings(config))


PRESETS = {
    # K = 64, d = 64, 400 steps, 6 random bases: 24 s on the shared 2-core CPU
    # (load 3.3-3.6).
    "quick": OrthSignGDConfig(),
    # For a GPU: K = 1024 (16 groups of 64), d = 2048, 2000 steps, 16 bases.
    "paper": OrthSignGDConfig(
        num_groups=16,
        group_size=64,
        dim=2048,
        steps=2000,
        record_points=200,
        record_linear=201,
        seeds=16,
        chunk_size=16,
    ),
}


def plot(out_dir: str | Path) -> list[Path]:
    """The figure and the fit summary, from the records."""
    return og.plot_records(
        out_dir, og.signgd_summary, {"orth_signgd": og.signgd_figure}
    )


EXPERIMENT = mj.register_experiment(
    "orth_signgd",
    summary="orthogonal memory: TRA-SignGD(eta) vs Muon(2 eta), and SignGD in a "
    "random basis vs Muon at matched update norms (Li et al. 2026, Thm 6.3)",
    presets=PRESETS,
    sweep=sweep,
    plot=plot,
    x64=True,
)


if __name__ == "__main__":
    raise SystemExit(mj.experiment_main(EXPERIMENT))
