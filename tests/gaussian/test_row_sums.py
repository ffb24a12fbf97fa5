"""The n-term sums at zero (gradient, Hessian factors) in blocks, in a wider dtype.

Beyond ``SUM_BLOCK_ROWS`` items the float64 sums over a float32 task run block by
block, so that no float64 copy of the task exists (the peak memory of a paper cell).
They must equal the one-product sums up to float64 rounding, and a task at or below
the threshold must give the 0.1.0 sums bit for bit (one product, the same operands).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from conftest import assert_close

import muonjax as mj
from muonjax.gaussian.scores import SUM_BLOCK_ROWS


def _dense_grad_at_zero(task64):
    vbar = jnp.mean(task64.v, axis=0)
    return (task64.p[:, None] * (vbar[None, :] - task64.v)).T @ task64.u


def _cast(task, dtype):
    return jax.tree.map(lambda x: x.astype(dtype), task)


def test_blocked_sums_equal_the_dense_ones_beyond_the_threshold():
    n = SUM_BLOCK_ROWS + 1234  # two blocks, the last one shifted back
    task = mj.sample_task(n, 4, 1.5, key=jax.random.key(0))
    t64 = _cast(task, jnp.float64)
    g = mj.grad_at_zero(task, dtype=jnp.float64)
    assert g.dtype == jnp.float64
    assert_close(g, _dense_grad_at_zero(t64), {"rtol": 1e-12, "atol": 1e-15})
    sv, su = mj.hessian_factors_at_zero(task, dtype=jnp.float64)
    vbar = jnp.mean(t64.v, axis=0)
    assert_close(su, (t64.u * t64.p[:, None]).T @ t64.u, {"rtol": 1e-12, "atol": 1e-15})
    assert_close(
        sv, t64.v.T @ t64.v / n - jnp.outer(vbar, vbar), {"rtol": 1e-12, "atol": 1e-15}
    )
    w = jax.random.uniform(jax.random.key(1), (n,), jnp.float64)
    assert_close(
        mj.grad_at_zero(task, weights=w, dtype=jnp.float64),
        _dense_grad_at_zero(t64._replace(p=w)),
        {"rtol": 1e-12, "atol": 1e-15},
    )


def test_below_the_threshold_a_dtype_equals_casting_the_task_bit_for_bit():
    task = mj.sample_task(500, 6, 1.5, key=jax.random.key(2))
    t64 = _cast(task, jnp.float64)
    np.testing.assert_array_equal(
        mj.grad_at_zero(task, dtype=jnp.float64), mj.grad_at_zero(t64)
    )
    for a, b in zip(
        mj.hessian_factors_at_zero(task, dtype=jnp.float64),
        mj.hessian_factors_at_zero(t64),
        strict=True,
    ):
        np.testing.assert_array_equal(a, b)
