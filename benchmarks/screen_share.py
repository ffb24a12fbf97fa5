"""How many items the screened capacity rechecks, and that its counts equal the exact.

The share of items whose screened margin lies within its error bound of zero decides
what the screen can save: a pass that rechecks a share ``r`` costs about
``t_screen + r t_exact``. It depends on the format, on ``d`` (the bound grows like
``d u_acc`` for the accumulation, the margins' scale like ``1/sqrt(d)``) and on the
memory. Here: the memory after one Muon step (Figures 2 and 6) and after one GD step,
per format, with the exact pass alongside (equal counts asserted in the output).

Usage:
    python benchmarks/screen_share.py [--n 20000] [--dims 256 512 1024]
        [--alphas 1.5 3] [--seeds 2] [--out benchmarks/results]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import jax
import jax.numpy as jnp

import muonjax as mj

HERE = Path(__file__).resolve().parent


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=20_000)
    parser.add_argument("--dims", type=int, nargs="+", default=[256, 512, 1024])
    parser.add_argument("--alphas", type=float, nargs="+", default=[1.5, 3.0])
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--out", type=Path, default=HERE / "results")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    rows = []
    for d in args.dims:
        for alpha in args.alphas:
            for rule in ("muon", "gd"):
                for seed in range(args.seeds):
                    task = mj.sample_task(args.n, d, alpha, key=jax.random.key(seed))
                    g = mj.grad_at_zero(task)
                    w = -mj.polar(g) if rule == "muon" else -g / jnp.linalg.norm(g)
                    exact = mj.capacity(w, task)
                    row = {
                        "n": args.n,
                        "d": d,
                        "alpha": alpha,
                        "rule": rule,
                        "seed": seed,
                        "count": int(exact.count),
                    }
                    for screen in mj.SCREENS:
                        sc = mj.screened_capacity(w, task, screen=screen)
                        row[screen] = {
                            "share_rechecked": int(sc.rechecked) / args.n,
                            "counts_equal": all(
                                bool(jnp.array_equal(a, b))
                                for a, b in zip(sc.capacity, exact, strict=True)
                            ),
                        }
                    rows.append(row)
                    print(
                        f"d={d} alpha={alpha} {rule} seed={seed}: "
                        f"count {row['count']}; "
                        + ", ".join(
                            f"{s} {row[s]['share_rechecked']:.3%}"
                            f"{'' if row[s]['counts_equal'] else ' NOT EQUAL'}"
                            for s in mj.SCREENS
                        ),
                        flush=True,
                    )
    result = {
        "benchmark": "screen_share",
        "environment": mj.environment(),
        "rows": rows,
        "wall_seconds": time.perf_counter() - start,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"screen_share_{jax.default_backend()}.json"
    path.write_text(json.dumps(result, indent=2))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
