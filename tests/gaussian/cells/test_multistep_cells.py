"""Tests of ``gaussian.cells.multistep``: the multi-step cell and its sweep.

Peers: :func:`muonjax.train` / :func:`muonjax.train_early_stopping` called directly;
:func:`muonjax.plateau_step` for the stopping step; :func:`muonjax.run_cell` for the
vmapped engine.
"""

from __future__ import annotations

import jax
import numpy as np
import pytest

import muonjax as mj


def _config(**kw):
    base = {
        "n": 300,
        "d": 8,
        "alpha": 1.5,
        "rule": "muon",
        "steps": 3,
        "deflate": False,
        "muon_lr_scale": 2.0,
        "update_dtype": "float64",
    }
    return {**base, **kw}


@pytest.mark.parametrize(
    ("rule", "deflate", "batch_size"),
    [("muon", False, 0), ("muon", True, 0), ("gd", False, 64)],
)
def test_cell_equals_train_directly(rule, deflate, batch_size):
    config = _config(rule=rule, deflate=deflate, batch_size=batch_size)
    key = jax.random.key(5)
    out = mj.multi_step_cell(config, key)
    key_task, key_batch = jax.random.split(key)
    task = mj.sample_task(300, 8, 1.5, key=key_task)
    tx, sched = mj.multi_step_optimizer(rule, 8)
    _, traj = mj.train(
        task,
        tx,
        steps=3,
        batch_size=batch_size or None,
        key=key_batch,
        deflate=deflate,
        update_dtype="float64",
    )
    np.testing.assert_array_equal(out["step"], np.arange(4))
    for name in ("count", "prefix"):
        np.testing.assert_array_equal(out[name], getattr(traj, name))
    np.testing.assert_allclose(out["loss"], traj.loss, rtol=1e-6)
    np.testing.assert_array_equal(out["stop_step"], np.full(4, 3))
    assert np.isnan(out["lr"][0])
    np.testing.assert_allclose(out["lr"][1:], sched(np.arange(3)), rtol=1e-6)
    assert tuple(k for k in out if k != "step") == mj.MULTI_STEP_METRICS


def test_cell_with_early_stopping_stops_where_plateau_step_says():
    # Population steps are deterministic, so the early-stopped run follows the full
    # trajectory until it stops, at the step plateau_step finds on that trajectory.
    key = jax.random.key(2)
    full = mj.multi_step_cell(_config(steps=30, n=200), key)
    stopped = mj.multi_step_cell(
        _config(steps=30, n=200, early_stopping=True, window=4, min_gain=0.005), key
    )
    stop = mj.plateau_step(full["count"], window=4, min_gain=0.005)
    assert stop < 30  # the rule fires at this size (Muon oscillates)
    np.testing.assert_array_equal(stopped["stop_step"], np.full(31, stop))
    np.testing.assert_array_equal(
        stopped["count"][: stop + 1], full["count"][: stop + 1]
    )
    assert np.all(stopped["count"][stop + 1 :] == -1)  # not run


def test_multi_step_sweep_grid_and_key_identity():
    sweep = mj.multi_step_sweep(
        n=200,
        dims=(8, 16),
        alphas=(1.5, 2.0),
        steps=2,
        rules=("muon", "gd", "muon_ns3"),
        deflate=(False, True),
        batch_sizes=(0, 32),
    )
    assert sweep.batched == ("alpha",)
    assert list(sweep.axes) == ["d", "rule", "deflate", "alpha", "batch_size"]
    assert len(sweep.cells()) == 2 * 3 * 2 * 2 * 2
    fixed = dict(sweep.fixed)
    assert fixed["steps"] == 2 and fixed["early_stopping"] is False
    assert fixed["gd_schedule"] == "geometric" and fixed["ns_coeffs"] == "jordan"
    assert fixed["update_dtype"] == "float64"
    # Rules, updates and batch sizes share the task of a seed (paired comparisons).
    keys = {}
    for cell in sweep.cells():
        c = cell.config
        keys.setdefault((c["d"], c["alpha"]), set()).add(cell.key_data)
    assert all(len(v) == 1 for v in keys.values())
    assert len({next(iter(v)) for v in keys.values()}) == 4


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"rules": ("adam",)}, "rule must be"),
        ({"deflate": (0,)}, "deflate must be a bool or one of"),
        ({"steps": 0}, "steps must be >= 1"),
        ({"dims": ()}, "must be non-empty"),
        ({"rules": ("gd",), "gd_factor": 0.5}, "factor must be >= 1"),
        ({"update_dtype": "int8"}, "update_dtype"),
    ],
)
def test_multi_step_sweep_rejects_bad_input(kwargs, message):
    args = {"n": 100, "dims": (8,), "alphas": (1.5,), "steps": 2, **kwargs}
    with pytest.raises(ValueError, match=message):
        mj.multi_step_sweep(**args)


def test_run_sweep_matches_run_cell():
    sweep = mj.multi_step_sweep(n=150, dims=(8,), alphas=(1.5, 2.0), steps=2)
    key = jax.random.key(0)
    out = mj.run_sweep(sweep, seeds=2, key=key)
    for res in out.results:
        ref = mj.run_cell(sweep, res.cell, 1, key=key)
        np.testing.assert_array_equal(res.steps, ref["step"])
        np.testing.assert_array_equal(res.metrics["count"][1], ref["count"])
        np.testing.assert_array_equal(res.metrics["stop_step"][1], ref["stop_step"])
