"""Figures 7-9 end to end at tiny sizes through the CLI, and the Part C checks.

Each experiment runs through ``muonjax run NAME --preset quick --set ...`` into a
temporary directory: records, manifest, figures (PNG + PDF) and the fit summary
must be there and well formed; one recorded run is recomputed directly with
:func:`muonjax.transformer.recall_cell` (the peer). The quick presets are not run
here (minutes; see docs/gallery/fig7.md etc.).
"""

from __future__ import annotations

import importlib
import json

import jax
import numpy as np
import pytest

import muonjax as mj
from muonjax import cli
from muonjax import transformer as tf
from muonjax.engine import registry as _registry
from muonjax.stats.verdict import VERDICTS
from muonjax.transformer import checks

NAMES = ("fig7", "fig8", "fig9")
#: Tiny task and schedule shared by the three (a few seconds of compilation each).
TASK = [
    *("--set", "vocab_size=24", "--set", "seq_len=16", "--set", "trigger_pool=4"),
    *("--set", "num_triggers=2", "--set", "dims=8", "--set", "steps=16"),
    *("--set", "eval_every=8", "--set", "eval_batch=8", "--set", "lr_points=2"),
    *("--seeds", "2", "--no-progress"),
]
TINY = {
    "fig7": [
        *TASK,
        *("--set", "optimizers=muon,sgd", "--set", "batch_size=8"),
        *("--set", "horizons=8,16", "--set", "chunk_size=4"),
    ],
    "fig8": [*TASK, "--set", "optimizers=muon", "--set", "batch_sizes=8"],
    "fig9": [
        *TASK,
        *("--set", "optimizers=muon", "--set", "batch_size=8"),
        *("--set", "alpha_0s=0,1.5", "--set", "alpha_ts=0,2", "--set", "chunk_size=16"),
    ],
}


def _module(name):
    _registry.load_experiments()
    return importlib.import_module(f"{_registry.EXPERIMENTS_PACKAGE}.{name}")


def test_list_shows_experiments_and_checks(capsys):
    assert cli.main(["list"]) == 0
    out = capsys.readouterr().out
    for name in (*NAMES, "transformer_recall_advantage", "transformer_id_advantage"):
        assert name in out


@pytest.mark.parametrize("name", NAMES)
def test_experiment_end_to_end(name, tmp_path, capsys):
    out = tmp_path / name
    assert cli.main(["run", name, "--out", str(out), *TINY[name]]) == 0
    capsys.readouterr()
    files = {p.name for p in out.iterdir()}
    assert {
        "records.csv",
        "manifest.json",
        "fit_summary.json",
        "fit_summary.md",
    } <= files
    for stem in (name, f"{name}_lr"):
        for ext in ("png", "pdf"):
            assert (out / f"{stem}.{ext}").stat().st_size > 1000
    table = mj.read_table(out)
    # Every row records the optimizer's settings and the learning-rate grid.
    for col in ("optimizer", "muon_scale", "muon_ns_steps", "muon_ns_coeffs"):
        assert col in table.columns
    for col in ("muon_momentum", "muon_nesterov", "lr_scale", "lr_muon", "lr"):
        assert col in table.columns
    muon = table.where(optimizer="muon")
    np.testing.assert_allclose(
        muon.data["lr"], muon.data["lr_muon"] * muon.data["lr_scale"], rtol=1e-6
    )
    for m in ("id_acc", "ood_acc", "recall"):
        assert np.all((table.data[m] >= 0) & (table.data[m] <= 1))
    summary = json.loads((out / "fit_summary.json").read_text())
    assert "learning rate" in summary["meta"]["lr_rule"]
    choices = summary["fits"]["lr_choices"]["choices"]
    assert choices and {"grid_lr", "grid_mean", "lr", "at_grid_edge"} <= set(choices[0])
    for row in summary["rows"]:
        assert row["verdict"] in VERDICTS
    if name == "fig7":  # two optimizers: the claims have rows
        assert {r["claim"].split(" [")[0] for r in summary["rows"]} == {
            c.text for c in mj.theory.transformer.CLAIMS
        }
        _recompute_one_run(name, out, table)


def _recompute_one_run(name, out, table):
    """The peer: one recorded (cell, seed) equals a direct recall_cell call."""
    manifest = mj.read_manifest(out)
    fields = {
        k: tuple(v) if isinstance(v, list) else v for k, v in manifest["config"].items()
    }
    sweep = _module(name).sweep(_module(name).Fig7Config(**fields))
    cell = sweep.cells()[0]
    key = mj.cell_key(jax.random.key(0), cell, 1)
    direct = jax.jit(lambda k: tf.recall_cell(cell.config, k))(key)
    rows = table.where(**{k: cell.config[k] for k in sweep.axes}, seed=1)
    np.testing.assert_array_equal(rows.data["step"], direct["step"])
    for m in ("id_acc", "recall", "train_loss"):
        np.testing.assert_allclose(rows.data[m], direct[m], rtol=2e-4, atol=1e-5)


@pytest.mark.parametrize("name", NAMES)
def test_paper_presets_build(name):
    module = _module(name)
    sweep = module.sweep(module.PRESETS["paper"])
    assert sweep.fixed["batch_size" if name != "fig8" else "seq_len"] in (256,)
    assert len(sweep.cells()) > 10


def test_checks_measure_the_figure_7_cells():
    """The checks' grid at quick and paper sizes is fig7's: same cells, same keys."""
    module = _module("fig7")
    for preset in ("quick", "paper"):
        ours = checks.sweep_for(checks.SIZES[preset]).cells()
        fig = module.sweep(module.PRESETS[preset]).cells()
        assert [c.config for c in ours] == [c.config for c in fig]
        assert [c.key_data for c in ours] == [c.key_data for c in fig]
        assert checks.SIZES[preset]["seeds"] == module.PRESETS[preset].seeds


def test_part_c_checks_are_registered():
    names = {c.name: c for c in mj.available_checks()}
    for claim in mj.theory.transformer.CLAIMS:
        check = names[f"transformer_{claim.name}"]
        assert check.part == "C" and check.spec_tag == claim.tag


def test_bad_experiment_config_is_refused(tmp_path, capsys):
    with pytest.raises(SystemExit):
        cli.main(["run", "fig7", "--out", str(tmp_path), "--set", "horizons=100"])
    with pytest.raises(SystemExit):
        cli.main(["run", "fig9", "--out", str(tmp_path), "--set", "alpha_0s=1,2"])
    capsys.readouterr()
