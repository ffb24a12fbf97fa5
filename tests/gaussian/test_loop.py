"""Loops: one step in closed form and T steps in a scan, against manual Python loops."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from conftest import assert_close

import muonjax as mj


@pytest.fixture
def task():
    return mj.sample_task(120, 8, 1.4, key=jax.random.key(2), dtype=jnp.float64)


def _deflated_grad(w, task, reading, threshold):
    """Readings (b) and (c) by hand: the margins at W first, then the gradient with
    the dropped items' weights set to zero (SPEC A.3 [derived])."""
    m = np.asarray(mj.margins(w, task))
    if reading == "rank":
        prefix = int(mj.capacity_from_mask(jnp.asarray(m > 0), task.p).prefix)
        keep = np.arange(task.n) >= prefix
    else:
        keep = ~(m > threshold)
    weights = jnp.where(jnp.asarray(keep), task.p, 0.0)
    return mj.population_pass(w, task, grad_weights=weights).grad


def _manual(
    task,
    tx,
    steps,
    *,
    deflate=False,
    batch_keys=None,
    batch_size=None,
    threshold=None,
):
    """Python-loop reference: the public loss/grad functions and optax, step by step."""
    w = jnp.zeros((task.d_out, task.d_in), task.u.dtype)
    state = tx.init(w)
    history = []
    for t in range(steps + 1):
        m = mj.evaluate(w, task)
        history.append(
            [float(m.loss), int(m.count), int(m.prefix), float(m.weighted_accuracy)]
        )
        if t == steps:
            break
        if deflate in ("rank", "threshold"):
            thr = threshold(t) if callable(threshold) else threshold
            g = _deflated_grad(w, task, deflate, thr)
        elif batch_size is None:
            g = mj.population_grad(w, task, deflate=deflate in (True, "margin"))
        else:
            idx = mj.sample_batch(task, batch_size, key=batch_keys[t])
            g = mj.minibatch_loss_and_grad(w, task, idx, deflate=deflate)[1]
        updates, state = tx.update(g, state, w)
        w = optax.apply_updates(w, updates)
    return w, np.array(history)


def _as_array(traj):
    return np.stack([np.asarray(x, np.float64) for x in traj], axis=1)


@pytest.mark.parametrize(
    "make_tx",
    [
        lambda d: mj.gd(optax.exponential_decay(0.5, 1, 2.0)),  # increasing schedule
        lambda d: mj.muon_exact(2 * d**0.5),
        lambda d: mj.muon_newton_schulz(d**0.5),
    ],
)
def test_train_matches_a_python_loop(task, make_tx):
    tx = make_tx(task.d_in)
    w, traj = mj.train(task, tx, steps=4)
    w_ref, hist = _manual(task, tx, 4)
    assert_close(w, w_ref, tol={"rtol": 1e-8, "atol": 1e-10})
    assert_close(_as_array(traj), hist, tol={"rtol": 1e-8, "atol": 1e-10})


def test_deflated_train_matches_a_python_loop(task):
    tx = mj.muon_exact(2 * task.d_in**0.5)
    w, traj = mj.train(task, tx, steps=3, deflate=True)
    w_ref, hist = _manual(task, tx, 3, deflate=True)
    assert_close(w, w_ref, tol={"rtol": 1e-8, "atol": 1e-10})
    assert_close(_as_array(traj), hist, tol={"rtol": 1e-8, "atol": 1e-10})


@pytest.mark.parametrize(
    ("reading", "threshold"),
    [
        ("margin", None),
        ("rank", None),
        ("threshold", 0.5),
        ("threshold", lambda t: 0.3 * (jnp.asarray(t, jnp.float64) + 1)),
    ],
)
def test_every_thresholded_reading_matches_a_python_loop(task, reading, threshold):
    tx = mj.muon_exact(2 * task.d_in**0.5)
    kw = {"deflate_threshold": threshold} if threshold is not None else {}
    w, traj = mj.train(task, tx, steps=3, deflate=reading, **kw)
    w_ref, hist = _manual(task, tx, 3, deflate=reading, threshold=threshold)
    assert_close(w, w_ref, tol={"rtol": 1e-8, "atol": 1e-10})
    assert_close(_as_array(traj), hist, tol={"rtol": 1e-8, "atol": 1e-10})
    # The early-stopping loop applies the same update (its rule never fires here).
    res = mj.train_early_stopping(
        task, tx, max_steps=3, window=5, deflate=reading, **kw
    )
    assert_close(res.w, w_ref, tol={"rtol": 1e-8, "atol": 1e-10})


