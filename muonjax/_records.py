"""Records: a tidy table of every measured value, a manifest, and a resume store.

An output directory of a recorded sweep holds::

    DIR/records.csv        one row per (configuration, seed, step)
    DIR/records.parquet    the same table, when pyarrow is importable
    DIR/manifest.json      full resolved config, environment, times, command lines
    DIR/cells/<id>.json    one file per finished cell (the resume store)

The table's columns are the configuration (the sweep's axes in grid order, then
its fixed values), then ``seed`` and ``step``, then the metrics in the order the
cell function returns them. Rows are sorted by grid order, seed and step, so the
same sweep gives the same table however often it was interrupted and resumed.

Every file is written atomically (a temporary file in the same directory, then
``os.replace``), so a killed run leaves either the old file or the new one, never a
torn one; the temporary files of a killed run start with ``.`` and are ignored.

References:
    SPEC E; the house rules ("interrupted long runs lose nothing already computed;
    results are saved with full config and environment").
"""

from __future__ import annotations

import csv
import datetime
import io
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any, NamedTuple

import jax
import numpy as np

from muonjax import _validate
from muonjax._sweep import (
    INDEX_COLUMNS,
    Cell,
    CellResult,
    Sweep,
    SweepResult,
    run_sweep,
    select_seeds,
)

#: File names inside an output directory.
TABLE_CSV = "records.csv"
TABLE_PARQUET = "records.parquet"
MANIFEST = "manifest.json"
CELLS_DIR = "cells"
#: Version of the cell-file and manifest layout.
SCHEMA_VERSION = 1


# --------------------------------------------------------------------------------------
# Atomic files.


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (temporary file, fsync, rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the usual mode
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    return atomic_write_bytes(path, text.encode("utf-8"))


def _json_dumps(obj: object) -> str:
    return json.dumps(obj, indent=1, sort_keys=False) + "\n"


# --------------------------------------------------------------------------------------
# The per-cell resume store.


def _py(x: Any) -> Any:
    """A numpy scalar as the Python scalar that round-trips through JSON exactly."""
    if isinstance(x, (np.bool_, bool)):
        return bool(x)
    if isinstance(x, (np.integer, int)):
        return int(x)
    return float(x)  # float32 -> float64 is exact, and repr(float) round-trips


class DirectoryStore:
    """Finished cells as JSON files in ``root/cells/`` (implements ``CellStore``).

    A cell file holds the cell's configuration, its seeds, steps and metrics (each
    number written exactly: floats by their shortest round-trip repr), the metric
    dtypes, and the time it was written. A file whose configuration does not match
    the cell's (a hash collision, or a hand-edited file) is an error, never silently
    reused.

    Args:
        root: the output directory.
    """

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)
        self.cells_dir = self.root / CELLS_DIR

    def path(self, cell: Cell) -> Path:
        """The file of ``cell``."""
        return self.cells_dir / f"{cell.cell_id}.json"

    def load(self, cell: Cell) -> CellResult | None:
        """The stored seeds of ``cell``, or ``None`` if it has no file yet."""
        path = self.path(cell)
        if not path.exists():
            return None
        data = json.loads(path.read_text())
        if data.get("config") != cell.config:
            raise ValueError(
                f"cell file {path} holds config {data.get('config')}, expected "
                f"{cell.config}; remove it or use a fresh output directory"
            )
        dtypes = data["dtypes"]
        return CellResult(
            cell=cell,
            seeds=np.asarray(data["seeds"], np.int64),
            steps=np.asarray(data["steps"], np.int64),
            metrics={
                k: np.asarray(v, dtype=dtypes[k]).reshape(
                    len(data["seeds"]), len(data["steps"])
                )
                for k, v in data["metrics"].items()
            },
        )

    def save(self, result: CellResult) -> None:
        """Write ``result`` atomically, replacing the cell's previous file."""
        data = {
            "schema": SCHEMA_VERSION,
            "cell_id": result.cell.cell_id,
            "config": result.cell.config,
            "seeds": [int(s) for s in result.seeds],
            "steps": [int(s) for s in result.steps],
            "dtypes": {k: str(v.dtype) for k, v in result.metrics.items()},
            "metrics": {
                k: [[_py(x) for x in row] for row in v]
                for k, v in result.metrics.items()
            },
            "written": _now(),
        }
        atomic_write_text(self.path(result.cell), _json_dumps(data))


# --------------------------------------------------------------------------------------
# The tidy table.


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
                        *(_py(res.metrics[k][i, j]) for k in metric_names),
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
    with path.open(newline="") as f:
        reader = csv.reader(f)
        columns = next(reader)
        raw = [list(c) for c in zip(*reader, strict=True)] or [[] for _ in columns]
    return Table(
        columns, {name: _parse_column(v) for name, v in zip(columns, raw, strict=True)}
    )


