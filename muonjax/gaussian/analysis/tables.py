"""Slicing Part A's records: groups, seed matrices, local slopes.

Every analysis of :mod:`muonjax.gaussian.analysis` reads a records table
(:func:`muonjax.read_table`) through these helpers, so groups come in the same order
(first appearance: the grid order of the sweep) and seeds line up the same way (the
same position means the same seed, hence the same task, in every group).

References:
    SPEC A.4 (measures), Part D (local slopes beside every exponent fit).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from muonjax.engine.table import Table
from muonjax.stats.slopes import local_log_slopes


def py(value: Any) -> Any:
    """A numpy scalar as the Python scalar it holds (other values unchanged)."""
    return value.item() if isinstance(value, np.generic) else value


def check_columns(table: Table, names: Sequence[str]) -> None:
    """Raise ``ValueError`` naming the columns of ``names`` the table lacks."""
    missing = [n for n in names if n not in table.data]
    if missing:
        raise ValueError(
            f"no column(s) {missing} in the records; columns are {table.columns}"
        )


def last_step(table: Table) -> Table:
    """The rows of the largest ``step`` (a one-step table is returned as it is)."""
    if "step" in table.data and len(table):
        return table.where(step=int(np.max(table.data["step"])))
    return table


def group_label(groups: Sequence[str], key: Sequence[Any]) -> str:
    """``"rule=muon, alpha=1.5"`` for the group ``key`` of the columns ``groups``."""
    return ", ".join(f"{g}={py(v)}" for g, v in zip(groups, key, strict=True))


def group_rows(
    table: Table, groups: Sequence[str]
) -> dict[tuple[Any, ...], np.ndarray]:
    """Row indices per distinct value of the ``groups`` columns, in grid order."""
    check_columns(table, groups)
    cols = [table.data[g] for g in groups]
    out: dict[tuple[Any, ...], list[int]] = {}
    for i in range(len(table)):
        out.setdefault(tuple(py(c[i]) for c in cols), []).append(i)
    return {k: np.asarray(v, np.int64) for k, v in out.items()}


def group_keys(table: Table, groups: Sequence[str]) -> list[tuple[Any, ...]]:
    """Distinct values of the ``groups`` columns, in order of first appearance."""
    return list(group_rows(table, groups))


def seed_matrix(
    table: Table, *, x: str = "d", measure: str = "count"
) -> tuple[np.ndarray, list[np.ndarray], list[np.ndarray]]:
    """The values of ``measure`` per ``x`` value and seed, seeds in increasing order.

    Args:
        table: records of ONE group (filter first with :meth:`muonjax.Table.where`),
            one row per ``(x, seed)`` at the last step.
        x: the size column.
        measure: the measured column.

    Returns:
        ``(xs, values, seeds)``: ``(k,)`` increasing ``x`` values, and per ``x`` a
        ``(s,)`` array of the measure and the ``(s,)`` seed indices, sorted by seed
        (so that the same position means the same seed, hence the same task).

    Raises:
        ValueError: a missing column, an empty table, or a repeated ``(x, seed)``.
    """
    check_columns(table, (x, measure, "seed"))
    table = last_step(table)
    if len(table) == 0:
        raise ValueError("the records hold no rows for this group")
    xv = table.data[x].astype(np.float64)
    xs = np.unique(xv)
    values, seeds = [], []
    for v in xs:
        rows = np.nonzero(xv == v)[0]
        s = table.data["seed"][rows].astype(np.int64)
        order = np.argsort(s, kind="stable")
        if np.unique(s).shape[0] != s.shape[0]:
            raise ValueError(f"seed repeated at {x}={v:g}: one row per seed expected")
        seeds.append(s[order])
        values.append(table.data[measure][rows][order].astype(np.float64))
    return xs, values, seeds


def per_seed(table: Table, measure: str, **where: Any) -> np.ndarray:
    """``measure`` of the rows matching ``where``, ordered by seed (paired arrays)."""
    t = table.where(**where)
    order = np.argsort(t.data["seed"], kind="stable")
    return t.data[measure][order].astype(np.float64)


def local_slopes(
    table: Table, *, groups: Sequence[str], measure: str = "count", x: str = "d"
) -> dict[str, list[float | None]]:
    """Slopes of ``log mean(measure)`` between consecutive ``x``, per group.

    A slope that still changes with ``x`` shows curvature on the log-log plot
    (constants, log factors, a pre-asymptotic range) that one straight-line fit
    over the whole range averages away.

    Returns:
        ``{group label: [slope between x_i and x_(i+1), ...]}`` (``None`` where a
        mean is 0).

    References:
        SPEC Part D (local slopes between consecutive d).
    """
    groups = tuple(groups)
    check_columns(table, (*groups, x, measure, "seed"))
    out = {}
    for key in group_keys(last_step(table), groups):
        sub = table.where(**dict(zip(groups, key, strict=True)))
        xs, vals, _ = seed_matrix(sub, x=x, measure=measure)
        out[group_label(groups, key)] = local_log_slopes(xs, [v.mean() for v in vals])
    return out
