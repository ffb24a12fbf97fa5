"""One exit code for bad input, property-tested with hypothesis.

Random values go to every field of every experiment (``--set field=TEXT``) and to
the command line's options; the command must either accept them (exit 0) or refuse
them with exit code 2 and one line on stderr, having written nothing. Never a
traceback.

- The default tests stop an accepted run just before it computes (the settings are
  then validated and the experiment's sweeps built, which is where a bad value must
  be caught), so they try many values quickly; two of them run for real on a few
  values.
- The ``slow`` variant runs every accepted value of every experiment for real at
  tiny sizes (``tests/engine/grids.py``), with its figures.
"""

from __future__ import annotations

import contextlib
import dataclasses
import tempfile
import typing
from pathlib import Path

import pytest
from grids import TINY, grids, tiny_args
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import muonjax as mj
from muonjax import cli
from muonjax.engine.settings import field_types

EXPERIMENTS = mj.load_experiments()

# --------------------------------------------------------------------------------------
# Values: numbers at and beyond every edge, words, lists with repeats.

_EDGES = ("nan", "inf", "-inf", "-1", "0", "1", "-0.0", "1e400", "1e-320", "2147483648")
_NUMBERS = st.one_of(
    st.sampled_from(_EDGES),
    st.integers(-3, 48).map(str),
    st.integers().map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.floats(-4.0, 4.0).map(lambda x: f"{x:.3g}"),
)
_WORDS = st.one_of(
    st.sampled_from(("true", "false", "none", "", " ", ",", "gd", "muon", "float32")),
    st.text(max_size=8),
)


def _valid_words(exp: mj.Experiment, name: str) -> list[str]:
    """Words that a preset uses for ``name`` (so that valid ones are tried too)."""
    out = set()
    for preset in exp.presets.values():
        value = getattr(preset, name)
        for v in value if isinstance(value, tuple) else (value,):
            if isinstance(v, (str, bool)):
                out.add(str(v).lower())
    limit = exp.limits.get(name)
    out |= {str(v) for v in getattr(limit, "values", ())}
    return sorted(out)


def values_for(exp: mj.Experiment, name: str) -> st.SearchStrategy[str]:
    """Text for ``--set name=TEXT``: mostly wrong, sometimes right."""
    words = st.one_of(_WORDS, st.sampled_from(_valid_words(exp, name) or ["x"]))
    one = st.one_of(_NUMBERS, words)
    tp = field_types(exp.config_type)[name]
    if typing.get_origin(tp) is tuple:
        return st.lists(one, min_size=0, max_size=3).map(",".join)
    return one


def _field_and_value(exp: mj.Experiment) -> st.SearchStrategy[tuple[str, str]]:
    names = [f.name for f in dataclasses.fields(exp.config_type)]
    return st.sampled_from(names).flatmap(
        lambda name: values_for(exp, name).map(lambda text: (name, text))
    )


# --------------------------------------------------------------------------------------
# Running the command and judging the outcome.


class _Accepted(Exception):
    """The settings passed every check; the run would now compute."""


@contextlib.contextmanager
def _stop_before_computing():
    """Replace the computing part of ``muonjax run`` by: validate, build the sweeps."""
    real_run, real_join = cli.run_recorded, cli._join

    def fake_run(experiment, config, out, **kwargs):
        mj.engine.registry.validate_config(experiment, config)
        for grid in grids(experiment, config):
            grid.cells()
        raise _Accepted

    cli.run_recorded = fake_run
    cli._join = lambda parser, args: None  # no coordinator to join here
    try:
        yield
    finally:
        cli.run_recorded, cli._join = real_run, real_join


def _outcome(argv: list[str], out: Path, capsys) -> str:
    """``"ok"`` or ``"refused"``; fails on anything else (a traceback)."""
    capsys.readouterr()
    try:
        code = cli.main(argv)
    except _Accepted:
        return "ok"
    except SystemExit as exc:
        code = exc.code
    err = capsys.readouterr().err
    if code == 0:
        return "ok"
    assert code == 2, f"exit {code} for {argv}: {err}"
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, f"{argv}: not one line:\n{err}"
    assert "error:" in lines[0]
    assert not out.exists(), f"{argv} was refused but wrote {out}"
    return "refused"


_FAST = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


@pytest.mark.parametrize("name", sorted(EXPERIMENTS))
@_FAST
@given(data=st.data())
def test_any_value_of_any_field_is_accepted_or_refused_with_exit_2(name, data, capsys):
    exp = EXPERIMENTS[name]
    field, text = data.draw(_field_and_value(exp), label="--set")
    with tempfile.TemporaryDirectory() as tmp, _stop_before_computing():
        out = Path(tmp) / "out"
        argv = ["run", name, "--out", str(out), "--no-plot", "--no-progress"]
        _outcome([*argv, "--set", f"{field}={text}"], out, capsys)


_OPTION = st.one_of(
    st.tuples(st.just("--seeds"), _NUMBERS),
    st.tuples(st.just("--preset"), st.one_of(_WORDS, st.sampled_from(["quick"]))),
    st.tuples(st.just("--peer-timeout"), _NUMBERS),
    st.tuples(
        st.just("--coordinator"),
        st.one_of(_WORDS, st.sampled_from(["localhost:1234", "h:0", ":80", "a:b"])),
    ),
    st.tuples(st.just("--num-processes"), _NUMBERS),
    st.tuples(st.just("--process-id"), _NUMBERS),
    st.tuples(st.just("--set"), _WORDS),
    st.tuples(st.just("--distributed"), st.just(None)),
    st.tuples(st.just("--frobnicate"), st.just(None)),
)
_OUTS = ("new", "new/deeper", "file", "file/sub", "/proc/none/x", "dir")


@_FAST
@given(
    name=st.sampled_from([*sorted(EXPERIMENTS), "fig99", ""]),
    options=st.lists(_OPTION, max_size=4),
    where=st.sampled_from(_OUTS),
)
def test_any_command_line_is_accepted_or_refused_with_exit_2(
    name, options, where, capsys
):
    with tempfile.TemporaryDirectory() as tmp, _stop_before_computing():
        root = Path(tmp)
        (root / "file").write_text("not a directory")
        (root / "dir").mkdir()
        out = Path(where) if where.startswith("/") else root / where
        argv = ["run", name, "--out", str(out), "--no-plot", "--no-progress"]
        for option, value in options:
            argv += [option] if value is None else [option, value]
        existed = out.exists()
        outcome = _outcome(argv, out if not existed else root / "never", capsys)
        if where in ("file", "file/sub", "/proc/none/x"):
            assert outcome == "refused"


# --------------------------------------------------------------------------------------
# For real: accepted values run, at tiny sizes, with their figures.


def _run_for_real(name, data, capsys):
    exp = EXPERIMENTS[name]
    field, text = data.draw(_field_and_value(exp), label="--set")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out"
        argv = ["run", name, "--out", str(out), "--seeds", "2", "--no-progress"]
        argv += [*tiny_args(name), "--set", f"{field}={text}"]
        _outcome(argv, out, capsys)


@pytest.mark.parametrize("name", ["fig2", "orth_groups"])
@settings(
    max_examples=3,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_random_settings_run_or_are_refused(name, data, capsys):
    _run_for_real(name, data, capsys)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(TINY))
@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_random_settings_of_every_experiment_run_or_are_refused(name, data, capsys):
    _run_for_real(name, data, capsys)


def test_tiny_sizes_cover_every_experiment():
    assert set(TINY) == set(EXPERIMENTS)
