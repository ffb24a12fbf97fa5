"""Sweeps: a grid of configurations times seeds, vmapped, chunked and sharded.

A :class:`Sweep` pairs a *cell function*, written for one configuration and one
seed, ``cell_fn(config, key) -> {metric: value}``, with a grid of configurations.
:func:`run_sweep` runs every cell of the grid for seeds ``0 .. K-1``:

- **One vmap, one jit.** The seed and every *batched* axis (one that keeps shapes
  and code: alpha, kappa, a learning rate) run as one ``jax.vmap`` inside one
  ``jax.jit``; their values reach the cell function as traced scalars.
- **One compile per shape.** Every other value (``n``, ``d``, a batch size, a
  number of steps, an optimizer's name) is static: each distinct static
  configuration is traced and compiled once, here and nowhere else.
- **Chunks.** The ``(cell, seed)`` pairs of one static configuration are cut into
  chunks of a fixed size, the last one padded by repeating its final pair (the
  duplicates are computed and dropped), so a large seed count neither recompiles nor
  holds every seed in memory at once.
- **Devices.** A chunk's batch axis is sharded over the local devices (a 1-d
  ``jax.sharding.Mesh`` with axis ``"batch"``, through ``jax.shard_map``): every
  device runs the vmapped cell function on its slice. With several processes
  (``jax.distributed.initialize()``), process ``i`` of ``P`` runs the cells whose
  grid index is ``i`` modulo ``P`` (see ``docs/sweeps.md``).
- **Keys.** Seed ``s`` of a cell gets ``fold_in(fold_in(key, h), s)`` where ``h`` is
  32 bits of a SHA-256 hash of the cell's configuration (restricted to
  ``key_axes``), never Python's salted ``hash``; so a cell's numbers do not depend
  on the grid around it, on its position, the chunking, the devices, or on what a
  previous, interrupted run already did (SPEC E).
- **Identity.** A cell is stored under an id hashed from everything that can change
  its numbers: its configuration, its key axes, the root key, the run's context
  (the experiment's resolved config) and the package's numerics version
  (:mod:`muonjax.engine.identity`). A run with another root seed or another setting
  never reuses a stored cell.
- **Resume.** With a ``store`` (see :class:`muonjax.DirectoryStore`), finished
  cells are loaded instead of computed, and each newly finished cell is saved as
  soon as its last seed is done.
- **Before computing.** The chunk program of every static configuration is compiled
  first and its projected memory per device checked against the device
  (:mod:`muonjax.engine.memory`), so an impossible run is refused before any cell
  is computed.
- **While computing.** Results are awaited by polling, so Ctrl-C and SIGTERM stop
  the run within a fraction of a second (:class:`muonjax.Interrupted`, carrying the
  cells done); a watchdog warns when no chunk finishes for much longer than the
  slowest so far (:mod:`muonjax.engine.watchdog`).

Memory under ``vmap``: each seed of a chunk holds its own ``(block, n)`` score
block, so a cell function should take ``block_size = sweep_block_size(n, chunk)``,
about ``4 * default_block_size(n) // chunk``: the chunk holds 2^26 score entries
(256 MiB in float32) in all (:func:`sweep_block_size`). The
:func:`one_step_sweep` factory does so.

References:
    SPEC E (per-cell seeds); STYLE ("write everything for one seed, batch with
    ``jax.vmap``; one compile per shape, and say so where it happens").
"""

# Size: over 500 lines because one sweep call: cell grid, key derivation, chunking,
# sharding and the resume store's use.

from __future__ import annotations

import contextlib
import dataclasses
import functools
import hashlib
import itertools
import json
import math
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, NamedTuple, Protocol

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh, PartitionSpec

from muonjax import _validate
from muonjax.engine.identity import cell_id as _cell_id
from muonjax.engine.identity import cell_identity, key_fingerprint
from muonjax.engine.interrupts import as_interrupted
from muonjax.engine.interrupts import wrapped as interrupted_inside
from muonjax.engine.memory import check_memory, projected_bytes
from muonjax.engine.watchdog import Watchdog

#: A configuration value: what a CSV cell and a JSON scalar can hold.
Scalar = str | int | float | bool | None
#: ``cell_fn(config, key) -> {metric: array}``: one configuration, one seed.
CellFn = Callable[[dict[str, Any], jax.Array], Mapping[str, Any]]

