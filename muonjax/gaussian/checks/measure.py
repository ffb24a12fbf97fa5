"""Checks measure through the sweep engine, as the figures do, sharing cells.

:func:`measure` runs a sweep with :func:`muonjax.run_sweep` (root key
``jax.random.key(0)``, inside ``jax.enable_x64(True)``: the figures' settings) and
returns its records; :class:`CellCache` lets the checks of one run share the cells
they have in common; :func:`one_step_table` is the one-step measurement of the
catalogue (float32 tasks, float64 updates, the ``rank`` of ``W_1``).

References:
    SPEC E (per-cell keys); SPEC A.5.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import jax
import numpy as np

from muonjax.engine.registry import (
    CHECK_PRESETS,
    CheckContext,
)
from muonjax.engine.sweep import Cell, CellResult, Sweep, run_sweep
from muonjax.engine.table import Table, table_from_results
from muonjax.gaussian.analysis.tables import seed_matrix
from muonjax.gaussian.cells import one_step_sweep


class CellCache:
    """A :class:`muonjax.engine.sweep.CellStore` in a dict: cells measured once a run.

    Keys are the cell function and the cell's configuration hash, so two checks
    that need the same cell (same sizes, rule and settings) share it.
    """

    def __init__(self, cache: dict[Any, Any], sweep: Sweep):
        self.cache = cache
        self.fn = f"{sweep.cell_fn.__module__}.{sweep.cell_fn.__qualname__}"

    def load(self, cell: Cell) -> CellResult | None:
        """The cell's stored seeds, or ``None``."""
        return self.cache.get(("cell", self.fn, cell.cell_id))

    def save(self, result: CellResult) -> None:
        """Keep ``result`` for the other checks of the run."""
        self.cache[("cell", self.fn, result.cell.cell_id)] = result


def measure(
    sweep: Sweep,
    *,
    seeds: int,
    chunk_size: int = 16,
    cache: dict[Any, Any] | None = None,
) -> Table:
    """Run ``sweep`` as the figures do and return its records as a table.

    :func:`muonjax.run_sweep` with the root key ``jax.random.key(0)`` (the figures'
    default ``root_seed``), inside ``jax.enable_x64(True)`` (as ``muonjax run`` scopes
    the figures), with ``cache`` as a store so that checks share finished cells.
    """
    store = None if cache is None else CellCache(cache, sweep)
    with jax.enable_x64(True):
        res = run_sweep(
            sweep,
            seeds=seeds,
            key=jax.random.key(0),
            chunk_size=chunk_size,
            store=store,
        )
    columns, rows = table_from_results(sweep, res.results)
    data = {c: np.asarray([r[i] for r in rows]) for i, c in enumerate(columns)}
    return Table(list(columns), data)


def one_step_table(
    sizes: Mapping[str, Any],
    rules: Sequence[str],
    *,
    dims: Sequence[int] | None = None,
    alphas: Sequence[float] | None = None,
    cache: dict[Any, Any] | None = None,
    **options: Any,
) -> Table:
    """One population step of ``rules`` at a check's sizes: :func:`one_step_sweep`.

    The figures' settings (float32 tasks, float64 updates, task key ``(n, d, alpha,
    dtype)``), without the loss, with the ``rank`` of ``W_1``.
    """
    chunk = int(sizes.get("seed_chunk", 16))
    sweep = one_step_sweep(
        n=sizes["n"],
        dims=tuple(sizes["dims"] if dims is None else dims),
        alphas=tuple(float(a) for a in (alphas or (sizes["alpha"],))),
        rules=tuple(rules),
        update_dtype=sizes.get("update_dtype", "float64"),
        with_loss=False,
        with_rank=True,
        dtype=sizes.get("dtype", "float32"),
        chunk_size=chunk,
        **options,
    )
    return measure(sweep, seeds=sizes["seeds"], chunk_size=chunk, cache=cache)


def table_for(ctx: CheckContext, rules: Sequence[str], **kw: Any) -> Table:
    """:func:`one_step_table` at a check's sizes, with the run's shared cells."""
    sz = ctx.sizes
    ctx.progress(f"  {', '.join(rules)}: n={sz['n']} x{sz['seeds']} seeds")
    return one_step_table(sz, rules, cache=ctx.cache, **kw)


def means(table: Table, column: str) -> list[float]:
    """The mean over seeds of ``column`` per ``d`` (one group's records)."""
    return [float(v.mean()) for v in seed_matrix(table, measure=column)[1]]


#: The figures' precision: float32 tasks and capacity pass, float64 updates (see
#: :mod:`muonjax.gaussian.checks`), at alpha = 1.5 unless a check says otherwise.
PRECISION = {"alpha": 1.5, "dtype": "float32", "update_dtype": "float64"}


def with_precision(sizes: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """Every preset's sizes with :data:`PRECISION` added."""
    return {p: {**sizes[p], **PRECISION} for p in CHECK_PRESETS}
