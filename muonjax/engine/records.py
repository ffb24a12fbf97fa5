"""Records: a tidy table of every measured value, a manifest, and a resume store.

An output directory of a recorded sweep holds::

    DIR/records.csv        one row per (configuration, seed, step)
    DIR/records.parquet    the same table, when pyarrow is importable
    DIR/manifest.json      full resolved config, environment, times, sessions
    DIR/cells/<id>.json    one file per finished cell (the resume store)
    DIR/.muonjax.lock      held by the run writing DIR (one writer at a time)

The table's columns are the configuration (the sweep's axes in grid order, then
its fixed values), then ``seed`` and ``step``, then the metrics in the order the
cell function returns them. Rows are sorted by grid order, seed and step, so the
same sweep gives the same table however often it was interrupted and resumed.

Guarantees (``docs/sweeps.md``, "What a run guarantees"):

- a cell is stored under the hash of everything that can change its numbers
  (:mod:`muonjax.engine.identity`), so a run never reuses a cell of another
  configuration; a release 0.1.0 directory is re-keyed when its manifest shows the
  same run, and otherwise left unused;
- every file is written atomically; an unreadable cell file or manifest is named,
  moved aside and rebuilt (:mod:`muonjax.engine.store`);
- one run writes a directory at a time (:mod:`muonjax.engine.lock`);
- an interrupted session (Ctrl-C, SIGTERM, a lost peer process) is recorded in the
  manifest's ``sessions`` with its status;
- with several processes, they meet through heartbeat files in the directory
  (:mod:`muonjax.engine.peers`), and the session counts every process's cells.

References:
    SPEC E; the house rules ("interrupted long runs lose nothing already computed;
    results are saved with full config and environment").
"""

# Size: over 500 lines because record_sweep's session lifecycle (lock, heartbeats,
# interrupts, manifest) is one state machine.

from __future__ import annotations

import contextlib
import contextvars
import datetime
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any, Literal, NamedTuple

import jax
import numpy as np

from muonjax import _validate
from muonjax._io import atomic_write_text, json_dumps
from muonjax._precision import precision_policy
from muonjax._validate import printable
from muonjax.engine.identity import (
    NUMERICS_VERSION,
    RunContext,
    current_context,
    digest,
    key_fingerprint,
)
from muonjax.engine.interrupts import Interrupted, as_interrupted
from muonjax.engine.lock import LOCK_FILE, run_lock
from muonjax.engine.peers import PROCESSES_DIR, Heartbeat, PeerLost, wait_for
from muonjax.engine.store import (
    CELLS_DIR,
    SCHEMA_VERSION,
    DirectoryStore,
    quarantine,
    warn,
)
from muonjax.engine.sweep import (
    INDEX_COLUMNS,
    CellResult,
    Sweep,
    SweepResult,
    run_sweep,
    select_seeds,
)
from muonjax.engine.table import table_from_results, write_table

__all__ = [
    "CELLS_DIR",
    "MANIFEST",
    "SCHEMA_VERSION",
    "TABLE_CSV",
    "TABLE_PARQUET",
    "DirectoryStore",
    "RecordedSweep",
    "environment",
    "read_manifest",
    "record_sweep",
]

#: File names inside an output directory.
TABLE_CSV = "records.csv"
TABLE_PARQUET = "records.parquet"
MANIFEST = "manifest.json"


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
    """The manifest of an output directory.

    Raises:
        ValueError: no manifest, or one that is not a JSON object; the message
            names the file.
    """
    path = Path(out_dir) / MANIFEST
    if not path.exists():
        raise ValueError(f"no manifest at {path}: is {out_dir} a muonjax output?")
    try:
        data = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, ValueError) as err:
        raise ValueError(
            f"{path} is not readable JSON ({type(err).__name__}: {err}); re-run the "
            "command that wrote it (with the same --out) to rebuild it from the cells"
        ) from None
    if not isinstance(data, dict):
        raise ValueError(
            f"{path} is not a muonjax manifest (a JSON {type(data).__name__}, not an "
            "object); re-run the command that wrote it to rebuild it from the cells"
        )
    return data


