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

import datetime
import json
import os
import platform
import subprocess
import sys
from collections.abc import Mapping, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any, NamedTuple

import jax
import numpy as np

from muonjax import _validate
from muonjax._io import atomic_write_text, json_dumps, py_scalar
from muonjax._precision import precision_policy
from muonjax.engine.sweep import (
    INDEX_COLUMNS,
    Cell,
    CellResult,
    Sweep,
    SweepResult,
    run_sweep,
    select_seeds,
)
from muonjax.engine.table import table_from_results, write_table

#: File names inside an output directory.
TABLE_CSV = "records.csv"
TABLE_PARQUET = "records.parquet"
MANIFEST = "manifest.json"
CELLS_DIR = "cells"
#: Version of the cell-file and manifest layout.
SCHEMA_VERSION = 1


# --------------------------------------------------------------------------------------
# The per-cell resume store.


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
                k: [[py_scalar(x) for x in row] for row in v]
                for k, v in result.metrics.items()
            },
            "written": _now(),
        }
        atomic_write_text(self.path(result.cell), json_dumps(data))


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

    The one description of where a result was computed, written into every
    manifest, check report and benchmark.

    Returns:
        A JSON-able dict: ``muonjax``, ``jax``, ``jaxlib``, ``optax``, ``numpy``,
        ``scipy`` versions, ``python``, ``platform``, ``cpu_count``, ``backend``,
        ``device_kind``, ``devices``, ``device_count`` (local),
        ``global_device_count``, ``process_count``, ``jax_enable_x64``,
        ``precision`` (the matmul precision policy, :func:`muonjax.precision_policy`),
        ``time_utc``, ``git_commit`` and ``git_dirty`` (``None`` outside a git
        checkout).
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
        "scipy": _version("scipy"),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "backend": jax.default_backend(),
        "device_kind": devices[0].device_kind if devices else None,
        "devices": [str(d) for d in devices],
        "device_count": len(devices),
        "global_device_count": jax.device_count(),
        "process_count": jax.process_count(),
        "jax_enable_x64": bool(jax.config.read("jax_enable_x64")),
        "precision": precision_policy(),
        "time_utc": _now(),
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
    atomic_write_text(out_dir / MANIFEST, json_dumps(manifest))
    return RecordedSweep(out_dir, paths, manifest, result)
