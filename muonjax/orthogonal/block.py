"""Group-block-symmetric K x K matrices, stored with ``O(M^2)`` numbers.

A ``K x K`` matrix ``X`` (``K = M C``, indices grouped as in the task) is
*block symmetric* when it commutes with every permutation that shuffles queries and
answers together inside the groups. Then it has three kinds of entries:

- ``X[j, j] = diag[h]`` for ``j`` in group ``h``,
- ``X[i, j] = off[h, h]`` for ``i != j`` both in group ``h`` (absent when ``C = 1``),
- ``X[i, j] = off[g, h]`` for ``i`` in group ``g != h`` and ``j`` in group ``h``.

:class:`BlockMatrix` stores ``(diag, off)``: the *entry representation*. Linear maps
and entrywise maps (sign, Adam's moment updates) act on it exactly as on the dense
matrix. In the algebraic form ``X = kron(diag(a), I_C) + kron(off, J_C)`` with
``a = diag - diag(off)`` and ``J_C`` the all-ones matrix, ``X`` acts as ``a_h`` on
vectors that sum to zero inside each group, and as the ``M x M`` matrix
``S = diag(a) + C off`` on the span of the normalised group indicators. Both
subspaces are invariant under ``X`` and ``X^T``, so the polar factor is
``kron(diag(sign a), I_C) + kron((polar(S) - diag(sign a)) / C, J_C)``: an ``M x M``
SVD instead of a ``K x K`` one.

Muon from ``W_0 = 0`` keeps the logits block symmetric (Prop. 6.1, SPEC B.3
[summary]; exact by equivariance: the loss is invariant under the within-group
permutations and ``polar(Pi G Pi^T) = Pi polar(G) Pi^T``), and so do GD, TRA-SignGD
and, with one-hot embeddings, SignGD and Adam. The block path of
:func:`muonjax.orthogonal.run` relies on this; a test checks it against the dense
path.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float

from muonjax import _validate


class BlockMatrix(NamedTuple):
    """Entry representation of a group-block-symmetric ``K x K`` matrix.

    Attributes:
        diag: ``(M,)`` diagonal entry of each group.
        off: ``(M, M)``; ``off[g, h]`` is the entry in rows of group ``g`` and columns
            of group ``h`` off the diagonal (rows are answers, columns queries).
            ``off[h, h]`` means nothing when ``C = 1`` and is kept at zero there.
    """

    diag: Float[Array, " M"]
    off: Float[Array, "M M"]


def zeros_block(num_groups: int, dtype: object = jnp.float32) -> BlockMatrix:
    """The zero block matrix."""
    dt = _validate.float_dtype("dtype", dtype)
    return BlockMatrix(
        jnp.zeros((num_groups,), dt), jnp.zeros((num_groups, num_groups), dt)
    )


def block_to_dense(x: BlockMatrix, group_size: int) -> Float[Array, "K K"]:
    """The dense ``K x K`` matrix of a :class:`BlockMatrix` (small sizes only)."""
    c = _validate.positive_int("group_size", group_size)
    dense = jnp.kron(x.off, jnp.ones((c, c), x.off.dtype))
    k = dense.shape[0]
    return dense.at[jnp.arange(k), jnp.arange(k)].set(jnp.repeat(x.diag, c))


def dense_to_block(x: Float[Array, "K K"], group_size: int) -> BlockMatrix:
    """Orthogonal projection of a dense matrix onto the block-symmetric ones.

    Each kind of entry is replaced by its mean (diagonal entries of a group; off-
    diagonal entries of a diagonal block; all entries of an off-diagonal block).

    Args:
        x: ``(K, K)`` matrix, ``K`` a multiple of ``group_size``.
        group_size: ``C``.

    Returns:
        The :class:`BlockMatrix` of the projection.
    """
    c = _validate.positive_int("group_size", group_size)
    k = x.shape[0]
    _validate.shape("x", x, (k, k))
    if k % c:
        raise ValueError(f"x's size K={k} must be a multiple of group_size={c}")
    m = k // c
    diag_entries = jnp.diagonal(x).reshape(m, c)
    block_sums = x.reshape(m, c, m, c).sum(axis=(1, 3))
    diag_sums = diag_entries.sum(axis=1)
    counts = jnp.full((m, m), float(c * c)) - jnp.eye(m) * c
    off_sums = block_sums - jnp.diag(diag_sums)
    off = jnp.where(counts > 0, off_sums / jnp.maximum(counts, 1.0), 0.0)
    return BlockMatrix(diag_entries.mean(axis=1), off.astype(x.dtype))


def block_symmetry_defect(x: Float[Array, "K K"], group_size: int) -> Float[Array, ""]:
    """``||X - proj(X)||_F / ||X||_F``: 0 exactly for block-symmetric ``X``.

    Returns 0 for ``X = 0``. References: Prop. 6.1, SPEC B.3 [summary].
    """
    proj = block_to_dense(dense_to_block(x, group_size), group_size)
    norm = jnp.linalg.norm(x)
    return jnp.where(
        norm > 0, jnp.linalg.norm(x - proj) / jnp.where(norm > 0, norm, 1), 0
    )


def block_frobenius_norm(x: BlockMatrix, group_size: int) -> Float[Array, ""]:
    """Frobenius norm of the dense matrix, from the entry representation."""
    c = group_size
    m = x.diag.shape[0]
    counts = jnp.full((m, m), float(c * c), x.diag.dtype) - jnp.eye(m) * c
    return jnp.sqrt(c * jnp.sum(x.diag**2) + jnp.sum(counts * x.off**2))


def block_max_abs(x: BlockMatrix, group_size: int) -> Float[Array, ""]:
    """Largest absolute entry (the max-norm) of the dense matrix."""
    m = x.diag.shape[0]
    exists = jnp.ones((m, m), bool) if group_size > 1 else ~jnp.eye(m, dtype=bool)
    off = jnp.where(exists, jnp.abs(x.off), 0)
    return jnp.maximum(jnp.max(jnp.abs(x.diag)), jnp.max(off, initial=0.0))


def block_polar(
    x: BlockMatrix, group_size: int, *, rtol: ArrayLike | None = None
) -> BlockMatrix:
    """Polar factor of a block-symmetric matrix, zero singular values mapped to 0.

    The singular values of the dense ``X`` are ``|a_h|`` (each ``C - 1`` times; none
    when ``C = 1``) and those of ``S = diag(a) + C off``. As in
    :func:`muonjax.polar`, the ones ``<= rtol * s_max`` count as zero, with
    ``rtol`` default ``K * eps(dtype)``.

    Args:
        x: the matrix.
        group_size: ``C``.
        rtol: relative zero tolerance.

    Returns:
        :class:`BlockMatrix` of ``polar(X)``, equal to ``muonjax.polar`` of the dense
        matrix up to rounding.

    References:
        SPEC B.1 (polar is equivariant under orthogonal maps) [summary]; the block
        reduction is [derived].
    """
    c = _validate.positive_int("group_size", group_size)
    m = x.diag.shape[0]
    dt = x.diag.dtype
    if rtol is None:
        rtol = m * c * jnp.finfo(dt).eps
    a = x.diag - jnp.diagonal(x.off)
    s_mat = jnp.diag(a) + c * x.off
    # LAPACK's QR-based SVD (gesvd), not the default divide and conquer (gesdd):
    # on a loaded 2-core CPU, M = 64, float64, gesdd took 2-80 ms per call (it
    # fights for threads), gesvd a steady ~1 ms; both are backward stable.
    u, s, vt = jax.lax.linalg.svd(
        s_mat, full_matrices=False, algorithm=jax.lax.linalg.SvdAlgorithm.QR
    )
    s_max = jnp.max(s)
    if c > 1:
        s_max = jnp.maximum(s_max, jnp.max(jnp.abs(a)))
    floor = jnp.asarray(rtol, dt) * s_max
    polar_s = jnp.matmul(
        u * (s > floor).astype(dt)[None, :], vt, precision=jax.lax.Precision.HIGHEST
    )
    if c > 1:
        sign_a = jnp.where(jnp.abs(a) > floor, jnp.sign(a), 0).astype(dt)
    else:
        sign_a = jnp.zeros_like(a)
    off = (polar_s - jnp.diag(sign_a)) / c
    if c == 1:
        off = off * (1 - jnp.eye(m, dtype=dt))
        return BlockMatrix(jnp.diagonal(polar_s), off)
    return BlockMatrix(sign_a + jnp.diagonal(off), off)


def block_sign(x: BlockMatrix) -> BlockMatrix:
    """Entrywise sign (the entry representation makes it exact)."""
    return jax.tree.map(jnp.sign, x)
