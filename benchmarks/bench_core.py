"""Benchmark the core passes against the right baselines, in one run, on this machine.

For N = 20,000 and d in {64, 128, 256} (defaults) it times, after compiling, with
``block_until_ready``, the best of interleaved repeats (so that a load that comes and
goes hits every contender alike):

- ``capacity``: :func:`muonjax.margins`, ``2 N^2 d`` flops (the capacity pass);
- ``gradient``: :func:`muonjax.population_loss_and_grad`, ``4 N^2 d`` flops;
- their **fused baselines** on the same blocks (same shapes, same scan): product +
  row max (capacity), product + row max + exp + product (gradient), the least work
  any blockwise pass can do; and the first at JAX's default precision (the policy's
  cost: none expected on a CPU);
- **0.1.0's kernels** (two masked passes over each score block), for the speedup;
- the **numpy + OpenBLAS peer** (``benchmarks/numpy_peer.py``) in a subprocess with
  ``OPENBLAS_CORETYPE`` unset, on the same data, at its own blocks, once per round
  between the JAX contenders; its counts must equal ours;
- the **screened capacity** in each format (emulated on a CPU: its speed here means
  nothing, its recheck share and its equal counts do).

A second part runs N = 100,000, d = 256 in fresh subprocesses at two block sizes and
records their peak resident memory (it grows with block x N, not N^2).

Writes ``core_<platform>.json`` (device, versions, load average, sizes, seconds,
GFLOP/s, ratios) and prints a table. On a quiet 2-core CPU the default run takes
about 4 minutes (the memory part about 1 more).

Usage:
    python benchmarks/bench_core.py [--n 20000] [--dims 64 128 256] [--repeats 5]
        [--block-size B] [--peer-blocks 256 1024] [--skip-memory] [--out DIR]
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

import muonjax as mj

HERE = Path(__file__).resolve().parent
HI = jax.lax.Precision.HIGHEST


# --------------------------------------------------------------------------------------
# Baselines on the same blocks as the library's pass.


def _blocks(a, u, n, block):
    nb = -(-n // block)
    pad = nb * block - n
    a = jnp.pad(a, ((0, pad), (0, 0))).reshape(nb, block, -1)
    u = jnp.pad(u, ((0, pad), (0, 0))).reshape(nb, block, -1)
    t = jnp.pad(jnp.arange(n), (0, pad)).reshape(nb, block)
    return a, u, t


def fused_capacity(block: int, precision=HI) -> Callable:
    """Product + row max per block: the least a capacity pass can do."""

    def f(w, task):
        a = jnp.matmul(task.u, w.T, precision=precision)
        blocks, _, _ = _blocks(a, task.u, task.n, block)

        def body(c, a_b):
            return c, jnp.max(jnp.matmul(a_b, task.v.T, precision=precision), axis=1)

        return jax.lax.scan(body, 0, blocks)[1]

    return jax.jit(f)


def fused_gradient(block: int) -> Callable:
    """Product + row max + exp + product per block: the least a gradient pass can do."""

    def f(w, task):
        a = jnp.matmul(task.u, w.T, precision=HI)
        blocks, _, _ = _blocks(a, task.u, task.n, block)

        def body(acc, a_b):
            s = jnp.matmul(a_b, task.v.T, precision=HI)
            e = jnp.exp(s - jnp.max(s, axis=1, keepdims=True))
            return acc + jnp.matmul(e, task.v, precision=HI), None

        return jax.lax.scan(body, jnp.zeros((block, task.d_out), a.dtype), blocks)[0]

    return jax.jit(f)


def v010_pass(block: int, grad: bool) -> Callable:
    """0.1.0's score block: a masked sum for the target, a masked max for the rival."""

    def f(w, task):
        a = jnp.matmul(task.u, w.T, precision=HI)
        a_bl, u_bl, t_bl = _blocks(a, task.u, task.n, block)
        p = jnp.pad(task.p, (0, a_bl.shape[0] * block - task.n)).reshape(-1, block)
        cols = jnp.arange(task.n)

        def body(carry, blk):
            loss, g = carry
            a_b, u_b, t_b, p_b = blk
            s = jnp.matmul(a_b, task.v.T, precision=HI)
            hit = cols[None, :] == t_b[:, None]
            s_t = jnp.sum(jnp.where(hit, s, 0), axis=1)
            s_other = jnp.max(jnp.where(hit, -jnp.inf, s), axis=1)
            if grad:
                s_max = jnp.maximum(s_t, s_other)
                e = jnp.exp(s - s_max[:, None])
                z = jnp.sum(e, axis=1)
                loss = loss + jnp.sum(p_b * (s_max + jnp.log(z) - s_t))
                ebar = jnp.matmul(e, task.v, precision=HI) / z[:, None]
                coef = p_b[:, None] * (ebar - task.v[t_b])
                g = g + jnp.matmul(coef.T, u_b, precision=HI)
            return (loss, g), s_t - s_other

        init = (jnp.zeros((), a.dtype), jnp.zeros((task.d_out, task.d_in), a.dtype))
        return jax.lax.scan(body, init, (a_bl, u_bl, t_bl, p))

    return jax.jit(f)


