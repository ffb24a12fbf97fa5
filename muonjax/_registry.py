"""The experiment registry and the ``run`` / ``plot`` subcommands.

An experiment is a thin script under the top-level ``experiments/`` directory (one
per figure), installed as the package ``muonjax.experiments``. It defines a frozen
dataclass config with ``quick`` and ``paper`` presets, a ``run(config, out_dir, *,
progress, meta)`` that calls into the library (a sweep recorded with
:func:`muonjax.record_sweep`), and a ``plot(out_dir)`` that turns the records into
figures, and registers them with :func:`register_experiment`. The registry finds
experiments by importing every module of ``muonjax.experiments``.

From a source checkout that is on ``sys.path`` but not installed (``PYTHONPATH=.``),
``muonjax.experiments`` does not exist as a directory of the package; the registry
then loads ``experiments/`` beside ``muonjax/`` under that name, so the command
line behaves the same in all three settings (source tree, editable install,
regular install).

The command-line pieces follow one pattern: ``add_*_parser(subparsers)`` adds a
subcommand whose parser carries its handler (``set_defaults(handler=...)``), and
``list_experiments()`` gives the entries of ``muonjax list``; see
:mod:`muonjax.cli`.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import importlib.util
import inspect
import pkgutil
import sys
import time
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import jax

#: Name under which the ``experiments/`` directory is imported.
EXPERIMENTS_PACKAGE = "muonjax.experiments"
#: Preset names every experiment provides.
PRESETS = ("quick", "paper")


@dataclasses.dataclass(frozen=True)
class Experiment:
    """A registered experiment.

    Attributes:
        name: command-line name (``muonjax run NAME``).
        summary: one line for ``muonjax list``.
        presets: ``preset name -> config`` (frozen dataclass instances of one type).
        run: ``run(config, out_dir, *, progress, meta)``: runs and records.
        plot: ``plot(out_dir) -> list of paths``: figures from the records.
    """

    name: str
    summary: str
    presets: Mapping[str, Any]
    run: Callable[..., Any]
    plot: Callable[[Path], list[Path]]

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
    run: Callable[..., Any],
    plot: Callable[[Path], list[Path]],
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
        run: ``run(config, out_dir, *, progress=False, meta=None)``.
        plot: ``plot(out_dir) -> list[Path]``.
    """
    if not name.isidentifier():
        raise ValueError(f"name must be an identifier, got name={name!r}")
    missing = [p for p in PRESETS if p not in presets]
    if missing:
        raise ValueError(f"experiment {name!r} lacks the presets {missing}")
    types_ = {type(c) for c in presets.values()}
    if len(types_) != 1 or not dataclasses.is_dataclass(next(iter(types_))):
        raise ValueError(
            f"presets of {name!r} must be instances of one dataclass, got "
            f"{sorted(t.__name__ for t in types_)}"
        )
    exp = Experiment(name, summary, dict(presets), run, plot)
    old = _REGISTRY.get(name)
    if old is not None and _source_file(old.run) != _source_file(run):
        raise ValueError(
            f"experiment {name!r} is registered twice: {_source_file(old.run)} and "
            f"{_source_file(run)}"
        )
    _REGISTRY[name] = exp
    return exp


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
# Configs: presets and --set overrides.


def _field_types(config_type: type) -> dict[str, Any]:
    hints = typing.get_type_hints(config_type)
    return {f.name: hints[f.name] for f in dataclasses.fields(config_type)}


def _type_name(tp: Any) -> str:
    return getattr(tp, "__name__", None) or str(tp).replace("typing.", "")


def _parse_scalar(tp: Any, text: str) -> Any:
    if tp is bool:
        low = text.strip().lower()
        if low in ("1", "true", "yes", "on"):
            return True
        if low in ("0", "false", "no", "off"):
            return False
        raise ValueError("expected true or false")
    if tp is int:
        return int(text)
    if tp is float:
        return float(text)
    if tp is str:
        return text
    raise ValueError(f"cannot parse type {_type_name(tp)} from the command line")


