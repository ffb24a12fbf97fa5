"""Figure 1 end to end at a tiny size through the command line, and its presets."""

from __future__ import annotations

import json

import numpy as np
import pytest

import muonjax as mj
from muonjax import cli
from muonjax.engine import registry as _registry

TINY = ["--set", "n=256", "--set", "alphas=0.75,1.5,2.0"]
# One d in panel (b): its fits are tested in test_critical.py and test_fig3.py;
# every (d, rule) costs a compile of a few seconds.
TINY += ["--set", "population_dims=8,16", "--set", "critical_dims=8"]
TINY += ["--set", "max_batch_size=16", "--set", "n_boot=100"]
TINY += ["--seeds", "2", "--no-progress"]


@pytest.fixture(scope="module")
def fig1_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("fig1")
    assert cli.main(["run", "fig1", "--out", str(out), *TINY]) == 0
    return out


def test_fig1_writes_both_parts_figure_and_summary(fig1_run):
    out = fig1_run
    names = {p.name for p in out.iterdir()}
    assert {"records.csv", "records.parquet", "manifest.json"} <= names
    assert {"population", "minibatch"} <= names
    assert {"fig1.png", "fig1.pdf", "fit_summary.json", "fit_summary.md"} <= names

    manifest = mj.read_manifest(out)
    assert manifest["experiment"] == "fig1" and manifest["preset"] == "quick"
    assert set(manifest["parts"]) == {"population", "minibatch"}
    pop = mj.read_part(out, "population")
    mini = mj.read_part(out, "minibatch")
    # Panel (a): d x rule x alpha x seed, one population step each.
    assert len(pop) == 2 * 2 * 3 * 2
    assert sorted(set(pop.data["alpha"].tolist())) == [0.75, 1.5, 2.0]
    # Panel (b): d x rule x B x seed at alpha = 1.5, B = 0 the population step.
    assert set(mini.data["alpha"].tolist()) == {1.5}
    assert sorted(set(mini.data["batch_size"].tolist())) == [0, 1, 2, 4, 8, 16]
    assert len(mini) == 1 * 2 * 6 * 2
    combined = mj.read_table(out)
    assert combined.columns[0] == "part"
    assert len(combined) == len(pop) + len(mini)
    for name in ("count", "prefix", "weighted_accuracy"):
        assert name in pop.columns and name in mini.columns
    assert np.all(pop.data["prefix"] <= pop.data["count"])

    summary = json.loads((out / "fit_summary.json").read_text())
    assert summary["experiment"] == "fig1" and summary["findings"]
    claims = {r["claim"].split(" [")[0] for r in summary["rows"]}
    # Every claim starts with its SPEC row (the claims ledger's id), then the text.
    assert {
        "A.5 one population Muon step, capacity: one population Muon step ~ d^C, "
        "C = 1 + 1/(2 alpha)",
        "A.5 one population GD step, capacity: one population GD step ~ d^C, "
        "C = 1/(2 alpha)",
        "A.6 Fig. 1: Muon improves capacity over GD (alpha > 1): Muon improves "
        "capacity over GD when alpha > 1",
        "A.5 critical batch size: Muon B* ~ d^e",
        "A.5 critical batch size: SGD B* ~ d^e",
    } <= claims
    alphas = {r["group"] for r in summary["rows"] if "one population" in r["claim"]}
    assert alphas and not any("alpha=0.75" in g for g in alphas)  # alpha <= 1
    assert any("alpha=0.75" in f for f in summary["findings"])
    # The verdicts at this size: d = 8, 16 count too few items to test an exponent
    # (withheld: "not testable at this size"); Muon's count is above GD's; one d in
    # panel (b) gives no B* exponent.
    for row in summary["rows"]:
        label, verdict = row["label"], row["verdict"]
        if label.startswith(("exponent C", "c1", "c2")):
            assert verdict == "inconclusive", row
            assert "not testable at this size" in row["reason"], row
        elif label == "mean count Muon / GD" or (
            label.startswith("log(B*_muon") and row["group"].endswith("count")
        ):
            assert verdict == "consistent", row
        else:
            assert verdict == "inconclusive", row


def test_fig1_resumes_and_replots(fig1_run, capsys):
    out = fig1_run
    assert cli.main(["run", "fig1", "--out", str(out), *TINY, "--no-plot"]) == 0
    assert "0 cells computed, 24 loaded" in capsys.readouterr().out
    assert len(mj.read_manifest(out)["sessions"]) == 2
    (out / "fig1.png").unlink()
    assert cli.main(["plot", str(out)]) == 0
    assert (out / "fig1.png").stat().st_size > 0


def test_fig1_presets_are_valid_and_their_sweeps_build():
    exp = _registry.get_experiment("fig1")
    module = __import__(exp.sweep.__module__, fromlist=["sweep"])
    paper = exp.presets["paper"]
    assert paper.n == 100_000 and paper.seeds == 16 and paper.critical_alpha == 1.5
    assert min(paper.alphas) < 1 < max(paper.alphas)
    parts = module.sweep(paper)
    assert set(parts) == {"population", "minibatch"}
    assert parts["minibatch"].fixed["max_batch_size"] == 2**22
    assert len(parts["population"].cells()) == 3 * 2 * len(paper.alphas)
    with pytest.raises(ValueError, match="alphas must be > 0"):
        type(paper)(alphas=(0.0, 1.5))
    with pytest.raises(ValueError, match="rules must be among"):
        type(paper)(rules=("gd", "muon_ns"))
