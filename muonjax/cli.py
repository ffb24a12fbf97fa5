"""The ``muonjax`` command: ``list``, ``run``, ``plot``, ``check``.

Each subcommand comes from the module that owns it, through a function
``add_parser(subparsers)`` that adds its parser with the handler attached
(``parser.set_defaults(handler=...)``); a handler takes the parsed arguments and
returns the exit code. ``muonjax list`` prints one section per entry of
:data:`LISTINGS`, functions returning ``(title, [(name, summary), ...])``. To add a
subcommand (say ``check``), append its ``add_parser`` to :data:`SUBCOMMANDS` and,
for ``list``, its listing function to :data:`LISTINGS`.

Exit codes: 0 on success, 2 on a usage error (unknown experiment, bad ``--set``
key or value), with a message naming what was wrong.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from muonjax import _checks, _registry

#: ``add_parser(subparsers)`` functions, one per subcommand after ``list``.
SUBCOMMANDS = (_registry.add_run_parser, _registry.add_plot_parser, _checks.add_parser)
#: Sections of ``muonjax list``: functions returning ``(title, [(name, summary)])``.
LISTINGS = (_registry.list_experiments, _checks.list_checks)


def _list_handler(args: argparse.Namespace) -> int:
    del args
    for listing in LISTINGS:
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
    for add_parser in (add_list_parser, *SUBCOMMANDS):
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
