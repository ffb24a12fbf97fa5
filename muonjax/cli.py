"""The ``muonjax`` command: ``list``, ``run``, ``plot``, ``check``.

All of the command line lives here (``argparse``); the work is done by the library:
:func:`muonjax.run_recorded` and :func:`muonjax.plot_recorded` for experiments,
:func:`muonjax.run_checks` for checks. ``python experiments/NAME.py`` takes the same
options as ``muonjax run NAME`` (:func:`experiment_main`).

Exit codes (``docs/sweeps.md``, "What a run guarantees"):

- 0: success;
- 2: bad input, refused before anything is computed: an unknown experiment, a bad
  ``--set`` key or value (every field is validated first), an output directory that
  cannot be written or that another run holds, a run that would not fit the
  device's memory (``--force`` overrides), bad multi-process options. One line on
  stderr names what was wrong; nothing is written;
- 130 / 143: interrupted by Ctrl-C (SIGINT) / SIGTERM: one line says how many cells
  were done; the session is recorded as interrupted; the same command resumes;
- 1: another process of a multi-process run was lost (named on stderr);
  ``check`` returns 1 when a check raised.
"""

# Size: over 500 lines because all of the package's argparse (list, run, plot, check,
# claims) and its exit-code rules, in one place.

from __future__ import annotations

import argparse
import dataclasses
import math
import os
import socket
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

import jax

from muonjax._io import atomic_write_text
from muonjax._validate import printable
from muonjax.engine.checks import ERROR, format_table, run_checks
from muonjax.engine.cost import estimate, format_cost
from muonjax.engine.interrupts import Interrupted, signals_raise
from muonjax.engine.peers import PeerLost
from muonjax.engine.records import check_output_dir, read_manifest
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
# Errors: one line, one exit code.