def test_the_readings_differ_and_reading_a_is_deflate_true(task):
    tx = mj.muon_exact(2 * task.d_in**0.5)
    w_true, _ = mj.train(task, tx, steps=3, deflate=True)
    w_a, _ = mj.train(task, tx, steps=3, deflate="margin")
    np.testing.assert_array_equal(w_true, w_a)
    w_b, _ = mj.train(task, tx, steps=3, deflate="rank")
    w_none, _ = mj.train(task, tx, steps=3, deflate="none")
    assert float(jnp.max(jnp.abs(w_b - w_a))) > 1e-3
    # A threshold above every margin drops nothing: the exact gradient.
    w_c, _ = mj.train(task, tx, steps=3, deflate="threshold", deflate_threshold=1e9)
    np.testing.assert_array_equal(w_c, w_none)


def test_thresholded_readings_are_validated(task):
    tx = mj.gd(1.0)
    with pytest.raises(ValueError, match="deflate must be"):
        mj.train(task, tx, steps=1, deflate="sometimes")
    with pytest.raises(ValueError, match="deflate_threshold"):
        mj.train(task, tx, steps=1, deflate="threshold")
    with pytest.raises(ValueError, match="deflate_threshold"):
        mj.train(task, tx, steps=1, deflate="threshold", deflate_threshold=-1.0)
    assert mj.DEFLATIONS == ("none", "margin", "rank", "threshold")
    assert [mj.deflation(v) for v in (False, True, "rank")] == [
        "none",
        "margin",
        "rank",
    ]


def test_minibatch_train_matches_a_python_loop(task):
    tx = mj.muon_exact(1.0)
    key = jax.random.key(9)
    w, traj = mj.train(task, tx, steps=3, batch_size=16, key=key)
    # train splits its key into one key per step
    w_ref, hist = _manual(
        task, tx, 3, batch_keys=jax.random.split(key, 3), batch_size=16
    )
    assert_close(w, w_ref, tol={"rtol": 1e-8, "atol": 1e-10})
    assert_close(_as_array(traj), hist, tol={"rtol": 1e-8, "atol": 1e-10})


def test_one_step_matches_train_and_closed_form(task):
    for tx in (
        mj.gd(3.0),
        mj.muon_exact(3.0),
        mj.newton_at_zero(3.0, task, ridge=1e-8),
    ):
        res = mj.one_step(task, tx)
        w1, traj = mj.train(task, tx, steps=1)
        assert_close(res.w, w1, tol={"rtol": 1e-8, "atol": 1e-10})
        assert int(res.metrics.count) == int(traj.count[1])
        assert int(res.metrics.prefix) == int(traj.prefix[1])
        assert_close(res.metrics.loss, traj.loss[1], tol={"rtol": 1e-8, "atol": 1e-10})
    res = mj.one_step(task, mj.muon_exact(3.0), with_loss=False)
    assert np.isnan(float(res.metrics.loss))


def test_update_dtype_keeps_the_power_law_tail_of_the_gradient():
    # alpha = 3, d = 64: the gradient's singular values span ~1e-8 of the largest, below
    # float32's resolution. A float64 update on a float32 task must give exactly the
    # memory of the float64 direction (cast for the float32 capacity pass).
    t32 = mj.sample_task(2000, 64, 3.0, key=jax.random.key(4))
    t64 = jax.tree.map(lambda x: x.astype(jnp.float64), t32)
    s = np.linalg.svd(np.asarray(mj.grad_at_zero(t64)), compute_uv=False)
    assert s[-1] / s[0] < 1e-7
    res = mj.one_step(t32, mj.muon_exact(2.0), update_dtype=jnp.float64)
    w_ref = -2.0 * mj.polar(mj.grad_at_zero(t64))
    assert res.w.dtype == jnp.float64
    # jit and eager SVDs round differently; the polar factor of a matrix with
    # condition number ~1e8 moves by up to cond * eps ~ 1e-8 under such rounding.
    assert_close(res.w, w_ref, tol={"rtol": 0, "atol": 1e-8})
    cap = mj.capacity(w_ref.astype(jnp.float32), t32)
    assert int(res.metrics.count) == int(cap.count)
    assert int(mj.one_step(t32, mj.muon_exact(2.0)).metrics.count) < int(cap.count)