def previous_manifest(out_dir: Path, *, heal: bool = True) -> dict[str, Any] | None:
    """The manifest a new session builds on; an unreadable one is moved aside.

    With ``heal=False`` (processes other than 0) an unreadable one is just ignored.
    """
    path = out_dir / MANIFEST
    if not path.exists():
        return None
    try:
        return read_manifest(out_dir)
    except ValueError as err:
        if heal:
            reason = str(err).split(";")[0].removeprefix(f"{path} is ")
            quarantine(path, reason, then="rebuilding it from the cells")
        return None


def new_session(
    started: str,
    *,
    status: str,
    digest: str,
    computed: int,
    loaded: int,
    **extra: Any,
) -> dict[str, Any]:
    """A ``sessions`` entry of a manifest, ending now.

    ``status`` is ``"complete"``, ``"interrupted"`` (with ``signal``, ``cells_done``
    and ``cells_total``) or ``"failed"`` (with ``error``); ``digest`` names what the
    session computed (:meth:`muonjax.engine.identity.RunContext.digest` or the
    sweep's), so sessions of different configurations are told apart.
    """
    return {
        "started": started,
        "finished": _now(),
        "command": list(sys.argv),
        "status": status,
        "digest": digest,
        "cells_computed": int(computed),
        "cells_loaded": int(loaded),
        **extra,
    }


def add_session(
    out_dir: Path, manifest: dict[str, Any] | None, session: dict[str, Any]
) -> dict[str, Any]:
    """Append ``session`` to ``manifest`` (or to a stub of an incomplete run); write it.

    A run that never completed has no table yet; its manifest is a stub with
    ``"complete": false``, which ``muonjax plot`` reports as such.
    """
    manifest = dict(manifest or {"schema": SCHEMA_VERSION, "complete": False})
    sessions = [*manifest.get("sessions", []), session]
    manifest.update(sessions=sessions, started=sessions[0]["started"], finished=_now())
    atomic_write_text(out_dir / MANIFEST, json_dumps(manifest))
    return manifest


def record_interrupted(
    err: BaseException, out_dir: Path, *, started: str, digest: str
) -> Interrupted:
    """The :class:`Interrupted` for ``err``, recorded in ``out_dir``'s manifest once.

    For runs stopped outside :func:`record_sweep` (which records its own, with its
    cell counts): process 0 appends an ``"interrupted"`` session unless an inner
    caller already did. Raise the result ``from None``.
    """
    stop = as_interrupted(err)
    if not stop.recorded and jax.process_index() == 0 and out_dir.is_dir():
        session = new_session(
            started,
            status="interrupted",
            digest=digest,
            computed=0,
            loaded=0,
            signal=stop.signal_name,
        )
        add_session(out_dir, previous_manifest(out_dir), session)
        stop.recorded = True
    return stop


# --------------------------------------------------------------------------------------
# Directories: created on demand, removed again when a run is refused.


def check_output_dir(path: str | os.PathLike) -> Path:
    """Check, writing nothing, that ``path`` can be an output directory.

    It must be a writable directory, or not exist under a writable directory (the
    nearest existing ancestor gets a temporary probe directory, removed at once:
    permissions alone do not tell, e.g. for root or a read-only file system).

    Raises:
        ValueError: naming the path and why.
    """
    path = Path(path)
    shown = printable(path)
    if path.exists() and not path.is_dir():
        raise ValueError(f"--out {shown} is a file, not a directory")
    existing = path
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        raise ValueError(
            f"--out {shown}: {printable(existing)} is a file, not a directory"
        )
    try:
        probe = tempfile.mkdtemp(prefix=".muonjax-probe-", dir=existing)
    except OSError as err:
        raise ValueError(
            f"--out {shown} is not writable ({printable(existing)}: "
            f"{err.strerror or err})"
        ) from None
    os.rmdir(probe)
    return path


def make_dirs(path: Path) -> list[Path]:
    """``mkdir -p path``; returns the directories it created, outermost first."""
    created = []
    for parent in [*reversed(path.parents), path]:
        if not parent.exists():
            try:
                parent.mkdir()
            except FileExistsError:  # another process (of the same run) was first
                continue
            created.append(parent)
    return created


def remove_created(created: Sequence[Path]) -> None:
    """Undo :func:`make_dirs` for a refused run (which saved no cell).

    Removes the lock file, the heartbeat files and an empty ``cells/`` from each
    directory the run created, then the directory itself if nothing else is in it.
    """
    for path in reversed(created):
        (path / LOCK_FILE).unlink(missing_ok=True)
        shutil.rmtree(path / PROCESSES_DIR, ignore_errors=True)
        for name in (CELLS_DIR, ""):
            with contextlib.suppress(OSError):
                (path / name).rmdir()  # only when empty


