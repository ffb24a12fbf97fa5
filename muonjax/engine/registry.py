"""The registries of experiments and checks, and the one way to run an experiment.

**Experiments.** An experiment is a thin script under the top-level ``experiments/``
directory (one per figure), installed as the package ``muonjax.experiments``. It
defines a frozen dataclass config with ``quick`` and ``paper`` presets, a
``sweep(config)`` (a :class:`muonjax.Sweep`) or, for experiments recorded in several
parts or with side files, a ``run(config, out_dir, *, progress, meta)``, a
``plot(out_dir)`` that turns the records into figures, and registers them with
:func:`register_experiment`. The registry finds experiments by importing every module
of ``muonjax.experiments``. :func:`run_recorded` runs one: inside
``jax.enable_x64(experiment.x64)`` (64-bit mode scoped to the run, never switched on
globally), through :func:`muonjax.record_sweep` when the experiment gives a sweep.

From a source checkout that is on ``sys.path`` but not installed (``PYTHONPATH=.``),
``muonjax.experiments`` does not exist as a directory of the package; the registry
then loads ``experiments/`` beside ``muonjax/`` under that name, so the command
line behaves the same in all three settings (source tree, editable install,
regular install).

**Checks.** A *check* puts one claim of the SPEC to a numerical test: it measures,
fits and compares the fit with the prediction of :mod:`muonjax.theory`. A check is a
name, the claim in words, its SPEC tag verbatim, sizes per preset (``"tiny"`` for the
test suite, ``"quick"`` for a 2-core CPU, ``"paper"`` for a GPU) and a function of a
:class:`CheckContext` returning a :class:`CheckOutcome` (comparison rows and a
JSON-ready ``details`` dict). Families register their catalogues at import
(:data:`CHECK_MODULES`); :func:`muonjax.run_checks` runs them.

Registering a check::

    import muonjax as mj

    @mj.register_check(
        "my_claim",
        claim="GD's loss decays like 1/t",
        spec_tag="[summary]",
        sizes={"tiny": {"k": 8}, "quick": {"k": 64}, "paper": {"k": 1024}},
        part="B",
    )
    def _my_claim(ctx):
        fit = mj.fit_loss_slope(steps, losses)  # (len(steps), seeds) losses
        return mj.CheckOutcome(
            comparisons=(mj.compare_fit(fit, -1.0, label="slope of L in T"),),
            details={"k": ctx.sizes["k"], "fit": fit.to_dict()},
        )

Rows are *primary* (the measurement argued to match the claim; the check's verdict
combines them) or *info* (a second measure shown beside it with its own verdict).
"""

# Size: over 500 lines because experiments and checks share one registry, its presets
# and run_recorded's float64 scope.

from __future__ import annotations

import dataclasses
import importlib
import importlib.util
import inspect
import pkgutil
import sys
import types
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import jax

from muonjax._io import jsonable
from muonjax.engine.identity import (
    ENGINE_FIELDS,
    RunContext,
    identity_scope,
    run_context,
)
from muonjax.engine.lock import run_lock
from muonjax.engine.memory import check_memory
from muonjax.engine.parts import record_parts
from muonjax.engine.records import (
    _now,
    read_manifest,
    record_interrupted,
    record_sweep,
    refusal_cleanup,
    run_options,
)
from muonjax.engine.settings import (
    field_types,
    parse_limits,
    resolve,
)
from muonjax.engine.settings import validate_config as _validate_config
from muonjax.engine.sweep import Sweep
from muonjax.engine.table import check_records
from muonjax.stats.verdict import Comparison

#: Name under which the ``experiments/`` directory is imported.
EXPERIMENTS_PACKAGE = "muonjax.experiments"
#: Preset names every experiment provides.
PRESETS = ("quick", "paper")
#: Preset names every check defines sizes for.
CHECK_PRESETS = ("tiny", "quick", "paper")


