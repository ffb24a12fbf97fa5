"""The orthogonal associative memory with a hierarchical spectrum (SPEC B.1).

K = M C query-answer pairs. Query ``j`` (0-based) belongs to group ``g = j // C``
(groups are stored group-major), and has frequency ``p_j = ptil_g / C``. Its answer
is ``j`` with probability ``1 - alpha`` and uniform over the ``K`` answers otherwise:
``p_{i|j} = (1 - alpha) 1[i = j] + alpha / K``.

Embeddings are orthogonal with norm ``r``: ``E_j = r q_in[:, j]`` (queries) and
``Etil_i = r q_out[:, i]`` (answers), where ``q_in`` and ``q_out`` are ``(d, K)`` with
orthonormal columns; ``None`` stands for the identity (``d = K``, one-hot). The
memory ``W`` is ``(d_out, d_in) = (d, d)`` as everywhere in muonjax, and the logit of
answer ``i`` for query ``j`` is ``z_ij = Etil_i^T W E_j``, so ``Z = r^2 q_out^T W q_in``
(logits scale as ``r^2``). Logit matrices are laid out ``(answers, queries)``: column
``j`` holds the ``K`` logits of query ``j``.

References:
    Li, Wang, Zhong, Lu, Wang (2026), arXiv 2602.05725; SPEC B.1 ([summary] for the
    form of the spectrum, the noise and the embeddings).
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float

from muonjax import _validate


@functools.partial(
    jax.tree_util.register_dataclass,
    data_fields=("group_weights", "alpha", "norm", "q_in", "q_out"),
    meta_fields=("group_size",),
)
@dataclasses.dataclass(frozen=True)
class HierarchicalTask:
    """One orthogonal associative memory with a hierarchical frequency spectrum.

    A pytree: the arrays are leaves (so a batch of tasks, e.g. random embeddings
    drawn from a batch of keys, vmaps), the group size is static.

    Attributes:
        group_weights: ``(M,)`` group weights ``ptil_g``, positive, summing to one.
        alpha: label noise in ``[0, 1)``, scalar array.
        norm: embedding norm ``r > 0``, scalar array.
        q_in: ``(d, K)`` orthonormal query directions, or ``None`` (identity).
        q_out: ``(d, K)`` orthonormal answer directions, or ``None`` (identity).
        group_size: queries per group ``C`` (static).

    References:
        SPEC B.1 [summary].
    """

    group_weights: Float[Array, " M"]
    alpha: Float[Array, ""]
    norm: Float[Array, ""]
    q_in: Float[Array, "d K"] | None
    q_out: Float[Array, "d K"] | None
    group_size: int

    @property
    def num_groups(self) -> int:
        """Number of frequency groups ``M``."""
        return self.group_weights.shape[-1]

    @property
    def num_queries(self) -> int:
        """Number of query-answer pairs ``K = M C``."""
        return self.num_groups * self.group_size

    @property
    def dim(self) -> int:
        """Embedding dimension ``d`` (``K`` for the identity embedding)."""
        return self.num_queries if self.q_in is None else self.q_in.shape[-2]

    @property
    def is_identity(self) -> bool:
        """True for one-hot embeddings (``E = Etil = r I``, ``d = K``)."""
        return self.q_in is None

    @property
    def dtype(self) -> jnp.dtype:
        """Floating dtype of the task's arrays."""
        return self.group_weights.dtype


def power_law_group_weights(
    num_groups: int, beta: ArrayLike, *, dtype: object = jnp.float32
) -> Float[Array, " M"]:
    """Group weights ``ptil_g proportional to g^(-beta)``, ``g = 1..M``, summing to one.

    Args:
        num_groups: number of groups ``M >= 1``.
        beta: decay exponent, ``>= 0`` (the theory takes ``beta > 1``, SPEC B.1;
            ``beta = 0`` is the uniform spectrum). May be traced.
        dtype: floating dtype.

    Returns:
        ``(M,)`` non-increasing weights.

    References:
        SPEC B.1 [seed: "power-decay"; summary for the form].
    """
    num_groups = _validate.positive_int("num_groups", num_groups)
    _validate.real("beta", beta, lower=0.0)
    dt = _validate.float_dtype("dtype", dtype)
    g = jnp.arange(1, num_groups + 1, dtype=dt)
    return jax.nn.softmax(-jnp.asarray(beta, dt) * jnp.log(g))


