"""Benchmark the core kernels: capacity evaluation and population gradient.

For N = 20,000 and d in {64, 128, 256} (issue 2) it times, after compiling and with
``block_until_ready``, the minimum over repeats of

- the capacity evaluation (margins of every item, ``2 N^2 d`` flops),
- the population loss and gradient (``4 N^2 d`` flops),
- in the same run, the plain matmul ``(N, d) @ (d, N)`` of the same shapes (which
  writes the full N x N product) and a square float32 GEMM as the machine's peak,

and writes JSON with the sizes, dtype, device, versions, seconds, GFLOP/s and the
ratios to both matmul rates. A second part runs N = 100,000, d = 256 in fresh
subprocesses at two block sizes and records their peak resident memory, to show that
memory grows with block x N and not N^2 (an N x N float32 matrix would be 40 GB).

Usage:
    python benchmarks/bench_core.py [--n 20000] [--dims 64 128 256] [--repeats 3]
        [--memory-n 100000] [--skip-memory] [--out benchmarks/results]
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

import muonjax as mj


def _time(fn, *args, repeats: int) -> float:
    jax.block_until_ready(fn(*args))  # compile and warm up
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        jax.block_until_ready(fn(*args))
        best = min(best, time.perf_counter() - start)
    return best


def _environment() -> dict:
    dev = jax.devices()[0]
    return {
        "device": dev.device_kind,
        "platform": dev.platform,
        "device_count": jax.device_count(),
        "jax": jax.__version__,
        "muonjax": mj.__version__,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "processor": platform.processor(),
        "cpu_count": __import__("os").cpu_count(),
    }


def peak_gemm_rate(size: int = 2048, repeats: int = 3) -> float:
    """GFLOP/s of a square float32 GEMM, the machine's matmul rate."""
    a = jax.random.normal(jax.random.key(0), (size, size), jnp.float32)
    b = jax.random.normal(jax.random.key(1), (size, size), jnp.float32)
    seconds = _time(jax.jit(jnp.matmul), a, b, repeats=repeats)
    return 2 * size**3 / seconds / 1e9


def bench_speed(
    n: int, dims: list[int], repeats: int, block_size: int | None
) -> list[dict]:
    rows = []
    peak = peak_gemm_rate(repeats=repeats)
    for d in dims:
        task = mj.sample_task(n, d, 1.5, key=jax.random.key(d))
        w = jax.random.normal(jax.random.key(1), (d, d), jnp.float32) / d
        a = task.u @ w.T
        t_mm = _time(jax.jit(lambda a, v: a @ v.T), a, task.v, repeats=repeats)
        cap_fn = jax.jit(lambda w, t: mj.margins(w, t, block_size=block_size))
        grad_fn = jax.jit(
            lambda w, t: mj.population_loss_and_grad(w, t, block_size=block_size)
        )
        t_cap = _time(cap_fn, w, task, repeats=repeats)
        t_grad = _time(grad_fn, w, task, repeats=repeats)
        mm_rate = 2 * n * n * d / t_mm / 1e9
        cap_rate = 2 * n * n * d / t_cap / 1e9
        grad_rate = 4 * n * n * d / t_grad / 1e9
        row = {
            "n": n,
            "d": d,
            "dtype": "float32",
            "block_size": block_size or mj.default_block_size(n, n),
            "seconds": {"matmul": t_mm, "capacity": t_cap, "gradient": t_grad},
            "gflops": {
                "matmul_same_shape": mm_rate,
                "matmul_peak_square": peak,
                "capacity": cap_rate,
                "gradient": grad_rate,
            },
            "ratio_to_same_shape_matmul": {
                "capacity": cap_rate / mm_rate,
                "gradient": grad_rate / mm_rate,
            },
            "ratio_to_peak_matmul": {
                "capacity": cap_rate / peak,
                "gradient": grad_rate / peak,
            },
        }
        rows.append(row)
        print(
            f"n={n} d={d}: matmul {mm_rate:.1f} GF/s (peak {peak:.1f}); capacity "
            f"{t_cap:.3f}s {cap_rate:.1f} GF/s ({cap_rate / mm_rate:.2f}x same-shape, "
            f"{cap_rate / peak:.2f}x peak); gradient {t_grad:.3f}s "
            f"{grad_rate:.1f} GF/s "
            f"({grad_rate / mm_rate:.2f}x, {grad_rate / peak:.2f}x peak)",
            flush=True,
        )
    return rows


_CHILD = """
import resource, sys, time, jax, jax.numpy as jnp, muonjax as mj
n, d, block, what = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
task = mj.sample_task(n, d, 1.5, key=jax.random.key(0))
w = jnp.eye(d, dtype=jnp.float32)
start = time.perf_counter()
if what == "capacity":
    out = jax.jit(lambda w, t: mj.margins(w, t, block_size=block))(w, task)
else:
    fn = lambda w, t: mj.population_loss_and_grad(w, t, block_size=block)
    out = jax.jit(fn)(w, task)
jax.block_until_ready(out)
seconds = time.perf_counter() - start
# ru_maxrss survives fork and exec on Linux (it would report the parent's peak);
# VmHWM is this process's own high-water mark.
try:
    status = open("/proc/self/status").read().split("VmHWM:")[1]
    peak_kb = int(status.split()[0])
except (OSError, IndexError):
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(seconds, peak_kb)
"""


def bench_memory(n: int, d: int, blocks: list[int]) -> list[dict]:
    rows = []
    for what in ("capacity", "gradient"):
        for block in blocks:
            out = subprocess.run(
                [sys.executable, "-c", _CHILD, str(n), str(d), str(block), what],
                check=True,
                capture_output=True,
                text=True,
            )
            seconds, rss_kb = out.stdout.split()
            row = {
                "what": what,
                "n": n,
                "d": d,
                "block_size": block,
                "seconds_including_compile": float(seconds),
                "peak_rss_mb": int(rss_kb) / 1024,
                "score_block_mb": block * n * 4 / 2**20,
                "dense_n_by_n_mb": n * n * 4 / 2**20,
            }
            rows.append(row)
            print(
                f"memory {what} n={n} d={d} block={block}: peak RSS "
                f"{row['peak_rss_mb']:.0f} MB (score block "
                f"{row['score_block_mb']:.0f} MB, "
                f"dense N x N would be {row['dense_n_by_n_mb']:.0f} MB), "
                f"{row['seconds_including_compile']:.1f}s",
                flush=True,
            )
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=20_000)
    parser.add_argument("--dims", type=int, nargs="+", default=[64, 128, 256])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--block-size", type=int, default=None)
    parser.add_argument("--memory-n", type=int, default=100_000)
    parser.add_argument("--memory-d", type=int, default=256)
    parser.add_argument("--memory-blocks", type=int, nargs="+", default=[128, 1024])
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    args = parser.parse_args(argv)

    env = _environment()
    result = {
        "benchmark": "core",
        "environment": env,
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "speed": bench_speed(args.n, args.dims, args.repeats, args.block_size),
    }
    if not args.skip_memory:
        result["memory"] = bench_memory(
            args.memory_n, args.memory_d, args.memory_blocks
        )
    result["self_peak_rss_mb"] = (
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    )
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"core_{env['platform']}.json"
    path.write_text(json.dumps(result, indent=2, default=float))
    print(f"wrote {path}")


if __name__ == "__main__":
    np.set_printoptions(precision=3)
    main()
