"""What an experiment costs before it runs: cells, compiled shapes, flops, memory, time.

:func:`estimate` takes an experiment and a config and, without running the sweep,

- lists its **compiled shapes**: the static configurations of its sweeps, each one
  compiled program (:func:`muonjax.run_sweep` compiles once per static
  configuration), with its cells, ``(cell, seed)`` pairs, chunk and calls;
- **counts the work** of one call from its jaxpr (:func:`count_work`): the flops of
  every matrix product (``lax.scan`` bodies times their length), the elements of
  every transcendental and of every other array operation, and a cubic model of the
  dense factorizations (SVD, eigh, QR);
- **compiles** each shape once and reads XLA's memory analysis, the **peak memory per
  device** of one call (what the reliability layer compares with the device's
  memory before a run), and the compile time (which the run will pay again);
- **projects the wall time** from a short calibration of this device
  (:func:`calibrate`): the rate of each matrix product's shape (scaled down to a few
  milliseconds of work), of ``exp`` and of a fused elementwise pass.

Counting from the jaxpr needs no declaration: the one-step, minibatch and multi-step
cells of Part A (``2 N^2 d`` flops per capacity pass, ``4 N^2 d`` per loss and
gradient pass) and any other family's cells are counted the same way. The one thing
a jaxpr does not say is how many times a data-dependent ``lax.while_loop`` runs (an
early-stopping run): such a loop is counted once per call and flagged, unless its
cell function declared its trips with :func:`declare_while_trips` (for example the
step bound of an early-stopping run, which makes the projection an upper bound).

How an experiment exposes its sweeps: ``sweep=`` at registration, or, for one
registered with ``run=``, a module-level ``sweeps(config)`` or ``sweep(config)``
returning a :class:`~muonjax.Sweep`, a mapping of them, or a sequence (``None``
entries skipped). Seeds and chunk size come from the config (``seeds``,
``chunk_size``).

References:
    STYLE ("one compile per shape, and say so where it happens"); issue 13.
"""

# Size: over 500 lines because --dry-run needs the jaxpr work count (scan and while
# trips), XLA's memory and the rate calibration together.

from __future__ import annotations

import dataclasses
import functools
import importlib
import json
import math
import os
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.extend import core as jex_core

from muonjax._io import jsonable
from muonjax._precision import PRECISION
from muonjax.engine.sweep import Scalar, Sweep, _axis_dtype, _batched_jit, _canonical

#: Primitives counted as transcendental (one evaluation per output element).
TRANSCENDENTALS = frozenset(
    {"exp", "exp2", "log", "log1p", "expm1", "tanh", "logistic", "erf", "pow"}
)
#: Dense factorizations and their flop models ``c * max(m, n) * min(m, n)^2``.
FACTORIZATIONS = {"svd": 22.0, "eigh": 9.0, "qr": 4.0, "householder_product": 4.0}
#: Primitives that move or index data without arithmetic worth counting.
_FREE = frozenset(
    {
        "reshape",
        "squeeze",
        "expand_dims",
        "convert_element_type",
        "bitcast_convert_type",
        "iota",
        "broadcast_in_dim",
        "copy",
        "copy_p",
        "stop_gradient",
        "random_wrap",
        "random_unwrap",
        "random_bits",
        "random_seed",
        "random_fold_in",
        "threefry2x32",
        "pjit",
        "jit",
        "closed_call",
    }
)


# --------------------------------------------------------------------------------------
# Counting the work of a function from its jaxpr.


@dataclasses.dataclass
class Work:
    """The work of one call, counted from its jaxpr.

    Attributes:
        dots: ``(batch, m, k, n, dtype) -> count``: every matrix product by shape,
            times how often it runs (``lax.scan`` lengths multiply).
        transcendentals: elements of ``exp``, ``log``, ... evaluated.
        elementwise: elements produced by other array operations (reductions count
            their input).
        factorization_flops: flops of SVD, eigh and QR by the cubic model.
        unknown_loops: ``lax.while_loop``s whose trip count the jaxpr does not give;
            each was counted ``while_trips`` times.
    """

    dots: dict[tuple[int, int, int, int, str], float] = dataclasses.field(
        default_factory=dict
    )
    transcendentals: float = 0.0
    elementwise: float = 0.0
    factorization_flops: float = 0.0
    unknown_loops: int = 0

    @property
    def dot_flops(self) -> float:
        """Flops of the matrix products: ``2 batch m k n`` each."""
        return float(
            sum(2.0 * b * m * k * n * c for (b, m, k, n, _), c in self.dots.items())
        )

    @property
    def flops(self) -> float:
        """Matrix-product and factorization flops."""
        return self.dot_flops + self.factorization_flops


