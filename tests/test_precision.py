"""The precision policy: no matrix product on a measured path is left at the default.

JAX multiplies float32 matrices in TF32 on NVIDIA GPUs (bfloat16 passes on TPUs)
unless told; every product on the score, margin, loss and gradient paths, and in the
polar and Newton-Schulz kernels, states ``Precision.HIGHEST`` (issue 13). The walk
traces each public function and fails on any ``dot_general`` left at the default.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import muonjax as mj


def _task(dtype):
    return mj.sample_task(40, 6, 1.5, key=jax.random.key(0), dtype=dtype)


def _w(dtype):
    return jax.random.normal(jax.random.key(1), (6, 6), dtype)


def _cases(dtype):
    task, w = _task(dtype), _w(dtype)
    idx = jnp.arange(7) % task.n
    big = jnp.arange(50) % task.n
    factors = mj.kronecker_factors(*mj.hessian_factors_at_zero(task))
    optimizers = {
        "gd": mj.gd(1.0),
        "muon": mj.muon_exact(1.0),
        "muon_ns": mj.muon_newton_schulz(1.0),
        "muon_smoothed": mj.muon_smoothed(1.0, 0.1),
        "newton": mj.newton_at_zero(1.0, task),
    }
    cases = {
        "margins": (mj.margins, (w, task), {}),
        "capacity": (mj.capacity, (w, task), {}),
        "evaluate": (mj.evaluate, (w, task), {}),
        "population_loss": (mj.population_loss, (w, task), {}),
        "population_loss_and_grad": (mj.population_loss_and_grad, (w, task), {}),
        "population_grad deflated": (mj.population_grad, (w, task), {"deflate": True}),
        "population_pass float64 grad": (
            mj.population_pass,
            (w, task),
            {"grad_dtype": jnp.float64},
        ),
        "jax.grad of population_loss": (jax.grad(mj.population_loss), (w, task), {}),
        "minibatch B < n": (mj.minibatch_loss_and_grad, (w, task, idx), {}),
        "minibatch B >= n": (mj.minibatch_loss_and_grad, (w, task, big), {}),
        "grad_at_zero": (mj.grad_at_zero, (task,), {}),
        "polar": (mj.polar, (w,), {}),
        "smoothed_polar": (mj.smoothed_polar, (w, 0.1), {}),
        "newton_schulz": (mj.newton_schulz, (w,), {}),
        "singular_value_map": (mj.singular_value_map, (w, w), {}),
        "hessian_factors_at_zero": (mj.hessian_factors_at_zero, (task,), {}),
        "kronecker_ridge_solve": (mj.kronecker_ridge_solve, (w, factors, 1e-8), {}),
        "newton_cg_direction": (
            mj.newton_cg_direction,
            (w, task, w),
            {"maxiter": 2},
        ),
        "train": (
            lambda t: mj.train(t, mj.muon_exact(1.0), steps=2, deflate=True)[1],
            (task,),
            {},
        ),
        "train minibatch": (
            lambda t: mj.train(
                t, mj.gd(1.0), steps=2, batch_size=5, key=jax.random.key(0)
            )[1],
            (task,),
            {},
        ),
        "train_early_stopping": (
            lambda t: mj.train_early_stopping(t, mj.muon_exact(1.0), max_steps=3),
            (task,),
            {},
        ),
    }
    for name, tx in optimizers.items():
        cases[f"one_step {name}"] = (lambda t, tx=tx: mj.one_step(t, tx), (task,), {})
    if dtype == jnp.float32:
        for screen in mj.SCREENS:
            cases[f"screened_capacity {screen}"] = (
                mj.screened_capacity,
                (w, task),
                {"screen": screen},
            )
    return cases


@pytest.mark.parametrize("dtype", [jnp.float32, jnp.float64], ids=["f32", "f64"])
def test_no_product_is_left_at_the_default_precision(dtype):
    failures = {}
    for name, (fn, args, kwargs) in _cases(dtype).items():
        sites = mj.default_precision_dots(fn, *args, **kwargs)
        if sites:
            failures[name] = sites
    assert not failures, failures


def test_the_walk_finds_an_unstated_product_inside_a_scan():
    # The detector itself: a product at the default precision two levels down.
    def fn(x):
        def body(c, _):
            return jax.jit(lambda c: c @ c)(c), None

        return jax.lax.scan(body, x, None, length=2)[0]

    sites = mj.default_precision_dots(fn, jnp.eye(3))
    assert len(sites) == 1 and sites[0].shapes == ((3, 3), (3, 3))
    stated = mj.default_precision_dots(
        lambda x: jnp.matmul(x, x, precision=mj.PRECISION), jnp.eye(3)
    )
    assert stated == []
    explicit_default = mj.default_precision_dots(
        lambda x: jnp.matmul(x, x, precision=jax.lax.Precision.DEFAULT), jnp.eye(3)
    )
    assert len(explicit_default) == 1


def test_the_screened_products_state_their_reduced_format():
    # The GPU path of the screened capacity (bfloat16 or TF32 products) names its
    # dot algorithm, so it is not a product "at the default" either.
    task, w = _task(jnp.float32), _w(jnp.float32)
    for screen in mj.SCREENS:
        sites = mj.default_precision_dots(
            lambda w, t, s=screen: mj.screened_recovery(
                w, t.u, jnp.arange(t.n), t.v, screen=s, emulate=False
            ),
            w,
            task,
        )
        assert sites == [], (screen, sites)


def test_the_policy_is_recorded():
    policy = mj.precision_policy()
    assert policy["matmul_precision"] == "HIGHEST"
    assert "jax_default_matmul_precision" in policy
    env = mj.environment()
    assert env["precision"] == policy


@pytest.mark.skipif(jax.default_backend() != "cpu", reason="a CPU property")
def test_on_a_cpu_the_policy_changes_no_bits():
    # float32 products are already full float32 on a CPU: HIGHEST gives the same
    # bits as the default (so the policy costs nothing there; the benchmark times it).
    task, w = _task(jnp.float32), _w(jnp.float32)
    default = task.u @ w.T @ task.v.T
    highest = jnp.matmul(
        jnp.matmul(task.u, w.T, precision=mj.PRECISION),
        task.v.T,
        precision=mj.PRECISION,
    )
    np.testing.assert_array_equal(np.asarray(default), np.asarray(highest))