# --------------------------------------------------------------------------------------
# Sweep -> records.


class RecordedSweep(NamedTuple):
    """What :func:`record_sweep` returns.

    Attributes:
        out_dir: the output directory.
        table: the paths of the table files (empty on processes other than 0).
        manifest: the manifest as written.
        sweep: the :class:`SweepResult` of this process (on process 0 of several,
            its ``results`` hold every process's cells, read from the store).
    """

    out_dir: Path
    table: list[Path]
    manifest: dict[str, Any]
    sweep: SweepResult


def _legacy_run(
    previous: Mapping[str, Any] | None,
    sweep: Sweep,
    root_seed: int,
    context: RunContext | None,
) -> bool:
    """Whether ``previous``, a release 0.1.0 manifest, describes this very run."""
    if previous is None or previous.get("schema", 1) >= 2:
        return False
    described = previous.get("sweep")
    if not isinstance(described, Mapping):
        return False
    key_axes = None if sweep.key_axes is None else sorted(sweep.key_axes)
    old_axes = described.get("key_axes")
    same = (
        described.get("root_seed") == root_seed
        and (None if old_axes is None else sorted(old_axes)) == key_axes
        and sorted(described.get("batched", [])) == sorted(sweep.batched)
    )
    if context is not None:
        same = same and context.matches_legacy(previous.get("config"))
    return same


def _run_digest(sweep: Sweep, key: jax.Array, context: Mapping[str, Any]) -> str:
    described = {k: v for k, v in sweep.describe().items() if k != "options"}
    return digest(
        {
            "numerics": NUMERICS_VERSION,
            "sweep": described,
            "root_key": key_fingerprint(key),
            "context": dict(context),
        }
    )[:16]


@contextlib.contextmanager
def refusal_cleanup(out_dir: Path) -> Iterator[None]:
    """Create ``out_dir``; if the run is refused, remove what was created.

    A refusal (a :class:`~muonjax.engine.memory.MemoryLimitError`, a
    :class:`~muonjax.engine.lock.DirectoryLocked`, any error before a cell is
    saved) leaves nothing: what the run created is removed unless it holds a cell
    or a manifest. A directory that cannot be created is a ``ValueError`` naming it.
    """
    try:
        created = make_dirs(out_dir)
    except OSError as err:
        raise ValueError(
            f"cannot create the output directory {out_dir}: {err.strerror or err}"
        ) from None
    try:
        yield
    except BaseException:
        remove_created(created)  # removes only what holds no cell and no manifest
        raise


class RunOptions(NamedTuple):
    """How a run behaves (not what it computes): see :func:`record_sweep`."""

    force: bool = False
    stall_warning: float | None = 600.0
    peer_timeout: float = 120.0


_DEFAULT_OPTIONS = RunOptions()
_OPTIONS: contextvars.ContextVar[RunOptions] = contextvars.ContextVar(
    "muonjax_run_options",
    default=_DEFAULT_OPTIONS,
)


