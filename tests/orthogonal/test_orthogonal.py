"""The orthogonal memory (SPEC Part B): task, losses, exact paths, update rules.

Peers: ``jax.grad`` of the loss written directly in ``W``, ``muonjax.polar`` on dense
matrices, ``optax.adam`` in a hand-written loop, scipy's entropy. Checks of the
mathematics run in float64 inside ``jax.enable_x64(True)``.
"""

from __future__ import annotations

import re

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from scipy import stats

import muonjax as mj
from muonjax import orthogonal as og

F64 = jnp.float64
# Float64 results that should agree up to rounding accumulated over a few dozen
# steps (each step a K x K SVD or a softmax): relative 1e-10 is ~10^6 ulps.
RTOL64 = 1e-10


@pytest.fixture(autouse=True)
def _strict_x64():
    with jax.enable_x64(True), jax.numpy_rank_promotion("raise"):
        yield


def random_task(*, alpha=0.2, norm=1.3, dim=14, seed=0, m=3, c=4):
    return og.power_law_task(
        m,
        c,
        1.5,
        alpha=alpha,
        norm=norm,
        embedding="random",
        dim=dim,
        key=jax.random.key(seed),
        dtype=F64,
    )


def random_block(m, *, seed=0):
    kd, ko = jax.random.split(jax.random.key(seed))
    return og.BlockMatrix(
        jax.random.normal(kd, (m,), F64), jax.random.normal(ko, (m, m), F64)
    )


# ------------------------------------------------------------------------------------
# Task.


def test_task_frequencies_noise_and_optimum():
    task = og.hierarchical_task([3.0, 2.0, 1.0], 4, alpha=0.25, dtype=F64)
    p = np.asarray(og.query_frequencies(task))
    np.testing.assert_allclose(p, np.repeat([0.5, 1 / 3, 1 / 6], 4) / 4, rtol=1e-14)
    assert og.group_of_query(task).tolist() == [0] * 4 + [1] * 4 + [2] * 4
    big_p = np.asarray(og.label_distribution(task))
    np.testing.assert_allclose(big_p.sum(axis=0), 1.0, rtol=1e-14)
    assert big_p[0, 0] == pytest.approx(0.75 + 0.25 / 12)
    assert big_p[1, 0] == pytest.approx(0.25 / 12)
    # Per-query optimum = entropy of the column (scipy), L* = its p-average.
    h = stats.entropy(big_p[:, 0])
    np.testing.assert_allclose(og.query_optimal_loss(task), h, rtol=1e-12)
    assert float(og.optimal_loss(task)) == pytest.approx(h, rel=1e-12)
    # The loss at the optimal logits log P equals L*.
    z = jnp.log(jnp.asarray(big_p))
    assert float(og.task_state(z, task).loss) == pytest.approx(h, rel=1e-12)
    assert float(og.optimal_margin(task)) == pytest.approx(
        np.log(big_p[0, 0] / big_p[1, 0]), rel=1e-12
    )


def test_power_law_preset_and_noiseless_optimum():
    task = og.power_law_task(5, 2, 1.7, dtype=F64)
    w = np.arange(1, 6) ** -1.7
    np.testing.assert_allclose(task.group_weights, w / w.sum(), rtol=1e-12)
    assert float(og.optimal_loss(task)) == 0.0
    assert (task.num_groups, task.group_size, task.num_queries, task.dim) == (
        5,
        2,
        10,
        10,
    )


def test_random_embedding_is_orthonormal():
    task = random_task(dim=20)
    for q in (task.q_in, task.q_out):
        assert q.shape == (20, 12)
        np.testing.assert_allclose(q.T @ q, np.eye(12), atol=1e-13)
    assert not task.is_identity and task.dim == 20


def test_embeddings_are_the_random_orthonormal_matrices_of_the_split_keys():
    # The task draws q_in and q_out in one batched QR (one LAPACK call, see
    # _haar_columns); each equals the single draw from its key.
    key = jax.random.key(3)
    task = og.power_law_task(
        3, 4, beta=1.5, embedding="random", dim=20, key=key, dtype=jnp.float64
    )
    key_in, key_out = jax.random.split(key)
    for q, k in ((task.q_in, key_in), (task.q_out, key_out)):
        ref = og.random_orthonormal(20, 12, key=k, dtype=jnp.float64)
        np.testing.assert_allclose(q, ref, atol=1e-14)


