"""Figure 7: in-context recall accuracy against the width d, Muon vs AdamW vs SGD.

Kim et al. (2026), Fig. 7 [seed]: ID and OOD in-context accuracy of the two-layer
attention-only transformer (SPEC C.1) against d, for Muon, AdamW and SGD, at 128 and
1024 iterations with batch 256, the learning rate chosen per (d, optimizer). Here:
one run per (optimizer, d, grid step size, seed) for ``steps`` iterations, evaluated
every ``eval_every`` steps on a fixed ID and OOD set; the figure reports the
``horizons`` (a constant step size makes the state at step 128 of a 1024-step run
the state of a 128-step run), the learning rate chosen per (d, optimizer, horizon)
by the largest mean over seeds of the plotted metric; memory recall (SPEC C.1) is
the third row. The summary compares Muon with AdamW and SGD seed by seed
(:func:`muonjax.transformer.claim_comparisons`).

Model: the basic model of SPEC C.1 (trained W_K1, W_K2, W_O2), with ``tied_unembed``
(W_U = E^T / d, frozen: the original code's ``tie_output``) by default, because with
an independent random W_U no optimizer can copy a held-out token and OOD accuracy is
at chance by construction [derived]; ``--set tied_unembed=False`` runs SPEC C.1's
literal model. Kim's Fig. 7 likely used feed-forward layers (their Fig. 8b
"uses a two-layer transformer with no feed-forward layers" [seed]): ``--set
ffn=True``.

Run: ``muonjax run fig7 --preset quick`` (or ``python experiments/fig7.py``).

References:
    Kim, Nichani, Wu, Bietti, Lee (2026), arXiv 2603.26554, Fig. 7; SPEC C.1, C.3.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import muonjax as mj
from muonjax import transformer as tf


@dataclasses.dataclass(frozen=True)
class Fig7Config(tf.RecallExperimentConfig):
    """Settings (every one can be changed with ``--set key=value``).

    Attributes:
        dims: widths d.
        horizons: the steps the figure and the summary report (multiples of
            ``eval_every``, at most ``steps``).
        (the rest: :class:`muonjax.transformer.RecallExperimentConfig`)
    """

    dims: tuple[int, ...] = (16, 32, 64)
    horizons: tuple[int, ...] = (128, 512)
    lr_points: int = 5
    lr_span: float = 9.0
    chunk_size: int = 15

    def __post_init__(self) -> None:
        super().__post_init__()
        if not self.dims or not self.horizons:
            raise ValueError("dims and horizons must be non-empty")
        bad = [
            h for h in self.horizons if h % self.eval_every or not 0 < h <= self.steps
        ]
        if bad:
            raise ValueError(
                f"horizons must be multiples of eval_every in (0, steps], got {bad}"
            )


PRESETS = {
    # V = 128, T = 64, d = 16, 32, 64, batch 32, 512 steps, 5 step sizes over a
    # factor 81 (3 missed the optimum of AdamW and SGD at some d), 3 seeds.
    "quick": Fig7Config(),
    # For a GPU: the caption's batch 256 and iterations 128, 512 and 1024; d up to
    # 256 (tf.PAPER_SIZES: V = 1024, T = 256, 5 step sizes, 4 seeds).
    "paper": Fig7Config(
        **tf.PAPER_SIZES,
        dims=(16, 32, 64, 128, 256),
        steps=1024,
        horizons=(128, 512, 1024),
    ),
}


def sweep(config: Fig7Config) -> mj.Sweep:
    """``optimizer x d x lr``: one compilation per (optimizer, d); the grid vmaps."""
    return tf.width_sweep(
        optimizers=config.optimizers,
        dims=config.dims,
        lr_points=config.lr_points,
        lr_span=config.lr_span,
        **tf.recall_fixed(config),
    )


def plot(out_dir: str | Path) -> list[Path]:
    """The figure, the learning-rate grid and the summary, from the records."""
    out = Path(out_dir)
    table = mj.read_table(out)
    horizons = mj.read_manifest(out).get("config", {}).get("horizons")
    mj.write_fit_summary(out, tf.figures.fig7.summary(table, steps=horizons))
    paths = mj.save_figure(tf.figures.fig7.figure(table, steps=horizons), out / "fig7")
    lr_fig = tf.figures.lr_grid_figure(
        table, metric="id_acc", step=tf.final_step(table)
    )
    return paths + mj.save_figure(lr_fig, out / "fig7_lr")


EXPERIMENT = mj.register_experiment(
    "fig7",
    summary="in-context recall: ID / OOD accuracy and memory recall against d for "
    "Muon, AdamW, SGD (Kim et al. 2026 Fig. 7, SPEC C.1)",
    presets=PRESETS,
    sweep=sweep,
    plot=plot,
    limits=tf.RECALL_LIMITS,
)


if __name__ == "__main__":
    raise SystemExit(mj.experiment_main(EXPERIMENT))