# --------------------------------------------------------------------------------------
# The manifest.


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def _version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def _git(*args: str) -> str | None:
    here = Path(__file__).resolve().parent
    try:
        out = subprocess.run(
            ["git", *args],
            cwd=here,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip()


def environment() -> dict[str, Any]:
    """Versions, platform, devices and git state of this process.

    Returns:
        A JSON-able dict: ``muonjax``, ``jax``, ``jaxlib``, ``optax``, ``numpy``
        versions, ``python``, ``platform``, ``backend``, ``device_kind``,
        ``device_count`` (local), ``global_device_count``, ``process_count``,
        ``git_commit`` and ``git_dirty`` (``None`` outside a git checkout).
    """
    import muonjax

    devices = jax.local_devices()
    commit = _git("rev-parse", "HEAD")
    status = _git("status", "--porcelain") if commit else None
    return {
        "muonjax": muonjax.__version__,
        "jax": jax.__version__,
        "jaxlib": _version("jaxlib"),
        "optax": _version("optax"),
        "numpy": np.__version__,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "backend": jax.default_backend(),
        "device_kind": devices[0].device_kind if devices else None,
        "device_count": len(devices),
        "global_device_count": jax.device_count(),
        "process_count": jax.process_count(),
        "git_commit": commit,
        "git_dirty": None if status is None else bool(status),
    }


def read_manifest(out_dir: str | os.PathLike) -> dict[str, Any]:
    """The manifest of an output directory."""
    path = Path(out_dir) / MANIFEST
    if not path.exists():
        raise ValueError(f"no manifest at {path}: is {out_dir} a muonjax output?")
    return json.loads(path.read_text())


# --------------------------------------------------------------------------------------
# Sweep -> records.


class RecordedSweep(NamedTuple):
    """What :func:`record_sweep` returns.

    Attributes:
        out_dir: the output directory.
        table: the paths of the table files (empty on processes other than 0).
        manifest: the manifest as written.
        sweep: the :class:`SweepResult` of this process.
    """

    out_dir: Path
    table: list[Path]
    manifest: dict[str, Any]
    sweep: SweepResult


def sessions_with(
    out_dir: Path, started: str, computed: int, loaded: int
) -> list[dict[str, Any]]:
    """The sessions of ``out_dir``'s manifest (if any) plus this one, ending now."""
    previous: dict[str, Any] = {}
    if (out_dir / MANIFEST).exists():
        previous = read_manifest(out_dir)
    session = {
        "started": started,
        "finished": _now(),
        "command": list(sys.argv),
        "cells_computed": computed,
        "cells_loaded": loaded,
    }
    return [*previous.get("sessions", []), session]


def record_sweep(
    sweep: Sweep,
    out_dir: str | os.PathLike,
    *,
    seeds: int,
    root_seed: int = 0,
    chunk_size: int = 16,
    devices: Sequence[jax.Device] | None = None,
    progress: bool = False,
    meta: Mapping[str, Any] | None = None,
) -> RecordedSweep:
    """Run a sweep with a resume store in ``out_dir`` and write its records.

    Finished cells already in ``out_dir/cells`` are loaded, not recomputed; each
    new cell is saved as soon as it is done. At the end the tidy table (all cells,
    seeds ``0 .. seeds-1``) and the manifest are (re)written. The manifest keeps a
    list of sessions (start, end, command line, cells computed and loaded), so a
    resumed run shows as two sessions.

    With several processes (``jax.distributed``), each runs its share of the cells,
    all wait at a barrier, and process 0 assembles the table from the store (the
    output directory must be shared).

    Args:
        sweep: the sweep.
        out_dir: output directory (created).
        seeds: seeds per cell.
        root_seed: the sweep's key is ``jax.random.key(root_seed)``.
        chunk_size: see :func:`run_sweep`.
        devices: see :func:`run_sweep`.
        progress: progress bar on stderr.
        meta: extra manifest entries (experiment name, preset, resolved config).

    Returns:
        A :class:`RecordedSweep`.
    """
    seeds = _validate.positive_int("seeds", seeds)
    root_seed = _validate.nonnegative_int("root_seed", root_seed)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    store = DirectoryStore(out_dir)
    started = _now()
    result = run_sweep(
        sweep,
        seeds=seeds,
        key=jax.random.key(root_seed),
        chunk_size=chunk_size,
        devices=devices,
        store=store,
        progress=progress,
    )
    results = result.results
    if jax.process_count() > 1:
        from jax.experimental import multihost_utils

        multihost_utils.sync_global_devices("muonjax.record_sweep")
        if jax.process_index() != 0:
            return RecordedSweep(out_dir, [], {}, result)
        results = []
        for cell in sweep.cells():
            stored = store.load(cell)
            if stored is None or not set(range(seeds)) <= set(stored.seeds.tolist()):
                raise RuntimeError(
                    f"cell {cell.cell_id} ({cell.config}) is incomplete in {out_dir} "
                    "after all processes finished: is the directory shared?"
                )
            results.append(select_seeds(stored, range(seeds)))
    columns, rows = table_from_results(sweep, results)
    paths = write_table(out_dir, columns, rows)

    sessions = sessions_with(out_dir, started, result.computed, result.loaded)
    manifest = {
        "schema": SCHEMA_VERSION,
        **dict(meta or {}),
        "sweep": {
            **sweep.describe(),
            "seeds": seeds,
            "root_seed": root_seed,
            "chunk_size": chunk_size,
            "cells": len(sweep.cells()),
        },
        "columns": {
            "config": list(sweep.config_names),
            "index": list(INDEX_COLUMNS),
            "metrics": columns[len(sweep.config_names) + len(INDEX_COLUMNS) :],
        },
        "rows": len(rows),
        "files": [p.name for p in paths],
        "environment": environment(),
        "started": sessions[0]["started"],
        "finished": sessions[-1]["finished"],
        "command": sessions[-1]["command"],
        "sessions": sessions,
    }
    atomic_write_text(out_dir / MANIFEST, _json_dumps(manifest))
    return RecordedSweep(out_dir, paths, manifest, result)
