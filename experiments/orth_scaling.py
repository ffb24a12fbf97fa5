"""Scaling laws of the orthogonal memory: excess loss against the horizon T.

GD with constant steps on a geometric grid ``eta p_1 in [gd_lr_min, gd_lr_max]``
(one run per step gives every horizon; the envelope over the grid is GD tuned per
``T``) and Muon with ``eta = muon_c log K / T`` for each horizon ``T`` of a
geometric grid (one run per horizon), on a noisy power-law task (SPEC B.3, Thms 5.7
and 5.8 [summary]). The figure shows every run, GD's envelope, Muon's excess at
each horizon, the fitted slopes with their window intervals, and the predicted
lines ``T^-(1 - 1/beta)`` (GD) and ``(log K / T)^2`` (Muon).

No randomness enters: the embedding is one-hot and the runs are exact on the block
path, so one seed is the whole measurement (``--seeds`` more repeat it). The
intervals of the fitted slopes are ranges over fit windows (see
:mod:`muonjax.orthogonal.analysis`). The grid index ``point`` is vmapped; each
rule compiles once.

Precision: float64 (registered with ``x64=True``: the sweep runs inside
``jax.enable_x64(True)``).

Run: ``muonjax run orth_scaling --preset quick``.

References:
    Li, Wang, Zhong, Lu, Wang (2026), arXiv 2602.05725; SPEC B.3.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import muonjax as mj
from muonjax import orthogonal as og


@dataclasses.dataclass(frozen=True)
class OrthScalingConfig:
    """Settings (every one can be changed with ``--set key=value``).

    Attributes:
        num_groups: ``M``.
        group_size: ``C``.
        betas: power-law exponents (one panel each; vmapped).
        alpha: label noise (> 0: the scaling laws are about ``L - L*``).
        points: grid points for both GD's steps and Muon's horizons.
        gd_lr_min, gd_lr_max: GD's steps ``eta p_1`` (keep below the stability
            edge ``2 / lambda*``, about 9 at ``alpha = 0.3``).
        gd_steps: GD's run length.
        muon_c: ``c`` in ``eta = c log K / T`` (``c log K`` must exceed the
            optimal logit gap ``m* ~ log K`` for the descent to end before ``T``).
        horizon_min, horizon_max: Muon's horizons.
        record_points: log-spaced recorded steps (every horizon is recorded too).
        seeds: repeats (the runs are deterministic; 1 is the measurement).
        chunk_size: (cell, seed) pairs per vmapped call.
        root_seed: the sweep's PRNG key.
    """

    num_groups: int = 64
    group_size: int = 64
    betas: tuple[float, ...] = (2.0,)
    alpha: float = 0.3
    points: int = 9
    gd_lr_min: float = 1.0
    gd_lr_max: float = 8.0
    gd_steps: int = 8192
    muon_c: float = 2.0
    horizon_min: int = 32
    horizon_max: int = 8192
    record_points: int = 200
    seeds: int = 1
    chunk_size: int = 16
    root_seed: int = 0

    def __post_init__(self) -> None:
        sweep(self)  # the library validates every setting (ValueError naming it)


def sweep(config: OrthScalingConfig) -> mj.Sweep:
    """``rule x beta x point``: GD's steps and Muon's horizons share the index."""
    return og.scaling_sweep(**og.sweep_settings(config))


PRESETS = {
    # 84 s on the shared 2-core CPU (load 3.4-3.9): K = 4096 in M = 64 groups of 64
    # (block path: an M x M SVD per Muon step), horizons 32..8192. Muon's slope
    # needs K large (any C/M); GD's needs M large: its fit window (2 to M/4 groups
    # learned) spans only T = 3..16 at M = 16, and beyond T ~ 1000 GD has learned
    # all 16 groups and converges exponentially (docs/partb.md).
    "quick": OrthScalingConfig(),
    # For a GPU: three betas, M = 256 groups of 256, horizons up to 32768.
    "paper": OrthScalingConfig(
        num_groups=256,
        group_size=256,
        betas=(1.5, 2.0, 3.0),
        points=11,
        gd_steps=100_000,
        horizon_max=32_768,
        record_points=400,
    ),
}


def plot(out_dir: str | Path) -> list[Path]:
    """The figure and the fit summary, from the records."""
    return og.plot_records(
        out_dir, og.scaling_summary, {"orth_scaling": og.scaling_figure}
    )


EXPERIMENT = mj.register_experiment(
    "orth_scaling",
    summary="orthogonal memory: excess loss against the horizon T, GD (tuned) vs "
    "Muon (eta ~ log K / T), fitted slopes and predicted lines (SPEC B.3)",
    presets=PRESETS,
    sweep=sweep,
    plot=plot,
    x64=True,
)


if __name__ == "__main__":
    raise SystemExit(mj.experiment_main(EXPERIMENT))
