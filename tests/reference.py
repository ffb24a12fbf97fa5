"""Dense reference computations at small sizes (the peers of the blockwise kernels).

These build the full n x n score matrix on purpose; they exist only for tests.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp


def dense_scores(w, u, v):
    """``S[i, j] = v_j^T W u_i`` as a full matrix."""
    return u @ w.T @ v.T


def dense_loss(w, u, v, targets, weights):
    """Weighted softmax cross-entropy through ``jax.nn.log_softmax``."""
    logp = jax.nn.log_softmax(dense_scores(w, u, v), axis=1)
    return -jnp.sum(weights * logp[jnp.arange(u.shape[0]), targets])


def dense_population_loss(w, task):
    return dense_loss(w, task.u, task.v, jnp.arange(task.n), task.p)


def dense_margins(w, task):
    s = dense_scores(w, task.u, task.v)
    diag = jnp.diagonal(s)
    off = jnp.where(jnp.eye(task.n, dtype=bool), -jnp.inf, s)
    return diag - jnp.max(off, axis=1)
