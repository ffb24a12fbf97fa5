"""The theorem-check catalogue: every entry runs at the tiny preset and gives a verdict.

The whole catalogue runs once (module fixture, about half a minute on 2 cores, most
of it compilation); the other tests reuse its compiled steps.
"""

from __future__ import annotations

import argparse
import json
import math

import jax
import numpy as np
import pytest

import muonjax as mj
from muonjax import cli
from muonjax.engine import checks as check_runner
from muonjax.engine import registry
from muonjax.gaussian import checks as _checks
from muonjax.stats.verdict import VERDICTS


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("checks")
    results = mj.run_checks(preset="tiny", out_dir=str(out), progress=None)
    return results, out


def test_every_check_produces_a_verdict(tiny_run):
    results, _ = tiny_run
    names = [c.name for c in mj.available_checks()]
    assert [r.name for r in results] == names
    required = {
        "muon_one_step_exponent",
        "gd_one_step_exponent",
        "newton_matches_muon",
        "h_lambda_tends_to_polar",
        "minibatch_within_batch",
        "muon_beats_gd",
    }
    # Part B (SPEC B.3), registered through CHECK_MODULES: one check per row.
    part_b = {
        "orth_gd_noiseless",
        "orth_muon_noiseless",
        "orth_muon_noisy",
        "orth_gd_stability",
        "orth_gd_scaling_law",
        "orth_muon_scaling_law",
        "orth_block_symmetry",
        "orth_preconditioner",
        "orth_tra_signgd",
        "orth_signgd_random_basis",
    }
    assert required | part_b <= set(names)
    assert {r.name for r in results if r.part == "B"} == part_b
    for r in results:
        assert r.error is None, f"{r.name}: {r.error}"
        assert r.verdict in VERDICTS
        assert r.comparisons, r.name
        assert r.verdict == mj.combine_verdicts(c.verdict for c in r.comparisons)
        for c in (*r.comparisons, *r.info):
            assert c.verdict in VERDICTS
            assert math.isfinite(c.prediction)
        assert r.sizes == dict(registry._CHECKS[r.name].sizes["tiny"])
        assert r.claim and r.spec_tag.startswith("[")


def test_results_are_written_as_json_and_markdown(tiny_run):
    results, out = tiny_run
    doc = json.loads((out / "checks.json").read_text())
    meta = doc["meta"]
    assert meta["preset"] == "tiny"
    assert meta["finished"] == len(results)
    env = meta["environment"]
    assert env["jax"] == jax.__version__ and env["devices"]
    assert env["numpy"] == np.__version__ and env["time_utc"]
    assert set(meta["sizes"]) == {r.name for r in results}
    assert [r["name"] for r in doc["results"]] == [r.name for r in results]
    for r in doc["results"]:
        for c in r["comparisons"]:
            assert {
                "estimate",
                "interval",
                "prediction",
                "verdict",
                "tolerance",
            } <= set(c)
    md = (out / "checks.md").read_text()
    assert "| check: quantity | claim | SPEC tag | prediction |" in md
    for r in results:
        assert f"## {r.name}: {r.verdict}" in md


def test_table_lists_every_row(tiny_run):
    results, _ = tiny_run
    table = check_runner.format_table(results)
    n_rows = sum(len(r.comparisons) + len(r.info) + 1 for r in results)
    assert len(table.splitlines()) == 2 + n_rows
    assert "(info)" in table


def test_measure_one_step_is_one_step_on_the_seeds_task():
    n, d, alpha = 300, 8, 1.5
    got = _checks.measure_one_step(
        "muon", n=n, d=d, alpha=alpha, seeds=2, dtype="float32"
    )
    for s in range(2):
        key = _checks._cell_key(0, n, d, _checks._alpha_id(alpha), 0, s)
        task = mj.sample_task(n, d, alpha, key=jax.random.split(key)[0])
        ref = mj.one_step(task, mj.muon_exact(1.0)).metrics
        assert got["count"][s] == int(ref.count)
        assert got["prefix"][s] == int(ref.prefix)
    # Deterministic: a second call (no cache) gives the same numbers.
    again = _checks.measure_one_step(
        "muon", n=n, d=d, alpha=alpha, seeds=2, dtype="float32"
    )
    np.testing.assert_array_equal(got["count"], again["count"])
    assert np.all(got["rank"] == d)
    with pytest.raises(ValueError, match="rule"):
        _checks.measure_one_step("adam", n=n, d=d, alpha=alpha, seeds=1)


