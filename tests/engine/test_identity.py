"""Cell identity by construction: every setting that can change a cell changes its id.

The walk below changes every field of every registered experiment's config, one at a
time, and checks the cells' store ids: a field either changes every id, or it is
declared presentation-only (and then the sweeps it builds are unchanged), or the
engine handles it (``seeds``: kept per seed in each cell; ``chunk_size``: groups the
work). Nobody keeps a list of "fields that matter": a new field is part of the
identity unless declared otherwise.
"""

from __future__ import annotations

import dataclasses
import types
import typing

import jax
import pytest
from grids import grids

import muonjax as mj
from muonjax import cli
from muonjax.engine.identity import ENGINE_FIELDS, NUMERICS_VERSION, run_context
from muonjax.engine.settings import field_types, validate_config

EXPERIMENTS = mj.load_experiments()

_WORDS = (
    "float32",
    "float64",
    "constant",
    "polynomial",
    "exponential",
    "cosine",
    "cubic",
    "jordan",
    "quintic",
    "polar_express",
)


def _scalar_candidates(tp, value, seen):
    if tp is bool:
        return [not value]
    if tp is int:
        return [value + 1, 2 * value, value - 1, 1, 0, 64, 256, 1024]
    if tp is float:
        return [value * 1.5, value + 0.5, value / 2, value + 0.1, 0.5, 0.25, 1.0]
    if tp is str:
        return [w for w in (*seen, *_WORDS) if w != value]
    return []


def _candidates(tp, value, seen):
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        inner = next(a for a in args if a is not type(None))
        out = [] if value is None else [None]
        base = value if value is not None else inner(1)
        return out + _scalar_candidates(inner, base, seen)
    if origin is tuple:
        item = args[0]
        out = []
        if len(value) > 1:
            out += [value[:1], value[1:]]
        for extra in _scalar_candidates(item, value[-1], seen):
            if extra not in value:
                out.append((*value, extra))
        return out
    return _scalar_candidates(tp, value, seen)


def _perturbed(exp, config, name):
    """Another valid config that differs in ``name`` only, or None."""
    tp = field_types(type(config))[name]
    seen = {
        v
        for preset in exp.presets.values()
        for f in dataclasses.fields(preset)
        for v in (
            getattr(preset, f.name)
            if isinstance(getattr(preset, f.name), tuple)
            else (getattr(preset, f.name),)
        )
        if isinstance(v, str)
    }
    limit = exp.limits.get(name)
    choices = list(getattr(limit, "values", ()))
    current = getattr(config, name)
    for value in _candidates(tp, current, [*choices, *sorted(seen)]):
        if value == current:
            continue
        try:
            other = dataclasses.replace(config, **{name: value})
            validate_config(other, exp.limits)
        except (ValueError, TypeError):
            continue
        return other
    return None


def _ids(exp, config):
    context = run_context(exp.name, config, presentation=exp.presentation)
    key = jax.random.key(getattr(config, "root_seed", 0))
    ids = []
    for grid in grids(exp, config):
        ids += [c.cell_id for c in grid.cells(key=key, context=context.as_identity())]
    return ids


def _described(exp, config):
    return [(g.describe(), [c.config for c in g.cells()]) for g in grids(exp, config)]


FIELDS = [
    (name, f.name)
    for name, exp in EXPERIMENTS.items()
    for f in dataclasses.fields(exp.config_type)
]


@pytest.mark.parametrize(("experiment", "field"), FIELDS)
def test_every_field_changes_the_cell_ids_or_is_declared(experiment, field):
    exp = EXPERIMENTS[experiment]
    base = exp.presets["quick"]
    other = _perturbed(exp, base, field)
    assert other is not None, f"no valid other value for {experiment}.{field}"
    before, after = _ids(exp, base), _ids(exp, other)
    assert len(set(before)) == len(before)  # ids name cells uniquely
    if field in ENGINE_FIELDS:
        # Handled by the engine: the same cells (more seeds extend them).
        assert before == after
    elif field in exp.presentation:
        # Presentation-only: the same cells, and the same sweeps computing them.
        assert before == after
        assert _described(exp, base) == _described(exp, other)
    else:
        assert not set(before) & set(after), (
            f"{experiment}.{field} changed, but some cells kept their ids"
        )


def test_presentation_fields_are_config_fields_not_engine_ones():
    for exp in EXPERIMENTS.values():
        names = {f.name for f in dataclasses.fields(exp.config_type)}
        assert set(exp.presentation) <= names - set(ENGINE_FIELDS)


def test_identity_holds_everything_and_keys_stay_those_of_0_1_0():
    sweep = mj.one_step_sweep(n=64, dims=(8,), alphas=(1.5,), rules=("gd",))
    (cell,) = sweep.cells(key=jax.random.key(3), context={"x": 1})
    identity = cell.identity
    assert identity["numerics"] == NUMERICS_VERSION
    assert identity["config"] == cell.config
    assert identity["context"] == {"x": 1}
    assert identity["key_axes"] == sorted(sweep.key_axes)
    # The PRNG key does not depend on the identity: the same task as in 0.1.0.
    (plain,) = sweep.cells()
    assert plain.key_data == cell.key_data
    assert plain.cell_id != cell.cell_id
    (other_root,) = sweep.cells(key=jax.random.key(4), context={"x": 1})
    assert other_root.cell_id != cell.cell_id


# --------------------------------------------------------------------------------------
# The probes through the command line.

TINY = ["--set", "n=256", "--set", "dims=8", "--set", "alphas=1.5"]
TINY += ["--seeds", "2", "--no-progress", "--no-plot"]


def _run(capsys, *argv):
    assert cli.main(list(argv)) == 0
    out = capsys.readouterr().out
    return out[out.index("(") + 1 : out.index(")")]


def test_another_root_seed_never_reuses_cells(tmp_path, capsys):
    out = str(tmp_path / "run")
    base = ["run", "fig2", "--out", out, "--set", "rules=gd,muon", *TINY]
    assert _run(capsys, *base) == "2 cells computed, 0 loaded"
    assert _run(capsys, *base, "--set", "root_seed=1") == "2 cells computed, 0 loaded"
    assert _run(capsys, *base) == "0 cells computed, 2 loaded"  # both kept
    statuses = [s["digest"] for s in mj.read_manifest(out)["sessions"]]
    assert statuses[0] == statuses[2] != statuses[1]


def test_unpaired_kappas_never_reuse_paired_cells(tmp_path, capsys):
    out = str(tmp_path / "run")
    base = ["run", "fig6", "--out", out, "--set", "rules=muon"]
    base += ["--set", "kappas=0.0,1.0", *TINY]
    assert _run(capsys, *base) == "2 cells computed, 0 loaded"
    assert _run(capsys, *base, "--set", "paired=false") == "2 cells computed, 0 loaded"
