"""Several recorded sweeps under one output directory (an experiment in parts).

Some figures need two grids that are not one product: Figure 1 shows one population
step over many ``alpha`` (panel a) and the critical batch size of a minibatch step
over ``B`` at one ``alpha`` (panel b). Each part is an ordinary recorded sweep
(:func:`muonjax.record_sweep`: resumable per cell) in its own subdirectory; this
module runs them in turn and writes, in the experiment's directory, the combined
table and a manifest that names the experiment, so that ``muonjax plot DIR`` works as
for a one-sweep experiment::

    DIR/manifest.json        experiment, config, the parts, environment, sessions
    DIR/records.csv          every part's rows: a first column ``part``, then the
                             union of the parts' columns (empty where a part has
                             no such column)
    DIR/records.parquet      the same (when pyarrow is importable)
    DIR/<part>/records.csv   each part as recorded by record_sweep (with its own
    DIR/<part>/manifest.json manifest and cells/ resume store)

References:
    The house rules ("interrupted long runs lose nothing already computed; results
    are saved with full config and environment"); FIGURES.md (records per figure).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal, NamedTuple

import jax

from muonjax._io import atomic_write_text
from muonjax._io import json_dumps as _json_dumps
from muonjax.engine.identity import current_context, digest
from muonjax.engine.interrupts import as_interrupted
from muonjax.engine.lock import run_lock
from muonjax.engine.peers import PeerLost
from muonjax.engine.records import (
    MANIFEST,
    SCHEMA_VERSION,
    RecordedSweep,
    _now,
    add_session,
    environment,
    new_session,
    previous_manifest,
    record_sweep,
    refusal_cleanup,
)
from muonjax.engine.sweep import Sweep, SweepResult
from muonjax.engine.table import Table, read_table, table_from_results, write_table

__all__ = ["PART_COLUMN", "RecordedParts", "read_part", "record_parts"]

#: Name of the first column of the combined table.
PART_COLUMN = "part"


class RecordedParts(NamedTuple):
    """What :func:`record_parts` returns.

    Attributes:
        out_dir: the experiment's output directory.
        table: the paths of the combined table files (empty on processes other
            than 0).
        manifest: the top-level manifest as written.
        parts: ``name -> RecordedSweep`` of each part.
        sweep: all parts' cells together (``computed`` and ``loaded`` summed), for
            the command line's report.
    """

    out_dir: Path
    table: list[Path]
    manifest: dict[str, Any]
    parts: dict[str, RecordedSweep]
    sweep: SweepResult


def _check_name(name: str) -> str:
    if not (isinstance(name, str) and name.isidentifier()):
        raise ValueError(f"part names must be identifiers, got {name!r}")
    if name in (PART_COLUMN, "cells"):
        raise ValueError(f"part name {name!r} is reserved")
    return name


def record_parts(
    parts: Mapping[str, Sweep],
    out_dir: str | os.PathLike,
    *,
    seeds: int,
    root_seed: int = 0,
    chunk_size: int = 16,
    progress: bool = False,
    meta: Mapping[str, Any] | None = None,
    force: bool | None = None,
    stall_warning: float | Literal["default"] | None = "default",
    peer_timeout: float | None = None,
) -> RecordedParts:
    """Record each sweep in ``out_dir/<name>`` and write the combined table there.

    Each part runs (or resumes) through :func:`muonjax.record_sweep` with the same
    seeds, root seed and chunk size; its manifest holds ``meta`` without the
    ``experiment`` key (so that ``muonjax plot`` is run on the parent), plus
    ``part``. The parent's manifest holds ``meta``, the parts (directory, grid, rows,
    columns), the combined columns, the environment and one session per invocation
    (an interrupted one included, with the cells done over all parts). The parent
    directory is locked for the whole run.

    Args:
        parts: ``name -> sweep``, in the order to run them (names are identifiers).
        out_dir: the experiment's output directory (created).
        seeds: seeds per cell.
        root_seed: every part's key is ``jax.random.key(root_seed)`` (cells are
            keyed by their configuration, so parts do not share draws unless their
            cells have the same key identity).
        chunk_size: see :func:`muonjax.run_sweep`.
        progress: progress bars on stderr.
        meta: manifest entries (experiment name, preset, resolved config).
        force, stall_warning, peer_timeout: see :func:`muonjax.record_sweep`.

    Returns:
        A :class:`RecordedParts`.
    """
    if not parts:
        raise ValueError("parts must hold at least one sweep")
    names = [_check_name(n) for n in parts]
    out = Path(out_dir)
    ambient = current_context()
    run_digest = digest(
        {
            "parts": {n: parts[n].describe()["axes"] for n in names},
            "root_seed": root_seed,
            "context": None if ambient is None else ambient.as_identity(),
        }
    )[:16]
    with refusal_cleanup(out), run_lock(out, digest=run_digest):
        return _record_parts(
            parts,
            names,
            out,
            seeds=seeds,
            root_seed=root_seed,
            chunk_size=chunk_size,
            progress=progress,
            meta=dict(meta or {}),
            run_digest=run_digest,
            force=force,
            stall_warning=stall_warning,
            peer_timeout=peer_timeout,
        )


def _record_parts(
    parts: Mapping[str, Sweep],
    names: list[str],
    out: Path,
    *,
    seeds: int,
    root_seed: int,
    chunk_size: int,
    progress: bool,
    meta: dict[str, Any],
    run_digest: str,
    force: bool | None,
    stall_warning: float | Literal["default"] | None,
    peer_timeout: float | None,
) -> RecordedParts:
    started = _now()
    count, index = jax.process_count(), jax.process_index()
    part_meta = {k: v for k, v in meta.items() if k != "experiment"}
    recorded: dict[str, RecordedSweep] = {}
    try:
        for name in names:
            recorded[name] = record_sweep(
                parts[name],
                out / name,
                seeds=seeds,
                root_seed=root_seed,
                chunk_size=chunk_size,
                progress=progress,
                meta={**part_meta, "part": name},
                force=force,
                stall_warning=stall_warning,
                peer_timeout=peer_timeout,
            )
    except KeyboardInterrupt as err:
        stop = as_interrupted(err)
        if index == 0:
            shares = {
                n: sum(1 for c in parts[n].cells() if c.position % count == index)
                for n in names
            }
            finished = sum(shares[n] for n in recorded)
            total = sum(shares.values())
            computed = sum(r.sweep.computed for r in recorded.values())
            stop.done = finished + (stop.done or 0)
            stop.computed = computed + (stop.computed or 0)
            stop.total = total
            session = new_session(
                started,
                status="interrupted",
                digest=run_digest,
                computed=stop.computed,
                loaded=stop.done - stop.computed,
                signal=stop.signal_name,
                cells_done=stop.done,
                cells_total=total,
            )
            add_session(out, previous_manifest(out), session)
            stop.recorded = True
        raise stop from None
    except PeerLost as err:
        if index == 0:
            session = new_session(
                started,
                status="failed",
                digest=run_digest,
                computed=0,
                loaded=0,
                error=str(err),
            )
            add_session(out, previous_manifest(out), session)
        raise
    combined = SweepResult(
        results=[r for rec in recorded.values() for r in rec.sweep.results],
        computed=sum(rec.sweep.computed for rec in recorded.values()),
        loaded=sum(rec.sweep.loaded for rec in recorded.values()),
    )
    if index != 0:
        return RecordedParts(out, [], {}, recorded, combined)

    columns: list[str] = [PART_COLUMN]
    per_part: list[tuple[str, list[str], list[list[Any]]]] = []
    for name in names:
        # On process 0, a part's results hold every process's cells.
        cols, rows = table_from_results(parts[name], recorded[name].sweep.results)
        per_part.append((name, cols, rows))
        columns += [c for c in cols if c not in columns]
    rows_all: list[list[Any]] = []
    for name, cols, rows in per_part:
        where = {c: i for i, c in enumerate(cols)}
        for row in rows:
            rows_all.append(
                [name] + [row[where[c]] if c in where else None for c in columns[1:]]
            )
    paths = write_table(out, columns, rows_all)

    # Every process's cells: each part's last session sums them.
    last = [rec.manifest["sessions"][-1] for rec in recorded.values()]
    session = new_session(
        started,
        status="complete",
        digest=run_digest,
        computed=sum(s["cells_computed"] for s in last),
        loaded=sum(s["cells_loaded"] for s in last),
    )
    previous = previous_manifest(out) or {}
    sessions = [*previous.get("sessions", []), session]
    manifest = {
        "schema": SCHEMA_VERSION,
        **meta,
        "complete": True,
        "digest": run_digest,
        "parts": {
            name: {
                "dir": name,
                "sweep": recorded[name].manifest.get("sweep"),
                "columns": recorded[name].manifest.get("columns"),
                "rows": recorded[name].manifest.get("rows"),
            }
            for name in names
        },
        "columns": {"part": PART_COLUMN, "all": columns},
        "rows": len(rows_all),
        "files": [p.name for p in paths],
        "environment": environment(),
        "started": sessions[0]["started"],
        "finished": sessions[-1]["finished"],
        "command": sessions[-1]["command"],
        "sessions": sessions,
    }
    atomic_write_text(out / MANIFEST, _json_dumps(manifest))
    return RecordedParts(out, paths, manifest, recorded, combined)


def read_part(out_dir: str | os.PathLike, name: str) -> Table:
    """The records of part ``name`` of a :func:`record_parts` directory."""
    path = Path(out_dir) / _check_name(name)
    if not path.is_dir():
        raise ValueError(f"no part {name!r} in {out_dir} (no directory {path})")
    return read_table(path)
