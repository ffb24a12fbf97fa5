"""The ``muonjax`` command: ``list``, ``run``, ``plot``, ``check``.

All of the command line lives here (``argparse``); the work is done by the library:
:func:`muonjax.run_recorded` and :func:`muonjax.plot_recorded` for experiments,
:func:`muonjax.run_checks` for checks. ``python experiments/NAME.py`` takes the same
options as ``muonjax run NAME`` (:func:`experiment_main`).

Exit codes: 0 on success, 2 on a usage error (unknown experiment, bad ``--set`` key or
value), with a message naming what was wrong; ``check`` returns 1 when a check raised.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import jax

from muonjax.engine.checks import ERROR, format_table, run_checks
from muonjax.engine.cost import estimate, format_cost
from muonjax.engine.records import read_manifest
from muonjax.engine.registry import (
    CHECK_PRESETS,
    PRESETS,
    Experiment,
    available_checks,
    get_experiment,
    list_checks,
    load_experiments,
    plot_recorded,
    resolve_config,
    run_recorded,
)

# --------------------------------------------------------------------------------------
# run and plot.


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
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="run nothing: print the cells, compiled shapes, flops, peak memory per "
        "device and a projected wall time (compiles each shape and times this "
        "device's products for a few seconds)",
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
    if args.dry_run:
        print(format_cost(estimate(experiment, config)))
        return 0
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
    recorded = run_recorded(
        experiment, config, out, progress=not args.no_progress, meta=meta
    )
    if jax.process_index() != 0:
        return 0
    figures = [] if args.no_plot else plot_recorded(experiment, out)
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
    try:
        manifest = read_manifest(args.dir)
        name = manifest.get("experiment")
        if name is None:
            raise ValueError(f"the manifest in {args.dir} names no experiment")
        experiment = get_experiment(name)
    except ValueError as err:
        args.parser.error(str(err))
    for path in plot_recorded(experiment, args.dir):
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


# --------------------------------------------------------------------------------------
# check.


def _check_handler(args: argparse.Namespace) -> int:
    if args.list:
        for c in available_checks():
            print(f"{c.name:<26} [{c.part}] {c.claim} {c.spec_tag}")
        return 0
    try:
        results = run_checks(args.names or None, preset=args.preset, out_dir=args.out)
    except ValueError as err:
        print(f"muonjax check: {err}", file=sys.stderr)
        return 2
    print(format_table(results))
    if args.out:
        print(f"\nwritten: {os.path.join(args.out, 'checks.json')}, checks.md")
    return 1 if any(r.verdict == ERROR for r in results) else 0


def add_check_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``check`` subcommand to an ``argparse`` subparsers object.

    ``check [NAME ...] [--preset tiny|quick|paper] [--out DIR] [--list]``; the
    handler returns 0 when every check ran (whatever its verdict: an inconsistent
    prediction is a result), 1 when a check raised, 2 on a usage error.
    """
    parser = subparsers.add_parser(
        "check",
        help="run the theorem checks and print their verdicts",
        description="Run numerical checks of the papers' claims; print a table "
        "(claim, SPEC tag, prediction, measurement, interval, verdict) and write "
        "it as JSON and Markdown with --out.",
    )
    _add_check_arguments(parser)
    parser.set_defaults(handler=_check_handler, parser=parser)
    return parser


def _add_check_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("names", nargs="*", metavar="NAME", help="checks to run")
    parser.add_argument(
        "--preset",
        choices=CHECK_PRESETS,
        default="quick",
        help="sizes: tiny (seconds), quick (a 2-core CPU, minutes), paper (a GPU)",
    )
    parser.add_argument("--out", metavar="DIR", help="write checks.json, checks.md")
    parser.add_argument("--list", action="store_true", help="list the checks")


#: ``add_parser(subparsers)`` functions, one per subcommand after ``list``.
_SUBCOMMANDS = (add_run_parser, add_plot_parser, add_check_parser)
#: Sections of ``muonjax list``: functions returning ``(title, [(name, summary)])``.
_LISTINGS = (list_experiments, list_checks)


def _list_handler(args: argparse.Namespace) -> int:
    del args
    for listing in _LISTINGS:
        title, entries = listing()
        print(f"{title}:")
        width = max((len(name) for name, _ in entries), default=0)
        for name, summary in entries:
            print(f"  {name:<{width}}  {summary}")
        if not entries:
            print("  (none)")
    return 0


def add_list_parser(subparsers) -> argparse.ArgumentParser:
    """Add ``muonjax list``."""
    parser = subparsers.add_parser(
        "list",
        help="list the experiments (and checks) available",
        description="List what `muonjax run` (and the other subcommands) can run.",
    )
    parser.set_defaults(handler=_list_handler, parser=parser)
    return parser


def build_parser() -> argparse.ArgumentParser:
    """The ``muonjax`` argument parser with every subcommand."""
    import muonjax

    parser = argparse.ArgumentParser(
        prog="muonjax",
        description="Check numerically what two 2026 papers prove about the Muon "
        "optimizer in associative memory learning.",
    )
    parser.add_argument(
        "--version", action="version", version=f"muonjax {muonjax.__version__}"
    )
    subparsers = parser.add_subparsers(title="commands", metavar="COMMAND")
    for add_parser in (add_list_parser, *_SUBCOMMANDS):
        add_parser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``muonjax`` command; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help(sys.stderr)
        return 2
    return int(handler(args) or 0)


if __name__ == "__main__":
    raise SystemExit(main())