@contextlib.contextmanager
def run_options(**options: Any) -> Iterator[RunOptions]:
    """Defaults of ``force``, ``stall_warning``, ``peer_timeout`` for the sweeps inside.

    :func:`muonjax.run_recorded` sets them, so that an experiment's own ``run``
    passes them on without knowing about them.
    """
    token = _OPTIONS.set(_OPTIONS.get()._replace(**options))
    try:
        yield _OPTIONS.get()
    finally:
        _OPTIONS.reset(token)


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
    context: Mapping[str, Any] | None = None,
    force: bool | None = None,
    stall_warning: float | Literal["default"] | None = "default",
    peer_timeout: float | None = None,
) -> RecordedSweep:
    """Run a sweep with a resume store in ``out_dir`` and write its records.

    Finished cells already in ``out_dir/cells`` are loaded, not recomputed; each
    new cell is saved as soon as it is done. At the end the tidy table (all cells,
    seeds ``0 .. seeds-1``) and the manifest are (re)written. The manifest keeps a
    list of sessions (start, end, command line, status, cells computed and loaded),
    so a resumed run shows as two sessions and an interrupted one says so.

    The cells' identity includes ``context`` and, inside
    :func:`muonjax.run_recorded`, the experiment's resolved config
    (:mod:`muonjax.engine.identity`). The directory is locked while the sweep runs
    (:mod:`muonjax.engine.lock`); a run refused before computing (another run holds
    the directory, a program too large for the device) leaves nothing behind.

    With several processes (``jax.distributed``), each runs its share of the cells;
    process 0 waits for the others' heartbeats to say they are done (at most
    ``peer_timeout`` seconds of silence, else :class:`muonjax.engine.peers.PeerLost`),
    then assembles the table from the store (the output directory must be shared).

    Args:
        sweep: the sweep.
        out_dir: output directory (created).
        seeds: seeds per cell.
        root_seed: the sweep's key is ``jax.random.key(root_seed)``.
        chunk_size: see :func:`run_sweep`.
        devices: see :func:`run_sweep`.
        progress: progress bar on stderr.
        meta: extra manifest entries (experiment name, preset, resolved config).
        context: more values that can change the cells' numbers (added to the
            ambient :func:`muonjax.engine.identity.identity_scope`).
        force: skip the memory check (see :func:`run_sweep`).
        stall_warning: see :func:`run_sweep`.
        peer_timeout: seconds of silence after which another process counts as lost.

        The last three default to the enclosing :func:`run_options` (600 s for
        the watchdog and 120 s for a peer, with the memory check on).

    Returns:
        A :class:`RecordedSweep`.
    """
    seeds = _validate.positive_int("seeds", seeds)
    root_seed = _validate.nonnegative_int("root_seed", root_seed)
    ambient_options = _OPTIONS.get()
    force = ambient_options.force if force is None else force
    if stall_warning == "default":
        stall_warning = ambient_options.stall_warning
    peer_timeout = (
        ambient_options.peer_timeout if peer_timeout is None else peer_timeout
    )
    _validate.real("peer_timeout", peer_timeout, lower=0.0, lower_open=True)
    out_dir = Path(out_dir)
    ambient = current_context()
    identity_context = {
        **(ambient.as_identity() if ambient is not None else {}),
        **dict(context or {}),
    }
    key = jax.random.key(root_seed)
    run_digest = _run_digest(sweep, key, identity_context)
    with refusal_cleanup(out_dir), run_lock(out_dir, digest=run_digest) as token:
        return _record(
            sweep,
            out_dir,
            seeds=seeds,
            root_seed=root_seed,
            key=key,
            chunk_size=chunk_size,
            devices=devices,
            progress=progress,
            meta=dict(meta or {}),
            identity_context=identity_context,
            ambient=ambient,
            run_digest=run_digest,
            token=token,
            force=force,
            stall_warning=stall_warning,
            peer_timeout=peer_timeout,
        )


