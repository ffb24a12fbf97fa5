"""Figure 9: OOD accuracy against d for power-law trigger and output laws.

Kim et al. (2026), Fig. 9 [seed]: OOD accuracy against d, one column per optimizer,
one curve per exponent of (a) the output law alpha_0, (b) the trigger law alpha_t
("larger alpha concentrating probability mass on fewer tokens (where we expect
adaptive optimizers to be beneficial)"), batch 256, iteration 512. The task's laws
are Zipf ``(r + 1)^(-alpha)`` over seeded permutations (SPEC C.1 [derived]). The
sweep is the product ``alpha_0 x alpha_t`` (both vmapped with the seeds and the
learning-rate grid: one compilation per (optimizer, d)); row (a) of the figure is
the slice ``alpha_t = 0``, row (b) the slice ``alpha_0 = 0``. Model as ``fig7``.

Run: ``muonjax run fig9 --preset quick`` (or ``python experiments/fig9.py``).

References:
    Kim, Nichani, Wu, Bietti, Lee (2026), arXiv 2603.26554, Fig. 9; SPEC C.1, C.3.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import muonjax as mj
from muonjax import transformer as tf


@dataclasses.dataclass(frozen=True)
class Fig9Config(tf.RecallExperimentConfig):
    """Settings (every one can be changed with ``--set key=value``).

    Attributes:
        alpha_0s, alpha_ts: the exponents (each list must hold 0).
        dims: widths d.
        (the rest: :class:`muonjax.transformer.RecallExperimentConfig`)
    """

    alpha_0s: tuple[float, ...] = (0.0, 1.5)
    alpha_ts: tuple[float, ...] = (0.0, 1.5)
    dims: tuple[int, ...] = (16, 32, 64)
    steps: int = 256
    seeds: int = 2
    chunk_size: int = 24

    def __post_init__(self) -> None:
        super().__post_init__()
        if 0.0 not in self.alpha_0s or 0.0 not in self.alpha_ts:
            raise ValueError(
                f"alpha_0s and alpha_ts must hold 0.0 (the other row's slice), got "
                f"{self.alpha_0s}, {self.alpha_ts}"
            )
        if not self.dims:
            raise ValueError("dims must be non-empty")


PRESETS = {
    # V = 128, T = 64, d = 16, 32, 64, alpha in {0, 1.5}^2, 256 steps, 2 seeds.
    "quick": Fig9Config(),
    # For a GPU: batch 256, iteration 512 as in the caption, alpha in {0, 1, 2}^2.
    "paper": Fig9Config(
        **tf.PAPER_SIZES,
        alpha_0s=(0.0, 1.0, 2.0),
        alpha_ts=(0.0, 1.0, 2.0),
        dims=(16, 32, 64, 128, 256),
        steps=512,
    ),
}


def sweep(config: Fig9Config) -> mj.Sweep:
    """``optimizer x d x alpha_0 x alpha_t x lr``; the exponents and lr vmap."""
    return tf.recall_sweep(
        axes={
            "optimizer": config.optimizers,
            "dim": config.dims,
            "alpha_0": config.alpha_0s,
            "alpha_t": config.alpha_ts,
            "lr_scale": tf.lr_grid(config.lr_points, config.lr_span),
        },
        fixed=tf.recall_fixed(config),
        batched=("alpha_0", "alpha_t", "lr_scale"),
    )


def plot(out_dir: str | Path) -> list[Path]:
    """The figure, the learning-rate grid (uniform laws) and the summary."""
    out = Path(out_dir)
    table = mj.read_table(out)
    mj.write_fit_summary(out, tf.figures.fig9.summary(table))
    paths = mj.save_figure(tf.figures.fig9.figure(table), out / "fig9")
    lr_fig = tf.figures.lr_grid_figure(
        table,
        metric="ood_acc",
        step=tf.final_step(table),
        where={"alpha_0": 0.0, "alpha_t": 0.0},
        title="alpha_0 = alpha_t = 0: ",
    )
    return paths + mj.save_figure(lr_fig, out / "fig9_lr")


EXPERIMENT = mj.register_experiment(
    "fig9",
    summary="in-context recall: OOD accuracy against d per power-law exponent of "
    "outputs and triggers (Kim et al. 2026 Fig. 9, SPEC C.1)",
    presets=PRESETS,
    sweep=sweep,
    plot=plot,
    limits={**tf.RECALL_LIMITS, "alpha_0s": "[0, inf)", "alpha_ts": "[0, inf)"},
)


if __name__ == "__main__":
    raise SystemExit(mj.experiment_main(EXPERIMENT))
