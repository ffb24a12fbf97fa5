"""The task of the orthogonal memory (SPEC B.1): frequencies, noise, optimum,
embeddings, bad input. Peers: scipy's entropy, QR of the split keys."""

from __future__ import annotations

import re

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from orthogonal_helpers import F64, random_task
from scipy import stats

from muonjax import orthogonal as og


@pytest.fixture(autouse=True)
def _strict_x64():
    with jax.enable_x64(True), jax.numpy_rank_promotion("raise"):
        yield


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
