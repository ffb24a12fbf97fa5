"""Shared helpers of the Part B tests: float64 random tasks and block matrices."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from muonjax import orthogonal as og

F64 = jnp.float64
# Float64 results that should agree up to rounding accumulated over a few dozen
# steps (each step a K x K SVD or a softmax): relative 1e-10 is ~10^6 ulps.
RTOL64 = 1e-10


def random_task(*, alpha=0.2, norm=1.3, dim=14, seed=0, m=3, c=4):
    """A small float64 power-law task in a random orthonormal basis (d > K)."""
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
    """A random float64 :class:`BlockMatrix` with ``M = m``."""
    kd, ko = jax.random.split(jax.random.key(seed))
    return og.BlockMatrix(
        jax.random.normal(kd, (m,), F64), jax.random.normal(ko, (m, m), F64)
    )
