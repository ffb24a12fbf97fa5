"""Recovery and capacity measures (SPEC A.4).

Item ``i`` is recovered when ``argmax_j s_ij = i`` strictly, i.e. when its margin
``s_ii - max_{j != i} s_ij`` is > 0. ``jnp.argmax`` returns the first maximum, so a
tie would count as a recovery for the lower index; the margin does not have that
flaw, and it is what every measure here is built on.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
from jaxtyping import Array, Bool, Float, Int

from muonjax import _validate
from muonjax.gaussian.scores import population_pass
from muonjax.gaussian.task import GaussianTask


class Capacity(NamedTuple):
    """The three capacity measures, always reported together (SPEC A.4).

    Attributes:
        count: number of recovered items.
        prefix: largest ``k`` such that items of rank ``1..k`` are all recovered
            (the theorems speak of "all items of rank up to d_t" [quoted]).
        weighted_accuracy: ``sum_i p_i [i recovered]``.
    """

    count: Int[Array, ""]  # type: ignore[assignment]  # shadows tuple.count
    prefix: Int[Array, ""]
    weighted_accuracy: Float[Array, ""]


class Metrics(NamedTuple):
    """Population loss and capacity of a memory ``W`` on a task."""

    loss: Float[Array, ""]
    count: Int[Array, ""]  # type: ignore[assignment]  # shadows tuple.count
    prefix: Int[Array, ""]
    weighted_accuracy: Float[Array, ""]


def recovered(margins: Float[Array, " n"]) -> Bool[Array, " n"]:
    """Recovery mask: ``margin > 0`` (a tie is not a recovery)."""
    return margins > 0


def capacity_from_mask(mask: Bool[Array, " n"], p: Float[Array, " n"]) -> Capacity:
    """Count, prefix and weighted accuracy of a recovery mask.

    Args:
        mask: ``(n,)`` booleans, items in decreasing frequency order.
        p: ``(n,)`` item frequencies.

    Example:
        >>> m = jnp.array([True, True, False, True])
        >>> capacity_from_mask(m, jnp.array([0.4, 0.3, 0.2, 0.1])).prefix
        Array(2, dtype=int32)
    """
    _validate.shape("p", p, (mask.shape[0],))
    n = mask.shape[0]
    count = jnp.sum(mask, dtype=jnp.int32)
    # Index of the first unrecovered item is the prefix length; n if there is none.
    first_miss = jnp.argmin(mask)  # first False (argmin of bools)
    prefix = jnp.where(jnp.all(mask), n, first_miss).astype(jnp.int32)
    weighted = jnp.sum(jnp.where(mask, p, jnp.zeros_like(p)))
    return Capacity(count=count, prefix=prefix, weighted_accuracy=weighted)


def capacity(
    w: Float[Array, "d_out d_in"], task: GaussianTask, *, block_size: int | None = None
) -> Capacity:
    """Capacity of ``W`` on the task, from blockwise margins (``2 n^2 d`` flops)."""
    res = population_pass(
        w, task, with_loss=False, with_grad=False, block_size=block_size
    )
    return capacity_from_mask(recovered(res.margins), task.p)


def evaluate(
    w: Float[Array, "d_out d_in"], task: GaussianTask, *, block_size: int | None = None
) -> Metrics:
    """Population loss and the three capacity measures of ``W`` in one pass."""
    res = population_pass(w, task, with_grad=False, block_size=block_size)
    cap = capacity_from_mask(recovered(res.margins), task.p)
    return Metrics(res.loss, *cap)


def metrics_from_pass(margins: jax.Array, loss: jax.Array, p: jax.Array) -> Metrics:
    """Assemble :class:`Metrics` from a pass's margins and loss."""
    return Metrics(loss, *capacity_from_mask(recovered(margins), p))
