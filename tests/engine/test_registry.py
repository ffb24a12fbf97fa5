"""The experiment registry: ``run_recorded`` scopes float64 and records the sweep."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import jax
import jax.numpy as jnp
import pytest

import muonjax as mj
from muonjax.engine import registry

ROOT = Path(__file__).resolve().parents[2]


@dataclasses.dataclass(frozen=True)
class _Config:
    seeds: int = 2
    root_seed: int = 0
    chunk_size: int = 4


def _cell(config, key):
    # 1 + 2^-40 rounds to 1 in float32 and not in float64: the metric tells which
    # precision the cell ran in.
    one = jnp.asarray(1.0)
    return {"gap": (one + 2.0**-40) - one, "u": jax.random.uniform(key)}


def _sweep(config):
    return mj.Sweep(_cell, axes={"a": [1, 2]})


@pytest.fixture
def scratch_experiment():
    made = []

    def make(name, **kw):
        exp = mj.register_experiment(
            name, summary="test", presets={"quick": _Config(), "paper": _Config()}, **kw
        )
        made.append(name)
        return exp

    yield make
    for name in made:
        registry._REGISTRY.pop(name, None)


@pytest.mark.parametrize("x64", [True, False])
def test_run_recorded_scopes_float64(scratch_experiment, tmp_path, x64):
    exp = scratch_experiment(
        f"zz_scope_{x64}", sweep=_sweep, plot=lambda out: [], x64=x64
    )
    with jax.enable_x64(False):
        rec = mj.run_recorded(exp, _Config(), tmp_path / "out")
        assert not jax.config.read("jax_enable_x64")  # nothing switched globally
    gaps = rec.sweep.results[0].metrics["gap"]
    assert (gaps > 0).all() if x64 else (gaps == 0).all()
    table = mj.read_table(tmp_path / "out")
    assert len(table) == 2 * 2 and table.columns[:3] == ["a", "seed", "step"]


def test_register_needs_exactly_one_of_sweep_and_run(scratch_experiment):
    with pytest.raises(ValueError, match="exactly one of sweep= and run="):
        scratch_experiment("zz_none", plot=lambda out: [])
    with pytest.raises(ValueError, match="exactly one of sweep= and run="):
        scratch_experiment(
            "zz_both", plot=lambda out: [], sweep=_sweep, run=lambda *a, **k: None
        )


def test_no_library_code_switches_float64_globally():
    pattern = re.compile(r"config\.update\(\s*[\"']jax_enable_x64")
    offenders = [
        str(p.relative_to(ROOT))
        for folder in ("muonjax", "experiments")
        for p in (ROOT / folder).rglob("*.py")
        if pattern.search(p.read_text())
    ]
    assert offenders == []


# --------------------------------------------------------------------------------------
# Refused before computing: nothing written.


def test_estimate_memory_refuses_a_run_that_would_not_fit(scratch_experiment, tmp_path):
    exp = scratch_experiment(
        "zz_huge",
        sweep=_sweep,
        plot=lambda out: [],
        estimate_memory=lambda config: 2**62,  # more than any device has
    )
    out = tmp_path / "deep" / "out"
    with pytest.raises(mj.MemoryLimitError, match="zz_huge with these settings needs"):
        mj.run_recorded(exp, _Config(), out)
    assert not (tmp_path / "deep").exists()
    rec = mj.run_recorded(exp, _Config(), out, force=True)  # --force
    assert rec.sweep.computed == 2


def test_the_compiled_programs_memory_is_checked_before_computing(tmp_path):
    def big(config, key):
        # 2^36 float32 entries that a sort must hold: 256 GiB, more than this
        # machine has.
        x = jnp.sort(jax.random.uniform(key, (2**18, 2**18)), axis=1)
        return {"s": x[:, 0].sum()}

    sweep = mj.Sweep(big, axes={"a": [1]})
    out = tmp_path / "out"
    with pytest.raises(mj.MemoryLimitError, match=r"a=1 \(chunks of 1"):
        mj.record_sweep(sweep, out, seeds=1)
    assert not out.exists()


def test_register_checks_presentation_and_limits(scratch_experiment):
    with pytest.raises(ValueError, match="not fields of _Config"):
        scratch_experiment("zz_p1", sweep=_sweep, plot=lambda o: [], presentation=["x"])
    with pytest.raises(ValueError, match="read by the engine"):
        scratch_experiment(
            "zz_p2", sweep=_sweep, plot=lambda o: [], presentation=["seeds"]
        )
    with pytest.raises(ValueError, match="an interval looks like"):
        scratch_experiment(
            "zz_p3", sweep=_sweep, plot=lambda o: [], limits={"seeds": "1..4"}
        )


@pytest.mark.parametrize(
    ("limit", "value", "ok"),
    [
        ("[1, inf)", 1, True),
        ("(1, inf)", 1, False),
        ("[0, 1)", 1.0, False),
        ("[0, 1]", 1.0, True),
        ("(-inf, 0]", -5, True),
        (("a", "b"), "b", True),
        (("a", "b"), "c", False),
    ],
)
def test_limits_intervals_and_choices(limit, value, ok):
    from muonjax.engine.settings import parse_limits, validate_value

    @dataclasses.dataclass(frozen=True)
    class C:
        x: int | float | str = 0

    (parsed,) = parse_limits(C, {"x": limit}).values()
    tp = type(value)
    if ok:
        validate_value("x", tp, value, parsed)
    else:
        with pytest.raises(ValueError, match="x must"):
            validate_value("x", tp, value, parsed)
