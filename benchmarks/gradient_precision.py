"""What a TF32 or bfloat16 gradient does to the Muon count (issue 13, item 3).

On an NVIDIA GPU, JAX's default float32 product is TF32 (10-bit mantissas); on a
TPU, bfloat16 passes. This measures what such products in the *gradient* would do to
the capacity after a Muon step, everything else exact, by emulating them on the CPU:
every product's operands are rounded to the format (round to nearest even), then
multiplied and accumulated in float32, which is what a tensor core does.

- **Step 1** (Figures 2 and 6): ``W_1 = eta polar(-grad L(0))``, the gradient in
  closed form, ``sum_i p_i (vbar - v_i) u_i^T``: one product over the ``n`` items.
- **Step 2** (Figures 4 and 5): ``W_2 = W_1 + eta polar(-grad L(W_1))`` with the
  population gradient's blockwise pass in the format: the score product, the
  softmax-weighted mean ``E V`` and the outer product ``coef^T U``.

Formats: ``float64`` (the experiments' ``update_dtype``, the reference), ``float32``
(the precision policy), ``tf32``, ``bf16``. The polar factor (float64 SVD) and the
capacity pass (exact float32) are the same for all, so a count that moves moved
because of the gradient's precision. Reports, per (d, alpha, format), the counts and
prefixes per seed and their differences from float64.

Usage:
    python benchmarks/gradient_precision.py [--n 10000] [--dims 64 128 256]
        [--alphas 1.5 2 3] [--seeds 4] [--out benchmarks/results]
"""

from __future__ import annotations

import argparse
import functools
import json
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

import muonjax as mj

HERE = Path(__file__).resolve().parent
HI = jax.lax.Precision.HIGHEST
FORMATS = ("float64", "float32", "tf32", "bf16")


def rnd(x: jax.Array, fmt: str) -> jax.Array:
    """``x`` rounded to the format's operand precision (float32 arrays)."""
    if fmt == "float64":
        return x.astype(jnp.float64)
    x = x.astype(jnp.float32)
    if fmt == "tf32":
        return jax.lax.reduce_precision(x, exponent_bits=8, mantissa_bits=10)
    if fmt == "bf16":
        return x.astype(jnp.bfloat16).astype(jnp.float32)
    return x


def mm(a: jax.Array, b: jax.Array, fmt: str) -> jax.Array:
    """A product as the format computes it: rounded operands, exact accumulation."""
    return jnp.matmul(rnd(a, fmt), rnd(b, fmt), precision=HI)


@functools.partial(jax.jit, static_argnames=("fmt",))
def grad_at_zero(task: mj.GaussianTask, fmt: str) -> jax.Array:
    """``sum_i p_i (vbar - v_i) u_i^T`` with its one product in ``fmt``."""
    dt = jnp.float64 if fmt == "float64" else jnp.float32
    v, u, p = task.v.astype(dt), task.u.astype(dt), task.p.astype(dt)
    coef = p[:, None] * (jnp.mean(v, axis=0)[None, :] - v)
    return mm(coef.T, u, fmt)