def _sizes(**kw):
    return {p: dict(kw) for p in registry.CHECK_PRESETS}


@pytest.fixture
def scratch_checks():
    """Register throwaway checks and remove them afterwards."""
    added = []

    def add(name, fn, **kw):
        mj.register_check(name, claim="a test claim", spec_tag="[derived]", **kw)(fn)
        added.append(name)

    yield add
    for name in added:
        registry._CHECKS.pop(name, None)


def test_registered_checks_run_and_errors_are_recorded(scratch_checks, tmp_path):
    def ok(ctx):
        assert ctx.sizes == {"k": 3} and ctx.preset == "tiny"
        return mj.CheckOutcome((mj.compare(1.0, (0.9, 1.1), 1.0, label="x"),))

    def broken(ctx):
        raise RuntimeError("boom")

    scratch_checks("zz_ok", ok, sizes=_sizes(k=3), part="B")
    scratch_checks("zz_broken", broken, sizes=_sizes(k=3))
    res = mj.run_checks(
        ["zz_broken", "zz_ok"], preset="tiny", out_dir=str(tmp_path), progress=None
    )
    assert [r.verdict for r in res] == ["error", "consistent"]
    assert "RuntimeError: boom" in res[0].error
    assert res[1].part == "B"
    assert ("zz_ok", "a test claim") in registry.list_checks()[1]


def test_an_interrupted_run_keeps_the_checks_it_finished(scratch_checks, tmp_path):
    def ok(ctx):
        return mj.CheckOutcome((mj.compare(1.0, (0.9, 1.1), 1.0),))

    def interrupt(ctx):
        raise KeyboardInterrupt

    scratch_checks("zz_first", ok, sizes=_sizes())
    scratch_checks("zz_interrupt", interrupt, sizes=_sizes())
    with pytest.raises(KeyboardInterrupt):
        mj.run_checks(
            ["zz_first", "zz_interrupt"],
            preset="tiny",
            out_dir=str(tmp_path),
            progress=None,
        )
    doc = json.loads((tmp_path / "checks.json").read_text())
    assert [r["name"] for r in doc["results"]] == ["zz_first"]


def test_registration_is_validated(scratch_checks):
    def fn(ctx):
        raise AssertionError

    with pytest.raises(ValueError, match="already registered"):
        mj.register_check(
            "muon_beats_gd", claim="c", spec_tag="[derived]", sizes=_sizes()
        )
    with pytest.raises(ValueError, match="every preset"):
        mj.register_check("zz_x", claim="c", spec_tag="[derived]", sizes={"tiny": {}})
    with pytest.raises(ValueError, match="name"):
        mj.register_check("bad name", claim="c", spec_tag="[derived]", sizes=_sizes())
    with pytest.raises(ValueError, match="unknown check"):
        mj.run_checks(["no_such_check"], preset="tiny", progress=None)
    with pytest.raises(ValueError, match="preset"):
        mj.run_checks(preset="huge", progress=None)


def test_command_line(capsys, tiny_run):
    assert cli.main(["check", "--list"]) == 0
    listing = capsys.readouterr().out
    for c in mj.available_checks():
        assert c.name in listing
    assert cli.main(["check", "no_such_check", "--preset", "tiny"]) == 2
    assert "unknown check" in capsys.readouterr().err
    # The subcommand as the `muonjax` CLI will mount it.
    parser = argparse.ArgumentParser(prog="muonjax")
    cli.add_check_parser(parser.add_subparsers())
    args = parser.parse_args(["check", "h_lambda_tends_to_polar", "--preset", "tiny"])
    assert args.handler(args) == 0
    out = capsys.readouterr().out
    assert "h_lambda_tends_to_polar" in out and "| claim |" in out
