"""What Part A's figure modules share: records in, summary and figure files out.

Every figure module (:mod:`~muonjax.gaussian.figures.fig2`, ...) takes a *source*: a
records :class:`muonjax.Table`, or the output directory of ``muonjax run`` (then the
fit settings come from its manifest, and parts recorded beside the main table are
found). :func:`write_outputs` writes a figure's files; the Newton-ridge diagnostic
of Figures 2 and 6 is recomputed here from the manifest's sweep (the very tasks
seed 0 measured) and written as ``newton_ridge.json`` beside the records.

References:
    SPEC Part D (every fit reports its settings); SPEC A.3 (Newton's ridge).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import jax
import numpy as np

from muonjax._io import atomic_write_text
from muonjax.engine.records import read_manifest
from muonjax.engine.sweep import Sweep
from muonjax.engine.table import Table, read_table
from muonjax.gaussian.analysis.ridge import ridge_diagnostic
from muonjax.gaussian.analysis.tables import py
from muonjax.gaussian.cells import one_step_cell
from muonjax.plotting import save_figure
from muonjax.stats.summary import FitSummary, SummaryRow, write_fit_summary

#: A figure's input: a records table or the output directory holding one.
Source = Table | str | os.PathLike

#: File name of the Newton-ridge diagnostic beside the records.
RIDGE_FILE = "newton_ridge.json"
#: Colours of the rules, the same in every figure.
RULE_COLORS = {
    "gd": "C3",
    "muon": "C0",
    "newton": "C2",
    "newton_rel": "C1",
    "muon_ns": "C4",
}


class Records(NamedTuple):
    """A figure's input, resolved.

    Attributes:
        table: the records.
        settings: the fit settings (from the manifest's config, else the defaults).
        out_dir: the output directory, or ``None`` for a bare table.
    """

    table: Table
    settings: dict[str, Any]
    out_dir: Path | None


def load(source: Source, defaults: Mapping[str, Any]) -> Records:
    """The records and fit settings of ``source`` (settings default to ``defaults``).

    The settings are read from the manifest's ``config`` (written by ``muonjax
    run``), or its ``fit`` entry (written by 0.1.0), for the keys of ``defaults``.
    """
    if isinstance(source, Table):
        return Records(source, dict(defaults), None)
    out = Path(source)
    manifest = read_manifest(out)
    recorded = {**manifest.get("fit", {}), **manifest.get("config", {})}
    settings = {k: type(v)(recorded.get(k, v)) for k, v in defaults.items()}
    return Records(read_table(out), settings, out)


def values(table: Table, column: str) -> list[Any]:
    """Distinct values of a column in order of first appearance (grid order)."""
    return list(dict.fromkeys(py(v) for v in table.data[column]))


def sorted_values(table: Table, column: str) -> list[Any]:
    """Distinct values of a column, increasing."""
    return sorted(set(values(table, column)))


def first(table: Table, column: str) -> Any:
    """The column's first value (a fixed setting), or ``None`` without the column."""
    return py(table.data[column][0]) if column in table.data else None


def seeds(table: Table) -> int:
    """How many seeds the records hold."""
    return len(np.unique(table.data["seed"]))


def verdict_counts(rows: Sequence[SummaryRow], note: str = "") -> str:
    """``"12 comparisons (note): 10 consistent, 2 inconsistent."``"""
    counts: dict[str, int] = {}
    for r in rows:
        counts[r.comparison.verdict] = counts.get(r.comparison.verdict, 0) + 1
    head = f"{len(rows)} comparisons" + (f" ({note})" if note else "")
    return head + ": " + ", ".join(f"{v} {k}" for k, v in sorted(counts.items()))


