"""The Gaussian associative-memory task (SPEC A.1).

Weight layout, stated once for the whole package: the memory ``W`` has shape
``(d_out, d_in)`` and maps an input embedding to the output space, so the score of
candidate ``j`` for query ``i`` is ``s_ij = v_j^T W u_i``. Embeddings are stored as
rows: ``task.u`` is ``(n, d_in)`` and ``task.v`` is ``(n, d_out)``. Items are indexed
``0 .. n-1`` in decreasing frequency, so item ``k`` (0-based) has rank ``k + 1``.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float

from muonjax import _validate


class GaussianTask(NamedTuple):
    """One draw of the Gaussian associative memory.

    Attributes:
        u: input embeddings, ``(n, d_in)``; row ``i`` is ``u_i``.
        v: output embeddings, ``(n, d_out)``; row ``i`` is ``v_i``.
        p: item frequencies, ``(n,)``, summing to one, non-increasing.

    References:
        Kim, Nichani, Wu, Bietti, Lee (2026), arXiv 2603.26554, Section 3.
    """

    u: Float[Array, "n d_in"]
    v: Float[Array, "n d_out"]
    p: Float[Array, " n"]

    @property
    def n(self) -> int:
        """Number of associations."""
        return self.u.shape[0]

    @property
    def d_in(self) -> int:
        """Input embedding dimension."""
        return self.u.shape[1]

    @property
    def d_out(self) -> int:
        """Output embedding dimension."""
        return self.v.shape[1]


def power_law_frequencies(
    n: int, alpha: ArrayLike, *, dtype: object = jnp.float32
) -> Float[Array, " n"]:
    """Zipf frequencies ``p_i = i^(-alpha) / sum_{k<=n} k^(-alpha)``, ``i = 1..n``.

    Args:
        n: number of items, >= 1.
        alpha: exponent, >= 0 (``alpha = 0`` is uniform). May be traced, so a sweep can
            vmap over it.
        dtype: floating dtype of the result.

    Returns:
        ``(n,)`` array of frequencies summing to one.

    References:
        SPEC A.1 [seed]; the theory assumes alpha > 1 [quoted], but any alpha >= 0 is
        accepted since Figure 1a shows alpha <= 1 too.
    """
    n = _validate.positive_int("n", n)
    _validate.real("alpha", alpha, lower=0.0)
    dt = _validate.float_dtype("dtype", dtype)
    rank = jnp.arange(1, n + 1, dtype=dt)
    # Work in logs, normalised by the first term, so that large alpha does not
    # underflow before the normalisation.
    logw = -jnp.asarray(alpha, dt) * jnp.log(rank)
    return jax.nn.softmax(logw)


def power_law_spectrum(
    d: int, kappa: ArrayLike, *, dtype: object = jnp.float32
) -> Float[Array, " d"]:
    """Trace-one covariance eigenvalues ``lambda_k proportional to k^(-kappa)``.

    ``kappa = 0`` gives ``1/d`` for every ``k``, the isotropic ``N(0, I_d / d)``.

    Args:
        d: dimension, >= 1.
        kappa: decay exponent, >= 0. May be traced.
        dtype: floating dtype of the result.

    Returns:
        ``(d,)`` eigenvalues summing to one, non-increasing.

    References:
        SPEC A.1 [seed, Figure 6 caption].
    """
    d = _validate.positive_int("d", d)
    _validate.real("kappa", kappa, lower=0.0)
    return power_law_frequencies(d, kappa, dtype=dtype)


def sample_task(
    n: int,
    d: int,
    alpha: ArrayLike,
    *,
    key: jax.Array,
    kappa_v: ArrayLike = 0.0,
    kappa_u: ArrayLike = 0.0,
    d_out: int | None = None,
    dtype: object = jnp.float32,
) -> GaussianTask:
    """Sample a Gaussian associative-memory task.

    ``u_i ~ N(0, Xi_u)`` and ``v_i ~ N(0, Xi_v)`` independently, with diagonal
    trace-one covariances of eigenvalues proportional to ``k^(-kappa)``; the default
    ``kappa = 0`` is ``N(0, I_d / d)``. Frequencies: :func:`power_law_frequencies`.

    Args:
        n: number of associations N, >= 1.
        d: input dimension (and output dimension unless ``d_out`` is given), >= 1.
        alpha: frequency exponent, >= 0.
        key: a JAX PRNG key (``jax.random.key``).
        kappa_v: spectral decay of the output covariance, >= 0 (Figure 6).
        kappa_u: spectral decay of the input covariance, >= 0.
        d_out: output dimension, default ``d``.
        dtype: floating dtype, float32 by default.

    Returns:
        A :class:`GaussianTask`.

    Example:
        >>> task = sample_task(1000, 32, 1.5, key=jax.random.key(0))
        >>> task.u.shape, task.p.sum().round(4)
        ((1000, 32), Array(1., dtype=float32))

    References:
        SPEC A.1; Kim et al. (2026), Figure 6 caption for the anisotropic case.
    """
    n = _validate.positive_int("n", n)
    d = _validate.positive_int("d", d)
    d_out = d if d_out is None else _validate.positive_int("d_out", d_out)
    _validate.real("alpha", alpha, lower=0.0)
    _validate.real("kappa_v", kappa_v, lower=0.0)
    _validate.real("kappa_u", kappa_u, lower=0.0)
    dt = _validate.float_dtype("dtype", dtype)
    key_u, key_v = jax.random.split(key)
    scale_u = jnp.sqrt(power_law_spectrum(d, kappa_u, dtype=dt))
    scale_v = jnp.sqrt(power_law_spectrum(d_out, kappa_v, dtype=dt))
    u = jax.random.normal(key_u, (n, d), dt) * scale_u[None, :]
    v = jax.random.normal(key_v, (n, d_out), dt) * scale_v[None, :]
    return GaussianTask(u=u, v=v, p=power_law_frequencies(n, alpha, dtype=dt))


def check_task(task: GaussianTask) -> None:
    """Validate the shapes (and, when concrete, the values) of a task."""
    if not isinstance(task, GaussianTask):
        raise ValueError(f"task must be a GaussianTask, got task={type(task).__name__}")
    _validate.shape("task.u", task.u, (None, None))
    n = task.u.shape[0]
    _validate.shape("task.v", task.v, (n, None))
    _validate.shape("task.p", task.p, (n,))
    if n < 1:
        raise ValueError(f"the task must hold at least one item, got n={n}")
