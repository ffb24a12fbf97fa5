"""Figure 2's summary at the quick size, from committed records (no computing).

The end-to-end tests run sizes at which every exponent is "not testable"; this one
plots the records of a real quick run, where the one-step exponents and the
two-stage fits are measured (a failure of the relative-ridge rule's two-stage fit
once went unnoticed for that reason).
"""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import pytest

from muonjax import cli

FIXTURE = Path(__file__).parents[2] / "fixtures" / "fig2_quick"


@pytest.fixture(scope="module")
def summary(tmp_path_factory):
    out = tmp_path_factory.mktemp("fig2") / "run"
    shutil.copytree(FIXTURE, out)
    assert cli.main(["plot", str(out)]) == 0
    return json.loads((out / "fit_summary.json").read_text())


def _rows(summary, group, label):
    return [
        r
        for r in summary["rows"]
        if r["group"].startswith(group) and r["label"].startswith(label)
    ]


def test_every_rule_gets_its_exponents_and_two_stage_fit(summary):
    for rule in ("muon", "newton", "newton_rel"):
        rows = _rows(summary, f"rule={rule}, measure=count", "c")
        assert [r["label"][:2] for r in rows] == ["c1", "c2"], rule
        assert all(math.isfinite(r["estimate"]) for r in rows), rows
        for alpha in (1.25, 1.5, 2.0, 3.0):
            (row,) = _rows(summary, f"rule={rule}, alpha={alpha}, measure=count", "exp")
            assert math.isfinite(row["estimate"]), row


def test_the_quick_numbers_and_verdicts(summary):
    # Muon's exponent at alpha = 1.5 (prediction 4/3) and the two-stage fits: the
    # numbers of the gallery page and the README, from these records.
    (muon,) = _rows(summary, "rule=muon, alpha=1.5, measure=count", "exponent")
    assert muon["estimate"] == pytest.approx(1.437, abs=1e-3)
    assert muon["verdict"] == "consistent"
    c1, c2 = _rows(summary, "rule=newton_rel, measure=count", "c")
    assert (c1["verdict"], c2["verdict"]) == ("consistent", "inconsistent")
    # The paper's absolute ridge fails at alpha = 3, the relative one does not.
    (absolute,) = _rows(summary, "rule=newton, alpha=3.0, measure=count", "exponent")
    (relative,) = _rows(summary, "rule=newton_rel, alpha=3.0, measure=count", "exp")
    assert absolute["verdict"] == "inconsistent"
    assert relative["verdict"] == "consistent"
    # GD's prefix is below 20 items at every d: its rows are withheld.
    for row in _rows(summary, "rule=gd, alpha=1.5, measure=prefix", "exponent"):
        assert row["verdict"] == "inconclusive"
        assert "not testable at this size" in row["reason"]
