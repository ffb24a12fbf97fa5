"""Blockwise loss, gradient and margins against dense computations and ``jax.grad``."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import TOL32, assert_close
from reference import dense_loss, dense_margins, dense_population_loss

import muonjax as mj

# n = 37 is prime: 1, 5, 8 and 36 leave ragged last blocks; 37 and 100 are one block.
BLOCKS = [None, 1, 5, 8, 36, 37, 100]


@pytest.mark.parametrize("block_size", BLOCKS)
def test_population_loss_and_grad_match_dense(small_task64, random_w64, block_size):
    loss, grad = mj.population_loss_and_grad(
        random_w64, small_task64, block_size=block_size
    )
    ref_loss, ref_grad = jax.value_and_grad(dense_population_loss)(
        random_w64, small_task64
    )
    assert_close(loss, ref_loss)
    assert_close(grad, ref_grad)


@pytest.mark.parametrize("block_size", BLOCKS)
def test_margins_match_dense(small_task64, random_w64, block_size):
    assert_close(
        mj.margins(random_w64, small_task64, block_size=block_size),
        dense_margins(random_w64, small_task64),
    )


def test_grad_formula_matches_spec(small_task64, random_w64):
    # SPEC A.2: grad L(W) = sum_i p_i (E_{softmax(s_i.)}[v_j] - v_i) u_i^T.
    t = small_task64
    s = t.u @ random_w64.T @ t.v.T
    ebar = jax.nn.softmax(s, axis=1) @ t.v
    expected = ((ebar - t.v) * t.p[:, None]).T @ t.u
    assert_close(mj.population_grad(random_w64, t), expected)


def test_rectangular_memory(random_w64):
    task = mj.sample_task(23, 5, 1.1, key=jax.random.key(4), d_out=3, dtype=jnp.float64)
    w = jax.random.normal(jax.random.key(5), (3, 5), jnp.float64)
    loss, grad = mj.population_loss_and_grad(w, task, block_size=4)
    ref_loss, ref_grad = jax.value_and_grad(dense_population_loss)(w, task)
    assert grad.shape == (3, 5)
    assert_close(loss, ref_loss)
    assert_close(grad, ref_grad)


def test_grad_at_zero_closed_form(small_task64):
    w0 = jnp.zeros((6, 6), jnp.float64)
    assert_close(
        mj.grad_at_zero(small_task64), jax.grad(dense_population_loss)(w0, small_task64)
    )
    assert_close(
        mj.grad_at_zero(small_task64),
        mj.population_grad(w0, small_task64, block_size=7),
    )
    assert_close(mj.population_loss(w0, small_task64), np.log(37))
    assert_close(mj.loss_at_zero(small_task64), np.log(37))


@pytest.mark.parametrize("batch", [4, 36, 37, 200])
@pytest.mark.parametrize("block_size", [None, 3])
def test_minibatch_loss_and_grad_match_dense(
    small_task64, random_w64, batch, block_size
):
    # B < n runs query by query; B >= n runs through the batch's empirical frequencies.
    idx = mj.sample_batch(small_task64, batch, key=jax.random.key(batch))
    t = small_task64

    def ref(w):
        return dense_loss(w, t.u[idx], t.v, idx, jnp.full((batch,), 1.0 / batch))

    loss, grad = mj.minibatch_loss_and_grad(random_w64, t, idx, block_size=block_size)
    ref_loss, ref_grad = jax.value_and_grad(ref)(random_w64)
    assert_close(loss, ref_loss)
    assert_close(grad, ref_grad)


def test_minibatch_gradient_at_zero_through_frequencies(small_task64):
    idx = mj.sample_batch(small_task64, 11, key=jax.random.key(0))
    freq = mj.batch_frequencies(idx, small_task64.n, dtype=jnp.float64)
    w0 = jnp.zeros((6, 6), jnp.float64)
    _, grad = mj.minibatch_loss_and_grad(w0, small_task64, idx)
    assert_close(mj.grad_at_zero(small_task64, weights=freq), grad)


def test_sample_batch_follows_frequencies():
    # 200k draws from 5 items: each frequency within ~5 standard errors (<= 0.006).
    task = mj.sample_task(5, 2, 1.0, key=jax.random.key(0), dtype=jnp.float64)
    idx = mj.sample_batch(task, 200_000, key=jax.random.key(1))
    freq = mj.batch_frequencies(idx, 5, dtype=jnp.float64)
    np.testing.assert_allclose(freq, task.p, atol=0.006)


@pytest.mark.parametrize("block_size", [None, 6])
def test_deflated_gradient_drops_recovered_items(small_task64, random_w64, block_size):
    t = small_task64
    margins = dense_margins(random_w64, t)
    keep = margins <= 0
    assert 0 < int(jnp.sum(keep)) < t.n  # the fixture recovers some items, not all

    def ref(w):
        return dense_loss(w, t.u, t.v, jnp.arange(t.n), jnp.where(keep, t.p, 0.0))

    got = mj.population_grad(random_w64, t, deflate=True, block_size=block_size)
    assert_close(got, jax.grad(ref)(random_w64))


def test_float32_path_keeps_dtype_and_agrees_with_float64(small_task64, random_w64):
    task32 = jax.tree.map(lambda x: x.astype(jnp.float32), small_task64)
    w32 = random_w64.astype(jnp.float32)
    loss, grad = mj.population_loss_and_grad(w32, task32, block_size=5)
    assert loss.dtype == grad.dtype == jnp.float32
    ref_loss, ref_grad = mj.population_loss_and_grad(random_w64, small_task64)
    assert_close(loss, ref_loss, tol=TOL32)
    assert_close(grad, ref_grad, tol=TOL32)


def test_no_n_by_n_array_in_the_compiled_pass():
    # The compiled pass may hold (block, n) score blocks but never an (n, n) array.
    n, d, block = 512, 4, 64
    task = mj.sample_task(n, d, 1.2, key=jax.random.key(0))
    w = jnp.eye(d, dtype=jnp.float32)
    hlo = (
        jax.jit(lambda w, t: mj.population_loss_and_grad(w, t, block_size=block))
        .lower(w, task)
        .as_text()
    )
    assert f"{n}x{n}" not in hlo and f"{block}x{n}" in hlo
