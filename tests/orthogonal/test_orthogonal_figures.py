"""Figures of Part B from measurement results, and the summary table helper.

(The figures and summaries computed from records are exercised end to end by
``test_orthogonal_experiments.py``.)
"""

from __future__ import annotations

import jax.numpy as jnp

import muonjax as mj
from muonjax import orthogonal as og


def _scaling_small():
    return og.measure_scaling_laws(
        num_groups=4, group_size=8, beta=2.0, gd_steps=300, muon_horizons=(32, 64, 128)
    )


def _signgd_small():
    return og.measure_signgd_random_basis(
        num_groups=2, group_size=4, dim=12, steps=40, seeds=2
    )


def test_compare_rules_and_figures(tmp_path):
    scaling_small, signgd_small = _scaling_small(), _signgd_small()

    def make(alpha):
        return lambda: og.power_law_task(3, 2, 1.5, alpha=alpha, dtype=jnp.float64)

    lrs = {"gd": 20.0, "muon": 0.2, "signgd": 0.1, "tra_signgd": 0.1, "adam": 0.1}
    rows = {
        "noiseless": og.compare_rules(make(0.0), lrs, steps=20),
        "alpha=0.3": og.compare_rules(make(0.3), lrs, steps=20),
    }
    assert set(rows["noiseless"]) == set(og.RULES)
    assert rows["noiseless"]["muon"].group_loss.shape == (21, 3)
    fig = og.plot_group_losses(
        rows, optimal_losses={"alpha=0.3": 1.0}, path=tmp_path / "groups"
    )
    assert len(fig.axes) >= 10
    acc = og.plot_group_losses(rows, accuracy=True, log_time=True)
    assert acc.axes[0].get_ylabel() == "group accuracy"
    og.plot_scaling_laws(scaling_small, path=tmp_path / "scaling")
    og.plot_signgd_oracle(signgd_small, path=tmp_path / "sign")
    for stem in ("groups", "scaling", "sign"):
        for ext in (".png", ".pdf"):
            assert (tmp_path / (stem + ext)).stat().st_size > 1000


def test_summary_table_markdown_is_the_summary_table():
    row = mj.SummaryRow(
        "claim [summary]", "rule=muon", mj.compare(1.0, (0.9, 1.1), 1.0, label="x")
    )
    summary = mj.FitSummary("exp", rows=[row], findings=["f"], meta={"k": 1})
    table = og.summary_table_markdown(summary)
    lines = table.splitlines()
    assert lines[0] == "| claim | group | prediction | estimate | interval | verdict |"
    assert len(lines) == 3 and lines[2].startswith("| claim [summary] | rule=muon |")
    assert lines[2].endswith("| consistent |")