@dataclasses.dataclass(frozen=True)
class Experiment:
    """A registered experiment.

    Attributes:
        name: command-line name (``muonjax run NAME``).
        summary: one line for ``muonjax list``.
        presets: ``preset name -> config`` (frozen dataclass instances of one type).
        plot: ``plot(out_dir) -> list of paths``: figures from the records.
        sweep: ``sweep(config)``: the :class:`muonjax.Sweep` to record, or a mapping
            ``part name -> Sweep`` recorded in parts (:func:`muonjax.record_parts`);
            the config gives ``seeds``, ``root_seed`` and ``chunk_size``.
        run: ``run(config, out_dir, *, progress, meta)``, for experiments that
            record more than a sweep; exactly one of ``sweep`` and ``run`` is set.
        x64: run (and plot) inside ``jax.enable_x64(True)``.
        presentation: config fields that change figures and fits only, never a
            cell's numbers; every other field is part of the cells' identity.
        limits: ``{field: Interval or Choices}``, the range or the allowed values
            of a field (of every value of a tuple field).
        estimate_memory: optional ``estimate_memory(config) -> bytes`` per device,
            checked before anything is computed (besides the engine's own check of
            each compiled program).
    """

    name: str
    summary: str
    presets: Mapping[str, Any]
    plot: Callable[[Path], list[Path]]
    sweep: Callable[[Any], Sweep | Mapping[str, Sweep]] | None = None
    run: Callable[..., Any] | None = None
    x64: bool = False
    presentation: tuple[str, ...] = ()
    limits: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    estimate_memory: Callable[[Any], int] | None = None

    @property
    def config_type(self) -> type:
        """The config dataclass."""
        return type(next(iter(self.presets.values())))


_REGISTRY: dict[str, Experiment] = {}


def _source_file(fn: Callable) -> str | None:
    try:
        return str(Path(inspect.getfile(fn)).resolve())
    except (TypeError, OSError):
        return None


def register_experiment(
    name: str,
    *,
    summary: str,
    presets: Mapping[str, Any],
    plot: Callable[[Path], list[Path]],
    sweep: Callable[[Any], Sweep | Mapping[str, Sweep]] | None = None,
    run: Callable[..., Any] | None = None,
    x64: bool = False,
    presentation: Sequence[str] = (),
    limits: Mapping[str, Any] | None = None,
    estimate_memory: Callable[[Any], int] | None = None,
) -> Experiment:
    """Register an experiment under ``name`` and return it.

    Registering a name again from the same file (a script imported both as
    ``__main__`` and as ``muonjax.experiments.NAME``) replaces the entry; from
    another file it is an error.

    Args:
        name: command-line name, e.g. ``"fig2"``.
        summary: one line for ``muonjax list``.
        presets: must hold ``"quick"`` and ``"paper"``, frozen dataclass instances
            of one config type.
        plot: ``plot(out_dir) -> list[Path]``.
        sweep: ``sweep(config) -> Sweep`` (or ``{part: Sweep}``), recorded by
            :func:`run_recorded` with the config's ``seeds``, ``root_seed`` and
            ``chunk_size``.
        run: ``run(config, out_dir, *, progress=False, meta=None)``, instead of
            ``sweep``, for experiments that write more than a sweep's records.
        x64: run inside ``jax.enable_x64(True)`` (scoped to the run).
        presentation: fields that only change figures and fits (a bootstrap size,
            the smallest ``d`` of a fit): changing them reuses the stored cells.
            Every other field is part of each cell's identity
            (:mod:`muonjax.engine.identity`); the test suite checks that a
            presentation field leaves the sweep unchanged.
        limits: ``{field: interval or allowed values}``, e.g. ``{"n": "[1, inf)",
            "alphas": "(0, inf)", "noise": "[0, 1)", "update_dtype": ("float32",
            "float64")}``; checked with the field's type before anything is
            computed (:mod:`muonjax.engine.settings`).
        estimate_memory: ``estimate_memory(config) -> int``, bytes per device;
            :func:`run_recorded` refuses a run that would not fit (unless forced).
    """
    if not name.isidentifier():
        raise ValueError(f"name must be an identifier, got name={name!r}")
    if (sweep is None) == (run is None):
        raise ValueError(f"experiment {name!r} needs exactly one of sweep= and run=")
    missing = [p for p in PRESETS if p not in presets]
    if missing:
        raise ValueError(f"experiment {name!r} lacks the presets {missing}")
    types_ = {type(c) for c in presets.values()}
    if len(types_) != 1 or not dataclasses.is_dataclass(next(iter(types_))):
        raise ValueError(
            f"presets of {name!r} must be instances of one dataclass, got "
            f"{sorted(t.__name__ for t in types_)}"
        )
    config_type = next(iter(types_))
    names = set(field_types(config_type))
    bad = sorted(set(presentation) - names) + sorted(
        set(presentation) & set(ENGINE_FIELDS)
    )
    if bad:
        raise ValueError(
            f"presentation fields {bad} of {name!r} are not fields of "
            f"{config_type.__name__} or are read by the engine"
        )
    exp = Experiment(
        name,
        summary,
        dict(presets),
        plot,
        sweep,
        run,
        bool(x64),
        tuple(presentation),
        parse_limits(config_type, limits),
        estimate_memory,
    )
    old = _REGISTRY.get(name)
    if old is not None and _source_file(old.plot) != _source_file(plot):
        raise ValueError(
            f"experiment {name!r} is registered twice: {_source_file(old.plot)} and "
            f"{_source_file(plot)}"
        )
    _REGISTRY[name] = exp
    return exp


