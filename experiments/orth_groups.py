"""Per-group loss curves of the orthogonal memory: GD, Muon, SignGD, TRA-SignGD, Adam.

The "synthetic long-tail classification" of Li et al. (2026) as SPEC B.4 reads it:
K = M C orthogonal query-answer pairs in M frequency groups (power law
``ptil_g ~ g^(-beta)``), a random orthonormal embedding in ``d >= K``, with and
without label noise; per-group excess loss and accuracy against the step for each
rule. GD, Muon and TRA-SignGD do not depend on the basis (exact block path);
SignGD and Adam act entrywise in the random basis (full ``d x d`` path), so the
seeds are random bases and their curves carry a band over seeds.

Steps: GD at ``eta p_1 = gd_lr_p1`` (below its stability edge, ``>= 8``
[derived]); Muon at ``muon_lr``; TRA-SignGD at ``muon_lr / 2`` (its Thm 6.3 twin);
SignGD and Adam at the step whose first update has the Frobenius norm of Muon's.

Predictions tested in the fit summary (SPEC B.3 [summary]): GD's per-group
``L_g ~ 1/(eta p_g t)`` (Thm 4.1), Muon's ``L_g ~ K exp(-eta t)`` for every group
(Thm 4.2), Muon's noisy descent time ``T* ~ log K / eta`` (Thm 5.1), and uniform
progress (Muon) against imbalance (GD, SignGD without the oracle).

Precision: the runs are float64 (registered with ``x64=True``: the sweep runs inside
``jax.enable_x64(True)``; Muon's losses fall to ``1e-80``).

Run: ``muonjax run orth_groups --preset quick`` (or ``python
experiments/orth_groups.py``).

References:
    Li, Wang, Zhong, Lu, Wang (2026), arXiv 2602.05725; SPEC B.3, B.4.
"""

from __future__ import annotations

import dataclasses
import functools
from pathlib import Path

import muonjax as mj
from muonjax import orthogonal as og


@dataclasses.dataclass(frozen=True)
class OrthGroupsConfig:
    """Settings (every one can be changed with ``--set key=value``).

    Attributes:
        num_groups: ``M``.
        group_size: ``C`` (``K = M C``).
        beta: power-law exponent of the group weights.
        alphas: label-noise levels (0 is noiseless).
        dim: dimension ``d >= K`` of the random orthonormal embedding (0: ``d = K``).
        rules: among ``gd``, ``muon``, ``signgd``, ``tra_signgd``, ``adam``.
        steps: training steps ``T``.
        record_points: log-spaced steps recorded (plus 0).
        gd_lr_p1: GD's step in units of ``eta p_1``.
        muon_lr: Muon's step ``eta`` (TRA-SignGD takes ``eta / 2``; SignGD and Adam
            the matched Frobenius norm of Muon's first update).
        seeds: random bases.
        chunk_size: (cell, seed) pairs per vmapped call.
        root_seed: the sweep's PRNG key is ``jax.random.key(root_seed)``.
    """

    num_groups: int = 8
    group_size: int = 16
    beta: float = 1.5
    alphas: tuple[float, ...] = (0.0, 0.3)
    dim: int = 0
    rules: tuple[str, ...] = ("gd", "muon", "signgd", "tra_signgd", "adam")
    steps: int = 2000
    record_points: int = 160
    gd_lr_p1: float = 4.0
    muon_lr: float = 0.1
    seeds: int = 4
    chunk_size: int = 8
    root_seed: int = 0

    def __post_init__(self) -> None:
        sweep(self)  # the library validates every setting (ValueError naming it)


def sweep(config: OrthGroupsConfig) -> mj.Sweep:
    """``rule x alpha``: each rule compiles once; the noise and the bases vmap."""
    return og.groups_sweep(**og.sweep_settings(config))


PRESETS = {
    # K = 128, d = 128, 2000 steps, 4 bases: 53 s on the shared 2-core CPU (load
    # 3.5-4.3).
    "quick": OrthGroupsConfig(),
    # For a GPU: K = 1024 in 16 groups, d = 1024, 5000 steps, 16 bases.
    "paper": OrthGroupsConfig(
        num_groups=16, group_size=64, steps=5000, record_points=300, seeds=16
    ),
}


def plot(out_dir: str | Path) -> list[Path]:
    """Figures (loss and accuracy per group) and the fit summary, from the records."""
    return og.plot_records(
        out_dir,
        og.groups_summary,
        {
            "orth_groups": og.groups_figure,
            "orth_groups_accuracy": functools.partial(og.groups_figure, accuracy=True),
        },
    )


EXPERIMENT = mj.register_experiment(
    "orth_groups",
    summary="orthogonal memory: per-group loss curves of GD, Muon, SignGD, "
    "TRA-SignGD, Adam, noiseless and noisy (Li et al. 2026, SPEC B.4)",
    presets=PRESETS,
    sweep=sweep,
    plot=plot,
    x64=True,
)


if __name__ == "__main__":
    raise SystemExit(mj.experiment_main(EXPERIMENT))
