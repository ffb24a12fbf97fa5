"""What every Part A cell shares: the task of a config, block sizes, grid checks.

References:
    SPEC A.1 (task), E (per-cell seeds).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import jax
import numpy as np

from muonjax import _validate
from muonjax.gaussian.scores import DEFAULT_BLOCK_ELEMENTS
from muonjax.gaussian.task import GaussianTask, sample_task

#: Score entries one vmapped chunk may hold at once: 2^26 (256 MiB in float32), four
#: times the budget of one unbatched pass. Smaller per-seed blocks ran slower than a
#: plain loop over seeds on a 2-core CPU (N = 20,000, d = 128, 8 seeds: CPU time
#: 19.7 s with blocks of 48 rows, 15.7 s with 208, 17.3 s for the loop).
SWEEP_BLOCK_ELEMENTS = 4 * DEFAULT_BLOCK_ELEMENTS

#: The task identity of every Part A sweep: the same ``n, d, alpha, dtype`` and seed
#: give the same task, whatever the rule, step size or batch (SPEC E).
TASK_KEY = ("n", "d", "alpha", "dtype")


def sweep_block_size(
    n: int, batch: int, *, elements: int = SWEEP_BLOCK_ELEMENTS
) -> int:
    """Query-block size for one seed when ``batch`` seeds run under one ``vmap``.

    Each seed of a vmapped chunk holds its own ``(block, n)`` score block, so the
    per-seed block is ``elements // (batch * n)`` (rounded down to a multiple of 8,
    at least 8): the whole chunk then holds about ``elements`` score entries. The
    default, :data:`SWEEP_BLOCK_ELEMENTS`, is four times the budget of one unbatched
    pass (:func:`muonjax.default_block_size`).

    Args:
        n: number of candidates (items).
        batch: seeds (and batched cells) per vmapped call, i.e. the chunk size.
        elements: score entries the chunk may hold.
    """
    n = _validate.positive_int("n", n)
    batch = _validate.positive_int("batch", batch)
    elements = _validate.positive_int("elements", elements)
    b = elements // (batch * n)
    return max(8, b - b % 8)


def task_of(config: Mapping[str, Any], key: jax.Array) -> GaussianTask:
    """The task of a cell: ``n``, ``d``, ``alpha``, ``kappa_v`` and ``dtype``."""
    return sample_task(
        config["n"],
        config["d"],
        config["alpha"],
        key=key,
        kappa_v=config.get("kappa_v", 0.0),
        dtype=config.get("dtype", "float32"),
    )


def grid(
    n: int, dims: Sequence[int], alphas: Sequence[float]
) -> tuple[int, tuple[int, ...], tuple[float, ...]]:
    """Validated ``(n, dims, alphas)``: non-empty, sizes >= 1, alpha >= 0."""
    n = _validate.positive_int("n", n)
    dims = tuple(_validate.positive_int("dims", d) for d in dims)
    if not dims:
        raise ValueError(
            f"dims must hold at least one dimension (must be non-empty), got {dims}"
        )
    for a in alphas:
        _validate.real("alphas", a, lower=0.0)
    if not alphas:
        raise ValueError(
            f"alphas must hold at least one value (must be non-empty), got {alphas}"
        )
    return n, dims, tuple(float(a) for a in alphas)


def check_update_dtype(update_dtype: str | None) -> None:
    """A floating dtype or ``None`` (float64 itself is checked when a cell runs)."""
    if update_dtype is not None and not np.issubdtype(
        np.dtype(update_dtype), np.floating
    ):
        raise ValueError(
            f"update_dtype must be a floating dtype, got {update_dtype=!r}"
        )
