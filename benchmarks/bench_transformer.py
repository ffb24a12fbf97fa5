"""Benchmark: training throughput of the in-context recall transformer (SPEC C.1).

One training run is :func:`muonjax.transformer.recall_cell` (sample a language, a
model and an evaluation set, ``steps`` optimizer steps on fresh batches, two
evaluations), the unit of every Figure 7-9 sweep. Two ways to run ``seeds`` of them:

- vmapped: one ``jax.jit(jax.vmap(cell))`` over the seeds' keys (what the sweep
  engine does);
- loop: a Python loop calling one jitted single-seed function per key.

Both are compiled first (a full warm-up run each), then timed ``--repeats`` times,
interleaved, with ``block_until_ready``; the minimum wall time and CPU time are
reported (on a shared machine compare the CPU times: the wall time then includes
waiting for a core). Throughput is training tokens per second (``seeds * steps * B
* T`` over the wall time); model FLOP utilisation is ``3 * forward FLOPs per
token`` (:func:`muonjax.transformer.forward_flops_per_token`) times the tokens per
second, over the machine's float32 matmul rate at ``Precision.HIGHEST`` measured in
the same run (the best of one measurement before and one after each repeat).
Results go to ``benchmarks/results/bench_transformer_<backend>.json``.

``--model llama`` times the LLaMA-style decoder of the long-tailed facts experiment
instead (SPEC C.2; one run is :func:`muonjax.transformer.train_one`, training FLOPs
per token :func:`muonjax.transformer.flops_per_token`, results in
``bench_transformer_llama_<backend>.json``).

Run: ``python benchmarks/bench_transformer.py`` (CPU sizes, about a minute);
``--preset gpu`` for the sizes of a paper preset on one accelerator.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import platform
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

import muonjax as mj
from muonjax import transformer as tf

RESULTS = Path(__file__).resolve().parent / "results"

PRESETS = {
    "cpu": {"vocab_size": 128, "seq_len": 64, "dim": 64, "batch_size": 32, "steps": 32},
    "gpu": {
        "vocab_size": 1024,
        "seq_len": 256,
        "dim": 256,
        "batch_size": 256,
        "steps": 64,
    },
}


def matmul_gflops(size: int, repeats: int = 5) -> float:
    """Best float32 ``size x size`` matmul rate at ``Precision.HIGHEST``, in GFLOP/s."""
    a = jax.random.normal(jax.random.key(0), (size, size), jnp.float32)
    f = jax.jit(lambda x: jnp.matmul(x, x, precision=jax.lax.Precision.HIGHEST))
    f(a).block_until_ready()
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        f(a).block_until_ready()
        best = min(best, time.perf_counter() - start)
    return 2 * size**3 / best / 1e9


#: Sizes of the LLaMA-style decoder (``--model llama``): ``cpu`` is the quick
#: preset of ``longtail_facts`` (S = 512, d = 64, 2 layers, B = 16, T = 40), ``gpu``
#: its paper preset (S = 4096, d = 256, 4 layers, B = 128, T = 80), both for
#: ``steps`` steps with one evaluation before and one after.
LLAMA_PRESETS = {"cpu": ("quick", 32), "gpu": ("paper", 64)}


def _llama(args: argparse.Namespace):
    """``(sizes, single, batched, tokens, train FLOPs per token)`` of the decoder."""
    preset, steps = LLAMA_PRESETS[args.preset]
    config = tf.LONGTAIL_PRESETS[preset]
    setup = dataclasses.replace(
        config.setup(config.betas[0]), steps=steps, eval_every=steps, warmup=8
    )
    muon = args.optimizer.startswith("muon")
    lr = config.muon_lrs[1] if muon else config.adamw_lrs[1]

    def run(k):
        _, history = tf.train_one(
            setup, args.optimizer, lr, k, adamw_lr=config.adamw_lrs[1]
        )
        return history.metrics

    seq = setup.facts.seq_len - 1  # tokens the model reads per sequence
    sizes = {
        "model": "llama",
        "preset": preset,
        "subjects": setup.facts.subjects,
        "vocab_size": setup.model.vocab_size,
        "dim": setup.model.dim,
        "layers": setup.model.layers,
        "heads": setup.model.heads,
        "ffn": setup.model.ffn,
        "seq_len": seq,
        "batch_size": setup.batch_size,
        "steps": steps,
        "lr": lr,
    }
    tokens = args.seeds * steps * setup.batch_size * seq
    flops = tf.flops_per_token(setup.model, seq)
    return sizes, jax.jit(run), jax.jit(jax.vmap(run)), tokens, flops


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", choices=sorted(PRESETS), default="cpu")
    parser.add_argument("--optimizer", choices=tf.OPTIMIZERS, default="muon")
    parser.add_argument("--seeds", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--matmul-size", type=int, default=None)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument(
        "--model",
        choices=("recall", "llama"),
        default="recall",
        help="recall: the in-context recall cell (SPEC C.1); llama: one run of the "
        "long-tailed facts decoder (SPEC C.2, muonjax.transformer.train_one)",
    )
    args = parser.parse_args(argv)

    keys = jax.random.split(jax.random.key(0), args.seeds)
    if args.model == "llama":
        sizes, single, batched, tokens, step_flops = _llama(args)
    else:
        sizes = dict(PRESETS[args.preset])
        config = {**sizes, "optimizer": args.optimizer, "eval_every": sizes["steps"]}
        tf.validate_recall_config({**tf.RECALL_DEFAULTS, **config})
        single = jax.jit(lambda k: tf.recall_cell(config, k))
        batched = jax.jit(jax.vmap(lambda k: tf.recall_cell(config, k)))
        tokens = args.seeds * sizes["steps"] * sizes["batch_size"] * sizes["seq_len"]
        mcfg = tf.model_config({**tf.RECALL_DEFAULTS, **config})
        step_flops = 3 * tf.forward_flops_per_token(mcfg)

    def run_vmapped():
        return np.asarray(jax.device_get(batched(keys)["train_loss"]))

    def run_loop():
        return np.stack(
            [np.asarray(jax.device_get(single(k)["train_loss"])) for k in keys]
        )

    def timed(fn):
        wall, cpu = time.perf_counter(), time.process_time()
        out = fn()
        return time.perf_counter() - wall, time.process_time() - cpu, out

    size = args.matmul_size or (1024 if jax.default_backend() == "cpu" else 8192)
    rates = [matmul_gflops(size)]
    runs = {"vmapped": run_vmapped, "loop": run_loop}
    first = {name: timed(fn)[0] for name, fn in runs.items()}  # compile + run
    wall: dict[str, list[float]] = {name: [] for name in runs}
    cpu: dict[str, list[float]] = {name: [] for name in runs}
    losses = {}
    for _ in range(args.repeats):  # interleaved: other load falls on both alike
        for name, fn in runs.items():
            w, c, losses[name] = timed(fn)
            wall[name].append(w)
            cpu[name].append(c)
        rates.append(matmul_gflops(size))
    # The machine's rate: the best of the measurements spread over the run (on a
    # shared machine a single one can be depressed by other processes).
    gflops = max(rates)
    best = {name: min(v) for name, v in wall.items()}
    device = jax.local_devices()[0]
    result = {
        "benchmark": (
            "in-context recall transformer training, vmapped seeds vs loop"
            if args.model == "recall"
            else "LLaMA-style decoder on long-tailed facts, vmapped seeds vs loop"
        ),
        "sizes": {**sizes, "seeds": args.seeds, "optimizer": args.optimizer},
        "device": {
            "backend": jax.default_backend(),
            "kind": device.device_kind,
            "count": jax.local_device_count(),
            "platform": platform.platform(),
        },
        "dtype": "float32",
        "precision": "highest",
        "jax": jax.__version__,
        "muonjax": mj.__version__,
        "matmul_gflops": round(gflops, 1),
        "matmul_gflops_all": [round(r, 1) for r in rates],
        "matmul_size": size,
        "train_flops_per_token": step_flops,
        "seconds": {
            **{name: round(t, 3) for name, t in best.items()},
            **{f"{n}_all_repeats": [round(t, 3) for t in v] for n, v in wall.items()},
            **{f"{n}_first_call_with_compile": round(t, 3) for n, t in first.items()},
        },
        "cpu_seconds": {name: round(min(v), 3) for name, v in cpu.items()},
        "tokens_per_second": {n: round(tokens / t, 1) for n, t in best.items()},
        "mfu": {
            n: round(tokens * step_flops / t / (gflops * 1e9), 4)
            for n, t in best.items()
        },
        "loop_over_vmapped": round(best["loop"] / best["vmapped"], 3),
        "same_losses": bool(np.allclose(losses["vmapped"], losses["loop"], rtol=1e-4)),
        "repeats": args.repeats,
        "when": datetime.datetime.now(datetime.timezone.utc).isoformat(
            timespec="seconds"
        ),
    }
    name = "bench_transformer" if args.model == "recall" else "bench_transformer_llama"
    out = args.out or RESULTS / f"{name}_{jax.default_backend()}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(result, indent=1))
    print(f"written to {out}")
    return result


if __name__ == "__main__":
    main()
