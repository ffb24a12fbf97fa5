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


def test_a_check_and_its_figure_measure_the_same_tasks(tmp_path, tiny_run):
    # The Muon/GD one-step checks measure through the sweep engine with the cells of
    # Figure 2: at the check's sizes and seeds, `muonjax run fig2` gives the same
    # counts, seed for seed (same task key, same root key, same cells).
    sizes = registry._CHECKS["muon_one_step_exponent"].sizes["tiny"]
    dims = ",".join(str(d) for d in sizes["dims"])
    fig2 = mj.get_experiment("fig2")
    config = registry.resolve_config(
        fig2,
        "quick",
        seeds=sizes["seeds"],
        overrides=[
            f"n={sizes['n']}",
            f"dims={dims}",
            f"alphas={sizes['alpha']}",
            *("rules=gd,muon", "with_loss=false", "fit_min_d=16", "n_boot=100"),
        ],
    )
    mj.run_recorded(fig2, config, tmp_path)
    figure = mj.read_table(tmp_path)
    check = _checks.one_step_table(sizes, ("gd", "muon"))
    assert len(check) == len(figure) == 2 * len(sizes["dims"]) * sizes["seeds"]
    for rule in ("gd", "muon"):
        for d in sizes["dims"]:
            for measure in ("count", "prefix"):
                np.testing.assert_array_equal(
                    mj.seed_matrix(check.where(rule=rule, d=d), measure=measure)[1],
                    mj.seed_matrix(figure.where(rule=rule, d=d), measure=measure)[1],
                    f"{rule} d={d} {measure}",
                )
    # And the registered check reports those very counts.
    results, _ = tiny_run
    muon = next(r for r in results if r.name == "muon_one_step_exponent")
    means = [
        float(v.mean())
        for v in mj.seed_matrix(figure.where(rule="muon"), measure="count")[1]
    ]
    assert muon.details["mean_count"] == means


def test_checks_share_measured_cells_through_the_cache():
    sizes = registry._CHECKS["muon_beats_gd"].sizes["tiny"]
    cache: dict = {}
    first = _checks.one_step_table(sizes, ("muon",), dims=(16,), cache=cache)
    assert len([k for k in cache if k[0] == "cell"]) == 1
    # A second measurement that needs the same cell loads it (nothing recomputed:
    # the cache entry is the very object stored).
    stored = dict(cache)
    again = _checks.one_step_table(sizes, ("gd", "muon"), dims=(16,), cache=cache)
    assert all(cache[k] is v for k, v in stored.items())
    np.testing.assert_array_equal(
        again.where(rule="muon").data["count"], first.data["count"]
    )
    assert set(first.columns) >= {"rank", "count", "prefix"}
    assert np.all(first.data["rank"] == 16)  # float64 Muon keeps every direction


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