#: Names reserved for the index columns of the records.
INDEX_COLUMNS = ("seed", "step")
#: Name of the mesh axis the seed (batch) axis is sharded over.
BATCH_AXIS = "batch"


# --------------------------------------------------------------------------------------
# Cells and their identity.


def _scalar(name: str, value: object) -> Scalar:
    """Return a configuration value as a plain Python scalar, or raise."""
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{name} must be finite, got {name}={value!r}")
        return value
    raise ValueError(
        f"config values must be str, int, float, bool or None, got "
        f"{name}={value!r} of type {type(value).__name__}"
    )


def _canonical(config: Mapping[str, Scalar]) -> str:
    return json.dumps(dict(config), sort_keys=True, separators=(",", ":"))


def config_hash(config: Mapping[str, Scalar]) -> str:
    """SHA-256 hex digest of a configuration's canonical JSON (sorted keys).

    Stable across processes, machines and Python versions (unlike ``hash``). Note
    that ``2`` and ``2.0`` are different configurations.
    """
    return hashlib.sha256(_canonical(config).encode()).hexdigest()


class Cell(NamedTuple):
    """One configuration of a sweep's grid.

    Attributes:
        position: index in the grid (first axis slowest).
        config: the full configuration, fixed values and axis values.
        cell_id: 16 hex digits of the hash of ``identity``; names the cell in a
            store.
        key_data: 32 bits of the hash of the key identity (``config`` restricted to
            the sweep's ``key_axes``), folded into the sweep's key.
        identity: everything that can change the cell's numbers (see
            :mod:`muonjax.engine.identity`).
    """

    position: int
    config: dict[str, Scalar]
    cell_id: str
    key_data: int
    identity: dict[str, Any] | None = None


class CellResult(NamedTuple):
    """Every seed of one cell.

    Attributes:
        cell: the cell.
        seeds: ``(K,)`` seed indices, increasing.
        steps: ``(S,)`` step labels of the recorded values.
        metrics: ``name -> (K, S)`` array.
    """

    cell: Cell
    seeds: np.ndarray
    steps: np.ndarray
    metrics: dict[str, np.ndarray]


class SweepResult(NamedTuple):
    """What :func:`run_sweep` returns.

    Attributes:
        results: one :class:`CellResult` per cell this process owns, in grid order.
        computed: number of cells computed now.
        loaded: number of cells found complete in the store.
    """

    results: list[CellResult]
    computed: int
    loaded: int


class CellStore(Protocol):
    """Where finished cells are kept between runs (see ``muonjax.DirectoryStore``)."""

    def load(self, cell: Cell) -> CellResult | None:
        """The stored seeds of ``cell``, or ``None``."""

    def save(self, result: CellResult) -> None:
        """Store ``result`` atomically, replacing what was there."""


