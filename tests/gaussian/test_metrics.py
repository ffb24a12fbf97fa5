"""Recovery and the three capacity measures (SPEC A.4)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import assert_close
from reference import dense_scores

import muonjax as mj


def test_capacity_on_hand_built_masks():
    p = jnp.array([0.4, 0.3, 0.2, 0.1])
    cases = {
        (True, True, False, True): (3, 2, 0.8),
        (False, True, True, True): (3, 0, 0.6),
        (True, True, True, True): (4, 4, 1.0),
        (False, False, False, False): (0, 0, 0.0),
        (True, False, False, False): (1, 1, 0.4),
    }
    for mask, (count, prefix, weighted) in cases.items():
        cap = mj.capacity_from_mask(jnp.array(mask), p)
        assert (int(cap.count), int(cap.prefix)) == (count, prefix), mask
        assert_close(cap.weighted_accuracy, weighted, tol={"rtol": 1e-6, "atol": 1e-7})


def test_a_tie_is_not_a_recovery(small_task64):
    # At W = 0 every score ties. argmax would credit item 0 (first maximum); the
    # margin rule credits nobody.
    w0 = jnp.zeros((6, 6), jnp.float64)
    s = dense_scores(w0, small_task64.u, small_task64.v)
    assert int(jnp.argmax(s[0])) == 0
    cap = mj.capacity(w0, small_task64)
    assert int(cap.count) == 0 and int(cap.prefix) == 0


def test_exact_tie_between_two_candidates():
    # Two identical outputs: item 0's score ties with item 1's, so neither is recovered,
    # although argmax picks index 0 for query 0.
    v = jnp.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    u = jnp.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    task = mj.GaussianTask(u=u, v=v, p=jnp.array([0.5, 0.3, 0.2]))
    w = jnp.eye(2)
    assert int(jnp.argmax(dense_scores(w, u, v)[0])) == 0
    mask = mj.recovered(mj.margins(w, task))
    assert mask.tolist() == [False, False, True]


@pytest.mark.parametrize("block_size", [None, 7, 64])
def test_capacity_matches_dense_argmax(block_size):
    # Random scores have no ties, so here the dense argmax is a valid peer.
    task = mj.sample_task(300, 32, 1.2, key=jax.random.key(1), dtype=jnp.float64)
    w = mj.polar(mj.grad_at_zero(task)) * -8.0
    s = dense_scores(w, task.u, task.v)
    dense_mask = np.asarray(jnp.argmax(s, axis=1) == jnp.arange(300))
    assert 10 < dense_mask.sum() < 300
    cap = mj.capacity(w, task, block_size=block_size)
    assert int(cap.count) == dense_mask.sum()
    assert int(cap.prefix) == (np.argmin(dense_mask) if not dense_mask.all() else 300)
    assert_close(cap.weighted_accuracy, np.sum(np.asarray(task.p)[dense_mask]))


def test_evaluate_combines_loss_and_capacity(small_task64, random_w64):
    m = mj.evaluate(random_w64, small_task64, block_size=5)
    cap = mj.capacity(random_w64, small_task64)
    assert_close(m.loss, mj.population_loss(random_w64, small_task64))
    assert (int(m.count), int(m.prefix)) == (int(cap.count), int(cap.prefix))