def _size(aval: Any) -> int:
    shape = getattr(aval, "shape", ())
    return int(np.prod(shape)) if shape else 1


def _sub_jaxprs(params: Mapping[str, Any]) -> list[Any]:
    out = []
    for value in params.values():
        items = value if isinstance(value, (tuple, list)) else (value,)
        for item in items:
            if isinstance(item, jex_core.ClosedJaxpr):
                out.append(item.jaxpr)
            elif isinstance(item, jex_core.Jaxpr):
                out.append(item)
    return out


def _walk(jaxpr: Any, trips: float, work: Work, while_trips: float) -> None:
    for eqn in jaxpr.eqns:
        name = eqn.primitive.name
        if name == "dot_general":
            (lc, rc), (lb, _) = eqn.params["dimension_numbers"]
            lhs = eqn.invars[0].aval.shape
            rhs = eqn.invars[1].aval.shape
            batch = int(np.prod([lhs[i] for i in lb])) if lb else 1
            k = int(np.prod([lhs[i] for i in lc])) if lc else 1
            m = int(np.prod([lhs[i] for i in range(len(lhs)) if i not in (*lc, *lb)]))
            rb = eqn.params["dimension_numbers"][1][1]
            n = int(np.prod([rhs[i] for i in range(len(rhs)) if i not in (*rc, *rb)]))
            sig = (batch, m, k, n, str(eqn.invars[0].aval.dtype))
            work.dots[sig] = work.dots.get(sig, 0.0) + trips
        elif name == "scan":
            _walk(
                eqn.params["jaxpr"].jaxpr,
                trips * eqn.params["length"],
                work,
                while_trips,
            )
        elif name == "while":
            work.unknown_loops += 1
            inner = trips * while_trips
            _walk(eqn.params["body_jaxpr"].jaxpr, inner, work, while_trips)
            _walk(eqn.params["cond_jaxpr"].jaxpr, inner, work, while_trips)
        elif name in FACTORIZATIONS:
            shape = eqn.invars[0].aval.shape
            rows, cols = shape[-2], shape[-1]
            batch = int(np.prod(shape[:-2])) if len(shape) > 2 else 1
            flops = FACTORIZATIONS[name] * max(rows, cols) * min(rows, cols) ** 2
            work.factorization_flops += trips * batch * flops
        else:
            subs = _sub_jaxprs(eqn.params)
            if subs:
                for sub in subs:  # jit, custom derivatives, cond branches, shard_map
                    _walk(sub, trips, work, while_trips)
            elif name in TRANSCENDENTALS:
                work.transcendentals += trips * sum(_size(v.aval) for v in eqn.outvars)
            elif name not in _FREE:
                outs = sum(_size(v.aval) for v in eqn.outvars)
                ins = max((_size(v.aval) for v in eqn.invars), default=0)
                work.elementwise += trips * max(outs, ins if "reduce" in name else 0)


def count_work(
    fn: Callable[..., Any], *args: Any, while_trips: float = 1, **kwargs: Any
) -> Work:
    """Count the work of ``fn(*args, **kwargs)`` from its jaxpr (no execution).

    Args:
        fn: the function (jitted or not).
        while_trips: iterations assumed for every ``lax.while_loop`` (its trip count
            is data dependent); each such loop is counted in ``unknown_loops``.

    Returns:
        A :class:`Work`.

    Example:
        >>> count_work(lambda a: a @ a, jnp.ones((4, 4))).dot_flops
        128.0
    """
    closed = jax.make_jaxpr(lambda *a: fn(*a, **kwargs))(*args)
    work = Work()
    _walk(closed.jaxpr, 1.0, work, float(while_trips))
    return work


# --------------------------------------------------------------------------------------
# Calibrating this device.

#: Flops of one timed calibration product on a CPU (shapes are scaled down to this;
#: an accelerator gets 100 times more).
CALIBRATION_FLOPS = 5e8
#: Products that together make this share of the flops are timed; the rest (the small
#: ``d x d`` products of an update) are priced at the slowest measured rate.
CALIBRATED_SHARE = 0.99