@pytest.mark.parametrize(
    ("kwargs", "name", "value"),
    [
        ({"num_groups": 0}, "num_groups", "0"),
        ({"group_size": 0}, "group_size", "0"),
        ({"beta": -0.5}, "beta", "-0.5"),
        ({"alpha": 1.0}, "alpha", "1.0"),
        ({"alpha": -0.1}, "alpha", "-0.1"),
        ({"norm": 0.0}, "norm", "0.0"),
        ({"norm": -2.0}, "norm", "-2.0"),
        ({"embedding": "random", "dim": 7}, "dim", "7"),
        ({"embedding": "identity", "dim": 9}, "dim", "9"),
        ({"embedding": "unitary"}, "embedding", "'unitary'"),
    ],
)
def test_bad_input_names_argument_and_value(kwargs, name, value):
    args = {"num_groups": 2, "group_size": 4, "beta": 1.5}
    args.update(kwargs)
    if args.get("embedding") == "random":
        args["key"] = jax.random.key(0)
    with pytest.raises(ValueError, match=re.escape(f"{name}={value}")):
        og.power_law_task(
            args.pop("num_groups"), args.pop("group_size"), args.pop("beta"), **args
        )


def test_bad_group_weights():
    with pytest.raises(ValueError, match="num_groups must be >= 1"):
        og.hierarchical_task([], 3)
    with pytest.raises(ValueError, match="group_weights"):
        og.hierarchical_task([1.0, 0.0], 3)
    with pytest.raises(ValueError, match="needs key"):
        og.hierarchical_task([1.0], 3, embedding="random")


# ------------------------------------------------------------------------------------
# Loss, gradient, accuracy.


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


# ------------------------------------------------------------------------------------
# Block-symmetric matrices.


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


# ------------------------------------------------------------------------------------
# Exact paths: task coordinates vs the full d-dimensional memory, step for step.


def reference_full_run(task, rule, eta, steps, rtol=None):
    """Plain loop on W with jax.grad of the loss written directly in W."""
    grad_fn = jax.jit(jax.value_and_grad(og.full_loss))
    w = jnp.zeros((task.dim, task.dim), F64)
    losses = []
    for _ in range(steps):
        loss, g = grad_fn(w, task)
        losses.append(float(loss))
        w = w - eta * (g if rule == "gd" else mj.polar(g, rtol=rtol))
    losses.append(float(og.full_loss(w, task)))
    return w, np.asarray(losses)


@pytest.mark.parametrize(("rule", "alpha"), [("gd", 0.3), ("muon", 0.0), ("muon", 0.3)])
def test_task_path_equals_full_path_random_basis(rule, alpha):
    # d = 14 > K = 12, random orthonormal embeddings, r = 1.3 (SPEC B.1).
    task = random_task(alpha=alpha)
    eta = 4.0 if rule == "gd" else 0.4
    steps = 12
    _, loss_ref = reference_full_run(task, rule, eta, steps)
    dyn = og.run(task, rule, eta, steps=steps, path="task")
    np.testing.assert_allclose(dyn.loss, loss_ref, rtol=RTOL64)
    full = og.run(task, rule, eta, steps=steps, path="full")
    np.testing.assert_allclose(full.loss, loss_ref, rtol=RTOL64)
    # The iterates themselves. The d x d gradient has d - K + 1 null directions,
    # computed as rounding noise (~1e-14 relative after a few steps with jax.grad,
    # above polar's default floor d * eps); a kept noise direction moves W only along
    # loss-irrelevant directions (outside the task span, or a constant shift of a
    # logit column), so the losses above agree with the default floor. To compare
    # W we give both sides the same explicit floor (SPEC E).
    w_ref, _ = reference_full_run(task, rule, eta, steps, rtol=1e-10)
    dyn = og.run(
        task, rule, eta, steps=steps, path="task", rtol=1e-10, keep_params=True
    )
    np.testing.assert_allclose(og.from_task(dyn.params[-1], task), w_ref, atol=1e-10)


@pytest.mark.parametrize("rule", og.RULES)
def test_block_path_equals_task_path(rule):
    # Identity embedding: every rule is exact in task coordinates, and all of them
    # keep the logits block symmetric.
    task = og.power_law_task(3, 4, 1.5, alpha=0.2, norm=1.1, dtype=F64)
    eta = 20.0 if rule == "gd" else 0.3
    dt = og.run(task, rule, eta, steps=25, path="task", keep_params=True)
    db = og.run(task, rule, eta, steps=25, path="block", keep_params=True)
    np.testing.assert_allclose(db.loss, dt.loss, rtol=RTOL64)
    if rule in ("signgd", "adam"):
        # Entrywise rules are exact in task coordinates only for one-hot
        # embeddings: check against the d x d path (GD and Muon are checked
        # against it in a random basis above).
        df = og.run(task, rule, eta, steps=25, path="full")
        np.testing.assert_allclose(df.loss, dt.loss, rtol=RTOL64)
    np.testing.assert_allclose(db.group_loss, dt.group_loss, rtol=RTOL64)
    np.testing.assert_allclose(db.group_accuracy, dt.group_accuracy)
    np.testing.assert_allclose(db.update_norm, dt.update_norm, rtol=1e-9, atol=1e-12)
    dense_last = og.block_to_dense(jax.tree.map(lambda v: v[-1], db.params), 4)
    np.testing.assert_allclose(dense_last, dt.params[-1], atol=1e-10)
    assert float(dt.loss[-1]) < float(dt.loss[0]) - 0.1  # every rule makes progress


