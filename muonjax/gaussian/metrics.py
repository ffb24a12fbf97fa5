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
from muonjax.gaussian.screened import screened_recovery
from muonjax.gaussian.task import GaussianTask, check_task


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
    w: Float[Array, "d_out d_in"],
    task: GaussianTask,
    *,
    block_size: int | None = None,
    screen: str | None = None,
) -> Capacity:
    """Capacity of ``W`` on the task, from blockwise margins (``2 n^2 d`` flops).

    Args:
        w: memory, ``(d_out, d_in)``.
        task: the task.
        block_size: queries per block.
        screen: ``None`` for the exact pass; a reduced-precision format of
            :data:`muonjax.SCREENS` to screen first and recheck exactly only the
            items the error bound cannot decide (same result, bit for bit; see
            :func:`screened_capacity`, which also reports how many were rechecked).
    """
    if screen is not None:
        return screened_capacity(w, task, screen=screen, block_size=block_size).capacity
    res = population_pass(
        w, task, with_loss=False, with_grad=False, block_size=block_size
    )
    return capacity_from_mask(recovered(res.margins), task.p)


class ScreenedCapacity(NamedTuple):
    """Capacity from a screened pass and the number of items it rechecked.

    Attributes:
        capacity: the three measures, equal to the exact pass's bit for bit.
        rechecked: number of items whose screened margin was within its error bound
            of zero and which were recomputed exactly.
    """

    capacity: Capacity
    rechecked: Int[Array, ""]


def screened_capacity(
    w: Float[Array, "d_out d_in"],
    task: GaussianTask,
    *,
    screen: str = "bf16x3",
    block_size: int | None = None,
) -> ScreenedCapacity:
    """Capacity through a reduced-precision screen and an exact recheck.

    Every item is scored in ``screen`` (bfloat16 or TF32 products with float32
    accumulation: tensor cores on a GPU, emulated on a CPU), its margin is decided
    where it lies farther from zero than a rigorous bound of its error, and the
    other items are recomputed exactly (:func:`muonjax.screened_recovery`). The
    count, prefix and weighted accuracy equal :func:`capacity`'s bit for bit.

    Args:
        w: memory, ``(d_out, d_in)``, float32.
        task: the task, float32.
        screen: one of :data:`muonjax.SCREENS`.
        block_size: queries per block (the exact pass's).

    Returns:
        A :class:`ScreenedCapacity`.

    References:
        SPEC A.4; :mod:`muonjax.gaussian.screened` for the bound.
    """
    check_task(task)
    _validate.shape("w", w, (task.d_out, task.d_in))
    _validate.finite_array("w", w)
    block_size = _validate.optional_positive_int("block_size", block_size)
    res = screened_recovery(
        w, task.u, jnp.arange(task.n), task.v, screen=screen, block_size=block_size
    )
    return ScreenedCapacity(
        capacity=capacity_from_mask(res.recovered, task.p),
        rechecked=jnp.sum(res.rechecked, dtype=jnp.int32),
    )


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
