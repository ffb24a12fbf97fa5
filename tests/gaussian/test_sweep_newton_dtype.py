"""Newton's one-step preconditioner is built in the update dtype (float64 steps).

``one_step_optimizer("newton", task, update_dtype=...)`` casts the task before it
builds the Kronecker factors of the Hessian at zero, so a float64 step on a float32
task solves with float64 factors. Peers: a dense ``numpy.linalg.solve`` of
``(Sigma_V kron Sigma_U + ridge I) vec(X) = vec(G)``, and the core's ``one_step``.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import muonjax as mj


def _dense_newton(task64, g, ridge):
    """``X = (H + ridge I)^(-1)[G]`` with ``H[D] = Sigma_V D Sigma_U``, densely."""
    sigma_v, sigma_u = (np.asarray(s) for s in mj.hessian_factors_at_zero(task64))
    d_out, d_in = g.shape
    # Row-major vec: vec(A D B) = kron(A, B^T) vec(D), and Sigma_U is symmetric.
    h = np.kron(sigma_v, sigma_u) + ridge * np.eye(d_out * d_in)
    return np.linalg.solve(h, np.asarray(g).ravel()).reshape(d_out, d_in)


@pytest.mark.parametrize("alpha", [2.0, 3.0])
def test_float64_newton_step_on_a_float32_task_matches_a_dense_float64_solve(alpha):
    task = mj.sample_task(400, 12, alpha, key=jax.random.key(1))  # float32
    task64 = jax.tree.map(lambda x: x.astype(jnp.float64), task)
    g = mj.grad_at_zero(task64)
    ridge = 1e-8
    tx = mj.one_step_optimizer(
        "newton", task, newton_ridge=ridge, update_dtype="float64"
    )
    w0 = jnp.zeros_like(g)
    update, _ = tx.update(g, tx.init(w0), w0)
    assert update.dtype == jnp.float64
    ref = _dense_newton(task64, g, ridge)
    # float64 solves of a system whose condition number is up to ~1e8 here:
    # relative 1e-9 of the largest entry leaves room for the eigh's rounding.
    np.testing.assert_allclose(
        -np.asarray(update), ref, rtol=0, atol=1e-9 * np.abs(ref).max()
    )


def test_newton_cell_with_float64_updates_matches_the_core():
    sweep = mj.one_step_sweep(
        n=300,
        dims=(8,),
        alphas=(2.5,),
        rules=("newton",),
        update_dtype="float64",
        with_loss=False,
        chunk_size=2,
    )
    key = jax.random.key(5)
    result = mj.run_sweep(sweep, seeds=2, key=key)
    (res,) = result.results
    for i, seed in enumerate(res.seeds):
        k_task, _ = jax.random.split(mj.cell_key(key, res.cell, int(seed)))
        task = mj.sample_task(300, 8, 2.5, key=k_task)
        task64 = jax.tree.map(lambda x: x.astype(jnp.float64), task)
        ref = mj.one_step(
            task,
            mj.newton_at_zero(1.0, task64, ridge=1e-8),
            with_loss=False,
            update_dtype="float64",
            block_size=sweep.options["block_size"],
        ).metrics
        assert res.metrics["count"][i, 0] == int(ref.count)
        assert res.metrics["prefix"][i, 0] == int(ref.prefix)


def test_update_dtype_is_validated_for_newton():
    task = mj.sample_task(50, 4, 1.5, key=jax.random.key(0))
    with pytest.raises(ValueError, match="update_dtype"):
        mj.one_step_optimizer("newton", task, update_dtype="int32")
