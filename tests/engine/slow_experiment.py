"""A tiny registered experiment whose chunks take a while, run as a script.

For the tests that interrupt, lock, or kill runs in another process:
``python slow_experiment.py run slow_demo --out DIR [--set work=50000] ...`` is
``muonjax run`` with this experiment registered. Each cell iterates
``x <- tanh(A x)`` ``work`` times on a 128 x 8 block (about 0.5 s per chunk of two
at the default, on a loaded 2-core CPU): real device work, dispatched
asynchronously like any cell (a host callback would run synchronously instead).
"""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import jax
import jax.numpy as jnp

import muonjax as mj
from muonjax import cli


@dataclasses.dataclass(frozen=True)
class SlowConfig:
    """Settings of the slow demo.

    Attributes:
        cells: number of cells (one batched axis ``i``).
        work: iterations of each cell.
        scale: multiplies the metric.
        label: a presentation-only setting (never changes a cell).
        seeds, chunk_size, root_seed: as in every experiment.
    """

    cells: int = 6
    work: int = 50_000
    scale: float = 1.0
    label: str = "demo"
    seeds: int = 2
    chunk_size: int = 2
    root_seed: int = 0


def cell(config, key):
    a = jax.random.normal(key, (128, 128)) / 128**0.5
    x = jnp.ones((128, 8)) * config["scale"]
    x = jax.lax.fori_loop(0, config["work"], lambda _, x: jnp.tanh(a @ x), x)
    return {"step": jnp.arange(2), "x": x[:2, 0] + config["i"]}


def sweep(config: SlowConfig) -> mj.Sweep:
    return mj.Sweep(
        cell,
        axes={"i": tuple(range(config.cells))},
        fixed={"scale": config.scale, "work": config.work},
        batched=("i",),
    )


def plot(out_dir: Path) -> list[Path]:
    mj.read_table(out_dir)
    return []


EXPERIMENT = mj.register_experiment(
    "slow_demo",
    summary="cells that sleep (tests of interrupts, locks and peers)",
    presets={"quick": SlowConfig(), "paper": SlowConfig()},
    sweep=sweep,
    plot=plot,
    presentation=("label",),
    limits={"cells": "[1, 1000]", "work": "[0, 10000000]", "scale": "(0, inf)"},
)


if __name__ == "__main__":
    raise SystemExit(cli.main(sys.argv[1:]))
