"""The tidy table of a recorded sweep: one row per (configuration, seed, step).

Columns are the configuration (the sweep's axes in grid order, then its fixed
values), then ``seed`` and ``step``, then the metrics in the order the cell function
returns them. Rows are sorted by grid order, seed and step, so the same sweep gives
the same table however often it was interrupted and resumed. ``records.csv`` holds
every float by its shortest round-trip repr (exact); ``records.parquet`` is written
beside it when pyarrow is importable.
"""

from __future__ import annotations

import csv
import io
import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from muonjax._io import atomic_write_bytes, atomic_write_text, py_scalar
from muonjax.engine.sweep import INDEX_COLUMNS, CellResult, Sweep

#: File names inside an output directory.
TABLE_CSV = "records.csv"
TABLE_PARQUET = "records.parquet"


class Table(NamedTuple):
    """A tidy table: column names and, per column, a 1-d numpy array.

    Attributes:
        columns: names in order.
        data: ``name -> (rows,)`` array.
    """

    columns: list[str]
    data: dict[str, np.ndarray]

    def __len__(self) -> int:
        return len(self.data[self.columns[0]]) if self.columns else 0

    def where(self, **conditions: Any) -> Table:
        """The rows whose columns equal the given values."""
        keep = np.ones(len(self), bool)
        for name, value in conditions.items():
            if name not in self.data:
                raise ValueError(f"no column {name!r}; columns are {self.columns}")
            keep &= self.data[name] == value
        return Table(self.columns, {k: v[keep] for k, v in self.data.items()})


def table_from_results(
    sweep: Sweep, results: Sequence[CellResult]
) -> tuple[list[str], list[list[Any]]]:
    """Rows of the tidy table: one per (cell, seed, step), in grid order.

    Returns:
        ``(columns, rows)``: config columns, ``seed``, ``step``, then metrics.
    """
    if not results:
        raise ValueError("results must hold at least one cell")
    metric_names = list(results[0].metrics)
    config_names = list(sweep.config_names)
    clash = sorted(set(metric_names) & (set(config_names) | set(INDEX_COLUMNS)))
    if clash:
        raise ValueError(f"metric names {clash} clash with config or index columns")
    columns = [*config_names, *INDEX_COLUMNS, *metric_names]
    rows = []
    for res in sorted(results, key=lambda r: r.cell.position):
        if list(res.metrics) != metric_names:
            raise ValueError(
                f"cell {res.cell.cell_id} has metrics {list(res.metrics)}, expected "
                f"{metric_names}"
            )
        head = [res.cell.config[k] for k in config_names]
        for i, seed in enumerate(res.seeds):
            for j, step in enumerate(res.steps):
                rows.append(
                    [
                        *head,
                        int(seed),
                        int(step),
                        *(py_scalar(res.metrics[k][i, j]) for k in metric_names),
                    ]
                )
    return columns, rows


def _csv_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return "nan" if math.isnan(value) else repr(value)
    return str(value)


def write_table(
    out_dir: str | os.PathLike, columns: Sequence[str], rows: Sequence[Sequence[Any]]
) -> list[Path]:
    """Write the table as ``records.csv`` (and ``records.parquet`` with pyarrow).

    Floats are written by their shortest round-trip repr, so the CSV holds every
    value exactly. Both files are written atomically.

    Returns:
        The paths written.
    """
    out_dir = Path(out_dir)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_csv_text(v) for v in row])
    paths = [atomic_write_text(out_dir / TABLE_CSV, buf.getvalue())]
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        return paths
    table = pa.table({name: [row[i] for row in rows] for i, name in enumerate(columns)})
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink)
    paths.append(atomic_write_bytes(out_dir / TABLE_PARQUET, sink.getvalue()))
    return paths


def _parse_column(values: list[str]) -> np.ndarray:
    present = [v for v in values if v != ""]
    for kind in (int, float):
        try:
            parsed = [kind(v) for v in present]
        except ValueError:
            continue
        if kind is int and len(present) == len(values):
            return np.asarray(parsed, np.int64)
        return np.asarray([float(v) if v != "" else math.nan for v in values])
    if present and all(v in ("True", "False") for v in present):
        return np.asarray([v == "True" for v in values])
    return np.asarray(values, dtype=object)


def read_table(path: str | os.PathLike) -> Table:
    """Read ``records.csv`` (from its path or its directory) into a :class:`Table`.

    Column types are inferred: integers, floats (empty is NaN), booleans, else
    strings.
    """
    path = Path(path)
    if path.is_dir():
        path = path / TABLE_CSV
    if not path.exists():
        raise ValueError(f"no records table at {path}")
    try:
        text = path.read_text()
        if text and not text.endswith("\n"):
            raise ValueError("its last line is cut short (no final newline)")
        with io.StringIO(text, newline="") as f:
            reader = csv.reader(f)
            columns = next(reader, None)
            if not columns:
                raise ValueError("the file is empty")
            if len(set(columns)) != len(columns):
                raise ValueError(f"the header repeats a column: {columns}")
            rows = []
            for row in reader:
                if len(row) != len(columns):
                    raise ValueError(
                        f"line {reader.line_num} has {len(row)} fields, the header "
                        f"{len(columns)}"
                    )
                rows.append(row)
    except (OSError, UnicodeDecodeError, csv.Error, ValueError) as err:
        raise ValueError(
            f"{path} is not a readable records table ({err}); re-run the command "
            "that wrote it, with the same --out, to rewrite it from the stored cells"
        ) from None
    raw = [list(c) for c in zip(*rows, strict=True)] or [[] for _ in columns]
    return Table(
        columns, {name: _parse_column(v) for name, v in zip(columns, raw, strict=True)}
    )


def check_records(out_dir: str | os.PathLike, manifest: dict[str, Any]) -> Table:
    """Read ``out_dir``'s table and check it against its manifest.

    The header must be the manifest's columns, the row count its ``rows``, and the
    index (and, for one sweep, metric) columns numeric; otherwise a ``ValueError``
    names the file, so that ``muonjax plot`` never fails deep inside a figure.
    """
    path = Path(out_dir) / TABLE_CSV
    table = read_table(path)
    described = manifest.get("columns")
    numeric = list(INDEX_COLUMNS)
    if isinstance(described, dict) and "config" in described:
        expected = [
            *described.get("config", []),
            *described.get("index", []),
            *described.get("metrics", []),
        ]
        numeric += list(described.get("metrics", []))
    elif isinstance(described, dict) and "all" in described:
        expected = list(described["all"])
    else:
        expected = table.columns
    fix = "re-run the command that wrote it, with the same --out, to rewrite it"
    if table.columns != expected:
        raise ValueError(
            f"{path} has the columns {table.columns}, its manifest {expected}; {fix}"
        )
    rows = manifest.get("rows")
    if isinstance(rows, int) and len(table) != rows:
        raise ValueError(f"{path} has {len(table)} rows, its manifest {rows}; {fix}")
    for name in numeric:
        if name in table.data and table.data[name].dtype.kind not in "biuf":
            raise ValueError(f"{path}: column {name!r} holds non-numbers; {fix}")
    return table
