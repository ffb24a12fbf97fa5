"""Curves out of a records table of :func:`muonjax.orthogonal.dynamics_cell` rows.

A sweep of dynamics cells records one row per (cell, seed, recorded step). The
figures (from ``records.csv``, read back by :func:`muonjax.read_table`) and the
checks that measure through the sweep engine (from the in-memory table of
:func:`sweep_table`) read the same table with the same functions:

- :func:`cell_curves`: one metric of one cell as a ``(seeds, steps)`` array;
- :func:`group_curves`: the per-group excess of one cell, ``(seeds, steps, M)``;
- :func:`num_groups`, :func:`column_values`, :func:`num_queries`: what the table
  holds.

References:
    SPEC B.4 (per-group loss and accuracy curves) [seed].
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from muonjax.engine.sweep import CellResult, Sweep
from muonjax.engine.table import Table, table_from_results


def sweep_table(sweep: Sweep, results: Sequence[CellResult]) -> Table:
    """The tidy table of a sweep's results, in memory (the rows ``records.csv``
    would hold, in the same order)."""
    columns, rows = table_from_results(sweep, results)
    cols = zip(*rows, strict=True)
    return Table(
        columns, {name: np.asarray(c) for name, c in zip(columns, cols, strict=True)}
    )


def num_groups(table: Table) -> int:
    """``M``: the number of ``excess_g*`` columns."""
    return sum(1 for c in table.columns if c.startswith("excess_g"))


def num_queries(table: Table) -> int:
    """``K = M C`` of the table's (first) task."""
    return int(table.data["M"][0]) * int(table.data["C"][0])


def column_values(table: Table, column: str, **where: Any) -> list:
    """Sorted distinct values of ``column`` (in the rows matching ``where``)."""
    sub = table.where(**where) if where else table
    return sorted(set(sub.data[column].tolist()))


def cell_curves(
    table: Table, metric: str, **where: Any
) -> tuple[np.ndarray, np.ndarray]:
    """One metric of the rows matching ``where``, as ``(steps (S,), (seeds, S))``.

    Args:
        table: the records.
        metric: a metric column (``"excess"``, ``"excess_g3"``, ...).
        **where: column values selecting one cell (e.g. ``rule="gd", alpha=0.0``).

    Raises:
        ValueError: when no row matches, or the rows are not one cell's seeds times
            steps.
    """
    sub = table.where(**where)
    if len(sub) == 0:
        raise ValueError(f"no records with {where}")
    seeds = np.unique(sub.data["seed"])
    steps = np.unique(sub.data["step"])
    if len(sub) != seeds.size * steps.size:
        raise ValueError(
            f"records with {where} are not one cell: {len(sub)} rows for "
            f"{seeds.size} seeds x {steps.size} steps"
        )
    order = np.lexsort((sub.data["step"], sub.data["seed"]))
    vals = np.asarray(sub.data[metric], np.float64)[order]
    return steps, vals.reshape(seeds.size, steps.size)


def group_curves(table: Table, **where: Any) -> tuple[np.ndarray, np.ndarray]:
    """Per-group excess loss of one cell: ``(steps, (seeds, S, M))``."""
    m = num_groups(table)
    parts = [cell_curves(table, f"excess_g{g + 1}", **where) for g in range(m)]
    return parts[0][0], np.stack([p[1] for p in parts], axis=-1)