def _record(
    sweep: Sweep,
    out_dir: Path,
    *,
    seeds: int,
    root_seed: int,
    key: jax.Array,
    chunk_size: int,
    devices: Sequence[jax.Device] | None,
    progress: bool,
    meta: dict[str, Any],
    identity_context: dict[str, Any],
    ambient: RunContext | None,
    run_digest: str,
    token: str,
    force: bool,
    stall_warning: float | None,
    peer_timeout: float,
) -> RecordedSweep:
    started = _now()
    count, index = jax.process_count(), jax.process_index()
    previous = previous_manifest(out_dir, heal=index == 0)
    legacy = _legacy_run(previous, sweep, root_seed, ambient)
    if index == 0 and previous is not None and not legacy:
        if previous.get("schema", 1) < 2:
            warn(
                f"{out_dir} holds cells of muonjax 0.1.0 from a run with another "
                "configuration; they are kept but not used"
            )
        elif previous.get("digest") not in (None, run_digest):
            warn(
                f"{out_dir} held a run with another configuration; its cells are "
                "kept, this run computes its own"
            )
    store = DirectoryStore(out_dir, legacy=legacy)
    heartbeat = Heartbeat(out_dir, index, count, token) if count > 1 else None
    try:
        with heartbeat or contextlib.nullcontext():
            result = run_sweep(
                sweep,
                seeds=seeds,
                key=key,
                chunk_size=chunk_size,
                devices=devices,
                store=store,
                progress=progress,
                context=identity_context,
                force=force,
                stall_warning=stall_warning,
            )
            if heartbeat is not None:
                heartbeat.write(
                    status="done" if index else "waiting",
                    computed=result.computed,
                    loaded=result.loaded,
                )
            processes = None
            if count > 1:
                peers = [i for i in range(count) if i != index]
                if index != 0:  # process 0 writes the table and the manifest
                    wait_for(out_dir, [0], count=count, run=token, timeout=peer_timeout)
                    return RecordedSweep(out_dir, [], {}, result)
                beats = wait_for(
                    out_dir, peers, count=count, run=token, timeout=peer_timeout
                )
                beats[0] = heartbeat.state if heartbeat is not None else {}
                processes = [
                    {
                        k: beats[i].get(k)
                        for k in ("index", "host", "pid", "computed", "loaded")
                    }
                    for i in range(count)
                ]
            manifest, results = _write_records(
                sweep,
                out_dir,
                store,
                result,
                seeds=seeds,
                root_seed=root_seed,
                chunk_size=chunk_size,
                meta=meta,
                identity_context=identity_context,
                run_digest=run_digest,
                key=key,
                previous=previous,
                started=started,
                processes=processes,
            )
            if heartbeat is not None:
                heartbeat.write(status="done")
            return RecordedSweep(
                out_dir,
                [out_dir / f for f in manifest["files"]],
                manifest,
                result._replace(results=results),
            )
    except KeyboardInterrupt as err:
        stop = as_interrupted(err)
        if heartbeat is not None:
            heartbeat.write(status="interrupted")
        if index == 0:
            session = new_session(
                started,
                status="interrupted",
                digest=run_digest,
                computed=stop.computed or 0,
                loaded=(stop.done or 0) - (stop.computed or 0),
                signal=stop.signal_name,
                cells_done=stop.done,
                cells_total=stop.total,
            )
            add_session(out_dir, previous_manifest(out_dir), session)
            stop.recorded = True
        raise stop from None
    except PeerLost as err:
        if heartbeat is not None:
            heartbeat.write(status="failed")
        if index == 0:
            add_session(
                out_dir,
                previous_manifest(out_dir),
                new_session(
                    started,
                    status="failed",
                    digest=run_digest,
                    computed=0,
                    loaded=0,
                    error=str(err),
                ),
            )
        raise
    except BaseException:
        if heartbeat is not None:
            heartbeat.write(status="failed")
        raise


def _write_records(
    sweep: Sweep,
    out_dir: Path,
    store: DirectoryStore,
    result: SweepResult,
    *,
    seeds: int,
    root_seed: int,
    chunk_size: int,
    meta: dict[str, Any],
    identity_context: dict[str, Any],
    run_digest: str,
    key: jax.Array,
    previous: dict[str, Any] | None,
    started: str,
    processes: list[dict[str, Any]] | None,
) -> tuple[dict[str, Any], list[CellResult]]:
    """Write the table and the manifest; the manifest and every cell's result."""
    results = result.results
    cells = sweep.cells(key=key, context=identity_context)
    if processes is not None:  # process 0 of several: every cell from the store
        results = []
        for cell in cells:
            stored = store.load(cell)
            if stored is None or not set(range(seeds)) <= set(stored.seeds.tolist()):
                raise RuntimeError(
                    f"cell {cell.cell_id} ({cell.config}) is incomplete in {out_dir} "
                    "after all processes finished: is the directory shared?"
                )
            results.append(select_seeds(stored, range(seeds)))
    columns, rows = table_from_results(sweep, results)
    paths = write_table(out_dir, columns, rows)
    computed, loaded = result.computed, result.loaded
    extra: dict[str, Any] = {}
    if processes is not None:
        computed = sum(int(p.get("computed") or 0) for p in processes)
        loaded = sum(int(p.get("loaded") or 0) for p in processes)
        extra["processes"] = processes
    if store.rekeyed:
        extra["rekeyed_from_0.1.0"] = store.rekeyed
    session = new_session(
        started,
        status="complete",
        digest=run_digest,
        computed=computed,
        loaded=loaded,
        **extra,
    )
    sessions = [*(previous or {}).get("sessions", []), session]
    manifest = {
        "schema": SCHEMA_VERSION,
        **meta,
        "complete": True,
        "digest": run_digest,
        "identity": {
            "numerics": NUMERICS_VERSION,
            "root_key": key_fingerprint(key),
            "context": identity_context,
        },
        "sweep": {
            **sweep.describe(),
            "seeds": seeds,
            "root_seed": root_seed,
            "chunk_size": chunk_size,
            "cells": len(cells),
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
    return manifest, results
