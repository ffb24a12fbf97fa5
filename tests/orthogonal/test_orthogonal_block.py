"""Block-symmetric matrices: the block state and polar factor against dense ones."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from orthogonal_helpers import F64, random_block

import muonjax as mj
from muonjax import orthogonal as og


@pytest.fixture(autouse=True)
def _strict_x64():
    with jax.enable_x64(True), jax.numpy_rank_promotion("raise"):
        yield


@pytest.mark.parametrize("c", [1, 5])
def test_block_state_matches_dense(c):
    m = 3
    task = og.power_law_task(m, c, 1.5, alpha=0.3, norm=1.2, dtype=F64)
    x = random_block(m, seed=c)
    if c == 1:
        x = og.dense_to_block(og.block_to_dense(x, 1), 1)
    dense = og.block_to_dense(x, c)
    sb, sd = og.block_state(x, task), og.task_state(dense, task)
    assert float(sb.loss) == pytest.approx(float(sd.loss), rel=1e-13)
    np.testing.assert_allclose(sb.group_loss, sd.group_loss, rtol=1e-13)
    np.testing.assert_allclose(sb.group_accuracy, sd.group_accuracy)
    np.testing.assert_allclose(og.block_to_dense(sb.grad, c), sd.grad, atol=1e-15)
    np.testing.assert_allclose(
        og.block_to_dense(sb.residual, c), sd.residual, atol=1e-15
    )


@pytest.mark.parametrize("c", [1, 4])
def test_block_polar_matches_dense_polar(c):
    m = 4
    x = random_block(m, seed=10 + c)
    dense = og.block_to_dense(x, c)
    np.testing.assert_allclose(
        og.block_to_dense(og.block_polar(x, c), c), mj.polar(dense), atol=1e-12
    )
    # Rank deficient: Muon's first gradient has 1^T G_0 = 0; the zero singular
    # value must map to 0 in both (SPEC E).
    task = og.power_law_task(m, c, 1.5, alpha=0.2, dtype=F64)
    g0 = og.block_state(og.zeros_block(m, F64), task).grad
    pol = og.block_to_dense(og.block_polar(g0, c), c)
    np.testing.assert_allclose(pol, mj.polar(og.block_to_dense(g0, c)), atol=1e-12)
    np.testing.assert_allclose(jnp.ones(m * c) @ pol, 0.0, atol=1e-12)


def test_block_projection_and_norms():
    c, m = 3, 4
    x = random_block(m, seed=2)
    dense = og.block_to_dense(x, c)
    back = og.dense_to_block(dense, c)
    np.testing.assert_allclose(back.diag, x.diag, rtol=1e-14)
    np.testing.assert_allclose(back.off, x.off, rtol=1e-14)
    assert float(og.block_symmetry_defect(dense, c)) < 1e-15
    noise = jax.random.normal(jax.random.key(0), dense.shape, F64)
    assert float(og.block_symmetry_defect(dense + noise, c)) > 0.1
    assert float(og.block_frobenius_norm(x, c)) == pytest.approx(
        float(jnp.linalg.norm(dense)), rel=1e-13
    )
    assert float(og.block_max_abs(x, c)) == pytest.approx(
        float(jnp.max(jnp.abs(dense))), rel=1e-14
    )