@dataclasses.dataclass(frozen=True, eq=False)
class Sweep:
    """A grid of configurations and the function that runs one of them for one seed.

    The grid is the product of ``axes`` (first axis slowest); each cell's
    configuration is ``{**fixed, **axis values}``. The cell function receives that
    configuration plus ``options`` as one dict, with the values of ``batched`` axes
    as traced scalars and every other value as a Python value, and a PRNG key. It
    returns a mapping of metric arrays, each of shape ``()`` or ``(S,)`` (all the
    same), and optionally ``"step"``: the ``S`` step labels (default ``0..S-1``).

    Args:
        cell_fn: ``cell_fn(config, key) -> {metric: array}``, for one seed.
        axes: ``name -> values``, the grid. Values are str, int, float, bool or None.
        fixed: values shared by every cell; part of each cell's identity.
        batched: axes whose values keep shapes and code; they are vmapped with the
            seeds (numbers only). All other axes compile once per value.
        key_axes: the configuration names that make a cell's key; ``None`` means all.
            Leaving out, for example, the optimizer makes every optimizer see the
            same task for the same seed (common random numbers).
        options: run-time settings passed to ``cell_fn`` that do not change its
            results (a block size); not part of a cell's identity or its records.

    Example:
        >>> def cell(config, key):
        ...     return {"x": jax.random.normal(key) * config["scale"]}
        >>> sweep = Sweep(cell, axes={"scale": [1.0, 2.0]}, batched=("scale",))
        >>> out = run_sweep(sweep, seeds=3, key=jax.random.key(0))
        >>> out.results[1].metrics["x"].shape
        (3, 1)
    """

    cell_fn: CellFn
    axes: Mapping[str, Sequence[Scalar]]
    fixed: Mapping[str, Scalar] = dataclasses.field(default_factory=dict)
    batched: tuple[str, ...] = ()
    key_axes: tuple[str, ...] | None = None
    options: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        if not callable(self.cell_fn):
            raise ValueError(f"cell_fn must be callable, got {self.cell_fn!r}")
        axes: dict[str, tuple[Scalar, ...]] = {}
        for name, values in dict(self.axes).items():
            if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
                raise ValueError(
                    f"axis {name!r} must be a sequence of values, got {values!r}"
                )
            vals = tuple(_scalar(name, v) for v in values)
            if not vals:
                raise ValueError(f"axis {name!r} must hold at least one value")
            if len(set(map(repr, vals))) != len(vals):
                raise ValueError(f"axis {name!r} repeats a value: {vals!r}")
            axes[name] = vals
        fixed = {k: _scalar(k, v) for k, v in dict(self.fixed).items()}
        both = sorted(set(axes) & set(fixed))
        if both:
            raise ValueError(f"names both in axes and fixed: {both}")
        names = set(axes) | set(fixed)
        reserved = sorted(names & set(INDEX_COLUMNS))
        if reserved:
            raise ValueError(f"config names {reserved} are reserved for the records")
        batched = tuple(self.batched)
        for name in batched:
            if name not in axes:
                raise ValueError(
                    f"batched axis {name!r} is not an axis; axes are {sorted(axes)}"
                )
            for v in axes[name]:
                if isinstance(v, bool) or not isinstance(v, (int, float)):
                    raise ValueError(
                        f"batched axis {name!r} must hold numbers, got {name}={v!r}"
                    )
        key_axes = None if self.key_axes is None else tuple(self.key_axes)
        if key_axes is not None:
            unknown = sorted(set(key_axes) - names)
            if unknown:
                raise ValueError(
                    f"key_axes {unknown} are not config names; names are "
                    f"{sorted(names)}"
                )
        clash = sorted(set(dict(self.options)) & names)
        if clash:
            raise ValueError(f"options {clash} clash with config names")
        object.__setattr__(self, "axes", axes)
        object.__setattr__(self, "fixed", fixed)
        object.__setattr__(self, "batched", batched)
        object.__setattr__(self, "key_axes", key_axes)
        object.__setattr__(self, "options", dict(self.options))

    @property
    def config_names(self) -> tuple[str, ...]:
        """Config column names: the axes in grid order, then the fixed values."""
        return (*self.axes, *self.fixed)

    def cells(
        self,
        *,
        key: jax.Array | None = None,
        context: Mapping[str, Any] | None = None,
    ) -> list[Cell]:
        """Every cell of the grid, in grid order (first axis slowest).

        Args:
            key: the sweep's root key; part of each cell's identity (and id).
            context: what else can change the cells' numbers (the experiment's
                resolved config); part of each cell's identity.
        """
        root = None if key is None else key_fingerprint(key)
        cells = []
        names = list(self.axes)
        for position, values in enumerate(itertools.product(*self.axes.values())):
            config = {**dict(zip(names, values, strict=True)), **self.fixed}
            key_config = (
                config
                if self.key_axes is None
                else {k: config[k] for k in self.key_axes}
            )
            identity = cell_identity(
                config,
                key_axes=self.key_axes,
                batched=self.batched,
                root_key=root,
                context=context,
            )
            cells.append(
                Cell(
                    position=position,
                    config=config,
                    cell_id=_cell_id(identity),
                    key_data=int(config_hash(key_config)[:8], 16),
                    identity=identity,
                )
            )
        return cells

    def static_config(self, cell: Cell) -> dict[str, Scalar]:
        """The part of a cell's configuration that is compiled in (not batched)."""
        return {k: v for k, v in cell.config.items() if k not in self.batched}

    def describe(self) -> dict[str, Any]:
        """A JSON-able description of the grid (for a manifest)."""
        return {
            "axes": {k: list(v) for k, v in self.axes.items()},
            "fixed": dict(self.fixed),
            "batched": list(self.batched),
            "key_axes": None if self.key_axes is None else list(self.key_axes),
            "options": {k: _jsonable(v) for k, v in self.options.items()},
            "cell_fn": f"{self.cell_fn.__module__}.{self.cell_fn.__qualname__}",
        }


