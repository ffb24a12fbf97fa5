"""A small demo of the core: one population GD, Muon and Newton step.

Run with ``python -m muonjax.demo``; takes well under a minute on a 2-core CPU.
"""

from __future__ import annotations

import time

import jax

import muonjax as mj


def main(
    n: int = 20_000, dims: tuple[int, ...] = (64, 128), alpha: float = 1.5
) -> None:
    """Print the capacity of one population step of GD, Muon and Newton."""
    print(f"one population step from W=0, N={n}, alpha={alpha}")
    print(
        f"{'d':>5} {'rule':>7} {'count':>6} {'prefix':>7} {'weighted':>9} {'loss':>8}"
    )
    for d in dims:
        task = mj.sample_task(n, d, alpha, key=jax.random.key(d))
        rules = {
            "gd": mj.gd(1.0),
            "muon": mj.muon_exact(2 * d**0.5),
            "newton": mj.newton_at_zero(1.0, task),
        }
        for name, tx in rules.items():
            start = time.perf_counter()
            m = mj.one_step(task, tx).metrics
            print(
                f"{d:>5} {name:>7} {int(m.count):>6} {int(m.prefix):>7} "
                f"{float(m.weighted_accuracy):>9.4f} {float(m.loss):>8.3f}"
                f"   ({time.perf_counter() - start:.1f}s)"
            )


if __name__ == "__main__":
    main()
