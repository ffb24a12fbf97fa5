"""Figures of Part B from measurement results, and the summary table helper.

(The figures and summaries computed from records are exercised end to end by
``test_orthogonal_experiments.py``.)
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import pytest

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


def _table(sweep, seeds=1):
    with jax.enable_x64(True):
        out = mj.run_sweep(sweep, seeds=seeds, key=jax.random.key(0))
    return og.sweep_table(sweep, out.results)


def _same_rows(a, b):
    assert [c.label for c in a] == [c.label for c in b]
    for x, y in zip(a, b, strict=True):
        for field in ("verdict", "tolerance", "relation", "prediction"):
            assert getattr(x, field) == getattr(y, field), (x.label, field)
        assert x.estimate == pytest.approx(y.estimate, rel=1e-9)
        assert x.interval == pytest.approx(y.interval, rel=1e-9)
        assert math.isfinite(x.estimate), x.label


def test_a_figure_summary_uses_its_claims_check_policy():
    # orth_groups with every step recorded: its GD and Muon rows are the rows of the
    # orth_gd_noiseless / orth_muon_noiseless checks at the same sizes (same windows,
    # measures and tolerances; the runs are basis independent).
    sweep = og.groups_sweep(
        num_groups=4, group_size=4, beta=1.5, alphas=(0.0,), dim=0,
        rules=("gd", "muon"), steps=300, record_points=3000, gd_lr_p1=1.0,
        muon_lr=0.1,
    )  # fmt: skip
    rows = og.groups_summary(_table(sweep)).rows
    gd = og.measure_gd_noiseless(num_groups=4, group_size=4, beta=1.5, steps=300)
    mu = og.measure_muon_noiseless(num_groups=4, group_size=4, lr=0.1, steps=300)
    for r, check in (("gd", gd.comparisons()), ("muon", mu.comparisons())):
        mine = (f"rule={r}, alpha=0", f"rule={r}, alpha=0 (info)")
        got = [row.comparison for row in rows if row.group in mine]
        _same_rows(got, check)
    # orth_signgd with every step recorded: the SignGD rows of its summary are the
    # orth_signgd_random_basis check's rows on the same table (excess at T,
    # imbalance at matched progress; every multiplier and the oracle as info).
    sweep = og.signgd_sweep(
        num_groups=4, group_size=2, dim=10, beta=2.0, steps=40, alphas=(0.0,),
        rules=("muon", "tra_signgd", "signgd", "gd"), lr=0.05,
        scales=(0.5, 1.0, 2.0, 4.0), gd_lr_p1=1.0, record_points=1, record_linear=41,
    )  # fmt: skip
    table = _table(sweep, seeds=2)
    out = og.signgd_outcome(og.signgd_result(table))
    check = [*out.comparisons, *out.info]
    labels = {c.label for c in check}
    rows = [r.comparison for r in og.signgd_summary(table).rows]
    _same_rows([c for c in rows if c.label in labels], check)
