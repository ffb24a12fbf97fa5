"""Tests of ``gaussian.cells.minibatch``: batch grids, the minibatch cell, its sweep.

The cell is checked against a dense numpy peer (the whole ``N x N`` score matrix at a
tiny size) and against :func:`muonjax.one_step` for the population row.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import muonjax as mj

ALPHA = 1.5


def test_batch_grid_is_geometric_and_distinct():
    assert mj.batch_grid(16) == (1, 2, 4, 8, 16)
    assert mj.batch_grid(20, b_min=3, factor=2.0) == (3, 6, 12)
    assert mj.batch_grid(100, factor=10.0) == (1, 10, 100)
    # Rounding can repeat a size at small factors: repeats are dropped.
    grid = mj.batch_grid(8, factor=1.2)
    assert list(grid) == sorted(set(grid)) and grid[0] == 1 and grid[-1] <= 8


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"b_max": 0}, "b_max must be >= 1"),
        ({"b_max": 4, "b_min": 8}, "b_max must be >= b_min"),
        ({"b_max": 4, "factor": 1.0}, "factor"),
    ],
)
def test_batch_grid_rejects_bad_input(kwargs, message):
    with pytest.raises(ValueError, match=message):
        mj.batch_grid(**kwargs)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"rules": ("newton",)}, "rules must be among"),
        ({"batch_sizes": (0,)}, "batch_sizes must hold a size >= 1"),
        ({"batch_sizes": (-1, 4)}, "batch_sizes must be >= 0"),
        ({"dims": ()}, "dims must hold at least one"),
        ({"update_dtype": "int32"}, "update_dtype must be a floating dtype"),
    ],
)
def test_critical_batch_sweep_rejects_bad_input(kwargs, message):
    base = {"n": 64, "dims": (4,), "alphas": (ALPHA,), "batch_sizes": (0, 1, 2)}
    with pytest.raises(ValueError, match=message):
        mj.critical_batch_sweep(**{**base, **kwargs})


def test_critical_batch_sweep_grid_and_key_identity():
    sweep = mj.critical_batch_sweep(
        n=64, dims=(4, 8), alphas=(ALPHA,), batch_sizes=(0, 1, 4)
    )
    assert list(sweep.axes) == ["d", "rule", "alpha", "batch_size"]
    assert sweep.batched == ("alpha", "batch_size")  # one compile per (d, rule)
    assert sweep.fixed["max_batch_size"] == 4
    cells = sweep.cells()
    assert len(cells) == 2 * 2 * 3
    # Every rule and B of one d share the task's key (paired curves).
    for d in (4, 8):
        keys = {c.key_data for c in cells if c.config["d"] == d}
        assert len(keys) == 1


N, D, B_MAX = 48, 6, 16


SIZES = (0, 1, 3, 7, 16)


def dense_peer(config, key):
    """One step and its metrics with numpy: full score matrix, SVD polar factor."""
    key_task, key_batch = jax.random.split(key)
    task = mj.sample_task(N, D, ALPHA, key=key_task, dtype=jnp.float32)
    u, v, p = (np.asarray(x, np.float64) for x in (task.u, task.v, task.p))
    idx = np.asarray(mj.sample_batch(task, B_MAX, key=key_batch))
    b = config["batch_size"]
    if b == 0:
        q, in_batch = p, np.ones(N, bool)
    else:
        q = np.bincount(idx[:b], minlength=N) / b
        in_batch = q > 0
    g = ((v - v.mean(axis=0)) * q[:, None]).T @ u  # -grad at zero (SPEC A.2)
    if config["rule"] == "muon":
        uu, s, vt = np.linalg.svd(g)
        keep = s > max(g.shape) * np.finfo(np.float64).eps * s[0]
        w = (uu[:, : s.size] * keep) @ vt
    else:
        w = g
    w = w.astype(np.float32).astype(np.float64)  # the cell scores in float32
    scores = u @ w.T @ v.T  # s_ij = v_j^T W u_i
    own = np.diag(scores).copy()
    np.fill_diagonal(scores, -np.inf)
    rec = own > scores.max(axis=1)
    prefix = N if rec.all() else int(np.argmin(rec))
    return {
        "count": int(rec.sum()),
        "prefix": prefix,
        "weighted_accuracy": float(p[rec].sum()),
        "distinct": int(in_batch.sum()),
        "out_of_batch": int((rec & ~in_batch).sum()),
        "population_task": task,
    }


@pytest.fixture(scope="module")
def tiny_sweep_results():
    sweep = mj.critical_batch_sweep(
        n=N, dims=(D,), alphas=(ALPHA,), batch_sizes=SIZES, chunk_size=8
    )
    key = jax.random.key(5)
    out = mj.run_sweep(sweep, seeds=2, key=key, chunk_size=8)
    return sweep, key, out


def test_minibatch_cell_matches_the_dense_peer(tiny_sweep_results):
    _, key, out = tiny_sweep_results
    assert len(out.results) == 2 * len(SIZES)
    for res in out.results:
        for i, seed in enumerate(res.seeds):
            ref = dense_peer(res.cell.config, mj.cell_key(key, res.cell, int(seed)))
            got = {k: v[i, 0] for k, v in res.metrics.items()}
            where = f"{res.cell.config} seed={seed}"
            for k in ("count", "prefix", "distinct", "out_of_batch"):
                assert int(got[k]) == ref[k], f"{k}: {where}"
            # float32 sum of <= 48 frequencies
            assert got["weighted_accuracy"] == pytest.approx(
                ref["weighted_accuracy"], rel=1e-5, abs=1e-6
            )
            assert int(got["count"]) <= int(got["distinct"]) + int(got["out_of_batch"])


def test_population_row_equals_one_step(tiny_sweep_results):
    _, key, out = tiny_sweep_results
    for res in out.results:
        if res.cell.config["batch_size"] != 0:
            continue
        for i, seed in enumerate(res.seeds):
            k_task, _ = jax.random.split(mj.cell_key(key, res.cell, int(seed)))
            task = mj.sample_task(N, D, ALPHA, key=k_task)
            tx = mj.one_step_optimizer(res.cell.config["rule"], task)
            ref = mj.one_step(task, tx, update_dtype=jnp.float64).metrics
            assert res.metrics["count"][i, 0] == int(ref.count)
            assert res.metrics["prefix"][i, 0] == int(ref.prefix)
            assert res.metrics["distinct"][i, 0] == N
            assert res.metrics["out_of_batch"][i, 0] == 0


def test_batches_are_nested_across_batch_sizes(tiny_sweep_results):
    _, _, out = tiny_sweep_results
    for rule in ("gd", "muon"):
        distinct = np.stack(
            [
                r.metrics["distinct"][:, 0]
                for r in out.results
                if r.cell.config["rule"] == rule and r.cell.config["batch_size"] > 0
            ]
        )  # (B, seeds), B increasing
        assert np.all(np.diff(distinct, axis=0) >= 0)
        assert np.all(distinct[0] == 1)  # B = 1 holds one item
