"""The resume store: one JSON file per finished cell, that heals.

``DIR/cells/<id>.json`` holds a cell's identity (see :mod:`muonjax.engine.identity`),
configuration, seeds, steps and metrics (every number exactly: floats by their
shortest round-trip repr) and the metric dtypes. Files are written atomically, so a
killed run leaves whole files; a file that is nevertheless unreadable (a disk that
filled up, a hand edit, a copy cut short) is named on stderr, moved aside to
``<id>.json.corrupt`` and its cell recomputed, never silently reused and never
fatal.

Release 0.1.0 named cell files by the hash of their configuration alone. A store
opened with ``legacy=True`` (done by :func:`muonjax.record_sweep` only after the
directory's 0.1.0 manifest was found to describe the same run) re-keys such a file
under its new id the first time its cell is asked for.
"""

from __future__ import annotations

import datetime
import json
import os
import sys
from pathlib import Path
from typing import Any

import numpy as np

from muonjax._io import atomic_write_text, json_dumps, py_scalar
from muonjax.engine.sweep import Cell, CellResult, config_hash

#: Directory of the cell files inside an output directory.
CELLS_DIR = "cells"
#: Version of the cell-file and manifest layout: 1 in release 0.1.0 (cells named by
#: their configuration's hash), 2 since cells are named by their identity.
SCHEMA_VERSION = 2


def warn(message: str) -> None:
    """One line on stderr, prefixed ``muonjax:``."""
    print(f"muonjax: {message}", file=sys.stderr, flush=True)


def quarantine(path: Path, reason: str, *, then: str) -> Path:
    """Move an unreadable file to ``<path>.corrupt`` (or ``.corrupt.N``) and say so."""
    target = path.with_name(path.name + ".corrupt")
    n = 1
    while target.exists():
        target = path.with_name(f"{path.name}.corrupt.{n}")
        n += 1
    os.replace(path, target)
    warn(f"{path} is unreadable ({reason}); moved it to {target.name} and {then}")
    return target


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


class DirectoryStore:
    """Finished cells as JSON files in ``root/cells/`` (implements ``CellStore``).

    Args:
        root: the output directory.
        legacy: re-key release 0.1.0 cell files (named by their configuration's
            hash) when their cell is asked for; only for a directory whose 0.1.0
            manifest describes the same run.

    Attributes:
        rekeyed: number of 0.1.0 cell files re-keyed so far.
        healed: number of unreadable cell files moved aside so far.
    """

    def __init__(self, root: str | os.PathLike, *, legacy: bool = False):
        self.root = Path(root)
        self.cells_dir = self.root / CELLS_DIR
        self.legacy = legacy
        self.rekeyed = 0
        self.healed = 0

    def path(self, cell: Cell) -> Path:
        """The file of ``cell``."""
        return self.cells_dir / f"{cell.cell_id}.json"

    def legacy_path(self, cell: Cell) -> Path:
        """Where release 0.1.0 kept ``cell``: named by its configuration's hash."""
        return self.cells_dir / f"{config_hash(cell.config)[:16]}.json"

    def load(self, cell: Cell) -> CellResult | None:
        """The stored seeds of ``cell``, or ``None`` (no file, or an unreadable one)."""
        path = self.path(cell)
        if path.exists():
            return self._read(path, cell, legacy=False)
        if self.legacy:
            old = self.legacy_path(cell)
            if old.exists():
                result = self._read(old, cell, legacy=True)
                if result is not None:
                    self.save(result)
                    old.unlink()
                    self.rekeyed += 1
                return result
        return None

    def _read(self, path: Path, cell: Cell, *, legacy: bool) -> CellResult | None:
        try:
            data = json.loads(path.read_text())
            return _parse(data, cell, legacy=legacy)
        except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError) as err:
            reason = f"{type(err).__name__}: {err}"
            if len(reason) > 300:
                reason = reason[:300] + "..."
            quarantine(path, reason, then="recomputing the cell")
            self.healed += 1
            return None

    def save(self, result: CellResult) -> None:
        """Write ``result`` atomically, replacing the cell's previous file."""
        data = {
            "schema": SCHEMA_VERSION,
            "cell_id": result.cell.cell_id,
            "identity": result.cell.identity,
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


def _parse(data: Any, cell: Cell, *, legacy: bool) -> CellResult:
    """A cell file's content as a :class:`CellResult`, or ``ValueError``."""
    if not isinstance(data, dict):
        raise ValueError(f"a JSON {type(data).__name__}, not an object")
    if data.get("config") != cell.config:
        raise ValueError(f"holds config {data.get('config')}, expected {cell.config}")
    if not legacy and data.get("identity") != cell.identity:
        raise ValueError("holds the identity of another cell")
    seeds = np.asarray(data["seeds"], np.int64)
    steps = np.asarray(data["steps"], np.int64)
    if seeds.ndim != 1 or not seeds.size or len(set(seeds.tolist())) != seeds.size:
        raise ValueError(f"bad seeds {data['seeds']!r}")
    if steps.ndim != 1 or not steps.size:
        raise ValueError(f"bad steps {data['steps']!r}")
    dtypes = data["dtypes"]
    metrics = {
        k: np.asarray(v, dtype=np.dtype(dtypes[k])).reshape(seeds.size, steps.size)
        for k, v in data["metrics"].items()
    }
    if not metrics:
        raise ValueError("no metrics")
    return CellResult(cell=cell, seeds=seeds, steps=steps, metrics=metrics)
