"""One command for a GPU machine: rates, exactness of the screen, vmap, a Fig 2 slice.

Writes ``gpu_check.json`` to ``--out`` (rewritten after every part, so a run cut
short still leaves what it measured) with

1. the device and versions (:func:`muonjax.environment`);
2. at N = 100,000 and d = 256, 512, 1024: the exact capacity and gradient passes and
   the screened capacity in each format, each as GFLOP/s and as a ratio to a product
   of the same shapes and the same precision measured in the same run (the same
   blocks, a product and a row max: the least any blockwise pass does; product + exp
   + product for the gradient), and the screened-to-exact speedup;
3. exact against screened counts, prefix and weighted accuracy (must be equal) and
   the share of items rechecked;
4. seeds vmapped by the sweep engine against a loop over the same seeds (equal
   metrics, and the two wall times);
5. the wall time of a slice of Figure 2's paper preset (alpha = 1.5, d = 32..1024,
   16 seeds, N = 100,000) through ``muonjax run``'s own path, and the cost
   estimate's projection of it;
6. the transformer benchmark, if ``benchmarks/bench_transformer.py`` exists (issues
   14 and 15): run as ``python benchmarks/bench_transformer.py --out DIR [--small]``
   with the time left, its JSON copied in.

Everything runs under a deadline (default 7.5 minutes): a part that would start after
it is recorded as skipped. ``--small`` runs every part at toy sizes on any device (the
test suite runs it on the CPU).

Usage (on the GPU machine, no network; jax, optax, chex, jaxtyping, matplotlib, scipy,
tqdm and pyarrow preinstalled)::

    pip install -e . --no-deps --no-build-isolation
    python benchmarks/gpu_check.py --out OUT_DIR  # or: bash benchmarks/gpu_check.sh OUT
    python benchmarks/gpu_check.py --out /tmp/x --small  # anywhere, a minute
"""

from __future__ import annotations

import os

# Several processes share the GPU here (the Fig 2 slice and the transformer benchmark
# run in subprocesses): no process may grab 75% of its memory up front.
os.environ.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")

import argparse
import dataclasses
import functools
import json
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

import muonjax as mj
from muonjax.engine.registry import resolve_config

HERE = Path(__file__).resolve().parent
HI = jax.lax.Precision.HIGHEST


@dataclasses.dataclass(frozen=True)
class Sizes:
    """The sizes of one run of the check."""

    n: int = 100_000
    dims: tuple[int, ...] = (256, 512, 1024)
    repeats: int = 3
    vmap_n: int = 20_000
    vmap_d: int = 256
    vmap_seeds: int = 8
    fig2_overrides: tuple[str, ...] = ("alphas=1.5",)
    fig2_seeds: int | None = None  # the preset's 16
    fig2_preset: str = "paper"


SMALL = Sizes(
    n=600,
    dims=(16, 32),
    repeats=2,
    vmap_n=300,
    vmap_d=8,
    vmap_seeds=3,
    fig2_overrides=("alphas=1.5", "n=300", "dims=8,16", "rules=gd,muon"),
    fig2_seeds=2,
    fig2_preset="quick",
)


# --------------------------------------------------------------------------------------
# Timing and the same-shape baselines.


def best_seconds(fn: Callable[[], Any], repeats: int) -> float:
    jax.block_until_ready(fn())  # compile and warm up
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        jax.block_until_ready(fn())
        best = min(best, time.perf_counter() - start)
    return best


