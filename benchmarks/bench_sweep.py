"""Benchmark: a 16-seed population Muon one-step sweep, vmapped vs a loop over seeds.

Both sides compute the same thing: for each seed, sample a task (N items, dimension
d, alpha), take one exact-Muon step from W = 0 on the population gradient, and
measure the loss and capacity of W_1 (about 2 N^2 d flops of scores per seed, plus
an exp per score for the loss).

- vmapped: ``muonjax.run_sweep`` (all seeds in one vmapped, jitted call, chunk 16,
  per-seed block size ``sweep_block_size(N, 16)``, 208 rows at N = 20,000);
- loop: a Python loop over the seeds calling one jitted single-seed function (the
  core's ``one_step`` with its default block size), as a user would write it.

Both are compiled first (a full warm-up run each), then timed ``--repeats`` times,
interleaved, with ``block_until_ready`` through ``jax.device_get``; the minimum wall
time and the minimum CPU time (all threads of the process, less sensitive to other
processes on a shared machine) are reported. The machine's float32 matmul rate is
measured in the same run. Results go to
``benchmarks/results/bench_sweep_<backend>.json``.

Run: ``python benchmarks/bench_sweep.py`` (about 3 minutes on a 2-core CPU).
"""

from __future__ import annotations

import argparse
import datetime
import json
import platform
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

import muonjax as mj

RESULTS = Path(__file__).resolve().parent / "results"


def matmul_gflops(size: int = 2048, repeats: int = 5) -> float:
    """Best float32 ``size x size`` matmul rate of this machine, in GFLOP/s."""
    a = jax.random.normal(jax.random.key(0), (size, size), jnp.float32)
    f = jax.jit(lambda x: x @ x)
    f(a).block_until_ready()
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        f(a).block_until_ready()
        best = min(best, time.perf_counter() - start)
    return 2 * size**3 / best / 1e9


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20_000)
    parser.add_argument("--d", type=int, default=128)
    parser.add_argument("--alpha", type=float, default=1.5)
    parser.add_argument("--seeds", type=int, default=16)
    parser.add_argument("--chunk", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)

    n, d, alpha, seeds = args.n, args.d, args.alpha, args.seeds
    sweep = mj.one_step_sweep(
        n=n, dims=(d,), alphas=(alpha,), rules=("muon",), chunk_size=args.chunk
    )
    (cell,) = sweep.cells()
    key = jax.random.key(0)
    keys = [mj.cell_key(key, cell, s) for s in range(seeds)]
    tx = mj.muon_exact(2.0 * d**0.5)

    @jax.jit
    def single(k):
        key_task, _ = jax.random.split(k)  # as mj.one_step_cell: the same tasks
        return mj.one_step(mj.sample_task(n, d, alpha, key=key_task), tx).metrics

    def run_vmapped():
        res = mj.run_sweep(sweep, seeds=seeds, key=key, chunk_size=args.chunk)
        return res.results[0].metrics["count"][:, 0]

    def run_loop():
        return np.asarray([int(jax.device_get(single(k)).count) for k in keys])

    def timed(fn):
        wall, cpu = time.perf_counter(), time.process_time()
        out = fn()
        return time.perf_counter() - wall, time.process_time() - cpu, out

    gflops = matmul_gflops()
    runs = {"vmapped": run_vmapped, "loop": run_loop}
    first = {name: timed(fn)[0] for name, fn in runs.items()}  # compile + run
    wall = {name: [] for name in runs}
    cpu = {name: [] for name in runs}
    counts = {}
    # Interleaved repeats (A B A B ...): on a shared machine, other processes'
    # load then falls on both sides alike. Minimum wall and CPU (all threads) time.
    for _ in range(args.repeats):
        for name, fn in runs.items():
            w, c, counts[name] = timed(fn)
            wall[name].append(w)
            cpu[name].append(c)
    t_vmap, t_loop = min(wall["vmapped"]), min(wall["loop"])
    c_vmap, c_loop = min(cpu["vmapped"]), min(cpu["loop"])
    device = jax.local_devices()[0]
    score_flops = seeds * 2 * n * n * d
    result = {
        "benchmark": "16-seed population Muon one-step sweep, vmapped vs loop",
        "sizes": {"n": n, "d": d, "alpha": alpha, "seeds": seeds, "chunk": args.chunk},
        "block_size": {
            "vmapped_per_seed": sweep.options["block_size"],
            "loop": mj.default_block_size(n),
        },
        "device": {
            "backend": jax.default_backend(),
            "kind": device.device_kind,
            "count": jax.local_device_count(),
            "platform": platform.platform(),
        },
        "dtype": "float32",
        "jax": jax.__version__,
        "muonjax": mj.__version__,
        "matmul_gflops": round(gflops, 1),
        "seconds": {
            "vmapped": round(t_vmap, 3),
            "loop": round(t_loop, 3),
            "vmapped_all_repeats": [round(t, 3) for t in wall["vmapped"]],
            "loop_all_repeats": [round(t, 3) for t in wall["loop"]],
            "vmapped_first_call_with_compile": round(first["vmapped"], 3),
            "loop_first_call_with_compile": round(first["loop"], 3),
        },
        "cpu_seconds": {"vmapped": round(c_vmap, 3), "loop": round(c_loop, 3)},
        "loop_over_vmapped": round(t_loop / t_vmap, 3),
        "loop_over_vmapped_cpu": round(c_loop / c_vmap, 3),
        "score_gflops": {
            "vmapped": round(score_flops / t_vmap / 1e9, 1),
            "loop": round(score_flops / t_loop / 1e9, 1),
        },
        "repeats": args.repeats,
        # Equal up to float32 ties: the two use different block sizes.
        "same_counts": bool(np.array_equal(counts["vmapped"], counts["loop"])),
        "max_count_difference": int(np.max(np.abs(counts["vmapped"] - counts["loop"]))),
        "when": datetime.datetime.now(datetime.timezone.utc).isoformat(
            timespec="seconds"
        ),
    }
    out = args.out or RESULTS / f"bench_sweep_{jax.default_backend()}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(result, indent=1))
    print(f"written to {out}")
    return result


if __name__ == "__main__":
    main()