def random_orthonormal(
    dim: int, k: int, *, key: jax.Array, dtype: object = jnp.float32
) -> Float[Array, "d k"]:
    """``k`` Haar-random orthonormal columns in ``R^dim`` (QR of a Gaussian matrix).

    Args:
        dim: ambient dimension ``d >= k``.
        k: number of columns.
        key: PRNG key.
        dtype: floating dtype.

    Returns:
        ``(dim, k)`` matrix ``Q`` with ``Q^T Q = I_k``.
    """
    dt = _validate.float_dtype("dtype", dtype)
    return _haar_columns(key[None], dim, k, dt)[0]


@functools.partial(jax.jit, static_argnums=(1, 2, 3))
def _haar_columns(keys: jax.Array, dim: int, k: int, dt: jnp.dtype) -> jax.Array:
    """``(len(keys), dim, k)``: one Haar matrix per key, from ONE batched QR call.

    One call, not one per matrix: jaxlib 0.10.2's CPU LAPACK kernels deadlock when
    as many of them run at once as XLA's intra-op pool has threads (2 on a 2-core
    machine), and two independent QRs in one program may run at once.
    """
    x = jax.vmap(lambda key: jax.random.normal(key, (dim, k), dt))(keys)
    q, r = jnp.linalg.qr(x)
    # Fix the signs of R's diagonal so that Q is Haar distributed.
    signs = jnp.where(jnp.diagonal(r, axis1=-2, axis2=-1) < 0, -1.0, 1.0).astype(dt)
    return q * signs[:, None, :]


def hierarchical_task(
    group_weights: ArrayLike,
    group_size: int,
    *,
    alpha: ArrayLike = 0.0,
    norm: ArrayLike = 1.0,
    embedding: str = "identity",
    dim: int | None = None,
    key: jax.Array | None = None,
    dtype: object = jnp.float32,
) -> HierarchicalTask:
    """Build a task from any list of group weights.

    Args:
        group_weights: ``(M,)`` positive weights ``ptil_g``; normalised to sum to one.
        group_size: queries per group ``C >= 1``.
        alpha: label noise in ``[0, 1)``.
        norm: embedding norm ``r > 0`` (logits scale as ``r^2``).
        embedding: ``"identity"`` (one-hot, ``d = K``) or ``"random"`` (independent
            Haar-random orthonormal ``q_in`` and ``q_out`` in ``R^dim``).
        dim: embedding dimension ``d >= K``; default ``K``. Must be ``K`` (or
            ``None``) for the identity embedding.
        key: PRNG key, needed for ``embedding="random"``.
        dtype: floating dtype (float32 default; float64 needs JAX's x64 mode).

    Returns:
        A :class:`HierarchicalTask`.

    Example:
        >>> task = hierarchical_task([0.5, 0.3, 0.2], 4, alpha=0.1)
        >>> task.num_queries, task.dim
        (12, 12)

    References:
        SPEC B.1 [summary].
    """
    group_size = _validate.positive_int("group_size", group_size)
    dt = _validate.float_dtype("dtype", dtype)
    w = jnp.asarray(group_weights, dt)
    if w.ndim != 1 or w.shape[0] < 1:
        raise ValueError(
            "group_weights must be a non-empty 1-d list of weights, got shape "
            f"{tuple(w.shape)} (M = num_groups must be >= 1)"
        )
    _validate.real("group_weights", w, lower=0.0, lower_open=True)
    _validate.real("alpha", alpha, lower=0.0, upper=1.0, upper_open=True)
    _validate.real("norm", norm, lower=0.0, lower_open=True)
    k = w.shape[0] * group_size
    if dim is not None:
        dim = _validate.positive_int("dim", dim)
        if dim < k:
            raise ValueError(f"dim must be >= K = M C = {k}, got dim={dim}")
    if embedding == "identity":
        if dim not in (None, k):
            raise ValueError(
                f"the identity embedding has dim = K = {k}, got dim={dim}; use "
                "embedding='random' for d > K"
            )
        q_in = q_out = None
    elif embedding == "random":
        if key is None:
            raise ValueError("embedding='random' needs key=jax.random.key(...)")
        d = k if dim is None else dim
        # q_in and q_out from the keys split(key), in one batched QR (see
        # _haar_columns).
        q_in, q_out = _haar_columns(jax.random.split(key), d, k, dt)
    else:
        raise ValueError(
            f"embedding must be 'identity' or 'random', got embedding={embedding!r}"
        )
    return HierarchicalTask(
        group_weights=w / jnp.sum(w),
        alpha=jnp.asarray(alpha, dt),
        norm=jnp.asarray(norm, dt),
        q_in=q_in,
        q_out=q_out,
        group_size=group_size,
    )