# --------------------------------------------------------------------------------------
# Timing.


def interleaved_best(
    fns: dict[str, Callable[[], object]],
    repeats: int,
    between: Callable[[], dict[str, float]] | None = None,
) -> dict:
    """Best wall time of each function over ``repeats`` interleaved rounds.

    ``between()`` runs once per round after the functions (the numpy peer, in its
    own process) and returns its own ``name -> seconds``, kept the same way.
    """
    for fn in fns.values():
        jax.block_until_ready(fn())  # compile and warm up
    best = dict.fromkeys(fns, float("inf"))
    for _ in range(repeats):
        for name, fn in fns.items():
            start = time.perf_counter()
            jax.block_until_ready(fn())
            best[name] = min(best[name], time.perf_counter() - start)
        if between is not None:
            for name, seconds in between().items():
                best[name] = min(best.get(name, float("inf")), seconds)
    return best


class Peer:
    """The numpy peer on this task, in a subprocess without ``OPENBLAS_CORETYPE``."""

    def __init__(self, task, w, blocks: list[int], tmp: Path):
        self.blocks = blocks
        self.path = tmp / "data.npz"
        np.savez(self.path, u=task.u, v=task.v, p=task.p, w=w)
        self.env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_CORETYPE"}
        self.last: dict = {}

    def __call__(self) -> dict[str, float]:
        """One timed run (after its own warm-up): ``numpy_<what>_block<b> -> s``."""
        out = subprocess.run(
            [sys.executable, str(HERE / "numpy_peer.py"), str(self.path), "--blocks"]
            + [str(b) for b in self.blocks]
            + ["--repeats", "1"],
            check=True,
            capture_output=True,
            text=True,
            env=self.env,
        )
        self.last = json.loads(out.stdout.strip().splitlines()[-1])
        return {
            f"numpy_{what}_block{b}": self.last[what][str(b)]["seconds"]
            for what in ("capacity", "gradient")
            for b in self.blocks
        }


def bench_speed(args) -> list[dict]:
    return [bench_dim(args.n, d, args) for d in args.dims]