def _best_seconds(fn: Callable[[], Any], repeats: int) -> float:
    jax.block_until_ready(fn())  # compile and warm up
    best = math.inf
    for _ in range(repeats):
        start = time.perf_counter()
        jax.block_until_ready(fn())
        best = min(best, time.perf_counter() - start)
    return best


@jax.jit
def _product(x: jax.Array, y: jax.Array) -> jax.Array:
    return jnp.matmul(x, y, precision=PRECISION)


def _calibration_shape(
    sig: tuple[int, int, int, int, str],
) -> tuple[int, int, int, int]:
    """The product's shape, its largest free sizes shrunk to ``CALIBRATION_FLOPS``."""
    batch, m, k, n, _ = sig
    dims = [batch, m, n]
    budget = CALIBRATION_FLOPS * (1 if jax.default_backend() == "cpu" else 100)
    while 2.0 * np.prod(dims) * k > budget and max(dims) > 64:
        i = int(np.argmax(dims))
        dims[i] = max(64, dims[i] // 2)
    return dims[0], dims[1], k, dims[2]


@dataclasses.dataclass(frozen=True)
class Calibration:
    """Rates measured on this device (see :func:`calibrate`).

    Attributes:
        dot_rates: product signature ``(batch, m, k, n, dtype)`` -> flop/s.
        transcendental_rate: ``exp`` evaluations per second.
        elementwise_rate: elements of a fused elementwise pass and a row reduction
            per second (counted as :func:`count_work` counts them).
        factorization_rate: flop/s of a dense symmetric eigendecomposition.
        seconds: wall time the calibration took.
        device: the device kind.
    """

    dot_rates: Mapping[tuple[int, int, int, int, str], float]
    transcendental_rate: float
    elementwise_rate: float
    factorization_rate: float
    seconds: float
    device: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (product signatures as strings)."""
        return {
            "device": self.device,
            "seconds": self.seconds,
            "dot_gflops": {
                f"batch={b} m={m} k={k} n={n} {dt}": r / 1e9
                for (b, m, k, n, dt), r in self.dot_rates.items()
            },
            "transcendentals_per_s": self.transcendental_rate,
            "elementwise_per_s": self.elementwise_rate,
            "factorization_gflops": self.factorization_rate / 1e9,
        }


def calibrate(
    signatures: Sequence[tuple[int, int, int, int, str]] = (),
    *,
    repeats: int = 2,
    device: jax.Device | None = None,
) -> Calibration:
    """Measure the rates the time projection uses, in a few seconds.

    Every product signature is timed at its contraction size ``k``, with its other
    sizes scaled down to about :data:`CALIBRATION_FLOPS` (a product of the same
    ``k`` and narrower output runs at about the same rate), at :data:`PRECISION`.

    Args:
        signatures: product signatures (``Work.dots`` keys) to time, the most
            important first (see :func:`estimate`).
        repeats: timed repeats (the best is kept).
        device: the device (default: the first local one).

    Returns:
        A :class:`Calibration`.
    """
    device = jax.local_devices()[0] if device is None else device
    start = time.perf_counter()
    rates: dict[tuple[int, int, int, int, str], float] = {}
    timed: dict[tuple[int, int, int, int, str], float] = {}
    rng = np.random.default_rng(0)  # numpy: no PRNG compile per shape

    def normal(shape, dtype):
        return jax.device_put(rng.standard_normal(shape).astype(dtype), device)

    for sig in signatures:
        b, m, k, n = _calibration_shape(sig)
        dtype = jnp.dtype(sig[4])
        shape_sig = (b, m, k, n, sig[4])
        if shape_sig not in timed:
            x, y = normal((b, m, k), dtype), normal((b, k, n), dtype)
            seconds = _best_seconds(functools.partial(_product, x, y), repeats)
            timed[shape_sig] = 2.0 * b * m * k * n / seconds
        rates[sig] = timed[shape_sig]
    big = normal((512, 8192), np.float32)

    def trans(x):
        return jnp.sum(jnp.exp(x), axis=1)

    def elem(x):
        return jnp.max(x * 2.0 - 1.0, axis=1) + jnp.sum(jnp.abs(x), axis=1)

    t_trans = _best_seconds(lambda: jax.jit(trans)(big), repeats)
    t_elem = _best_seconds(lambda: jax.jit(elem)(big), repeats)
    elem_count = count_work(elem, big).elementwise
    sym = normal((256, 256), np.float32)
    sym = jnp.matmul(sym, sym.T, precision=PRECISION)
    t_fact = _best_seconds(lambda: jax.jit(jnp.linalg.eigh)(sym), repeats)
    return Calibration(
        dot_rates=rates,
        transcendental_rate=big.size / t_trans,
        elementwise_rate=elem_count / t_elem,
        factorization_rate=FACTORIZATIONS["eigh"] * 256**3 / t_fact,
        seconds=time.perf_counter() - start,
        device=device.device_kind,
    )


def _heaviest_products(shapes: Sequence[ShapeCost]) -> list[Any]:
    """The product signatures making :data:`CALIBRATED_SHARE` of the flops."""
    flops: dict[Any, float] = {}
    for s in shapes:
        for (b, m, k, n, dt), count in s.work.dots.items():
            sig = (b, m, k, n, dt)
            flops[sig] = flops.get(sig, 0.0) + s.calls * count * 2.0 * b * m * k * n
    ranked = sorted(flops, key=flops.__getitem__, reverse=True)
    total, acc = sum(flops.values()), 0.0
    out: list[Any] = []
    for sig in ranked:
        if out and acc >= CALIBRATED_SHARE * total:
            break
        out.append(sig)
        acc += flops[sig]
    return out


def projected_seconds(work: Work, cal: Calibration) -> float:
    """Seconds one call of ``work`` takes at the calibrated rates."""
    seconds = 0.0
    for sig, count in work.dots.items():
        b, m, k, n, _ = sig
        rate = cal.dot_rates.get(sig)
        if rate is None:
            rate = min(cal.dot_rates.values(), default=1e9)
        seconds += count * 2.0 * b * m * k * n / rate
    seconds += work.transcendentals / cal.transcendental_rate
    seconds += work.elementwise / cal.elementwise_rate
    seconds += work.factorization_flops / cal.factorization_rate
    return seconds


# --------------------------------------------------------------------------------------
# Sweeps and experiments.

_WHILE_TRIPS: dict[Callable[..., Any], Callable[[Mapping[str, Scalar]], float]] = {}


def declare_while_trips(
    cell_fn: Callable[..., Any], trips: Callable[[Mapping[str, Scalar]], float]
) -> None:
    """Declare how many times ``cell_fn``'s ``lax.while_loop``s run.

    The cost estimate counts a data-dependent loop once per call unless told: an
    early-stopping cell can declare its step bound (``trips(config) ->
    config["max_steps"]``, making the projection an upper bound).

    Args:
        cell_fn: a sweep's cell function.
        trips: ``trips(static config) -> iterations``, >= 1.
    """
    if not callable(trips):
        raise ValueError(f"trips must be callable, got trips={trips!r}")
    _WHILE_TRIPS[cell_fn] = trips


@dataclasses.dataclass(frozen=True)
class ShapeCost:
    """One compiled program of a sweep: a static configuration and its calls.

    Attributes:
        part: the sweep's name in its experiment (``""`` for a single sweep).
        static: the static configuration (one compile).
        axes: its values on the sweep's static axes (what tells the shapes apart).
        cells: cells of this configuration.
        pairs: ``(cell, seed)`` pairs.
        chunk: pairs per call (as :func:`muonjax.run_sweep` chooses it).
        calls: calls of the compiled program.
        work: the work of one call (:class:`Work`).
        peak_bytes_per_device: XLA's memory analysis of one call: arguments,
            outputs and temporaries (``None`` when not compiled).
        compile_seconds: how long the compile took (``None`` when not compiled).
        seconds: projected run time of all calls, compile included.
    """

    part: str
    static: Mapping[str, Scalar]
    axes: Mapping[str, Scalar]
    cells: int
    pairs: int
    chunk: int
    calls: int
    work: Work
    peak_bytes_per_device: int | None
    compile_seconds: float | None
    seconds: float | None = None

    @property
    def flops(self) -> float:
        """Flops of all calls."""
        return self.calls * self.work.flops

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "part": self.part,
            "static": dict(self.static),
            "axes": dict(self.axes),
            "cells": self.cells,
            "pairs": self.pairs,
            "chunk": self.chunk,
            "calls": self.calls,
            "flops": self.flops,
            "flops_per_call": self.work.flops,
            "transcendentals_per_call": self.work.transcendentals,
            "unknown_loops": self.work.unknown_loops,
            "peak_bytes_per_device": self.peak_bytes_per_device,
            "compile_seconds": self.compile_seconds,
            "seconds": self.seconds,
        }


def _chunk_args(sweep: Sweep, cells: Sequence[Any], chunk: int, root_seed: int):
    dtypes = {name: _axis_dtype(sweep.axes[name]) for name in sweep.batched}
    picked = [cells[i % len(cells)] for i in range(chunk)]
    return (
        jax.random.key(root_seed),
        np.asarray([c.key_data for c in picked], np.uint32),
        np.arange(chunk, dtype=np.uint32),
        {n: np.asarray([c.config[n] for c in picked], dt) for n, dt in dtypes.items()},
    )


def _peak_bytes(compiled: Any) -> int | None:
    try:
        stats = compiled.memory_analysis()
    except (AttributeError, NotImplementedError, RuntimeError):
        return None
    if stats is None:
        return None
    return int(
        stats.argument_size_in_bytes
        + stats.output_size_in_bytes
        + stats.temp_size_in_bytes
        - stats.alias_size_in_bytes
    )


def sweep_cost(
    sweep: Sweep,
    *,
    seeds: int,
    chunk_size: int = 16,
    root_seed: int = 0,
    part: str = "",
    compile: bool = True,
    devices: Sequence[jax.Device] | None = None,
) -> list[ShapeCost]:
    """The compiled shapes of ``sweep`` and the work, memory and compile time of each.

    Groups the cells as :func:`muonjax.run_sweep` does (one group per static
    configuration, chunks of ``chunk_size`` pairs rounded up to the devices) and
    traces the same chunk function; with ``compile=True`` it compiles it too (the
    memory analysis needs the compiled program).

    Returns:
        One :class:`ShapeCost` per static configuration, in grid order (``seconds``
        is filled in by :func:`estimate`).
    """
    devices = list(jax.local_devices() if devices is None else devices)
    groups: dict[str, list[Any]] = {}
    for cell in sweep.cells():
        groups.setdefault(_canonical(sweep.static_config(cell)), []).append(cell)
    trips_fn = _WHILE_TRIPS.get(sweep.cell_fn)
    out = []
    for static_json, cells in groups.items():
        static = json.loads(static_json)
        pairs = len(cells) * seeds
        chunk = min(chunk_size, pairs)
        chunk = math.ceil(chunk / len(devices)) * len(devices)
        fn, _ = _batched_jit(sweep, static_json, tuple(devices))
        args = _chunk_args(sweep, cells, chunk, root_seed)
        trips = 1.0 if trips_fn is None else float(trips_fn(cells[0].config))
        work = count_work(fn, *args, while_trips=trips)
        peak = seconds = None
        if compile:
            start = time.perf_counter()
            compiled = fn.lower(*args).compile()  # type: ignore[attr-defined]
            seconds = time.perf_counter() - start
            peak = _peak_bytes(compiled)
        out.append(
            ShapeCost(
                part=part,
                static=static,
                axes={k: v for k, v in static.items() if k in sweep.axes},
                cells=len(cells),
                pairs=pairs,
                chunk=chunk,
                calls=math.ceil(pairs / chunk),
                work=work,
                peak_bytes_per_device=peak,
                compile_seconds=seconds,
            )
        )
    return out


def experiment_sweeps(experiment: Any, config: Any) -> dict[str, Sweep]:
    """The sweeps an experiment records, by part name (see the module docstring).

    Raises:
        ValueError: the experiment exposes no sweep.
    """
    grid: Any = None
    if experiment.sweep is not None:
        grid = experiment.sweep(config)
    else:
        module = importlib.import_module(experiment.run.__module__)
        for name in ("sweeps", "sweep"):
            fn = getattr(module, name, None)
            if callable(fn):
                grid = fn(config)
                break
    if grid is None:
        raise ValueError(
            f"cannot estimate {experiment.name!r}: it is registered with run= and its "
            "module defines no sweeps(config) or sweep(config)"
        )
    if isinstance(grid, Sweep):
        return {"": grid}
    if isinstance(grid, Mapping):
        return {str(k): v for k, v in grid.items() if v is not None}
    if isinstance(grid, Sequence):
        return {f"part{i}": s for i, s in enumerate(grid) if s is not None}
    raise ValueError(f"{experiment.name!r}'s sweeps are not sweeps: {grid!r}")


def device_memory_bytes(device: jax.Device | None = None) -> int | None:
    """Memory one device can hold: the allocator's limit, or a CPU host's RAM."""
    device = jax.local_devices()[0] if device is None else device
    stats = device.memory_stats() if device.platform != "cpu" else None
    if stats and stats.get("bytes_limit"):
        return int(stats["bytes_limit"])
    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        return None


@dataclasses.dataclass(frozen=True)
class Cost:
    """What :func:`estimate` returns.

    Attributes:
        experiment: the experiment's name.
        shapes: one :class:`ShapeCost` per compiled program.
        device: the device kind; ``device_count`` local devices share each chunk.
        device_count: local devices.
        device_bytes: memory of one device (``None`` if unknown).
        calibration: the measured rates (``None`` without calibration).
        seconds: projected wall time of the sweeps, compiles included (``None``
            without calibration).
    """

    experiment: str
    shapes: tuple[ShapeCost, ...]
    device: str
    device_count: int
    device_bytes: int | None
    calibration: Calibration | None
    seconds: float | None

    @property
    def cells(self) -> int:
        """Cells of all sweeps."""
        return sum(s.cells for s in self.shapes)

    @property
    def flops(self) -> float:
        """Flops of all calls (matrix products and factorizations)."""
        return sum(s.flops for s in self.shapes)

    @property
    def peak_bytes_per_device(self) -> int | None:
        """The largest peak memory of one call over the shapes (``None`` unknown)."""
        peaks = [s.peak_bytes_per_device for s in self.shapes]
        if not peaks or any(p is None for p in peaks):
            return None
        return max(p for p in peaks if p is not None)

    @property
    def fits(self) -> bool | None:
        """Whether the peak fits one device's memory (``None`` unknown)."""
        peak = self.peak_bytes_per_device
        if peak is None or self.device_bytes is None:
            return None
        return peak <= self.device_bytes

    @property
    def fitting_chunk_size(self) -> int | None:
        """The largest chunk size whose peak fits one device (``None`` unknown).

        The peak of a call grows about linearly with its ``(cell, seed)`` pairs, so
        each shape's peak per pair is taken as ``peak / chunk`` (an overestimate:
        the fixed part is counted per pair) and the chunk is the largest that keeps
        every shape under the device's memory. The ``chunk_size`` to set is then
        this (``--set chunk_size=K``; memory, not results, depends on it).
        """
        if self.device_bytes is None:
            return None
        sizes = []
        for s in self.shapes:
            if s.peak_bytes_per_device is None:
                return None
            per_pair = s.peak_bytes_per_device / s.chunk
            sizes.append(int(self.device_bytes // per_pair))
        return max(0, min(sizes, default=0))

    @property
    def lower_bound(self) -> bool:
        """True when some data-dependent loop was counted once (no declared trips)."""
        return any(s.work.unknown_loops for s in self.shapes)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return jsonable(
            {
                "experiment": self.experiment,
                "cells": self.cells,
                "compiled_shapes": len(self.shapes),
                "flops": self.flops,
                "peak_bytes_per_device": self.peak_bytes_per_device,
                "device": self.device,
                "device_count": self.device_count,
                "device_bytes": self.device_bytes,
                "fits": self.fits,
                "fitting_chunk_size": self.fitting_chunk_size,
                "seconds": self.seconds,
                "has_unknown_loops": self.lower_bound,
                "calibration": None
                if self.calibration is None
                else self.calibration.to_dict(),
                "shapes": [s.to_dict() for s in self.shapes],
            }
        )


def estimate(
    experiment: Any,
    config: Any,
    *,
    compile: bool = True,
    calibrate_device: bool = True,
    devices: Sequence[jax.Device] | None = None,
) -> Cost:
    """Estimate an experiment's cost without running it (``muonjax run --dry-run``).

    Traces (and, with ``compile``, compiles) every compiled shape of the
    experiment's sweeps inside ``jax.enable_x64(experiment.x64)``, as
    :func:`muonjax.run_recorded` runs them, counts the work of each call, reads the
    peak memory per device, and projects the wall time from a calibration of this
    device: ``sum over shapes of compile + calls x (products / their rates + exp /
    exp rate + other elements / elementwise rate)``, each device of a chunk taking
    its share.

    Args:
        experiment: a registered :class:`muonjax.Experiment`.
        config: its config (e.g. ``muonjax.engine.registry.resolve_config``).
        compile: compile each shape (memory analysis, compile time).
        calibrate_device: time the device's rates and project the wall time.
        devices: the devices the sweep would run on (default: all local ones).

    Returns:
        A :class:`Cost`; ``cost.peak_bytes_per_device`` against
        ``cost.device_bytes`` says whether a run fits.
    """
    devices = list(jax.local_devices() if devices is None else devices)
    seeds = config.seeds
    chunk_size = getattr(config, "chunk_size", 16)
    root_seed = getattr(config, "root_seed", 0)
    with jax.enable_x64(experiment.x64):
        shapes: list[ShapeCost] = []
        for part, sweep in experiment_sweeps(experiment, config).items():
            shapes += sweep_cost(
                sweep,
                seeds=seeds,
                chunk_size=chunk_size,
                root_seed=root_seed,
                part=part,
                compile=compile,
                devices=devices,
            )
        cal = None
        total = None
        if calibrate_device:
            cal = calibrate(_heaviest_products(shapes), device=devices[0])
            total = 0.0
            priced = []
            for s in shapes:
                per_call = projected_seconds(s.work, cal) / len(devices)
                secs = (s.compile_seconds or 0.0) + s.calls * per_call
                priced.append(dataclasses.replace(s, seconds=secs))
                total += secs
            shapes = priced
    return Cost(
        experiment=experiment.name,
        shapes=tuple(shapes),
        device=devices[0].device_kind,
        device_count=len(devices),
        device_bytes=device_memory_bytes(devices[0]),
        calibration=cal,
        seconds=total,
    )


def _si(x: float | None, unit: str = "") -> str:
    if x is None:
        return "?"
    for scale, prefix in ((1e15, "P"), (1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(x) >= scale:
            return f"{x / scale:.3g} {prefix}{unit}"
    return f"{x:.3g} {unit}".rstrip()


def _bytes(x: int | None) -> str:
    if x is None:
        return "?"
    for scale, unit in ((2**40, "TiB"), (2**30, "GiB"), (2**20, "MiB"), (2**10, "KiB")):
        if x >= scale:
            return f"{x / scale:.3g} {unit}"
    return f"{x} B"


def format_cost(cost: Cost) -> str:
    """A plain-text table of a :class:`Cost`, as ``muonjax run --dry-run`` prints it."""
    lines = [
        f"{cost.experiment}: {cost.cells} cells, {len(cost.shapes)} compiled shapes, "
        f"{_si(cost.flops, 'flop')} (products and factorizations)",
        "",
        f"{'part':<6} {'compiled shape':<44} {'cells':>5} {'pairs':>6} "
        f"{'chunk':>5} {'calls':>5} {'flop/call':>10} {'peak/dev':>9} "
        f"{'compile':>8} {'time':>8}",
    ]
    for s in cost.shapes:
        static = ", ".join(f"{k}={v}" for k, v in s.axes.items())
        if len(static) > 44:
            static = static[:41] + "..."
        flag = "*" if s.work.unknown_loops else ""
        lines.append(
            f"{s.part:<6} {static:<44} {s.cells:>5} {s.pairs:>6} {s.chunk:>5} "
            f"{s.calls:>5} {_si(s.work.flops) + flag:>10} "
            f"{_bytes(s.peak_bytes_per_device):>9} "
            f"{'?' if s.compile_seconds is None else f'{s.compile_seconds:.1f} s':>8} "
            f"{'?' if s.seconds is None else f'{s.seconds:.1f} s':>8}"
        )
    lines.append("")
    fits = {True: "fits", False: "DOES NOT FIT", None: "unknown"}[cost.fits]
    lines.append(
        f"peak memory per device: {_bytes(cost.peak_bytes_per_device)} of "
        f"{_bytes(cost.device_bytes)} ({fits}) on {cost.device_count} x {cost.device}"
    )
    if cost.fits is False:
        chunk = cost.fitting_chunk_size
        lines.append(
            f"to fit, run fewer (cell, seed) pairs per call: --set chunk_size={chunk}"
            if chunk
            else "to fit: no chunk size does; one pair needs more than one device"
        )
    if cost.seconds is not None and cost.calibration is not None:
        lines.append(
            f"projected wall time: {cost.seconds:.1f} s ({cost.seconds / 60:.1f} min; "
            f"calibration {cost.calibration.seconds:.1f} s)"
        )
    if cost.lower_bound:
        lines.append(
            "* a data-dependent lax.while_loop counted once per call: a lower bound "
            "(declare its trips with muonjax.declare_while_trips)"
        )
    return "\n".join(lines)
