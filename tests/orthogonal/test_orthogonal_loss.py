"""Loss, gradient and accuracy of the orthogonal memory (SPEC B.1).

Peers: ``jax.grad`` of the loss written directly in ``W``, dense computations."""

from __future__ import annotations

import ast
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from orthogonal_helpers import F64, random_task

from muonjax import orthogonal as og


@pytest.fixture(autouse=True)
def _strict_x64():
    with jax.enable_x64(True), jax.numpy_rank_promotion("raise"):
        yield


@pytest.mark.parametrize("alpha", [0.0, 0.3])
def test_full_gradient_matches_jax_grad(alpha):
    task = random_task(alpha=alpha)
    w = jax.random.normal(jax.random.key(3), (task.dim, task.dim), F64)
    st = og.full_state(w, task)
    loss, grad = jax.value_and_grad(og.full_loss)(w, task)
    assert float(st.loss) == pytest.approx(float(loss), rel=1e-13)
    np.testing.assert_allclose(st.grad, grad, rtol=1e-11, atol=1e-14)
    # The task-coordinate gradient is the same gradient seen through the basis.
    ts = og.task_state(og.to_task(w, task), task)
    np.testing.assert_allclose(
        ts.grad, task.q_out.T @ grad @ task.q_in, rtol=1e-11, atol=1e-14
    )


def test_gradient_scales_with_norm_squared():
    # grad_A L = r^2 (Phat - P) diag(p) with Z = r^2 A  [derived scaling, SPEC B.1].
    base, scaled = (
        og.power_law_task(3, 2, 1.5, alpha=0.2, norm=r, dtype=F64) for r in (1.0, 2.0)
    )
    a = jax.random.normal(jax.random.key(1), (6, 6), F64)
    g1 = og.task_state(4.0 * a, base).grad
    g2 = og.task_state(a, scaled).grad
    np.testing.assert_allclose(g2, 4.0 * g1, rtol=1e-12)


def test_group_loss_and_accuracy_dense_peer():
    task = og.power_law_task(3, 4, 1.5, alpha=0.1, dtype=F64)
    a = jax.random.normal(jax.random.key(5), (12, 12), F64)
    st = og.task_state(a, task)
    logp = np.asarray(jax.nn.log_softmax(a, axis=0))
    big_p = np.asarray(og.label_distribution(task))
    per_query = -(big_p * logp).sum(axis=0)
    np.testing.assert_allclose(st.group_loss, per_query.reshape(3, 4).mean(1), 1e-12)
    correct = np.argmax(np.asarray(a), axis=0) == np.arange(12)
    np.testing.assert_allclose(st.group_accuracy, correct.reshape(3, 4).mean(1))


def test_tie_is_not_a_correct_answer():
    task = og.power_law_task(2, 3, 1.0, dtype=F64)
    assert np.all(
        np.asarray(og.task_state(jnp.zeros((6, 6)), task).group_accuracy) == 0
    )
    assert np.all(
        np.asarray(og.block_state(og.zeros_block(2, F64), task).group_accuracy) == 0
    )
    # Query 0 ties with answer 1 (argmax would say "correct"); query 3 is correct.
    a = jnp.zeros((6, 6), F64).at[0, 0].set(1.0).at[1, 0].set(1.0).at[3, 3].set(1.0)
    np.testing.assert_allclose(og.task_state(a, task).group_accuracy, [0.0, 1 / 3])


def test_tiny_loss_keeps_relative_precision():
    # Loss K e^{-m} far below float epsilon (Muon's exponential decay) is computed
    # as log1p(sum exp(shift)), not as lse - z (which would round to 0).
    k, gap = 6, 600.0
    task = og.power_law_task(2, 3, 1.0, dtype=F64)
    st = og.task_state(gap * jnp.eye(k, dtype=F64), task)
    expected = np.log1p((k - 1) * np.exp(-gap))
    np.testing.assert_allclose(st.group_loss, expected, rtol=1e-12)
    assert expected > 0
    # The residual's diagonal is minus its column's off-diagonal sum, not 0.
    np.testing.assert_allclose(
        np.diagonal(st.residual), -(k - 1) * np.exp(-gap), rtol=1e-12
    )


def test_every_matrix_product_of_the_package_states_its_precision():
    # JAX runs float32 matmuls in TF32 on NVIDIA GPUs unless told otherwise: every
    # product in muonjax/orthogonal/ is a jnp.matmul/einsum/... with precision=.
    products = {"matmul", "dot", "einsum", "tensordot", "inner", "vdot", "matvec"}
    root = Path(og.__file__).parent
    unstated = []
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.BinOp) and isinstance(node.op, ast.MatMult):
                unstated.append(f"{path.name}:{node.lineno} uses @")
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in products
                and not any(k.arg == "precision" for k in node.keywords)
            ):
                unstated.append(f"{path.name}:{node.lineno} {node.func.attr}")
    assert unstated == []
