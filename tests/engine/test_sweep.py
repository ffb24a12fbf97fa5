"""Tests of the sweep engine: one compile per shape, vmap == loop, keys, chunks."""

from __future__ import annotations

import dataclasses
import hashlib
import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import muonjax as mj

N = 256  # items: tiny, every test here must stay fast on 2 cores


def cheap_cell(config, key):
    """A cell that compiles and runs fast: ``d`` is a shape, ``scale`` is batched."""
    x = jax.random.uniform(key, (3, config["d"]))
    return {"step": jnp.arange(3), "x": x.sum(axis=1) * config["scale"], "k": x[:, 0]}


def cheap_sweep(**axes):
    axes = axes or {"d": (2, 3), "scale": (0.5, 1.0, 2.0)}
    return mj.Sweep(cheap_cell, axes=axes, fixed={"tag": "t"}, batched=("scale",))


#: One sweep object shared by the tests below, so that they share its compiled
#: chunk functions (chunk size 4 unless a test needs another).
SWEEP = cheap_sweep()


def by_config(result):
    return {json.dumps(r.cell.config, sort_keys=True): r for r in result.results}


def assert_same_results(a, b):
    assert set(a) == set(b)
    for name, ra in a.items():
        rb = b[name]
        np.testing.assert_array_equal(ra.seeds, rb.seeds)
        np.testing.assert_array_equal(ra.steps, rb.steps)
        assert list(ra.metrics) == list(rb.metrics)
        for k in ra.metrics:
            np.testing.assert_array_equal(ra.metrics[k], rb.metrics[k], err_msg=name)


# --------------------------------------------------------------------------------------
# The real cell function: 16 seeds, one compile per shape, vmap == Python loop.


@pytest.fixture(scope="module")
def muon_sweep_16():
    """A 16-seed sweep of one population Muon step over two shapes (d = 8, 16)."""
    traces = []

    def counting_cell(config, key):
        traces.append(config["d"])  # runs once per trace, not per call
        return mj.one_step_cell(config, key)

    sweep = mj.one_step_sweep(
        n=N, dims=(8, 16), alphas=(1.5, 2.0), rules=("muon",), chunk_size=8
    )
    sweep = dataclasses.replace(sweep, cell_fn=counting_cell)
    key = jax.random.key(3)
    # 2 alphas x 16 seeds = 32 pairs per shape, 4 chunks of 8: still one trace each.
    result = mj.run_sweep(sweep, seeds=16, key=key, chunk_size=8)
    return sweep, key, result, traces


def test_sixteen_seeds_compile_once_per_shape(muon_sweep_16):
    sweep, _, result, traces = muon_sweep_16
    assert sorted(traces) == [8, 16]
    assert result.computed == 4 and result.loaded == 0
    assert all(r.seeds.tolist() == list(range(16)) for r in result.results)
    # A second sweep over the same grid (another key) reuses the compiled programs.
    mj.run_sweep(sweep, seeds=16, key=jax.random.key(4), chunk_size=8)
    assert sorted(traces) == [8, 16]


def test_vmapped_equals_python_loop_over_seeds(muon_sweep_16):
    """Peer: a plain loop over seeds calling the core directly, no engine."""
    sweep, key, result, _ = muon_sweep_16
    block = sweep.options["block_size"]  # the same blocks: same summation order
    txs = {d: mj.muon_exact(2.0 * d**0.5) for d in (8, 16)}  # one compile per d
    for res in result.results:
        cfg = res.cell.config
        assert cfg["muon_lr_scale"] == 2.0
        for i, seed in enumerate(res.seeds):
            task = mj.sample_task(
                N,
                cfg["d"],
                cfg["alpha"],
                key=jax.random.split(mj.cell_key(key, res.cell, int(seed)))[0],
            )
            ref = mj.one_step(task, txs[cfg["d"]], block_size=block).metrics
            assert res.steps.tolist() == [1]
            for name in ("count", "prefix"):
                assert res.metrics[name][i, 0] == int(getattr(ref, name)), (cfg, seed)
            # Floats: the batched and unbatched programs are compiled separately;
            # allow a few float32 ulps for a different reduction order.
            for name in ("loss", "weighted_accuracy"):
                np.testing.assert_allclose(
                    res.metrics[name][i, 0], float(getattr(ref, name)), rtol=1e-6
                )