class _Parser(argparse.ArgumentParser):
    """``argparse`` whose errors are one line on stderr (no usage block), exit 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {printable(message)}\n")


class _Stop(Exception):
    """Leave the command now: print ``message`` and exit with ``code``.

    Raised for an interrupted run and a lost peer process; :func:`main` exits
    with ``os._exit`` so that no interpreter shutdown races XLA's threads (the
    cause of segmentation faults after Ctrl-C) and no JAX distributed shutdown
    waits for a dead peer. Every file was already written atomically.
    """

    def __init__(self, message: str, code: int):
        super().__init__(message)
        self.code = code


def _stop(err: _Stop) -> NoReturn:
    print(err, file=sys.stderr)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(err.code)


# --------------------------------------------------------------------------------------
# run and plot.

#: What JAX's own coordination service waits before it aborts a process whose peer
#: stopped sending heartbeats; muonjax notices a lost peer itself (--peer-timeout,
#: muonjax.engine.peers) and stops with a message, well before that.
_JAX_HEARTBEAT_TIMEOUT = 24 * 3600


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
        "--force",
        action="store_true",
        help="run even if the projected memory per device exceeds what the device "
        "has free",
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
    dist.add_argument(
        "--peer-timeout",
        type=float,
        default=120.0,
        metavar="SECONDS",
        help="how long processes wait to join, and how long a silent process is "
        "waited for before the run stops with an error (default: 120)",
    )


def _check_distributed(args: argparse.Namespace) -> bool:
    """Validate the multi-process options; whether to join a distributed run."""
    manual = {
        "--coordinator": args.coordinator,
        "--num-processes": args.num_processes,
        "--process-id": args.process_id,
    }
    given = [k for k, v in manual.items() if v is not None]
    if not (math.isfinite(args.peer_timeout) and args.peer_timeout > 0):
        raise ValueError(f"--peer-timeout must be > 0, got {args.peer_timeout}")
    if not args.distributed and not given:
        return False
    if not args.distributed and len(given) < 3:
        missing = [k for k in manual if k not in given]
        raise ValueError(
            f"{', '.join(given)} needs {' and '.join(missing)} as well (or "
            "--distributed to detect them on SLURM, Open MPI or Cloud TPU)"
        )
    if args.coordinator is not None:
        host, sep, port = args.coordinator.rpartition(":")
        if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError(
                f"--coordinator must be HOST:PORT with a port in 1..65535, got "
                f"{args.coordinator!r}"
            )
    if args.num_processes is not None and args.num_processes < 1:
        raise ValueError(f"--num-processes must be >= 1, got {args.num_processes}")
    if args.process_id is not None and (
        args.process_id < 0
        or (args.num_processes is not None and args.process_id >= args.num_processes)
    ):
        raise ValueError(
            f"--process-id must be in 0..{(args.num_processes or 1) - 1}, got "
            f"{args.process_id}"
        )
    return True


def _reach_coordinator(args: argparse.Namespace) -> str | None:
    """Why the coordinator cannot be used, or ``None``: checked before JAX tries.

    JAX's client aborts the process (no Python exception) when it cannot register
    with the coordinator in time, so this checks first: process 0 that the port is
    free to listen on, the others that something listens there within
    ``--peer-timeout`` seconds.
    """
    if args.coordinator is None:
        return None  # detected by JAX (SLURM, Open MPI, Cloud TPU)
    host, _, port = args.coordinator.rpartition(":")
    host = host.strip("[]")
    if args.process_id == 0:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as sock:
            try:
                sock.bind(("::", int(port)))
            except OSError as err:
                return f"cannot listen on port {port} ({err.strerror or err})"
        return None
    deadline = time.monotonic() + args.peer_timeout
    while True:
        try:
            with socket.create_connection((host, int(port)), timeout=1.0):
                return None
        except OSError as err:
            if time.monotonic() >= deadline:
                return f"nothing answers there ({err.strerror or err})"
        time.sleep(0.2)


def _join(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """``jax.distributed.initialize`` with the options; errors exit 2."""
    problem = _reach_coordinator(args)
    if problem is not None:
        raise _Stop(
            f"{parser.prog}: error: could not join the run at --coordinator "
            f"{args.coordinator} as process {args.process_id} of "
            f"{args.num_processes} within {args.peer_timeout:g} s: {problem}",
            2,
        )
    try:
        jax.distributed.initialize(
            coordinator_address=args.coordinator,
            num_processes=args.num_processes,
            process_id=args.process_id,
            initialization_timeout=max(1, int(args.peer_timeout)),
            heartbeat_timeout_seconds=_JAX_HEARTBEAT_TIMEOUT,
        )
    except Exception as err:  # JAX raises RuntimeError, ValueError, XlaRuntimeError
        where = args.coordinator or "the detected coordinator"
        first = str(err).strip().splitlines()[0] if str(err).strip() else repr(err)
        raise _Stop(
            f"{parser.prog}: error: could not join the run at {where} as process "
            f"{args.process_id} of {args.num_processes} within {args.peer_timeout:g} "
            f"s: {first}",
            2,
        ) from None


def _execute(
    parser: argparse.ArgumentParser, experiment: Experiment, args: argparse.Namespace
) -> int:
    out = args.out or Path("runs") / f"{experiment.name}-{args.preset}"
    try:
        if args.seeds is not None and args.seeds < 1:
            raise ValueError(f"--seeds must be >= 1, got {args.seeds}")
        config = resolve_config(
            experiment, args.preset, seeds=args.seeds, overrides=args.overrides
        )
        if not args.dry_run:
            check_output_dir(out)
        distributed = _check_distributed(args)
    except ValueError as err:
        parser.error(str(err))
    if args.dry_run:
        print(format_cost(estimate(experiment, config)))
        return 0
    if distributed:
        _join(parser, args)
    start = time.perf_counter()
    meta = {
        "experiment": experiment.name,
        "preset": args.preset,
        "overrides": list(args.overrides),
        "config": _jsonable_config(config),
    }
    with signals_raise():
        try:
            recorded = run_recorded(
                experiment,
                config,
                out,
                progress=not args.no_progress,
                meta=meta,
                force=args.force,
                peer_timeout=args.peer_timeout,
            )
            if jax.process_index() != 0:
                return 0
        except Interrupted as stop:
            raise _Stop(f"{parser.prog}: {stop.message()}", stop.exit_code) from None
        except PeerLost as err:
            raise _Stop(f"{parser.prog}: error: {err}", 1) from None
        except ValueError as err:  # refused (lock, memory) or bad input found late
            parser.error(str(err))
        try:
            figures = [] if args.no_plot else plot_recorded(experiment, out)
        except Interrupted as stop:
            raise _Stop(
                f"{parser.prog}: interrupted while drawing the figures; the records "
                f"are complete: `muonjax plot {printable(out)}` draws them",
                stop.exit_code,
            ) from None
        except ValueError as err:  # records that cannot be drawn
            parser.error(str(err))
    wall = time.perf_counter() - start
    # The session's counts: with several processes, all of theirs.
    session = (getattr(recorded, "manifest", None) or {}).get("sessions", [{}])[-1]
    sweep = getattr(recorded, "sweep", None)
    done = ""
    if "cells_computed" in session:
        done = (
            f" ({session['cells_computed']} cells computed, "
            f"{session['cells_loaded']} loaded)"
        )
    elif sweep is not None:
        done = f" ({sweep.computed} cells computed, {sweep.loaded} loaded)"
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
        if manifest.get("complete") is False:
            last = (manifest.get("sessions") or [{}])[-1]
            command = " ".join(last.get("command", [])) or "its command"
            raise ValueError(
                f"{args.dir} holds a run that never finished (its last session was "
                f"{last.get('status', 'interrupted')}); re-run `{command}` to finish it"
            )
        name = manifest.get("experiment")
        if not isinstance(name, str):
            raise ValueError(
                f"the manifest in {args.dir} names no experiment (is it a part of "
                "one? plot its parent directory)"
            )
        experiment = get_experiment(name)
        paths = plot_recorded(experiment, args.dir)
    except ValueError as err:
        args.parser.error(str(err))
    for path in paths:
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
    parser = _Parser(
        prog=f"{experiment.name}.py",
        description=f"{experiment.summary} (same as `muonjax run {experiment.name}`)",
    )
    add_run_options(parser)
    args = parser.parse_args(argv)
    try:
        return _execute(parser, experiment, args)
    except _Stop as err:
        _stop(err)


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


def _claims_handler(args: argparse.Namespace) -> int:
    from muonjax.engine.ledger import (
        claims_ledger,
        ledger_markdown,
        merge_check_results,
        read_check_results,
    )

    parser = args.parser
    try:
        docs = [read_check_results(path) for path in args.checks or ()]
        doc = merge_check_results(docs) if docs else None
        if args.out is not None:
            check_output_dir(Path(args.out).parent)
    except ValueError as err:
        parser.error(str(err))
    rows = claims_ledger(doc)
    text = ledger_markdown(rows, meta=(doc or {}).get("meta"))
    if args.out is None:
        print(text)
    else:
        atomic_write_text(Path(args.out), text + "\n")
        print(f"wrote {args.out}: {len(rows)} claims", file=sys.stderr)
    return 0


def add_claims_parser(subparsers) -> argparse.ArgumentParser:
    """Add ``muonjax claims [--checks RUN/checks.json] [--out FILE]``."""
    parser = subparsers.add_parser(
        "claims",
        help="the claims ledger: every claim, its SPEC tag, what tests it, verdicts",
        description="Print (or write) the claims ledger: every claim the checks "
        "test, its SPEC section and tag, the checks and experiments that test it, "
        "the quick sizes, and, from a `muonjax check --out DIR` run's "
        "DIR/checks.json, the verdicts with a reason for each that is not "
        "consistent. docs/claims.md is this command's output.",
    )
    parser.add_argument(
        "--checks",
        metavar="JSON",
        nargs="+",
        help="checks.json of `muonjax check --out DIR` runs (verdicts and reasons; "
        "several runs merge, a later run of a check wins)",
    )
    parser.add_argument("--out", metavar="FILE", help="write Markdown to FILE")
    parser.set_defaults(handler=_claims_handler, parser=parser)
    return parser


#: ``add_parser(subparsers)`` functions, one per subcommand after ``list``.
_SUBCOMMANDS = (add_run_parser, add_plot_parser, add_check_parser, add_claims_parser)
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

    parser = _Parser(
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
    try:
        return int(handler(args) or 0)
    except _Stop as err:
        _stop(err)


if __name__ == "__main__":
    raise SystemExit(main())
