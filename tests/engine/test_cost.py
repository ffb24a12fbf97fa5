"""The cost estimate: work counted from jaxprs, shapes, memory, a projected wall time.

Timing claims (the projection within 2x of a measured run on the quick presets) are
a benchmark (``benchmarks/cost_check.py``), not a test: the suite checks what the
estimate counts against what is known exactly.
"""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

import jax
import jax.numpy as jnp
import pytest

import muonjax as mj
from muonjax import cli
from muonjax.engine import registry


def test_count_work_of_products_scans_and_factorizations():
    a = jnp.ones((8, 5))
    b = jnp.ones((5, 3))
    assert mj.count_work(jnp.matmul, a, b).dot_flops == 2 * 8 * 5 * 3

    def scanned(a):
        def body(c, _):
            return c, jnp.exp(a @ a.T)

        return jax.lax.scan(body, 0, None, length=7)[1]

    work = mj.count_work(scanned, a)
    assert work.dot_flops == 7 * 2 * 8 * 5 * 8
    assert work.transcendentals == 7 * 8 * 8
    assert work.unknown_loops == 0

    def looped(x):
        return jax.lax.while_loop(
            lambda c: c[0] < 3, lambda c: (c[0] + 1, c[1] @ c[1]), (0, x)
        )

    sq = jnp.ones((4, 4))
    once = mj.count_work(looped, sq)
    assert once.unknown_loops == 1 and once.dot_flops == 2 * 4**3
    assert mj.count_work(looped, sq, while_trips=3).dot_flops == 3 * 2 * 4**3
    assert mj.count_work(jnp.linalg.svd, jnp.ones((6, 4))).factorization_flops > 0


def test_counted_flops_of_the_passes_match_the_formulas():
    # Capacity: 2 n^2 d (plus the n d^2 queries); loss and gradient: 4 n^2 d plus
    # lower-order terms. Ragged blocks pad the last block, which the count sees.
    n, d = 240, 8
    task = mj.sample_task(n, d, 1.5, key=jax.random.key(0))
    w = jnp.eye(d, dtype=jnp.float32)
    cap = mj.count_work(lambda w, t: mj.margins(w, t, block_size=60), w, task)
    assert cap.dot_flops == 2 * n * n * d + 2 * n * d * d
    grad = mj.count_work(
        lambda w, t: mj.population_loss_and_grad(w, t, block_size=60), w, task
    )
    assert grad.dot_flops == 4 * n * n * d + 2 * n * d * d + 2 * n * d * d
    assert grad.transcendentals >= n * n  # one exp per score


@dataclasses.dataclass(frozen=True)
class _Config:
    seeds: int = 3
    root_seed: int = 0
    chunk_size: int = 2


def _cell(config, key):
    x = jax.random.normal(key, (config["m"], 16))
    return {"y": jnp.sum(jnp.exp(x @ x.T)) * config["scale"]}


def _sweep(config):
    return mj.Sweep(_cell, axes={"m": [8, 32], "scale": [1.0, 2.0]}, batched=("scale",))


@pytest.fixture
def experiment():
    exp = mj.register_experiment(
        "zz_cost",
        summary="test",
        presets={"quick": _Config(), "paper": _Config()},
        sweep=_sweep,
        plot=lambda out: [],
    )
    yield exp
    registry._REGISTRY.pop("zz_cost", None)


def test_estimate_lists_the_compiled_shapes_and_their_calls(experiment):
    cost = mj.estimate(experiment, _Config())
    assert cost.cells == 4 and len(cost.shapes) == 2  # m compiles, scale is batched
    for shape in cost.shapes:
        m = shape.axes["m"]
        assert shape.cells == 2 and shape.pairs == 6
        assert shape.chunk == 2 and shape.calls == 3  # as run_sweep chunks them
        assert shape.work.dot_flops == 2 * 2 * m * 16 * m  # chunk x (m, 16) @ (16, m)
        assert shape.peak_bytes_per_device > 0 and shape.compile_seconds > 0
        assert shape.seconds > 0
    assert cost.flops == sum(s.calls * s.work.flops for s in cost.shapes)
    assert cost.fits is True and cost.seconds > 0
    text = mj.format_cost(cost)
    assert "m=8" in text and "m=32" in text and "projected wall time" in text
    json.dumps(cost.to_dict())


def test_peak_memory_grows_with_the_chunk(experiment):
    small = mj.estimate(experiment, _Config(chunk_size=1), calibrate_device=False)
    large = mj.estimate(experiment, _Config(chunk_size=6), calibrate_device=False)
    assert small.seconds is None and small.calibration is None
    assert large.peak_bytes_per_device > small.peak_bytes_per_device
    # A device too small for the chunk: the estimate says which chunk fits.
    tight = dataclasses.replace(large, device_bytes=large.peak_bytes_per_device // 2)
    assert tight.fits is False
    assert 1 <= tight.fitting_chunk_size < 6
    assert f"--set chunk_size={tight.fitting_chunk_size}" in mj.format_cost(tight)


def test_declared_while_trips_scale_the_count():
    def cell(config, key):
        def body(c):
            return c[0] + 1, c[1] @ c[1]

        x = jax.random.normal(key, (4, 4))
        return {"y": jax.lax.while_loop(lambda c: c[0] < 5, body, (0, x))[1].sum()}

    sweep = mj.Sweep(cell, axes={"a": [1]})
    exp = mj.register_experiment(
        "zz_cost_loop",
        summary="test",
        presets={"quick": _Config(), "paper": _Config()},
        sweep=lambda c: sweep,
        plot=lambda out: [],
    )
    try:
        once = mj.estimate(exp, _Config(), compile=False, calibrate_device=False)
        assert once.lower_bound
        mj.declare_while_trips(cell, lambda config: 5)
        five = mj.estimate(exp, _Config(), compile=False, calibrate_device=False)
        assert five.flops == pytest.approx(5 * once.flops)
    finally:
        registry._REGISTRY.pop("zz_cost_loop", None)


def test_an_experiment_registered_with_run_exposes_its_sweep():
    # fig2 registers run= and defines sweep(config) at module level.
    exp = mj.get_experiment("fig2")
    config = registry.resolve_config(
        exp, "quick", seeds=1, overrides=["n=64", "dims=4", "alphas=1.5"]
    )
    cost = mj.estimate(exp, config, compile=False, calibrate_device=False)
    assert {s.axes["rule"] for s in cost.shapes} == set(config.rules)
    n, d = 64, 4
    for shape in cost.shapes:
        # One step from zero: a capacity pass with the loss, 2 n^2 d, dominates.
        assert shape.work.dot_flops >= 2 * n * n * d


def test_dry_run_prints_and_runs_nothing(tmp_path, capsys):
    out = tmp_path / "never"
    code = cli.main(
        [
            "run",
            "fig2",
            "--set",
            "n=64",
            "--set",
            "dims=4",
            "--set",
            "alphas=1.5",
            "--seeds",
            "1",
            "--out",
            str(out),
            "--dry-run",
        ]
    )
    assert code == 0
    text = capsys.readouterr().out
    assert "compiled shapes" in text and "peak memory per device" in text
    assert "projected wall time" in text
    assert not Path(out).exists()
    assert math.isfinite(float(text.split("projected wall time: ")[1].split(" s")[0]))