def test_run_cell_matches_engine(muon_sweep_16):
    sweep, key, result, _ = muon_sweep_16
    res = result.results[-1]
    for seed in (0, 15):
        single = mj.run_cell(sweep, res.cell, seed, key=key)
        assert single["step"].tolist() == res.steps.tolist()
        for name in ("count", "prefix"):
            np.testing.assert_array_equal(single[name], res.metrics[name][seed])
        for name in ("loss", "weighted_accuracy"):
            # Same tolerance and reason as in the loop test above.
            np.testing.assert_allclose(single[name], res.metrics[name][seed], rtol=1e-6)


# --------------------------------------------------------------------------------------
# Keys: a cell's numbers depend on its configuration and seed only (SPEC E).


def test_results_do_not_depend_on_grid_order_chunks_or_neighbours():
    key = jax.random.key(0)
    full = by_config(mj.run_sweep(SWEEP, seeds=5, key=key, chunk_size=4))
    # The same cells in another order, with other chunk sizes.
    reordered = cheap_sweep(d=(3, 2), scale=(2.0, 1.0, 0.5))
    out = mj.run_sweep(reordered, seeds=5, key=key, chunk_size=3)
    assert_same_results(by_config(out), full)
    # A sub-grid gives the same numbers for the cells it shares.
    sub = cheap_sweep(d=(3,), scale=(1.0,))
    sub = by_config(mj.run_sweep(sub, seeds=5, key=key, chunk_size=4))
    assert_same_results(sub, {k: full[k] for k in sub})
    # Another root key gives other numbers.
    other = mj.run_sweep(SWEEP, seeds=5, key=jax.random.key(1), chunk_size=4)
    other = by_config(other)
    some = next(iter(full))
    assert not np.array_equal(other[some].metrics["x"], full[some].metrics["x"])


def test_seeds_of_a_cell_differ_and_match_cell_key():
    key = jax.random.key(7)
    res = mj.run_sweep(SWEEP, seeds=4, key=key, chunk_size=4).results[0]
    x = res.metrics["x"]
    assert len({tuple(row) for row in x.tolist()}) == 4
    for seed in range(4):
        d, scale = res.cell.config["d"], res.cell.config["scale"]
        u = jax.random.uniform(mj.cell_key(key, res.cell, seed), (3, d))
        np.testing.assert_array_equal(res.metrics["k"][seed], np.asarray(u[:, 0]))
        ref = u.sum(axis=1) * scale
        # The same draws; the sum may round differently outside vmap: 1 ulp.
        np.testing.assert_allclose(x[seed], np.asarray(ref), rtol=1e-6)


def test_config_hash_is_sha256_of_sorted_json():
    cfg = {"b": 1.5, "a": "gd", "c": 2}
    expected = hashlib.sha256(
        json.dumps(cfg, sort_keys=True, separators=(",", ":")).encode()
    ).hexdigest()
    assert mj.config_hash(cfg) == expected
    assert mj.config_hash(dict(reversed(cfg.items()))) == expected
    assert mj.config_hash({**cfg, "c": 2.0}) != expected  # 2 and 2.0 differ


def test_one_step_sweep_shares_tasks_across_rules():
    sweep = mj.one_step_sweep(n=N, dims=(8,), alphas=(1.5, 2.0))
    cells = sweep.cells()
    by_alpha: dict[float, set[int]] = {}
    for c in cells:
        by_alpha.setdefault(c.config["alpha"], set()).add(c.key_data)
    # Common random numbers: GD, Muon and Newton share each (d, alpha) task ...
    assert all(len(v) == 1 for v in by_alpha.values())
    # ... while cells differ in identity, and another alpha is another task.
    assert len({c.cell_id for c in cells}) == len(cells)
    assert len(set.union(*by_alpha.values())) == 2


# --------------------------------------------------------------------------------------
# Chunks, processes, progress.


def test_padded_last_chunk_and_process_split():
    key = jax.random.key(2)
    ref = by_config(mj.run_sweep(SWEEP, seeds=5, key=key, chunk_size=1))
    # 2 shapes x 3 scales x 5 seeds = 15 pairs per shape, chunks of 4: last padded.
    padded = by_config(mj.run_sweep(SWEEP, seeds=5, key=key, chunk_size=4))
    assert_same_results(padded, ref)
    parts = [
        mj.run_sweep(
            SWEEP, seeds=5, key=key, chunk_size=4, process_index=i, process_count=2
        )
        for i in range(2)
    ]
    assert [len(p.results) for p in parts] == [3, 3]
    assert_same_results({**by_config(parts[0]), **by_config(parts[1])}, ref)