def _jsonable(value: object) -> object:
    try:
        json.dumps(value)
    except TypeError:
        return repr(value)
    return value


def cell_key(key: jax.Array, cell: Cell, seed: int) -> jax.Array:
    """The PRNG key of seed ``seed`` of ``cell``: ``fold_in(fold_in(key, h), seed)``.

    The same key :func:`run_sweep` derives inside its vmapped function (SPEC E).
    """
    return jax.random.fold_in(jax.random.fold_in(key, cell.key_data), seed)


# --------------------------------------------------------------------------------------
# The engine.


def _axis_dtype(values: Sequence[Scalar]) -> jnp.dtype:
    # Floats become the default float dtype (float32 unless x64 is on), so that the
    # vmapped and the single-seed paths give the cell function the same dtype.
    if any(isinstance(v, float) for v in values):
        return jnp.dtype(jnp.result_type(float))
    return jnp.dtype(jnp.result_type(int))


class _SingleSeed:
    """``f(values, key) -> (metrics, steps)`` for one seed; traced once per shape.

    ``metric_names`` holds, once traced, the metric names in the cell function's
    order (a pytree dict's leaves come back sorted).
    """

    def __init__(self, sweep: Sweep, static: Mapping[str, Scalar]):
        self.sweep = sweep
        self.static = dict(static)
        self.metric_names: tuple[str, ...] = ()

    def __call__(self, values, key):
        sweep, static = self.sweep, self.static
        config = {**static, **values, **sweep.options}
        out = dict(sweep.cell_fn(config, key))
        step = out.pop("step", None)
        if not out:
            raise ValueError("cell_fn must return at least one metric")
        metrics = {name: jnp.asarray(v) for name, v in out.items()}
        shapes = {v.shape for v in metrics.values()}
        if len(shapes) != 1 or len(next(iter(shapes))) > 1:
            got = {k: v.shape for k, v in metrics.items()}
            raise ValueError(
                f"cell_fn metrics must all have shape () or all (S,), got {got}"
            )
        shape = next(iter(shapes))
        if step is None:
            steps = jnp.arange(shape[0]) if shape else jnp.zeros((), jnp.int32)
        else:
            steps = jnp.broadcast_to(jnp.asarray(step, jnp.int32), shape)
        metrics = {k: jnp.atleast_1d(v) for k, v in metrics.items()}
        self.metric_names = tuple(metrics)
        return metrics, jnp.atleast_1d(steps)


@functools.lru_cache(maxsize=64)
def _batched_jit(
    sweep: Sweep, static_json: str, devices: tuple
) -> tuple[Any, _SingleSeed]:
    """The jitted chunk function of one static configuration.

    ``(key, cell_data (B,), seeds (B,), values {axis: (B,)}) -> (metrics, steps)``,
    returned with the single-seed function (for its ``metric_names``). Tracing
    happens at its first call for a chunk size: once per static
    configuration (shape). Cached, so a second sweep over the same grid reuses it.
    """
    single = _SingleSeed(sweep, json.loads(static_json))

    def chunk(key, cell_data, seeds, values):
        keys = jax.vmap(lambda c, s: jax.random.fold_in(jax.random.fold_in(key, c), s))(
            cell_data, seeds
        )
        return jax.vmap(single)(values, keys)

    if len(devices) > 1:
        mesh = Mesh(np.asarray(devices), (BATCH_AXIS,))
        sharded = PartitionSpec(BATCH_AXIS)
        chunk = jax.shard_map(
            chunk,
            mesh=mesh,
            in_specs=(PartitionSpec(), sharded, sharded, sharded),
            out_specs=sharded,
            # The core's scans start from replicated zeros (not marked as varying
            # over the batch axis); every value here is per-device anyway.
            check_vma=False,
        )
    return jax.jit(chunk), single