def not_consistent(rows: Sequence[SummaryRow]) -> str:
    """The rows whose verdict is not consistent, one clause each (or ``"none"``)."""
    return (
        "; ".join(
            f"[{r.comparison.verdict}] {r.claim.split(' [')[0]} ({r.group}): "
            f"{r.comparison.label} = {r.comparison.measurement_text} "
            f"{r.comparison.interval_text} vs {r.comparison.prediction_text}"
            for r in rows
            if r.comparison.verdict != "consistent"
        )
        or "none"
    )


def write_outputs(
    out_dir: str | os.PathLike,
    stem: str,
    analysis: Any,
    summarize: Callable[[Any], FitSummary],
    draw: Callable[[Any], Any],
) -> list[Path]:
    """Write ``stem.png``, ``stem.pdf``, ``fit_summary.json`` and ``.md``.

    ``analysis`` is computed once and given to both ``summarize`` and ``draw``.
    """
    out = Path(out_dir)
    fig = draw(analysis)
    return [*save_figure(fig, out / stem), *write_fit_summary(out, summarize(analysis))]


# --------------------------------------------------------------------------------------
# Newton's ridge, redone from the manifest.


def write_with_ridge(
    out_dir: str | os.PathLike,
    stem: str,
    analysis: dict[str, Any],
    summarize: Callable[[Any], FitSummary],
    draw: Callable[[Any], Any],
) -> list[Path]:
    """:func:`write_outputs` for a figure with Newton rows (Figures 2 and 6): the
    ridge diagnostic is computed once, written to ``newton_ridge.json`` and put in
    ``analysis["ridge"]`` for the summary."""
    analysis["ridge"] = ridge_of(analysis["records"], write=True)
    side = [Path(out_dir) / RIDGE_FILE] if analysis["ridge"] else []
    return [*write_outputs(out_dir, stem, analysis, summarize, draw), *side]


def recorded_sweep(
    out_dir: str | os.PathLike, cell_fn: Callable[..., Any] = one_step_cell
) -> tuple[Sweep, int]:
    """The sweep a run recorded (from its manifest) and its root seed."""
    desc = read_manifest(out_dir)["sweep"]
    keys = desc.get("key_axes")
    sweep = Sweep(
        cell_fn,
        axes=desc["axes"],
        fixed=desc["fixed"],
        batched=tuple(desc.get("batched", ())),
        key_axes=None if keys is None else tuple(keys),
    )
    return sweep, int(desc.get("root_seed", 0))


def newton_ridge_diagnostic(
    sweep: Sweep,
    *,
    root_seed: int = 0,
    seed: int = 0,
    out_dir: str | os.PathLike | None = None,
) -> list[dict[str, Any]]:
    """:func:`muonjax.gaussian.analysis.ridge.ridge_diagnostic`, optionally written.

    With ``out_dir``, the list is also written to ``out_dir/newton_ridge.json``
    (atomically), where :func:`read_newton_ridge_diagnostic` finds it. Runs in JAX's
    64-bit mode (scoped here).
    """
    with jax.enable_x64(True):
        out = ridge_diagnostic(sweep, root_seed=root_seed, seed=seed)
    if out_dir is not None:
        atomic_write_text(Path(out_dir) / RIDGE_FILE, json.dumps(out, indent=1) + "\n")
    return out


def read_newton_ridge_diagnostic(out_dir: str | os.PathLike) -> list[dict[str, Any]]:
    """The diagnostic written beside the records (``[]`` if none)."""
    path = Path(out_dir) / RIDGE_FILE
    return json.loads(path.read_text()) if path.exists() else []


def ridge_of(records: Records, *, write: bool = False) -> list[dict[str, Any]]:
    """Newton's ridge diagnostic of a run: redone from the manifest's sweep.

    A bare table has no manifest: ``[]``. With ``write``, ``newton_ridge.json`` is
    (re)written beside the records when the run holds Newton cells.
    """
    rules = values(records.table, "rule")
    if records.out_dir is None or not {"newton", "newton_rel"} & set(rules):
        return []
    sweep, root_seed = recorded_sweep(records.out_dir)
    target = records.out_dir if write else None
    return newton_ridge_diagnostic(sweep, root_seed=root_seed, out_dir=target)