def parse_value(tp: Any, text: str) -> Any:
    """Parse ``text`` as a value of type ``tp``.

    Handles ``int``, ``float``, ``bool`` (true/false, yes/no, 1/0), ``str``,
    ``tuple[T, ...]`` (comma separated), ``Literal[...]`` and ``X | None``
    (``none``).
    """
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        if type(None) in args and text.strip().lower() == "none":
            return None
        others = [a for a in args if a is not type(None)]
        errors = []
        for a in others:
            try:
                return parse_value(a, text)
            except ValueError as err:
                errors.append(str(err))
        raise ValueError("; ".join(errors))
    if origin is typing.Literal:
        for a in args:
            if str(a) == text:
                return a
        raise ValueError(f"expected one of {list(args)}")
    if origin is tuple:
        item = args[0] if args else str
        parts = [p.strip() for p in text.split(",") if p.strip()]
        if not parts:
            raise ValueError("expected a comma-separated list")
        return tuple(_parse_scalar(item, p) for p in parts)
    return _parse_scalar(tp, text)


def resolve_config(
    experiment: Experiment,
    preset: str,
    *,
    seeds: int | None = None,
    overrides: Sequence[str] = (),
) -> Any:
    """The preset's config with ``--seeds`` and ``--set key=value`` applied.

    Raises:
        ValueError: an unknown preset, key or a bad value, with a message naming it.
    """
    if preset not in experiment.presets:
        raise ValueError(
            f"unknown preset {preset!r} for {experiment.name}; presets: "
            f"{', '.join(experiment.presets)}"
        )
    config = experiment.presets[preset]
    types_ = _field_types(type(config))
    changes: dict[str, Any] = {}
    for item in overrides:
        key, sep, text = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ValueError(f"--set expects key=value, got {item!r}")
        if key not in types_:
            raise ValueError(
                f"--set {item}: {experiment.name} has no setting {key!r}; settings: "
                f"{', '.join(types_)}"
            )
        try:
            changes[key] = parse_value(types_[key], text)
        except ValueError as err:
            raise ValueError(
                f"--set {item}: bad value {text!r} for {key} "
                f"({_type_name(types_[key])}): {err}"
            ) from None
    if seeds is not None:
        if "seeds" not in types_:
            raise ValueError(f"{experiment.name} has no 'seeds' setting")
        changes["seeds"] = seeds
    try:
        return dataclasses.replace(config, **changes)
    except ValueError as err:  # the config's own validation (__post_init__)
        raise ValueError(f"invalid settings for {experiment.name}: {err}") from None


# --------------------------------------------------------------------------------------
# Command line: run and plot.


def add_run_options(parser: argparse.ArgumentParser) -> None:
    """The options shared by ``muonjax run NAME`` and ``python experiments/X.py``."""
    parser.add_argument(
        "--preset",
        choices=PRESETS,
        default="quick",
        help="quick: minutes on a 2-core CPU; paper: the paper's sizes, for a GPU "
        "(default: quick)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help="output directory (default: runs/NAME-PRESET); re-running with the "
        "same directory resumes, skipping finished cells",
    )
    parser.add_argument(
        "--seeds",
        type=int,
        default=None,
        help="seeds per configuration (overrides the preset)",
    )
    parser.add_argument(
        "--set",
        dest="overrides",
        metavar="KEY=VALUE",
        action="append",
        default=[],
        help="override a config setting, e.g. --set n=2000 --set dims=16,32 "
        "(repeatable; tuples are comma separated)",
    )
    parser.add_argument(
        "--no-progress", action="store_true", help="no progress bar on stderr"
    )
    parser.add_argument(
        "--no-plot", action="store_true", help="write the records, skip the figures"
    )
    dist = parser.add_argument_group(
        "multi-host runs (see docs/sweeps.md; the output directory must be shared)"
    )
    dist.add_argument(
        "--distributed",
        action="store_true",
        help="call jax.distributed.initialize() first; with no other option it "
        "detects SLURM, Open MPI or Cloud TPU (and reads JAX_COORDINATOR_ADDRESS)",
    )
    dist.add_argument("--coordinator", metavar="HOST:PORT", help="address of process 0")
    dist.add_argument("--num-processes", type=int, help="number of processes")
    dist.add_argument("--process-id", type=int, help="this process's index")


