"""The claims ledger (``muonjax claims``, ``docs/claims.md``) from the catalogue."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import muonjax as mj
from muonjax import cli
from muonjax.engine.ledger import (
    claims_ledger,
    ledger_markdown,
    merge_check_results,
    read_check_results,
)
from muonjax.stats.verdict import compare


def _result(name, comparisons, verdict):
    return {
        "name": name,
        "verdict": verdict,
        "comparisons": [c.to_dict() for c in comparisons],
        "info": [],
        "error": None,
    }


@pytest.fixture(scope="module")
def planted():
    good = compare(1.0, (0.95, 1.05), 1.0, label="exponent C", tolerance=0.1)
    bad = compare(1.8, (1.7, 1.9), 1.333, label="exponent C", tolerance=0.1)
    assert (good.verdict, bad.verdict) == ("consistent", "inconsistent")
    return {
        "meta": {"preset": "quick", "command": "muonjax check", "seconds": 1.0},
        "results": [
            _result("orth_gd_noiseless", [good], "consistent"),
            _result("orth_muon_noiseless", [good, bad], "inconsistent"),
        ],
    }


def test_every_check_is_a_row_with_its_spec_and_tests():
    rows = claims_ledger()
    names = [c.name for c in mj.engine.registry.available_checks()]
    assert [r.check for r in rows if r.check] == names
    for r in (r for r in rows if r.check):
        assert r.verdict is None and r.reason is None
        assert r.spec.startswith(r.part), (r.check, r.spec)
        assert r.tag.startswith("["), r.check
        assert r.sizes, r.check
    # Claims only figures test come after the checks, each naming its figures.
    figure_only = [r for r in rows if not r.check]
    assert rows[len(names) :] == figure_only
    assert {r.row for r in figure_only} >= {"critical batch size", "many steps"}
    assert all(r.figures and r.tag.startswith("[") for r in figure_only)
    # Every figure a row names is a registered experiment.
    experiments = mj.load_experiments()
    assert {f for r in rows for f in r.figures} <= set(experiments)


def test_every_check_has_ledger_metadata():
    # The catalogue describes each claim (spec row, figures); none is left to the
    # fallback of its registered text.
    from muonjax.engine.ledger import _metadata

    names = {c.name for c in mj.engine.registry.available_checks()}
    assert names <= set(_metadata()), sorted(names - set(_metadata()))


def test_verdicts_and_reasons_come_from_the_run(planted):
    rows = {r.check: r for r in claims_ledger(planted)}
    assert rows["orth_gd_noiseless"].verdict == "consistent"
    assert rows["orth_gd_noiseless"].reason is None
    bad = rows["orth_muon_noiseless"]
    assert bad.verdict == "inconsistent" and bad.preset == "quick"
    # The reason names the row that failed, its numbers, and the rule's reason,
    # not the consistent one.
    assert bad.reason.count("exponent C") == 1
    assert "1.8 [1.7, 1.9] vs == 1.33" in bad.reason
    assert "inconsistent" in bad.reason
    assert rows["orth_block_symmetry"].verdict is None  # not in the run
    text = ledger_markdown(list(rows.values()), meta=planted["meta"])
    assert "consistent 1, inconsistent 1, not run" in text
    assert "- `orth_muon_noiseless` (inconsistent): exponent C" in text
    assert text.count("## Part") == len({r.part for r in rows.values()})


def test_command_writes_the_ledger(tmp_path, planted, capsys):
    checks = tmp_path / "checks.json"
    checks.write_text(json.dumps(planted))
    out = tmp_path / "claims.md"
    assert cli.main(["claims", "--checks", str(checks), "--out", str(out)]) == 0
    text = out.read_text()
    assert (
        text
        == ledger_markdown(
            claims_ledger(read_check_results(checks)), meta=planted["meta"]
        )
        + "\n"
    )
    assert cli.main(["claims"]) == 0
    assert "# Claims ledger" in capsys.readouterr().out


@pytest.mark.parametrize("content", ["{", "[]", '{"results": 3}'])
def test_a_bad_checks_file_is_refused_with_exit_2(tmp_path, capsys, content):
    bad = tmp_path / "checks.json"
    bad.write_text(content)
    with pytest.raises(SystemExit) as exc:
        cli.main(["claims", "--checks", str(bad)])
    assert exc.value.code == 2
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(err) == 1 and str(bad) in err[0]


def test_several_runs_merge_and_a_later_run_wins(tmp_path, planted, capsys):
    later = {
        "meta": {"preset": "quick", "command": "muonjax check orth_muon_noiseless"},
        "results": [planted["results"][0] | {"name": "orth_muon_noiseless"}],
    }
    paths = []
    for i, doc in enumerate((planted, later)):
        paths.append(tmp_path / f"{i}.json")
        paths[-1].write_text(json.dumps(doc))
    assert cli.main(["claims", "--checks", *map(str, paths)]) == 0
    text = capsys.readouterr().out
    assert "consistent 2, not run" in text  # the later run's verdict replaced it
    assert "muonjax check; muonjax check orth_muon_noiseless" in text


def test_docs_claims_md_is_the_ledger_of_the_committed_runs():
    # docs/claims.md is generated (muonjax claims --checks docs/checks/*.json
    # --out docs/claims.md); a change to the catalogue must regenerate it.
    docs = Path(__file__).parents[2] / "docs"
    runs = sorted((docs / "checks").glob("quick*.json"))
    assert runs
    doc = merge_check_results([read_check_results(p) for p in runs])
    expected = ledger_markdown(claims_ledger(doc), meta=doc["meta"]) + "\n"
    assert (docs / "claims.md").read_text() == expected
    # Every registered check has a verdict there.
    assert all(r.verdict for r in claims_ledger(doc) if r.check)