def test_train_update_dtype_accumulates_the_gradient_in_float64(task):
    t32 = jax.tree.map(lambda x: x.astype(jnp.float32), task)
    tx = mj.muon_exact(2.0)
    w, traj = mj.train(t32, tx, steps=3, update_dtype=jnp.float64)
    w_ref, _ = mj.train(task, tx, steps=3)
    assert w.dtype == jnp.float64 and traj.loss.dtype == jnp.float32
    # Only the score blocks run in float32: the float64 path lands within 6.6e-7 of
    # the all-float64 run (|W| ~ 4; measured), the float32 update path 1.1e-5 away.
    # The tolerance is 3x what the float64 path achieves, and the float32 path
    # must miss it (a check that update_dtype is applied at all).
    assert_close(w, w_ref, tol={"rtol": 0, "atol": 2e-6})
    w32, _ = mj.train(t32, tx, steps=3)
    assert float(jnp.max(jnp.abs(w32.astype(jnp.float64) - w_ref))) > 2e-6


def test_block_size_never_changes_a_result(task):
    tx = mj.muon_exact(2.0)
    _, a = mj.train(task, tx, steps=3, block_size=7)
    _, b = mj.train(task, tx, steps=3)
    assert_close(_as_array(a), _as_array(b), tol={"rtol": 1e-9, "atol": 1e-11})


def test_vmap_over_seeds_equals_a_loop():
    def run(key):
        t = mj.sample_task(64, 6, 1.5, key=key)
        return mj.train(t, mj.muon_exact(2.0), steps=2)[1]

    keys = jax.random.split(jax.random.key(0), 3)
    batched = jax.jit(jax.vmap(run))(keys)
    for i, key in enumerate(keys):
        single = run(key)
        for x, y in zip(batched, single, strict=True):
            np.testing.assert_allclose(
                np.asarray(x[i]), np.asarray(y), rtol=2e-6, atol=1e-6
            )


def test_zero_steps(task):
    w, traj = mj.train(task, mj.gd(1.0), steps=0)
    assert traj.count.shape == (1,) and float(jnp.abs(w).max()) == 0.0
    assert_close(traj.loss[0], np.log(task.n))


def test_no_retrace_on_a_second_call(task):
    tx = mj.muon_exact(1.0)
    mj.train(task, tx, steps=2)
    before = mj.gaussian.loop._train._cache_size()
    other = mj.sample_task(120, 8, 1.4, key=jax.random.key(5), dtype=jnp.float64)
    mj.train(other, tx, steps=2)
    assert mj.gaussian.loop._train._cache_size() == before


def test_plateau_step_rule():
    assert mj.plateau_step([0, 0, 0, 0], window=2) == 3  # zero stays zero: no stop
    assert mj.plateau_step([0, 5, 9, 9, 10], window=2) == 4  # 10 < 1.005 * 9
    assert mj.plateau_step([0, 100, 200, 201], window=1, min_gain=0.01) == 3
    assert mj.plateau_step([0, 100, 200, 203], window=1, min_gain=0.01) == 3


@pytest.mark.parametrize("max_steps", [4, 30])
def test_early_stopping_matches_the_rule_on_a_full_trajectory(max_steps):
    task = mj.sample_task(300, 12, 1.5, key=jax.random.key(0), dtype=jnp.float64)
    tx = mj.muon_exact(2 * 12**0.5)
    _, full = mj.train(task, tx, steps=max_steps)
    expected = mj.plateau_step(full.count, window=5)
    res = mj.train_early_stopping(task, tx, max_steps=max_steps, window=5)
    assert int(res.stop_step) == expected
    k = expected + 1
    assert_close(_as_array(res.trajectory)[:k], _as_array(full)[:k])
    assert np.all(np.asarray(res.trajectory.count)[k:] == -1)
    w_at_stop, _ = mj.train(task, tx, steps=expected)
    assert_close(res.w, w_at_stop, tol={"rtol": 1e-8, "atol": 1e-10})


def test_early_stopping_under_vmap_keeps_each_seed_stop():
    def run(key):
        task = mj.sample_task(200, 10, 1.5, key=key, dtype=jnp.float64)
        return mj.train_early_stopping(task, mj.muon_exact(2.0), max_steps=25, window=3)

    keys = jax.random.split(jax.random.key(1), 3)
    batched = jax.vmap(run)(keys)
    for i, key in enumerate(keys):
        single = run(key)
        assert int(batched.stop_step[i]) == int(single.stop_step)
        np.testing.assert_array_equal(
            batched.trajectory.count[i], single.trajectory.count
        )