def power_law_task(
    num_groups: int, group_size: int, beta: ArrayLike, **options: Any
) -> HierarchicalTask:
    """The power-law preset: ``ptil_g proportional to g^(-beta)``.

    Args:
        num_groups: ``M >= 1``.
        group_size: ``C >= 1``.
        beta: ``>= 0``.
        **options: ``alpha``, ``norm``, ``embedding``, ``dim``, ``key``, ``dtype``,
            keyword-only, as in :func:`hierarchical_task` (float32 by default).

    References:
        SPEC B.1 [seed: "power-decay"; summary for the form].
    """
    num_groups = _validate.positive_int("num_groups", num_groups)
    _validate.real("beta", beta, lower=0.0)
    dtype = options.get("dtype", jnp.float32)
    weights = power_law_group_weights(num_groups, beta, dtype=dtype)
    return hierarchical_task(weights, group_size, **options)


def query_frequencies(task: HierarchicalTask) -> Float[Array, " K"]:
    """Per-query frequencies ``p_j = ptil_{g(j)} / C``, group-major order."""
    return jnp.repeat(task.group_weights / task.group_size, task.group_size, axis=-1)


def group_of_query(task: HierarchicalTask) -> np.ndarray:
    """``(K,)`` group index of each query (``j // C``)."""
    return np.arange(task.num_queries) // task.group_size


def label_distribution(task: HierarchicalTask) -> Float[Array, "K K"]:
    """Dense ``P`` with ``P[i, j] = p_{i|j} = (1 - alpha) 1[i = j] + alpha / K``.

    Columns are queries; every column sums to one. ``K x K``: small tasks only.
    """
    k = task.num_queries
    a = task.alpha
    return (1 - a) * jnp.eye(k, dtype=task.dtype) + a / k


def _noise_levels(task: HierarchicalTask) -> tuple[jax.Array, jax.Array]:
    """``(p_{j|j}, p_{i|j} for i != j)``."""
    k = task.num_queries
    return 1 - task.alpha + task.alpha / k, task.alpha / k


def conditional_entropy(task: HierarchicalTask) -> Float[Array, ""]:
    """``H(p_{.|j})``, the same for every query: the per-query optimal loss."""
    k = task.num_queries
    same, other = _noise_levels(task)
    return -(
        jax.scipy.special.xlogy(same, same)
        + (k - 1) * jax.scipy.special.xlogy(other, other)
    )


def query_optimal_loss(task: HierarchicalTask) -> Float[Array, " K"]:
    """Per-query optima ``L*_j = H(p_{.|j})`` (equal for all ``j``), ``(K,)``.

    References:
        SPEC B.1 [summary].
    """
    return jnp.full((task.num_queries,), conditional_entropy(task), task.dtype)


def optimal_loss(task: HierarchicalTask) -> Float[Array, ""]:
    """``L* = sum_j p_j H(p_{.|j})``; 0 without noise. SPEC B.1 [summary]."""
    return conditional_entropy(task)


def optimal_margin(task: HierarchicalTask) -> Float[Array, ""]:
    """Logit gap of the optimum, ``log(p_{j|j} / p_{i|j}) = log(1 + (1 - alpha) K /
    alpha)``; ``+inf`` without noise.

    Every loss-minimising logit column is ``m* e_j`` plus a constant. Muon moves every
    gap by about ``eta`` per step, whence the SPEC's ``T* ~ log K / eta``
    ([derived] reading of SPEC B.3, Thm 5.1).
    """
    k = task.num_queries
    return jnp.log1p((1 - task.alpha) * k / task.alpha)


def task_summary(task: HierarchicalTask) -> dict[str, object]:
    """Sizes and parameters of a (concrete) task as plain Python values."""
    return {
        "M": task.num_groups,
        "C": task.group_size,
        "K": task.num_queries,
        "d": task.dim,
        "alpha": float(task.alpha),
        "r": float(task.norm),
        "embedding": "identity" if task.is_identity else "random",
        "dtype": str(task.dtype),
    }