def run_recorded(
    experiment: Experiment,
    config: Any,
    out_dir: str | Path,
    *,
    progress: bool = False,
    meta: Mapping[str, Any] | None = None,
    force: bool = False,
    stall_warning: float | None = 600.0,
    peer_timeout: float = 120.0,
) -> Any:
    """Run (or resume) ``experiment`` with ``config`` and write its records.

    The one way an experiment runs, from the command line and from Python:

    1. every field of ``config`` is checked (:func:`validate_config`), and the
       experiment's ``estimate_memory`` (if any) against each device;
    2. the output directory is created and locked (:mod:`muonjax.engine.lock`):
       another run with another configuration there is refused;
    3. inside ``jax.enable_x64(experiment.x64)`` (64-bit mode scoped to the run)
       and an :func:`muonjax.engine.identity.identity_scope` holding the resolved
       config, so that every cell recorded inside is keyed by it, a sweep is
       recorded with :func:`muonjax.record_sweep` (or :func:`muonjax.record_parts`
       for a mapping of parts) using the config's ``seeds``, ``root_seed`` and
       ``chunk_size``, or the experiment's ``run`` is called.

    A run refused before computing leaves nothing behind.

    Args:
        experiment: the experiment.
        config: an instance of its config type.
        out_dir: the output directory.
        progress: progress bars on stderr.
        meta: manifest entries.
        force: skip the memory checks.
        stall_warning, peer_timeout: see :func:`muonjax.record_sweep`.

    Returns:
        What the recording returns (:class:`muonjax.RecordedSweep` or
        :class:`muonjax.RecordedParts`), or what the experiment's ``run`` returns.
    """
    validate_config(experiment, config)
    if experiment.estimate_memory is not None and not force:
        check_memory(
            experiment.estimate_memory(config),
            jax.local_devices(),
            where=f"{experiment.name} with these settings",
        )
    context = run_context(experiment.name, config, presentation=experiment.presentation)
    out = Path(out_dir)
    started = _now()
    try:
        return _run_locked(
            experiment,
            config,
            out,
            context,
            progress=progress,
            meta=meta,
            force=force,
            stall_warning=stall_warning,
            peer_timeout=peer_timeout,
        )
    except KeyboardInterrupt as err:
        # Stopped outside a sweep (in an experiment's own code after it): record it.
        raise record_interrupted(
            err, out, started=started, digest=context.digest()
        ) from None


def _run_locked(
    experiment: Experiment,
    config: Any,
    out: Path,
    context: RunContext,
    *,
    progress: bool,
    meta: Mapping[str, Any] | None,
    force: bool,
    stall_warning: float | None,
    peer_timeout: float,
) -> Any:
    with (
        refusal_cleanup(out),
        run_lock(out, digest=context.digest()),
        jax.enable_x64(experiment.x64),
        identity_scope(context),
        run_options(
            force=force, stall_warning=stall_warning, peer_timeout=peer_timeout
        ),
    ):
        if experiment.run is not None:
            return experiment.run(config, out, progress=progress, meta=meta)
        assert experiment.sweep is not None
        grid = experiment.sweep(config)
        seeds = config.seeds
        root_seed = getattr(config, "root_seed", 0)
        chunk_size = getattr(config, "chunk_size", 16)
        record = record_sweep if isinstance(grid, Sweep) else record_parts
        return record(
            grid,  # type: ignore[arg-type]
            out,
            seeds=seeds,
            root_seed=root_seed,
            chunk_size=chunk_size,
            progress=progress,
            meta=meta,
        )


