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