@functools.partial(jax.jit, static_argnames=("fmt", "block"))
def population_grad(w: jax.Array, task: mj.GaussianTask, fmt: str, block: int):
    """The blockwise population gradient with every product in ``fmt``."""
    dt = jnp.float64 if fmt == "float64" else jnp.float32
    u, v, p = task.u.astype(dt), task.v.astype(dt), task.p.astype(dt)
    n = task.n
    a = mm(u, w.astype(dt).T, fmt)
    nb = -(-n // block)
    pad = nb * block - n

    def blocks(x):
        return jnp.pad(x, [(0, pad)] + [(0, 0)] * (x.ndim - 1)).reshape(
            (nb, block, *x.shape[1:])
        )

    def body(g, blk):
        a_b, u_b, p_b, t_b = blk
        s = mm(a_b, v.T, fmt)
        e = jnp.exp(s - jnp.max(s, axis=1, keepdims=True))
        ebar = mm(e, v, fmt) / jnp.sum(e, axis=1)[:, None]
        coef = p_b[:, None] * (ebar - v[t_b])
        return g + mm(coef.T, u_b, fmt), None

    init = jnp.zeros((task.d_out, task.d_in), dt)
    xs = (blocks(a), blocks(u), blocks(p), blocks(jnp.arange(n)))
    return jax.lax.scan(body, init, xs)[0]


def muon_step(w: jax.Array, g: jax.Array, eta: float) -> jax.Array:
    """``W + eta polar(-G)``, the polar factor in float64."""
    return w + eta * mj.polar(-g.astype(jnp.float64))


def counts(w: jax.Array, task: mj.GaussianTask) -> tuple[int, int]:
    cap = mj.capacity(w.astype(jnp.float32), task)
    return int(cap.count), int(cap.prefix)


def run(args) -> list[dict]:
    rows = []
    for d in args.dims:
        eta = 2 * d**0.5
        block = mj.default_block_size(args.n, args.n)
        for alpha in args.alphas:
            per = {f: {"step1": [], "step2": []} for f in FORMATS}
            for seed in range(args.seeds):
                task = mj.sample_task(args.n, d, alpha, key=jax.random.key(seed))
                w0 = jnp.zeros((d, d), jnp.float64)
                # Step 2 starts from the same W_1 for every format (the reference's),
                # so it measures one gradient pass, not an accumulation.
                w1_ref = muon_step(w0, grad_at_zero(task, "float64"), eta)
                for fmt in FORMATS:
                    w1 = muon_step(w0, grad_at_zero(task, fmt), eta)
                    per[fmt]["step1"].append(counts(w1, task))
                    g1 = population_grad(w1_ref, task, fmt, block)
                    per[fmt]["step2"].append(counts(muon_step(w1_ref, g1, eta), task))
            ref = per["float64"]
            row = {"n": args.n, "d": d, "alpha": alpha, "seeds": args.seeds}
            for fmt in FORMATS:
                for step in ("step1", "step2"):
                    c = np.asarray(per[fmt][step])
                    r = np.asarray(ref[step])
                    row[f"{fmt}_{step}"] = {
                        "count": c[:, 0].tolist(),
                        "prefix": c[:, 1].tolist(),
                        "count_minus_float64": (c[:, 0] - r[:, 0]).tolist(),
                        "prefix_minus_float64": (c[:, 1] - r[:, 1]).tolist(),
                        "mean_relative_count_change": float(
                            np.mean(np.abs(c[:, 0] - r[:, 0]) / np.maximum(r[:, 0], 1))
                        ),
                    }
            rows.append(row)
            print(
                f"d={d} alpha={alpha}: mean count step1 "
                + ", ".join(
                    f"{f} {np.mean(row[f'{f}_step1']['count']):.1f}" for f in FORMATS
                )
                + "; step2 "
                + ", ".join(
                    f"{f} {np.mean(row[f'{f}_step2']['count']):.1f}" for f in FORMATS
                ),
                flush=True,
            )
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--dims", type=int, nargs="+", default=[64, 128, 256])
    parser.add_argument("--alphas", type=float, nargs="+", default=[1.5, 2.0, 3.0])
    parser.add_argument("--seeds", type=int, default=4)
    parser.add_argument("--out", type=Path, default=HERE / "results")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    with jax.enable_x64(True):
        rows = run(args)
        env = mj.environment()
    result = {
        "benchmark": "gradient_precision",
        "method": "every product of the gradient with operands rounded to the "
        "format (round to nearest even) and float32 accumulation (float64 for the "
        "reference); polar factor in float64, capacity pass exact float32",
        "environment": env,
        "rows": rows,
        "wall_seconds": time.perf_counter() - start,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / "gradient_precision_cpu.json"
    path.write_text(json.dumps(result, indent=2))
    print(f"wrote {path} ({result['wall_seconds']:.0f} s)")


if __name__ == "__main__":
    main()
