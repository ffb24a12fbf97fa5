"""Loss, gradient and accuracy of the orthogonal memory, in three coordinate systems.

With orthonormal ``q_in, q_out`` and norm ``r``, write the memory in task
coordinates ``A = q_out^T W q_in`` (``K x K``). The logits are ``Z = r^2 A`` (SPEC B.1:
"logits scale as r^2"), and with ``Phat[i, j] = phat_{i|j} = softmax_i(Z[:, j])``,

    dL/dZ = (Phat - P) diag(p),
    grad_A L = r^2 (Phat - P) diag(p),
    grad_W L = Etil (dL/dZ) E^T = r^2 q_out (Phat - P) diag(p) q_in^T.

So the SPEC's ``Gh = (Phat - P) diag(p)`` is the gradient in logit coordinates, and
the gradient in the task coordinates of the memory carries one factor ``r^2``
([derived]). Starting from ``W = 0``, an update rule that commutes with orthogonal
changes of basis (GD; Muon, since ``polar(Q1 X Q2^T) = Q1 polar(X) Q2^T``) keeps
``W = q_out A q_in^T`` and its steps in ``A`` are exactly the steps in ``W``. In logit
coordinates GD then moves ``Z`` by ``eta r^4 Gh`` and Muon by ``eta r^2 msgn(Gh)``.

Precision: the per-query loss is computed as ``l_j = log1p(sum_{i != j}
exp(z_ij - z_jj))`` (shifted when an other logit wins), and the diagonal of
``Phat - P`` as minus the sum of its off-diagonal entries (both columns sum to one),
so that losses far below float epsilon (Muon's exponential decay) and tiny gradients
keep their relative precision. Every matrix product states its precision
(``HIGHEST``: JAX's default on NVIDIA GPUs is TF32, 10 mantissa bits).

Three coordinate systems, one function family each:

- dense task coordinates ``A`` (``K x K``): :func:`task_state`;
- the original coordinates ``W`` (``d x d``): :func:`full_state`, and
  :func:`full_loss`, the loss written directly in ``W`` (a peer for ``jax.grad``);
- block-symmetric task coordinates (:class:`BlockMatrix`, ``O(M^2)``):
  :func:`block_state`.

References:
    SPEC B.1 [summary]; the scalings with r and the stable forms are [derived].
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

from muonjax.orthogonal.block import BlockMatrix
from muonjax.orthogonal.task import (
    HierarchicalTask,
    label_distribution,
    query_frequencies,
)


def _mm(a: jax.Array, b: jax.Array) -> jax.Array:
    """``a @ b`` at full precision (JAX's default on NVIDIA GPUs is TF32)."""
    return jnp.matmul(a, b, precision=jax.lax.Precision.HIGHEST)


class State(NamedTuple):
    """Loss, per-group measures and gradient at one point.

    Attributes:
        loss: population loss ``L = sum_j p_j L_j``.
        group_loss: ``(M,)`` mean per-query loss ``L_j`` over each group's queries.
        group_accuracy: ``(M,)`` fraction of each group's queries whose own answer has
            the strictly largest logit (a tie is a failure, as in SPEC A.4).
        grad: gradient in the path's coordinates (``A``, ``W`` or a
            :class:`BlockMatrix` holding the entries of the dense ``grad_A``).
        residual: ``Phat - P`` in logit coordinates, ``(K, K)`` or a
            :class:`BlockMatrix` (``-residual`` is the SPEC's ``P - Phat_t``).
    """

    loss: Float[Array, ""]
    group_loss: Float[Array, " M"]
    group_accuracy: Float[Array, " M"]
    grad: Any
    residual: Any


def _shifted_lse(shift: jax.Array, weight: jax.Array, axis: int) -> jax.Array:
    """``log(1 + sum weight * exp(shift))`` along ``axis``, accurate when tiny.

    ``shift`` holds ``z_i - z_self`` of the other candidates and ``weight`` their
    multiplicity (0 masks a candidate out).
    """
    present = weight > 0
    c = jnp.maximum(jnp.max(jnp.where(present, shift, -jnp.inf), axis=axis), 0.0)
    terms = jnp.where(present, weight * jnp.exp(shift - jnp.expand_dims(c, axis)), 0.0)
    # log(e^-c + S) + c = c + log1p(expm1(-c) + S): exact log1p(S) when c = 0.
    return c + jnp.log1p(jnp.expm1(-c) + jnp.sum(terms, axis=axis))


def logit_residual(
    z: Float[Array, "K K"], alpha: jax.Array
) -> tuple[Float[Array, " K"], Float[Array, "K K"], Float[Array, " K"]]:
    """Per-query loss, ``Phat - P`` and margins of a logit matrix (columns = queries).

    Returns:
        ``(L_j, Phat - P, margin_j)``, with ``margin_j = z_jj - max_{i != j} z_ij``
        (``+inf`` when ``K = 1``).
    """
    k = z.shape[0]
    eye = jnp.eye(k, dtype=bool)
    shift = z - jnp.diagonal(z)[None, :]  # z_ij - z_jj
    others = jnp.where(eye, 0.0, 1.0).astype(z.dtype)
    ell = _shifted_lse(shift, others, axis=0)
    # L_j = sum_i p_{i|j} (lse_j - z_ij) = ell_j - (alpha / K) sum_i (z_ij - z_jj).
    loss = ell - alpha / k * jnp.sum(shift, axis=0)
    off = jnp.where(eye, 0.0, jnp.exp(shift - ell[None, :]) - alpha / k)
    resid = off - jnp.diag(jnp.sum(off, axis=0))
    margin = -jnp.max(jnp.where(eye, -jnp.inf, shift), axis=0)
    return loss, resid, margin


def _group_means(x: jax.Array, task: HierarchicalTask) -> jax.Array:
    return x.reshape(task.num_groups, task.group_size).mean(axis=-1)


def _state_from_logits(
    z: Float[Array, "K K"], task: HierarchicalTask
) -> tuple[jax.Array, jax.Array, jax.Array, jax.Array]:
    loss_j, resid, margin = logit_residual(z, task.alpha)
    p = query_frequencies(task)
    acc = (margin > 0).astype(z.dtype)
    return (
        jnp.sum(p * loss_j),
        _group_means(loss_j, task),
        _group_means(acc, task),
        resid,
    )


def task_logits(a: Float[Array, "K K"], task: HierarchicalTask) -> Float[Array, "K K"]:
    """``Z = r^2 A``."""
    return task.norm**2 * a


def task_state(a: Float[Array, "K K"], task: HierarchicalTask) -> State:
    """Loss, group measures and ``grad_A L = r^2 (Phat - P) diag(p)`` at ``A``.

    Args:
        a: memory in task coordinates, ``(K, K)`` (answers x queries).
        task: the task.

    References:
        SPEC B.1 [summary]; the factor ``r^2`` is [derived].
    """
    loss, gl, ga, resid = _state_from_logits(task_logits(a, task), task)
    grad = task.norm**2 * resid * query_frequencies(task)[None, :]
    return State(loss, gl, ga, grad, resid)


def to_task(w: Float[Array, "d d"], task: HierarchicalTask) -> Float[Array, "K K"]:
    """Task coordinates ``A = q_out^T W q_in`` of a memory ``W``."""
    if task.q_in is None or task.q_out is None:
        return w
    return _mm(_mm(task.q_out.T, w), task.q_in)


def from_task(a: Float[Array, "K K"], task: HierarchicalTask) -> Float[Array, "d d"]:
    """The memory ``W = q_out A q_in^T`` of task coordinates ``A``."""
    if task.q_in is None or task.q_out is None:
        return a
    return _mm(_mm(task.q_out, a), task.q_in.T)


def full_state(w: Float[Array, "d d"], task: HierarchicalTask) -> State:
    """Loss, group measures and ``grad_W L = r^2 q_out (Phat - P) diag(p) q_in^T``."""
    a = to_task(w, task)
    loss, gl, ga, resid = _state_from_logits(task_logits(a, task), task)
    gz = resid * query_frequencies(task)[None, :]
    return State(loss, gl, ga, task.norm**2 * from_task(gz, task), resid)


def full_loss(w: Float[Array, "d d"], task: HierarchicalTask) -> Float[Array, ""]:
    """The loss written directly in ``W``, for ``jax.grad`` (a test peer).

    ``L(W) = sum_j p_j sum_i p_{i|j} (-log softmax_i(Etil_i^T W E_j))`` with dense
    ``E = r q_in``, ``Etil = r q_out`` (identity when ``None``) and dense ``P``.
    """
    k = task.num_queries
    eye = jnp.eye(k, dtype=w.dtype)
    e_in = task.norm * (eye if task.q_in is None else task.q_in)
    e_out = task.norm * (eye if task.q_out is None else task.q_out)
    z = _mm(_mm(e_out.T, w), e_in)
    logp = jax.nn.log_softmax(z, axis=0)
    p = query_frequencies(task)
    return -jnp.sum(p[None, :] * label_distribution(task) * logp)


def block_state(x: BlockMatrix, task: HierarchicalTask) -> State:
    """Loss, group measures and the entries of ``grad_A L`` for block-symmetric ``A``.

    A query of group ``h`` sees its own logit ``z_self = r^2 diag[h]`` and, for each
    group ``g``, ``n_gh = C - 1[g = h]`` other logits ``r^2 off[g, h]``. All of its
    measures follow from the shifts ``s_gh = r^2 (off[g, h] - diag[h])``:
    ``l_h = log(1 + sum_g n_gh e^{s_gh})``, ``L_h = l_h - (alpha/K) sum_g n_gh s_gh``,
    ``phat_gh = e^{s_gh - l_h}``; accuracy is ``max_{g: n_gh > 0} s_gh < 0``.

    Args:
        x: block-symmetric memory in task coordinates.
        task: the task (only ``group_weights``, ``group_size``, ``alpha``, ``norm``
            are used: the cost is ``O(M^2)`` whatever ``K``).

    Returns:
        :class:`State` whose ``grad`` is the :class:`BlockMatrix` of ``grad_A L``.

    References:
        SPEC B.1 [summary]; Prop. 6.1 for block symmetry; the reduction is [derived].
    """
    m, c, k = task.num_groups, task.group_size, task.num_queries
    r2 = task.norm**2
    dt = x.diag.dtype
    count = jnp.full((m, m), float(c), dt) - jnp.eye(m, dtype=dt)
    shift = r2 * (x.off - x.diag[None, :])
    ell = _shifted_lse(shift, count, axis=0)
    loss_h = ell - task.alpha / k * jnp.sum(count * shift, axis=0)
    present = count > 0
    off = jnp.where(present, jnp.exp(shift - ell[None, :]) - task.alpha / k, 0.0)
    diag = -jnp.sum(count * off, axis=0)
    margin = -jnp.max(jnp.where(present, shift, -jnp.inf), axis=0)
    acc = (margin > 0).astype(dt)
    p = task.group_weights / c
    grad = BlockMatrix(r2 * p * diag, r2 * off * p[None, :])
    resid = BlockMatrix(diag, off)
    return State(jnp.sum(task.group_weights * loss_h), loss_h, acc, grad, resid)