def bench_dim(n: int, d: int, args) -> dict:
    """Every contender at one ``(n, d)``; see the module docstring."""
    task = mj.sample_task(n, d, 1.5, key=jax.random.key(d))
    # A memory after one Muon step: realistic margins, a nonzero count.
    w = -mj.polar(mj.grad_at_zero(task)) * (2 * d**0.5)
    block = args.block_size or mj.default_block_size(n, n)
    fns = {
        "capacity": lambda: mj.margins(w, task, block_size=block),
        "gradient": lambda: mj.population_loss_and_grad(w, task, block_size=block),
    }
    baselines = {
        "fused_capacity": fused_capacity(block),
        "fused_capacity_default_precision": fused_capacity(block, None),
        "fused_gradient": fused_gradient(block),
        "v010_capacity": v010_pass(block, False),
        "v010_gradient": v010_pass(block, True),
    }
    for name, f in baselines.items():
        fns[name] = functools.partial(f, w, task)
    with tempfile.TemporaryDirectory() as tmp:
        peer = Peer(task, np.asarray(w), args.peer_blocks, Path(tmp))
        all_seconds = interleaved_best(fns, args.repeats, between=peer)
    peer_first = peer.last
    count = int(jnp.sum(mj.margins(w, task, block_size=block) > 0))
    peer_counts = {b: peer_first["capacity"][str(b)]["count"] for b in args.peer_blocks}
    screened = {}
    for screen in mj.SCREENS:
        sc = mj.screened_capacity(w, task, screen=screen, block_size=block)
        exact = mj.capacity(w, task, block_size=block)
        screened[screen] = {
            "rechecked": int(sc.rechecked),
            "share_rechecked": int(sc.rechecked) / n,
            "counts_equal": all(
                bool(jnp.array_equal(x, y))
                for x, y in zip(sc.capacity, exact, strict=True)
            ),
        }
    flops = {"capacity": 2 * n * n * d, "gradient": 4 * n * n * d}
    gflops = {
        k: flops["gradient" if "gradient" in k else "capacity"] / t / 1e9
        for k, t in all_seconds.items()
    }
    best_peer = {
        what: max(gflops[f"numpy_{what}_block{b}"] for b in args.peer_blocks)
        for what in ("capacity", "gradient")
    }
    row = {
        "n": n,
        "d": d,
        "dtype": "float32",
        "block_size": block,
        "seconds": all_seconds,
        "gflops": gflops,
        "ratios": {
            "capacity_to_fused": gflops["capacity"] / gflops["fused_capacity"],
            "gradient_to_fused": gflops["gradient"] / gflops["fused_gradient"],
            "capacity_to_best_numpy": gflops["capacity"] / best_peer["capacity"],
            "gradient_to_best_numpy": gflops["gradient"] / best_peer["gradient"],
            "capacity_to_v010": gflops["capacity"] / gflops["v010_capacity"],
            "gradient_to_v010": gflops["gradient"] / gflops["v010_gradient"],
            "highest_to_default_precision": gflops["fused_capacity"]
            / gflops["fused_capacity_default_precision"],
        },
        "count": count,
        "numpy_counts": peer_counts,
        "numpy_counts_equal": all(c == count for c in peer_counts.values()),
        "numpy": {k: peer_first[k] for k in ("numpy", "blas", "openblas_coretype")},
        "screened": screened,
    }
    r = row["ratios"]
    print(
        f"n={n} d={d} block={block}: capacity {gflops['capacity']:.0f} GF/s "
        f"(fused {gflops['fused_capacity']:.0f}, "
        f"ratio {r['capacity_to_fused']:.2f}; "
        f"numpy best {best_peer['capacity']:.0f}, ratio "
        f"{r['capacity_to_best_numpy']:.2f}; 0.1.0 {gflops['v010_capacity']:.0f}); "
        f"gradient {gflops['gradient']:.0f} GF/s (fused "
        f"{gflops['fused_gradient']:.0f}, ratio {r['gradient_to_fused']:.2f}; "
        f"numpy best {best_peer['gradient']:.0f}, ratio "
        f"{r['gradient_to_best_numpy']:.2f}; 0.1.0 {gflops['v010_gradient']:.0f}); "
        f"HIGHEST/default {r['highest_to_default_precision']:.2f}; counts equal "
        f"numpy: {row['numpy_counts_equal']}; rechecked "
        + ", ".join(f"{s} {v['share_rechecked']:.2%}" for s, v in screened.items()),
        flush=True,
    )
    return row


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
# VmHWM is this process's own high-water mark (ru_maxrss can report the parent's).
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
                f"{row['score_block_mb']:.0f} MB; N x N would be "
                f"{row['dense_n_by_n_mb']:.0f} MB), "
                f"{row['seconds_including_compile']:.1f} s",
                flush=True,
            )
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=20_000)
    parser.add_argument("--dims", type=int, nargs="+", default=[64, 128, 256])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--block-size", type=int, default=None)
    parser.add_argument("--peer-blocks", type=int, nargs="+", default=[256, 1024])
    parser.add_argument("--memory-n", type=int, default=100_000)
    parser.add_argument("--memory-d", type=int, default=256)
    parser.add_argument("--memory-blocks", type=int, nargs="+", default=[128, 1024])
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument("--out", type=Path, default=HERE / "results")
    args = parser.parse_args(argv)

    start = time.perf_counter()
    env = mj.environment()
    result = {
        "benchmark": "core",
        "command": "python benchmarks/bench_core.py " + " ".join(argv or sys.argv[1:]),
        "environment": env,
        "load_average_before": os.getloadavg(),
        "flop_convention": "capacity 2 N^2 d, gradient 4 N^2 d per pass",
        "speed": bench_speed(args),
    }
    if not args.skip_memory:
        result["memory"] = bench_memory(
            args.memory_n, args.memory_d, args.memory_blocks
        )
    result["load_average_after"] = os.getloadavg()
    result["wall_seconds"] = time.perf_counter() - start
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"core_{env['backend']}.json"
    path.write_text(json.dumps(result, indent=2, default=float))
    print(f"wrote {path} ({result['wall_seconds']:.0f} s)")


if __name__ == "__main__":
    main()