def plot_recorded(experiment: Experiment, out_dir: str | Path) -> list[Path]:
    """The experiment's figures and summary from the records in ``out_dir``.

    The records are checked against the manifest first
    (:func:`muonjax.engine.table.check_records`): a garbled or truncated table is a
    ``ValueError`` naming the file, never an error deep inside a figure.
    """
    check_records(out_dir, read_manifest(out_dir))
    with jax.enable_x64(experiment.x64):
        return experiment.plot(Path(out_dir))


def _experiments_package() -> types.ModuleType | None:
    try:
        return importlib.import_module(EXPERIMENTS_PACKAGE)
    except ModuleNotFoundError as err:
        if err.name != EXPERIMENTS_PACKAGE:
            raise
    # A source checkout on sys.path: load ../experiments under the package name.
    import muonjax

    src = Path(muonjax.__file__).resolve().parent.parent / "experiments"
    init = src / "__init__.py"
    if not init.exists():
        return None
    spec = importlib.util.spec_from_file_location(
        EXPERIMENTS_PACKAGE, init, submodule_search_locations=[str(src)]
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[EXPERIMENTS_PACKAGE] = module
    spec.loader.exec_module(module)
    return module


def load_experiments() -> dict[str, Experiment]:
    """Import every module of ``muonjax.experiments``; return the registry."""
    package = _experiments_package()
    if package is not None:
        for info in pkgutil.iter_modules(package.__path__):
            if not info.name.startswith("_"):
                importlib.import_module(f"{EXPERIMENTS_PACKAGE}.{info.name}")
    return dict(sorted(_REGISTRY.items()))


def get_experiment(name: str) -> Experiment:
    """The experiment registered as ``name`` (``ValueError`` naming the known ones)."""
    if name not in _REGISTRY:
        load_experiments()
    if name not in _REGISTRY:
        known = ", ".join(sorted(_REGISTRY)) or "none"
        raise ValueError(f"unknown experiment {name!r}; known experiments: {known}")
    return _REGISTRY[name]


# --------------------------------------------------------------------------------------
# Configs: presets and --set overrides (parsing and checks: muonjax.engine.settings).


def resolve_config(
    experiment: Experiment,
    preset: str,
    *,
    seeds: int | None = None,
    overrides: Sequence[str] = (),
) -> Any:
    """The preset's config with ``--seeds`` and ``--set key=value`` applied, validated.

    Every field is checked before anything runs (:func:`validate_config`).

    Raises:
        ValueError: an unknown preset, key or a bad value, with a message naming it.
    """
    if preset not in experiment.presets:
        raise ValueError(
            f"unknown preset {preset!r} for {experiment.name}; presets: "
            f"{', '.join(experiment.presets)}"
        )
    return resolve(
        experiment.presets[preset],
        name=experiment.name,
        seeds=seeds,
        overrides=overrides,
        limits=experiment.limits,
    )


def validate_config(experiment: Experiment, config: Any) -> None:
    """Check every field of ``config`` for ``experiment`` (``ValueError`` naming it).

    Types, finiteness, integer sizes, unique tuple values and the experiment's
    declared ranges (see :mod:`muonjax.engine.settings`).
    """
    if type(config) is not experiment.config_type:
        raise ValueError(
            f"{experiment.name} takes a {experiment.config_type.__name__}, got "
            f"{type(config).__name__}"
        )
    _validate_config(
        config, experiment.limits, label=f"invalid settings for {experiment.name}: "
    )


# --------------------------------------------------------------------------------------
# Checks: claims put to a numerical test.


@dataclasses.dataclass(frozen=True)
class CheckContext:
    """What a check function receives.

    Attributes:
        preset: ``"tiny"``, ``"quick"`` or ``"paper"``.
        sizes: this check's sizes for the preset (a read-only mapping).
        cache: measurement cache shared by all checks of one run, so checks that
            need the same runs share them.
        progress: callable taking a message line.
    """

    preset: str
    sizes: Mapping[str, Any]
    cache: dict[Any, Any]
    progress: Callable[[str], None]


@dataclasses.dataclass(frozen=True)
class CheckOutcome:
    """What a check function returns.

    Attributes:
        comparisons: the primary rows; the check's verdict combines theirs.
        info: rows shown beside them (another capacity measure, a literal reading
            of the claim, ...), each with its own verdict, not combined.
        details: JSON-ready numbers behind the rows (means per size, fits, ...).
    """

    comparisons: tuple[Comparison, ...]
    info: tuple[Comparison, ...] = ()
    details: Mapping[str, Any] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class Check:
    """A registered check (see the module docstring)."""

    name: str
    claim: str
    spec_tag: str
    fn: Callable[[CheckContext], CheckOutcome]
    sizes: Mapping[str, Mapping[str, Any]]
    part: str = "A"


@dataclasses.dataclass(frozen=True)
class CheckResult:
    """The outcome of one check in one run.

    Attributes:
        name, claim, spec_tag, part: from the :class:`Check`.
        preset: the preset run.
        verdict: combined verdict of the primary rows, or ``"error"`` when the check
            raised (``error`` holds the message).
        comparisons: primary rows. info: info rows.
        sizes: the sizes used.
        details: the numbers behind the rows.
        seconds: wall time of the check (including compilation).
        error: the exception text, if any.
    """

    name: str
    claim: str
    spec_tag: str
    part: str
    preset: str
    verdict: str
    comparisons: tuple[Comparison, ...]
    info: tuple[Comparison, ...]
    sizes: Mapping[str, Any]
    details: Mapping[str, Any]
    seconds: float
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "name": self.name,
            "claim": self.claim,
            "spec_tag": self.spec_tag,
            "part": self.part,
            "preset": self.preset,
            "verdict": self.verdict,
            "comparisons": [c.to_dict() for c in self.comparisons],
            "info": [c.to_dict() for c in self.info],
            "sizes": jsonable(dict(self.sizes)),
            "details": jsonable(dict(self.details)),
            "seconds": self.seconds,
            "error": self.error,
        }