def _execute(
    parser: argparse.ArgumentParser, experiment: Experiment, args: argparse.Namespace
) -> int:
    if args.seeds is not None and args.seeds < 1:
        parser.error(f"--seeds must be >= 1, got {args.seeds}")
    try:
        config = resolve_config(
            experiment, args.preset, seeds=args.seeds, overrides=args.overrides
        )
    except ValueError as err:
        parser.error(str(err))
    manual = (args.coordinator, args.num_processes, args.process_id)
    if args.distributed or any(v is not None for v in manual):
        jax.distributed.initialize(
            coordinator_address=args.coordinator,
            num_processes=args.num_processes,
            process_id=args.process_id,
        )
    out = args.out or Path("runs") / f"{experiment.name}-{args.preset}"
    start = time.perf_counter()
    meta = {
        "experiment": experiment.name,
        "preset": args.preset,
        "overrides": list(args.overrides),
        "config": _jsonable_config(config),
    }
    recorded = experiment.run(config, out, progress=not args.no_progress, meta=meta)
    if jax.process_index() != 0:
        return 0
    figures = [] if args.no_plot else experiment.plot(out)
    wall = time.perf_counter() - start
    sweep = getattr(recorded, "sweep", None)
    done = f" ({sweep.computed} cells computed, {sweep.loaded} loaded)" if sweep else ""
    print(f"{experiment.name} [{args.preset}] done in {wall:.1f} s{done}")
    for path in [*getattr(recorded, "table", []), *figures]:
        print(f"  {path}")
    return 0


def _jsonable_config(config: Any) -> dict[str, Any]:
    return {
        k: list(v) if isinstance(v, tuple) else v
        for k, v in dataclasses.asdict(config).items()
    }


def _run_handler(args: argparse.Namespace) -> int:
    try:
        experiment = get_experiment(args.name)
    except ValueError as err:
        args.parser.error(str(err))
    return _execute(args.parser, experiment, args)


def add_run_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add ``muonjax run NAME [options]``."""
    parser = subparsers.add_parser(
        "run",
        help="run an experiment and write its records and figures",
        description="Run a registered experiment (see `muonjax list`): sweep, "
        "records (records.csv, records.parquet, manifest.json) and figures in the "
        "output directory. Interrupted runs resume where they stopped.",
    )
    parser.add_argument("name", help="experiment name, e.g. fig2")
    add_run_options(parser)
    parser.set_defaults(handler=_run_handler, parser=parser)
    return parser


def _plot_handler(args: argparse.Namespace) -> int:
    from muonjax._records import read_manifest

    try:
        manifest = read_manifest(args.dir)
        name = manifest.get("experiment")
        if name is None:
            raise ValueError(f"the manifest in {args.dir} names no experiment")
        experiment = get_experiment(name)
    except ValueError as err:
        args.parser.error(str(err))
    for path in experiment.plot(Path(args.dir)):
        print(path)
    return 0


def add_plot_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add ``muonjax plot DIR``."""
    parser = subparsers.add_parser(
        "plot",
        help="redraw the figures of a finished run from its records",
        description="Redraw the figures of an output directory of `muonjax run` "
        "from its records.csv (the experiment is read from manifest.json).",
    )
    parser.add_argument("dir", type=Path, help="output directory of `muonjax run`")
    parser.set_defaults(handler=_plot_handler, parser=parser)
    return parser


def list_experiments() -> tuple[str, list[tuple[str, str]]]:
    """The ``experiments`` section of ``muonjax list``: ``(title, [(name, line)])``."""
    entries = [
        (name, f"{exp.summary} [presets: {', '.join(exp.presets)}]")
        for name, exp in load_experiments().items()
    ]
    return "experiments (muonjax run NAME)", entries


def experiment_main(experiment: Experiment, argv: Sequence[str] | None = None) -> int:
    """Command line of one experiment script: ``python experiments/X.py [options]``.

    Takes the options of ``muonjax run`` (without the name).
    """
    parser = argparse.ArgumentParser(
        prog=f"{experiment.name}.py",
        description=f"{experiment.summary} (same as `muonjax run {experiment.name}`)",
    )
    add_run_options(parser)
    args = parser.parse_args(argv)
    return _execute(parser, experiment, args)
