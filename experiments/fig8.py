"""Figure 8: OOD accuracy and memory recall against the batch size B.

Kim et al. (2026), Fig. 8 [seed]: OOD accuracy and memory recall of the in-context
recall transformer against the batch size, one column per optimizer (Muon, AdamW,
SGD), one curve per width d, at iteration 1024; the learning rate chosen per (B, d).
Fig. 8b "uses a two-layer transformer with no feed-forward layers" [seed]: here
both panels use that variant (``ffn=False``, the basic model of SPEC C.1; ``--set
ffn=True`` for the other). ``tied_unembed`` as in ``fig7`` (see there). The summary
compares Muon with AdamW and SGD seed by seed at each batch size.

Run: ``muonjax run fig8 --preset quick`` (or ``python experiments/fig8.py``).

References:
    Kim, Nichani, Wu, Bietti, Lee (2026), arXiv 2603.26554, Fig. 8; SPEC C.1, C.3.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import muonjax as mj
from muonjax import transformer as tf


@dataclasses.dataclass(frozen=True)
class Fig8Config(tf.RecallExperimentConfig):
    """Settings (every one can be changed with ``--set key=value``).

    Attributes:
        dims: widths d (one curve each).
        batch_sizes: the x axis (one compilation each; ``batch_size`` is unused).
        (the rest: :class:`muonjax.transformer.RecallExperimentConfig`)
    """

    dims: tuple[int, ...] = (16, 32)
    batch_sizes: tuple[int, ...] = (8, 32, 128)
    steps: int = 256
    seeds: int = 2
    chunk_size: int = 6

    def __post_init__(self) -> None:
        super().__post_init__()
        if not self.dims or not self.batch_sizes:
            raise ValueError("dims and batch_sizes must be non-empty")


PRESETS = {
    # V = 128, T = 64, d = 16, 32, B = 8, 32, 128, 256 steps, 3 step sizes, 2 seeds.
    "quick": Fig8Config(),
    # For a GPU: iteration 1024 as in the caption, B from 16 to 512, d up to 256.
    "paper": Fig8Config(
        **tf.PAPER_SIZES,
        dims=(32, 64, 128, 256),
        batch_sizes=(16, 32, 64, 128, 256, 512),
        steps=1024,
    ),
}


def sweep(config: Fig8Config) -> mj.Sweep:
    """``optimizer x B x d x lr``: one compilation per (optimizer, B, d)."""
    return tf.recall_sweep(
        axes={
            "optimizer": config.optimizers,
            "batch_size": config.batch_sizes,
            "dim": config.dims,
            "lr_scale": tf.lr_grid(config.lr_points, config.lr_span),
        },
        fixed={k: v for k, v in tf.recall_fixed(config).items() if k != "batch_size"},
    )


def plot(out_dir: str | Path) -> list[Path]:
    """The figure, the learning-rate grid (largest B) and the summary."""
    out = Path(out_dir)
    table = mj.read_table(out)
    mj.write_fit_summary(out, tf.figures.fig8.summary(table))
    paths = mj.save_figure(tf.figures.fig8.figure(table), out / "fig8")
    largest = int(max(table.data["batch_size"]))
    lr_fig = tf.figures.lr_grid_figure(
        table,
        metric="recall",
        step=tf.final_step(table),
        where={"batch_size": largest},
        title=f"B={largest}: ",
    )
    return paths + mj.save_figure(lr_fig, out / "fig8_lr")


EXPERIMENT = mj.register_experiment(
    "fig8",
    summary="in-context recall: OOD accuracy and memory recall against the batch "
    "size for Muon, AdamW, SGD (Kim et al. 2026 Fig. 8, SPEC C.1)",
    presets=PRESETS,
    sweep=sweep,
    plot=plot,
    limits={**tf.RECALL_LIMITS, "batch_sizes": "[1, inf)"},
)


if __name__ == "__main__":
    raise SystemExit(mj.experiment_main(EXPERIMENT))