_CHECKS: dict[str, Check] = {}

#: Modules that register further checks when imported (e.g. Part B's catalogue);
#: :func:`available_checks` and :func:`run_checks` import them first.
CHECK_MODULES: list[str] = [
    "muonjax.gaussian.checks",
    "muonjax.orthogonal.checks",
    "muonjax.transformer.checks",
    "muonjax.transformer.longtail_checks",
]


def _load_check_modules() -> None:
    for module in CHECK_MODULES:
        importlib.import_module(module)


def register_check(
    name: str,
    *,
    claim: str,
    spec_tag: str,
    sizes: Mapping[str, Mapping[str, Any]],
    part: str = "A",
    replace: bool = False,
) -> Callable[[Callable[[CheckContext], CheckOutcome]], Callable]:
    """Register a check; use as a decorator on its function.

    Args:
        name: unique identifier (letters, digits, ``_``), used on the command line.
        claim: the claim in words, as printed in the table.
        spec_tag: the SPEC provenance tag, verbatim (e.g. ``"[derived]"``).
        sizes: ``{preset: {size: value}}`` for every preset in :data:`CHECK_PRESETS`.
        part: the SPEC part (``"A"``, ``"B"``, ...), for listings.
        replace: allow replacing an existing check of that name.

    Returns:
        A decorator that registers the function and returns it unchanged.
    """
    if not name or not name.replace("_", "").isalnum():
        raise ValueError(f"name must be letters, digits and _, got name={name!r}")
    if name in _CHECKS and not replace:
        raise ValueError(f"a check named {name!r} is already registered")
    missing = [p for p in CHECK_PRESETS if p not in sizes]
    if missing:
        raise ValueError(
            f"sizes must define every preset {CHECK_PRESETS}, missing {missing}"
        )
    if not claim or not spec_tag:
        raise ValueError("claim and spec_tag must be non-empty")

    def decorator(fn):
        _CHECKS[name] = Check(
            name=name,
            claim=claim,
            spec_tag=spec_tag,
            fn=fn,
            sizes={k: dict(v) for k, v in sizes.items()},
            part=part,
        )
        return fn

    return decorator


def available_checks() -> list[Check]:
    """The registered checks, in registration order (after :data:`CHECK_MODULES`)."""
    _load_check_modules()
    return list(_CHECKS.values())


def list_checks() -> tuple[str, list[tuple[str, str]]]:
    """``("checks", [(name, claim), ...])`` for ``muonjax list``."""
    return "checks", [(c.name, c.claim) for c in available_checks()]