@functools.lru_cache(maxsize=64)
def _single_jit(sweep: Sweep, static_json: str) -> tuple[Callable, _SingleSeed]:
    single = _SingleSeed(sweep, json.loads(static_json))
    return jax.jit(single), single


def run_cell(
    sweep: Sweep, cell: Cell, seed: int, *, key: jax.Array
) -> dict[str, np.ndarray]:
    """Run one seed of one cell without ``vmap``: the reference for the engine.

    Args:
        sweep: the sweep.
        cell: one of ``sweep.cells()``.
        seed: seed index, >= 0.
        key: the sweep's key (the same as given to :func:`run_sweep`).

    Returns:
        ``{"step": (S,), metric: (S,) ...}`` as numpy arrays.
    """
    seed = _validate.nonnegative_int("seed", seed)
    values = {
        name: jnp.asarray(cell.config[name], _axis_dtype(sweep.axes[name]))
        for name in sweep.batched
    }
    fn, single = _single_jit(sweep, _canonical(sweep.static_config(cell)))
    metrics, steps = jax.device_get(fn(values, cell_key(key, cell, seed)))
    return {"step": np.asarray(steps), **{k: metrics[k] for k in single.metric_names}}


def _merge(
    cell: Cell, old: CellResult | None, seeds: list[int], rows: list[dict], steps
) -> CellResult:
    names = list(rows[0])
    new = CellResult(
        cell=cell,
        seeds=np.asarray(seeds, np.int64),
        steps=np.asarray(steps, np.int64),
        metrics={k: np.stack([r[k] for r in rows]) for k in names},
    )
    if old is None:
        return new
    if list(old.metrics) != names or not np.array_equal(old.steps, new.steps):
        raise ValueError(
            f"stored cell {cell.cell_id} has metrics {list(old.metrics)} and steps "
            f"{old.steps.tolist()}, but this run gives {names} and "
            f"{new.steps.tolist()}: was it written by another version of the cell "
            "function? Use a fresh output directory."
        )
    all_seeds = np.concatenate([old.seeds, new.seeds])
    order = np.argsort(all_seeds, kind="stable")
    return CellResult(
        cell=cell,
        seeds=all_seeds[order],
        steps=new.steps,
        metrics={
            k: np.concatenate([old.metrics[k], new.metrics[k]])[order] for k in names
        },
    )


def select_seeds(result: CellResult, seeds: Iterable[int]) -> CellResult:
    """The given seeds of a cell result, in that order (each must be present)."""
    pos = {int(s): i for i, s in enumerate(result.seeds)}
    idx = np.asarray([pos[int(s)] for s in seeds], np.int64)
    return result._replace(
        seeds=result.seeds[idx], metrics={k: v[idx] for k, v in result.metrics.items()}
    )


def _progress_bar(total: int, enabled: bool):
    if not enabled or total == 0:
        return None
    from tqdm.auto import tqdm  # imported only when a bar is wanted

    return tqdm(total=total, unit="cell", desc="sweep", file=sys.stderr, leave=True)


def _where(sweep: Sweep, static: Mapping[str, Scalar]) -> str:
    """The axis values of a static configuration, e.g. ``d=32 rule=muon``."""
    shown = " ".join(f"{k}={v}" for k, v in static.items() if k in sweep.axes)
    return shown or "the sweep"


@functools.lru_cache(maxsize=64)
def _chunk_program(
    sweep: Sweep,
    static_json: str,
    devices: tuple,
    chunk: int,
    key_type: tuple,
    x64: bool,
) -> tuple[jax.stages.Compiled, _SingleSeed]:
    """The compiled chunk program of one static configuration and chunk size.

    Compiled ahead of time (``lower(...).compile()``) so that its memory can be
    checked before it runs; cached, so a second sweep over the same grid (another
    key, a resumed run) neither traces nor compiles again. ``x64`` is part of the
    cache key because the same function compiles differently in 64-bit mode.
    """
    del x64  # only a cache key
    fn, single = _batched_jit(sweep, static_json, devices)
    dtypes = {name: _axis_dtype(sweep.axes[name]) for name in sweep.batched}
    lowered = fn.lower(
        jax.ShapeDtypeStruct(*key_type),
        jax.ShapeDtypeStruct((chunk,), np.uint32),
        jax.ShapeDtypeStruct((chunk,), np.uint32),
        {name: jax.ShapeDtypeStruct((chunk,), dt) for name, dt in dtypes.items()},
    )
    return lowered.compile(), single