def test_progress_bar_on_stderr(capsys):
    mj.run_sweep(SWEEP, seeds=2, key=jax.random.key(0), chunk_size=4, progress=True)
    err = capsys.readouterr().err
    assert "6/6" in err and "cell" in err


def test_sweep_block_size_divides_the_budget():
    n = 20_000
    assert mj.sweep_block_size(n, 4, elements=4 * 8 * n) == 8
    b16 = mj.sweep_block_size(n, 16)
    assert b16 % 8 == 0 and 16 * b16 * n <= 2**26 < 16 * (b16 + 8) * n
    # About four unbatched blocks' worth of scores per chunk.
    assert 16 * b16 == pytest.approx(
        4 * mj.default_block_size(n, elements=2**24), rel=0.05
    )
    assert mj.sweep_block_size(10**9, 16) == 8  # never below 8


# --------------------------------------------------------------------------------------
# Bad input.


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"axes": {"d": ()}}, "axis 'd' must hold at least one value"),
        ({"axes": {"d": "abc"}}, "axis 'd' must be a sequence"),
        ({"axes": {"d": (1, 1)}}, "repeats a value"),
        ({"axes": {"d": (1,)}, "fixed": {"d": 2}}, "both in axes and fixed"),
        ({"axes": {"seed": (1,)}}, "reserved"),
        ({"axes": {"d": (1,)}, "batched": ("x",)}, "batched axis 'x' is not an axis"),
        ({"axes": {"r": ("gd",)}, "batched": ("r",)}, "must hold numbers"),
        ({"axes": {"d": (1,)}, "key_axes": ("x",)}, "key_axes"),
        ({"axes": {"d": ([1],)}}, "config values must be"),
        ({"axes": {"d": (float("nan"),)}}, "must be finite"),
    ],
)
def test_sweep_rejects_bad_grids(kwargs, match):
    with pytest.raises(ValueError, match=match):
        mj.Sweep(cheap_cell, **kwargs)


def test_run_sweep_rejects_bad_arguments():
    key = jax.random.key(0)
    with pytest.raises(ValueError, match="seeds"):
        mj.run_sweep(SWEEP, seeds=0, key=key)
    with pytest.raises(ValueError, match="chunk_size"):
        mj.run_sweep(SWEEP, seeds=1, key=key, chunk_size=0)
    with pytest.raises(ValueError, match="process_index"):
        mj.run_sweep(SWEEP, seeds=1, key=key, process_index=2, process_count=2)
    with pytest.raises(ValueError, match="rule"):
        mj.one_step_sweep(n=N, dims=(8,), alphas=(1.5,), rules=("adam",))
    bad = mj.Sweep(
        lambda c, k: {"a": jnp.zeros(2), "b": jnp.zeros(3)}, axes={"d": (1,)}
    )
    with pytest.raises(ValueError, match="shape"):
        mj.run_sweep(bad, seeds=1, key=key)


def test_minibatch_and_newton_schulz_axes_match_the_core():
    """Peer: the core's one_step with the cell's task key and batch key."""
    sweep = mj.one_step_sweep(
        n=300,
        dims=(8,),
        alphas=(1.5,),
        rules=("muon_ns",),
        batch_sizes=(5, 50),
        ns_steps=(1, 5),
        ns_coeffs="cubic",
        chunk_size=4,
    )
    key = jax.random.key(3)
    result = mj.run_sweep(sweep, seeds=2, key=key, progress=False)
    tasks = set()
    for res in result.results:
        cfg = res.cell.config
        for i, seed in enumerate(res.seeds):
            k_task, k_batch = jax.random.split(mj.cell_key(key, res.cell, int(seed)))
            task = mj.sample_task(300, 8, 1.5, key=k_task)
            tasks.add(float(task.u[0, 0]))
            tx = mj.muon_newton_schulz(
                2.0 * 8**0.5, steps=cfg["ns_steps"], coeffs="cubic"
            )
            ref = mj.one_step(
                task,
                tx,
                batch_size=cfg["batch_size"],
                key=k_batch,
                block_size=sweep.options["block_size"],
            ).metrics
            assert res.metrics["count"][i, 0] == int(ref.count), (cfg, seed)
    assert len(tasks) == 2  # one task per seed, shared by every B and step count