def _blocked(x: jax.Array, block: int) -> jax.Array:
    nb = -(-x.shape[0] // block)
    return jnp.pad(x, ((0, nb * block - x.shape[0]), (0, 0))).reshape(nb, block, -1)


@functools.partial(jax.jit, static_argnames=("block", "fmt"))
def product_rowmax(a: jax.Array, v: jax.Array, block: int, fmt: str) -> jax.Array:
    """Product + row max over the same blocks, in the format ``fmt``."""

    def prod(x, y):
        if fmt == "f32":
            return jnp.matmul(x, y.T, precision=HI)
        if fmt == "tf32" and jax.default_backend() == "cpu":
            return jnp.matmul(x, y.T, precision=HI)  # no TF32 on a CPU
        if fmt == "tf32":
            alg = jax.lax.DotAlgorithmPreset.TF32_TF32_F32
            return jax.lax.dot_general(x, y, (((1,), (1,)), ((), ())), precision=alg)
        return jax.lax.dot_general(
            x,
            y,
            (((1,), (1,)), ((), ())),
            precision=jax.lax.DotAlgorithmPreset.BF16_BF16_F32,
            preferred_element_type=jnp.float32,
        )

    def body(c, a_b):
        return c, jnp.max(prod(a_b, v), axis=1)

    return jax.lax.scan(body, 0, _blocked(a, block))[1]


@functools.partial(jax.jit, static_argnames=("block",))
def product_exp_product(a: jax.Array, v: jax.Array, block: int) -> jax.Array:
    """Product + row max + exp + product over the same blocks, float32."""

    def body(acc, a_b):
        s = jnp.matmul(a_b, v.T, precision=HI)
        e = jnp.exp(s - jnp.max(s, axis=1, keepdims=True))
        return acc + jnp.matmul(e, v, precision=HI), None

    return jax.lax.scan(
        body, jnp.zeros((block, v.shape[1]), v.dtype), _blocked(a, block)
    )[0]


def _screen_operands(x: jax.Array, screen: str) -> jax.Array:
    """Operands of the shapes and dtype the screened product uses (for its baseline)."""
    if screen == "tf32":
        return x
    if screen == "bf16":
        return x.astype(jnp.bfloat16)
    hi = x.astype(jnp.bfloat16)
    return jnp.concatenate([hi, hi, hi], axis=1)


# --------------------------------------------------------------------------------------
# The parts.


def part_rates(sizes: Sizes, budget: Callable[[], float]) -> list[dict]:
    rows = []
    for d in sizes.dims:
        if budget() < 60:
            rows.append({"d": d, "skipped": "time budget"})
            continue
        rows.append(rates_at(sizes.n, d, sizes.repeats))
        print(f"rates d={d}: {json.dumps(rows[-1], default=float)}", flush=True)
    return rows


def rates_at(n: int, d: int, repeats: int) -> dict:
    """Exact and screened passes at ``(n, d)`` against same-shape products."""
    task = mj.sample_task(n, d, 1.5, key=jax.random.key(d))
    w = -mj.polar(mj.grad_at_zero(task)) * (2 * d**0.5)  # one Muon step
    block = mj.default_block_size(n, n)
    a = jnp.matmul(task.u, w.T, precision=HI)
    cap = jax.jit(functools.partial(mj.margins, block_size=block))
    grad = jax.jit(functools.partial(mj.population_loss_and_grad, block_size=block))
    timed = {
        "capacity": functools.partial(cap, w, task),
        "gradient": functools.partial(grad, w, task),
        "product_f32": functools.partial(product_rowmax, a, task.v, block, "f32"),
        "product_exp_product_f32": functools.partial(
            product_exp_product, a, task.v, block
        ),
    }
    seconds = {k: best_seconds(f, repeats) for k, f in timed.items()}
    exact = mj.capacity(w, task, block_size=block)
    screened = {}
    for screen in mj.SCREENS:
        try:
            sc_fn = jax.jit(
                functools.partial(mj.screened_capacity, screen=screen, block_size=block)
            )
            t_sc = best_seconds(functools.partial(sc_fn, w, task), repeats)
            fmt = "tf32" if screen == "tf32" else "bf16"
            base = functools.partial(
                product_rowmax,
                _screen_operands(a, screen),
                _screen_operands(task.v, screen),
                block,
                fmt,
            )
            t_base = best_seconds(base, repeats)
            sc = sc_fn(w, task)
            k = 3 * d if screen == "bf16x3" else d
            screened[screen] = {
                "seconds": t_sc,
                "gflops_exact_equivalent": 2 * n * n * d / t_sc / 1e9,
                "speedup_over_exact": seconds["capacity"] / t_sc,
                "same_precision_product_seconds": t_base,
                "same_precision_product_gflops": 2 * n * n * k / t_base / 1e9,
                "ratio_to_same_precision_product": t_base / t_sc,
                "rechecked": int(sc.rechecked),
                "share_rechecked": int(sc.rechecked) / n,
                "counts_equal": all(
                    bool(jnp.array_equal(x, y))
                    for x, y in zip(sc.capacity, exact, strict=True)
                ),
            }
        except Exception as err:  # recorded, the check goes on
            screened[screen] = {"error": f"{type(err).__name__}: {err}"}
    f_cap, f_grad = 2 * n * n * d, 4 * n * n * d
    return {
        "n": n,
        "d": d,
        "block_size": block,
        "seconds": seconds,
        "gflops": {
            "capacity": f_cap / seconds["capacity"] / 1e9,
            "gradient": f_grad / seconds["gradient"] / 1e9,
            "product_f32": f_cap / seconds["product_f32"] / 1e9,
            "product_exp_product_f32": f_grad
            / seconds["product_exp_product_f32"]
            / 1e9,
        },
        "ratio_capacity_to_product": seconds["product_f32"] / seconds["capacity"],
        "ratio_gradient_to_product": seconds["product_exp_product_f32"]
        / seconds["gradient"],
        "count": int(exact.count),
        "screened": screened,
    }


def part_vmap(sizes: Sizes) -> dict:
    sweep = mj.one_step_sweep(
        n=sizes.vmap_n,
        dims=(sizes.vmap_d,),
        alphas=(1.5,),
        rules=("muon",),
        with_loss=True,
        chunk_size=sizes.vmap_seeds,
    )
    key = jax.random.key(0)
    mj.run_sweep(sweep, seeds=sizes.vmap_seeds, key=key, chunk_size=sizes.vmap_seeds)
    start = time.perf_counter()
    res = mj.run_sweep(
        sweep, seeds=sizes.vmap_seeds, key=key, chunk_size=sizes.vmap_seeds
    )
    t_vmap = time.perf_counter() - start
    cell = sweep.cells()[0]
    mj.run_cell(sweep, cell, 0, key=key)  # compile
    start = time.perf_counter()
    loop = [mj.run_cell(sweep, cell, s, key=key) for s in range(sizes.vmap_seeds)]
    t_loop = time.perf_counter() - start
    batched = res.results[0].metrics
    equal_ints = all(
        np.array_equal(batched[k][s], loop[s][k])
        for k in ("count", "prefix")
        for s in range(sizes.vmap_seeds)
    )
    max_rel = max(
        float(np.max(np.abs(batched[k][s] - loop[s][k]) / (np.abs(loop[s][k]) + 1e-30)))
        for k in ("loss", "weighted_accuracy")
        for s in range(sizes.vmap_seeds)
    )
    return {
        "n": sizes.vmap_n,
        "d": sizes.vmap_d,
        "seeds": sizes.vmap_seeds,
        "vmapped_seconds": t_vmap,
        "loop_seconds": t_loop,
        "speedup": t_loop / t_vmap,
        "counts_and_prefixes_equal": equal_ints,
        "max_relative_difference_loss_weighted_accuracy": max_rel,
    }


def part_fig2(sizes: Sizes, seconds_left: float) -> dict:
    """The slice through ``muonjax run`` in a subprocess, cut at ``seconds_left``.

    A cut run still says how far it got: the cells it finished (each is saved as it
    completes) out of all.
    """
    exp = mj.get_experiment("fig2")
    config = resolve_config(
        exp, sizes.fig2_preset, seeds=sizes.fig2_seeds, overrides=sizes.fig2_overrides
    )
    cost = mj.estimate(exp, config, compile=False)
    sets = [x for o in sizes.fig2_overrides for x in ("--set", o)]
    seeds = [] if sizes.fig2_seeds is None else ["--seeds", str(sizes.fig2_seeds)]
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "fig2"
        cmd = [
            sys.executable, "-m", "muonjax", "run", "fig2", "--preset",
            sizes.fig2_preset, *sets, *seeds, "--no-plot", "--no-progress",
            "--out", str(out),
        ]  # fmt: skip
        start = time.perf_counter()
        try:
            proc = subprocess.run(
                cmd, capture_output=True, text=True, timeout=max(5.0, seconds_left)
            )
            timed_out, tail = False, (proc.stdout + proc.stderr)[-2000:]
        except subprocess.TimeoutExpired as err:
            timed_out, tail = True, str(err.stdout or "")[-2000:]
        seconds = time.perf_counter() - start
        done = len(list((out / "cells").glob("*.json"))) if out.exists() else 0
        rows = len(mj.read_table(out)) if (out / "records.csv").exists() else 0
    return {
        "preset": sizes.fig2_preset,
        "overrides": list(sizes.fig2_overrides),
        "n": config.n,
        "dims": list(config.dims),
        "alphas": list(config.alphas),
        "rules": list(config.rules),
        "seeds": config.seeds,
        "cells": cost.cells,
        "cells_done": done,
        "timed_out": timed_out,
        "rows": rows,
        "wall_seconds_including_compile": seconds,
        "projected_seconds_without_compile": cost.seconds,
        "flops": cost.flops,
        "output_tail": tail,
    }


def part_transformer(out: Path, small: bool, seconds_left: float) -> dict:
    script = HERE / "bench_transformer.py"
    if not script.exists():
        return {"skipped": "benchmarks/bench_transformer.py not present"}
    sub = out / "transformer"
    sub.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, str(script), "--out", str(sub)] + (
        ["--small"] if small else []
    )
    try:
        proc = subprocess.run(
            cmd, capture_output=True, text=True, timeout=max(10.0, seconds_left)
        )
    except subprocess.TimeoutExpired:
        return {"command": cmd, "error": f"timed out after {seconds_left:.0f} s"}
    found = {}
    for path in sorted(sub.glob("*.json")):
        try:
            found[path.name] = json.loads(path.read_text())
        except ValueError:
            found[path.name] = "unreadable"
    return {
        "command": cmd,
        "returncode": proc.returncode,
        "stderr_tail": proc.stderr[-2000:],
        "results": found,
    }