def ridge_finding(ridge: list[dict[str, Any]], with_kappa: bool = False) -> str:
    """A sentence on the share of Hessian eigenvalues below Newton's ridges."""
    kappa = (lambda r: f", kappa={r['kappa_v']:g}") if with_kappa else (lambda r: "")
    parts = []
    for relative in (False, True):
        rows = [r for r in ridge if bool(r.get("relative", False)) == relative]
        if not rows:
            continue
        hit = [r for r in rows if r["fraction_below_10x_ridge"] > 0]
        where = ", ".join(
            f"d={r['d']}, alpha={r['alpha']:g}{kappa(r)}: "
            f"{100 * r['fraction_below_ridge']:.2g}% "
            f"({100 * r['fraction_below_10x_ridge']:.2g}%)"
            for r in hit
        )
        name = (
            "relative ridge 1e-8 x lambda_max(H)"
            if relative
            else f"absolute ridge {rows[0]['ridge']:g} (the paper's)"
        )
        parts.append(
            f"{name}: " + (where + "; 0% elsewhere" if hit else "0% everywhere")
        )
    return (
        "Share of Hessian eigenvalues below Newton's ridge (below 10x the ridge), "
        "seed 0's tasks: "
        + "; ".join(parts)
        + ". Sigma_U's eigenvalues follow p (and Sigma_V's k^-kappa), so their "
        "products drop below an absolute ridge at large alpha and d: there Newton's "
        "step is a damped gradient step and its capacity falls towards GD's. A "
        "shortfall of the absolute-ridge Newton there is the ridge 1e-8 [seed] at "
        "this loss normalisation, not Newton's method; the relative ridge keeps it "
        "negligible (SPEC A.3 [derived])."
    )


# --------------------------------------------------------------------------------------
# The settings every Part A experiment config shares.

_COUNTS = (
    "n",
    "seeds",
    "chunk_size",
    "fit_min_d",
    "max_batch_size",
    "steps",
    "window",
    "early_step",
)
_DIMS = ("dims", "population_dims", "critical_dims", "long_dims")


def check_settings(config: Any, *, rules: Sequence[str] | None = None) -> None:
    """Check the settings of a Part A experiment config (``ValueError`` naming one).

    Of the settings the config has: the counts (``n``, ``seeds``, ``chunk_size``,
    ``fit_min_d``, ``max_batch_size``, ``steps``, ``window``, ``early_step``) >= 1,
    ``n_boot >= 100``, the dimension tuples non-empty and positive, ``alphas``
    non-empty and >= 0, ``update_dtype`` float32 or float64, and ``rules`` non-empty
    and among ``rules`` when given. A config calls it from ``__post_init__``, so a
    bad ``--set`` fails before anything runs.
    """
    for name in (c for c in _COUNTS if hasattr(config, c)):
        if getattr(config, name) < 1:
            raise ValueError(f"{name} must be >= 1, got {getattr(config, name)}")
    if getattr(config, "n_boot", 100) < 100:
        raise ValueError(f"n_boot must be >= 100, got {config.n_boot}")
    for name in (d for d in _DIMS if hasattr(config, d)):
        dims = getattr(config, name)
        if not dims or min(dims) < 1:
            raise ValueError(f"{name} must be positive integers, got {dims}")
    alphas = getattr(config, "alphas", (0.0,))
    if not alphas or min(alphas) < 0:
        raise ValueError(f"alphas must be >= 0, got {alphas}")
    dtype = getattr(config, "update_dtype", "float64")
    if dtype not in ("float32", "float64"):
        raise ValueError(f"update_dtype must be 'float32' or 'float64', got {dtype}")
    if rules is not None:
        bad = [r for r in config.rules if r not in rules]
        if not config.rules or bad:
            raise ValueError(f"rules must be among {tuple(rules)}, got {config.rules}")