def test_tra_signgd_full_path_equals_task_sign():
    task = random_task(alpha=0.2, dim=15)
    df = og.run(task, "tra_signgd", 0.2, steps=15, path="full", keep_params=True)
    dt = og.run(task, "tra_signgd", 0.2, steps=15, path="task", keep_params=True)
    np.testing.assert_allclose(df.loss, dt.loss, rtol=RTOL64)
    np.testing.assert_allclose(
        og.to_task(df.params[-1], task), dt.params[-1], atol=1e-12
    )


def test_adam_matches_optax_loop():
    task = og.power_law_task(2, 3, 1.5, alpha=0.1, dtype=F64)
    tx = optax.adam(0.05, b1=0.8, b2=0.95, eps=1e-6)
    w = jnp.zeros((6, 6), F64)
    state = tx.init(w)
    grad_fn = jax.jit(jax.value_and_grad(og.full_loss))
    losses = []
    for _ in range(20):
        loss, g = grad_fn(w, task)
        losses.append(float(loss))
        with jax.numpy_dtype_promotion("standard"):  # optax's Adam is not strict
            upd, state = tx.update(g, state, w)
        w = optax.apply_updates(w, upd)
    dyn = og.run(
        task,
        "adam",
        0.05,
        steps=20,
        path="full",
        keep_params=True,
        adam_b1=0.8,
        adam_b2=0.95,
        adam_eps=1e-6,
    )
    np.testing.assert_allclose(dyn.loss[:-1], losses, rtol=1e-12)
    np.testing.assert_allclose(dyn.params[-1], w, rtol=1e-10, atol=1e-13)


def test_signgd_is_basis_dependent():
    # SignGD on a random basis differs from the oracle; the task/block paths refuse
    # it (they would silently compute the oracle).
    task = random_task(alpha=0.0)
    sign = og.run(task, "signgd", 0.1, steps=10, path="full")
    oracle = og.run(task, "tra_signgd", 0.1, steps=10, path="full")
    assert np.max(np.abs(sign.loss - oracle.loss)) > 1e-3
    for path in ("task", "block"):
        with pytest.raises(ValueError, match="path='full'"):
            og.run(task, "signgd", 0.1, steps=2, path=path)
        with pytest.raises(ValueError, match="path='full'"):
            og.run(task, "adam", 0.1, steps=2, path=path)


def test_run_bad_arguments():
    task = og.power_law_task(2, 2, 1.0, dtype=F64)
    with pytest.raises(ValueError, match="rule="):
        og.run(task, "lion", 0.1, steps=2)
    with pytest.raises(ValueError, match="path="):
        og.run(task, "gd", 0.1, steps=2, path="kron")
    with pytest.raises(ValueError, match="learning_rate=0"):
        og.run(task, "gd", 0.0, steps=2)
    with pytest.raises(ValueError, match="steps=-1"):
        og.run(task, "gd", 0.1, steps=-1)


# ------------------------------------------------------------------------------------
# Batching, dtype, compilation.


def test_vmap_over_learning_rates_and_seeds_matches_single_runs():
    def one(key, lr):
        task = og.power_law_task(
            2, 3, 1.5, alpha=0.2, embedding="random", dim=8, key=key, dtype=F64
        )
        return og.run(task, "signgd", lr, steps=8, path="full").loss

    # One vmap over (basis seed, learning rate) pairs; one compile for the batch.
    keys = jax.random.split(jax.random.key(0), 3)
    lrs = jnp.asarray([0.1, 0.3, 0.1], F64)
    batched = jax.vmap(one)(keys, lrs)
    assert batched.shape == (3, 9)
    np.testing.assert_allclose(batched[1], one(keys[1], lrs[1]), rtol=1e-12)
    # Same rate, different bases: different SignGD runs (basis dependent rule).
    assert float(jnp.abs(batched[0] - batched[2]).max()) > 1e-6


def test_float32_default_and_no_recompile():
    with jax.enable_x64(False):
        task = og.power_law_task(3, 2, 1.5, alpha=0.1)
        assert task.dtype == jnp.float32
        d1 = og.run(task, "muon", 0.2, steps=7, path="block")
        assert d1.loss.dtype == jnp.float32
        size = og.dynamics._run._cache_size()
        d2 = og.run(task, "muon", 0.3, steps=7, path="block")
        assert og.dynamics._run._cache_size() == size  # new rate: no recompile
        assert float(d2.loss[-1]) < float(d2.loss[0])
        assert float(d1.loss[-1]) < float(d1.loss[0])