def _wait(out: Any, poll: float = 0.02) -> Any:
    """Wait for device results without blocking in native code (signals get in)."""
    leaves = jax.tree.leaves(out)
    while not all(x.is_ready() for x in leaves):
        time.sleep(poll)
    return jax.device_get(out)


def run_sweep(
    sweep: Sweep,
    *,
    seeds: int,
    key: jax.Array,
    chunk_size: int = 16,
    devices: Sequence[jax.Device] | None = None,
    store: CellStore | None = None,
    progress: bool = False,
    process_index: int | None = None,
    process_count: int | None = None,
    context: Mapping[str, Any] | None = None,
    force: bool = False,
    stall_warning: float | None = 600.0,
) -> SweepResult:
    """Run every cell of ``sweep`` for seeds ``0 .. seeds-1``.

    Cells are grouped by their static configuration; each group compiles once and
    runs in chunks of ``chunk`` ``(cell, seed)`` pairs, where ``chunk`` is
    ``chunk_size`` (or the group's total number of pairs if smaller) rounded up to
    a multiple of the number of devices. The chunk size depends only on the grid,
    ``seeds`` and ``chunk_size``, not on what a store already holds, so a resumed run
    compiles the same programs as a fresh one.

    Every group with work left is compiled before the first cell is computed, and
    the memory XLA projects for its program is checked against each device
    (:func:`muonjax.engine.memory.check_memory`), unless ``force``.

    Args:
        sweep: the grid and its cell function.
        seeds: number of seeds per cell, >= 1.
        key: the sweep's root PRNG key (``jax.random.key(root_seed)``).
        chunk_size: most ``(cell, seed)`` pairs per vmapped call.
        devices: devices to shard each chunk over; default ``jax.local_devices()``.
        store: where finished cells are loaded from and saved to (resume).
        progress: show a progress bar (cells done, time left) on stderr.
        process_index: this process's index among ``process_count`` processes that
            split the cells (default ``jax.process_index()``).
        process_count: number of processes (default ``jax.process_count()``).
        context: what else can change the cells' numbers (the experiment's resolved
            config); part of every cell's identity and store id.
        force: skip the memory check.
        stall_warning: seconds without a finished chunk before the watchdog warns
            on stderr (at least 10 times the slowest chunk so far); ``None`` turns
            it off.

    Returns:
        A :class:`SweepResult` whose ``results`` hold the cells this process owns, in
        grid order, each with seeds ``0 .. seeds-1``.

    Raises:
        muonjax.Interrupted: on Ctrl-C (or SIGTERM under
            :func:`muonjax.engine.interrupts.signals_raise`), with the cells done.
        muonjax.engine.memory.MemoryLimitError: a program would not fit a device.

    References:
        SPEC E (per-cell keys).
    """
    seeds = _validate.positive_int("seeds", seeds)
    chunk_size = _validate.positive_int("chunk_size", chunk_size)
    devices = list(jax.local_devices() if devices is None else devices)
    if not devices:
        raise ValueError("devices must hold at least one device, got []")
    if process_count is None:
        process_count = jax.process_count()
    if process_index is None:
        process_index = jax.process_index()
    process_count = _validate.positive_int("process_count", process_count)
    process_index = _validate.nonnegative_int("process_index", process_index)
    if process_index >= process_count:
        raise ValueError(
            f"process_index must be < process_count, got {process_index=} and "
            f"{process_count=}"
        )
    if stall_warning is not None:
        _validate.real("stall_warning", stall_warning, lower=0.0, lower_open=True)
    requested = np.arange(seeds, dtype=np.int64)

    # Group this process's cells by static configuration (in grid order).
    cells = sweep.cells(key=key, context=context)
    mine = [c for c in cells if c.position % process_count == process_index]
    groups: dict[str, list[Cell]] = {}
    for cell in mine:
        groups.setdefault(_canonical(sweep.static_config(cell)), []).append(cell)

    done: dict[int, CellResult] = {}
    computed = 0
    bar = None
    try:
        todo: dict[str, list[tuple[Cell, CellResult | None, list[int]]]] = {}
        for static_json, group in groups.items():
            for cell in group:
                old = store.load(cell) if store is not None else None
                have = set() if old is None else {int(s) for s in old.seeds}
                missing = [int(s) for s in requested if int(s) not in have]
                if missing:
                    todo.setdefault(static_json, []).append((cell, old, missing))
                elif old is not None:
                    done[cell.position] = select_seeds(old, requested)
        loaded = len(done)

        # Compile every program first: check its memory before computing anything.
        bar = _progress_bar(sum(len(v) for v in todo.values()), progress)
        key_type = (tuple(key.shape), key.dtype)
        x64 = bool(jax.config.read("jax_enable_x64"))
        programs = {}
        for static_json in todo:
            static = json.loads(static_json)
            total_pairs = len(groups[static_json]) * seeds
            chunk = min(chunk_size, total_pairs)
            chunk = math.ceil(chunk / len(devices)) * len(devices)
            if bar is not None:
                bar.set_postfix_str(f"compiling {_where(sweep, static)}")
            compiled, single = _chunk_program(
                sweep, static_json, tuple(devices), chunk, key_type, x64
            )
            if not force:
                check_memory(
                    projected_bytes(compiled),
                    devices,
                    where=f"{_where(sweep, static)} (chunks of {chunk} (cell, seed) "
                    "pairs)",
                )
            programs[static_json] = (chunk, compiled, single)

        watchdog = (
            Watchdog(floor=stall_warning)
            if stall_warning is not None
            else contextlib.nullcontext()
        )
        with watchdog:
            for static_json, entries in todo.items():
                static = json.loads(static_json)
                chunk, compiled, single = programs[static_json]
                dtypes = {name: _axis_dtype(sweep.axes[name]) for name in sweep.batched}
                pairs = [(i, s) for i, (_, _, miss) in enumerate(entries) for s in miss]
                rows: dict[int, dict[int, dict[str, np.ndarray]]] = {}
                if bar is not None:
                    bar.set_postfix_str(_where(sweep, static))
                for start in range(0, len(pairs), chunk):
                    part = pairs[start : start + chunk]
                    padded = part + [part[-1]] * (chunk - len(part))
                    cells_of = [entries[i][0] for i, _ in padded]
                    args = (
                        key,
                        np.asarray([c.key_data for c in cells_of], np.uint32),
                        np.asarray([s for _, s in padded], np.uint32),
                        {
                            name: np.asarray([c.config[name] for c in cells_of], dt)
                            for name, dt in dtypes.items()
                        },
                    )
                    if isinstance(watchdog, Watchdog):
                        watchdog.started(
                            f"{_where(sweep, static)} ({loaded + computed} of "
                            f"{len(mine)} cells done)"
                        )
                    metrics, chunk_steps = _wait(compiled(*args))
                    if isinstance(watchdog, Watchdog):
                        watchdog.finished()
                    steps = np.asarray(chunk_steps[0])
                    for j, (i, s) in enumerate(part):
                        rows.setdefault(i, {})[s] = {
                            k: metrics[k][j] for k in single.metric_names
                        }
                    # Save every cell whose seeds are now all done, as soon as they
                    # are.
                    for i in sorted({i for i, _ in part}):
                        cell, old, miss = entries[i]
                        if i in rows and len(rows[i]) == len(miss):
                            merged = _merge(
                                cell, old, miss, [rows[i][s] for s in miss], steps
                            )
                            if store is not None:
                                store.save(merged)
                            done[cell.position] = select_seeds(merged, requested)
                            del rows[i]
                            computed += 1
                            if bar is not None:
                                bar.update(1)
    except KeyboardInterrupt as err:
        raise as_interrupted(err).count(len(done), len(mine), computed) from None
    except Exception as err:  # a signal inside a host callback comes back wrapped
        stop = interrupted_inside(err)
        if stop is None:
            raise
        raise stop.count(len(done), len(mine), computed) from None
    finally:
        if bar is not None:
            bar.close()
    results = [done[c.position] for c in mine]
    return SweepResult(results=results, computed=computed, loaded=loaded)