# --------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="folder for the JSON")
    parser.add_argument("--small", action="store_true", help="toy sizes, any device")
    parser.add_argument(
        "--deadline", type=float, default=450.0, help="seconds for all parts"
    )
    args = parser.parse_args(argv)
    sizes = SMALL if args.small else Sizes()
    start = time.perf_counter()

    def left() -> float:
        return args.deadline - (time.perf_counter() - start)

    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / "gpu_check.json"
    result: dict[str, Any] = {
        "check": "gpu_check",
        "small": args.small,
        "sizes": dataclasses.asdict(sizes),
        "environment": mj.environment(),
        "devices": [str(dvc) for dvc in jax.devices()],
        "parts": {},
    }

    def write() -> None:
        result["wall_seconds"] = time.perf_counter() - start
        path.write_text(json.dumps(result, indent=2, default=float))

    parts: list[tuple[str, Callable[[], Any], float]] = [
        ("rates", lambda: part_rates(sizes, left), 60),
        ("vmap_vs_loop", lambda: part_vmap(sizes), 30),
        ("fig2_slice", lambda: part_fig2(sizes, left() - 40), 60),
        ("transformer", lambda: part_transformer(args.out, args.small, left() - 5), 20),
    ]
    for name, run, needs in parts:
        if left() < needs:
            result["parts"][name] = {"skipped": f"time budget ({left():.0f} s left)"}
            write()
            continue
        t0 = time.perf_counter()
        try:
            result["parts"][name] = run()
        except Exception as err:  # recorded, the check goes on
            result["parts"][name] = {
                "error": f"{type(err).__name__}: {err}",
                "traceback": traceback.format_exc()[-4000:],
            }
        result["parts"][name + "_seconds"] = time.perf_counter() - t0
        print(f"{name}: done in {time.perf_counter() - t0:.1f} s", flush=True)
        write()
    write()
    print(f"wrote {path} ({result['wall_seconds']:.0f} s)")
    errors = [
        k for k, v in result["parts"].items() if isinstance(v, dict) and "error" in v
    ]
    return 1 if errors else 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    raise SystemExit(main())
