"""Tests of ``gaussian.analysis.onestep`` and ``tables`` (Figures 1a, 2, 6; the checks).

Peers: ``numpy.polyfit`` on the log means (the fits), ``muonjax.fit_power_law`` and
``muonjax.fit_two_stage`` called directly, :func:`muonjax.paired_ratio` (the ratios).
"""

from __future__ import annotations

import numpy as np
import pytest

import muonjax as mj
from muonjax.engine.table import Table


def _table(rows: list[dict]) -> Table:
    columns = list(rows[0])
    data = {c: np.asarray([r[c] for r in rows]) for c in columns}
    return Table(columns, data)


def _synthetic(exponents: dict, dims=(16, 32, 64, 128), seeds=5, n=10_000, seed=0):
    """Records whose count ~ 3 d^C with multiplicative noise, per (rule, alpha)."""
    rng = np.random.default_rng(seed)
    rows = []
    for (rule, alpha), c in exponents.items():
        for d in dims:
            for s in rng.permutation(seeds):  # rows out of seed order on purpose
                value = 3.0 * d**c * np.exp(0.05 * rng.standard_normal())
                rows.append(
                    {
                        "d": d,
                        "rule": rule,
                        "alpha": alpha,
                        "n": n,
                        "seed": int(s),
                        "step": 1,
                        "count": float(value),
                        "prefix": float(value / 2),
                    }
                )
    return _table(rows)


def test_seed_matrix_orders_by_seed_and_rejects_repeats():
    t = _synthetic({("muon", 1.5): 1.3})
    xs, vals, seeds = mj.seed_matrix(t.where(rule="muon"), measure="count")
    assert xs.tolist() == [16, 32, 64, 128]
    for v, s in zip(vals, seeds, strict=True):
        assert s.tolist() == list(range(5))
        assert v.shape == (5,)
    doubled = Table(t.columns, {k: np.concatenate([v, v]) for k, v in t.data.items()})
    with pytest.raises(ValueError, match="seed repeated"):
        mj.seed_matrix(doubled, measure="count")
    with pytest.raises(ValueError, match="no column"):
        mj.seed_matrix(t, measure="nope")


def test_fit_exponents_match_polyfit_and_fit_power_law():
    truth = {("muon", 1.5): 1.33, ("muon", 2.0): 1.25, ("gd", 1.5): 0.33}
    t = _synthetic(truth)
    fits = mj.fit_exponents(t, groups=("rule", "alpha"), measure="count", n_boot=200)
    assert list(fits.fits) == list(truth)
    for key, fit in fits.fits.items():
        sub = t.where(rule=key[0], alpha=key[1])
        xs, vals, _ = mj.seed_matrix(sub, measure="count")
        means = np.array([v.mean() for v in vals])
        slope = np.polyfit(np.log(xs), np.log(means), 1)[0]
        np.testing.assert_allclose(fit.exponent, slope, rtol=1e-12)
        direct = mj.fit_power_law(xs, np.stack(vals), saturation=10_000, n_boot=200)
        np.testing.assert_array_equal(fit.bootstrap, direct.bootstrap)
        # 5 seeds with 5% noise over a factor 8 in d: the interval is narrow and
        # must contain the true exponent.
        assert fit.interval[0] < truth[key] < fit.interval[1]
    assert fits.get(rule="gd", alpha=1.5) is fits.fits[("gd", 1.5)]
    assert fits.values("alpha") == [1.5, 2.0]
    assert set(fits.labelled("count: ")) == {
        "count: rule=muon, alpha=1.5",
        "count: rule=muon, alpha=2.0",
        "count: rule=gd, alpha=1.5",
    }
    with pytest.raises(ValueError, match="not one"):
        fits.get(rule="muon")


def test_fit_exponents_exclusions_are_listed_with_reasons():
    t = _synthetic({("muon", 1.5): 1.3}, n=2000)
    fits = mj.fit_exponents(t, groups=("rule", "alpha"), x_min=20, n_boot=200)
    fit = fits.get(rule="muon", alpha=1.5)
    reasons = {e.x: e.reason for e in fit.excluded}
    assert 16.0 in reasons and "x_min" in reasons[16.0]
    # 3 * 128^1.3 ~ 1650 < 2000 = n; with n = 1000 the point at d = 128 saturates.
    t2 = _synthetic({("muon", 1.5): 1.3}, n=1000)
    fit2 = mj.fit_exponents(t2, groups=("rule", "alpha"), n_boot=200).fits[
        ("muon", 1.5)
    ]
    assert any("saturated" in e.reason for e in fit2.excluded if e.x == 128.0)
    assert 128.0 not in fit2.x.tolist()


def test_two_stage_fits_match_fit_two_stage():
    truth = {("muon", a): 1 + 1 / (2 * a) for a in (1.25, 1.5, 2.0, 3.0)}
    t = _synthetic(truth, seeds=4)
    fits = mj.fit_exponents(t, groups=("rule", "alpha"), n_boot=300)
    two = mj.two_stage_fits(fits)
    assert list(two) == [("muon",)]
    alphas = [1.25, 1.5, 2.0, 3.0]
    ref = mj.fit_two_stage(alphas, [fits.get(rule="muon", alpha=a) for a in alphas])
    np.testing.assert_allclose([two[("muon",)].c1, two[("muon",)].c2], [ref.c1, ref.c2])
    np.testing.assert_allclose(two[("muon",)].c1, 1.0, atol=0.05)
    np.testing.assert_allclose(two[("muon",)].c2, 0.5, atol=0.1)
    with pytest.raises(ValueError, match="alpha"):
        mj.two_stage_fits(fits, alpha="kappa_v")


def test_two_stage_fits_skip_groups_with_one_alpha():
    # One alpha per rule (e.g. `muonjax run fig2 --set alphas=1.5`): no second stage.
    t = _synthetic({("muon", 1.5): 1.3, ("gd", 1.5): 0.3, ("gd", 2.0): 0.25})
    fits = mj.fit_exponents(t, groups=("rule", "alpha"), n_boot=200)
    assert list(mj.two_stage_fits(fits)) == [("gd",)]


def test_exponent_difference_paired_and_unpaired():
    t = _synthetic({("muon", 1.5): 1.3, ("newton", 1.5): 1.2})
    fits = mj.fit_exponents(t, groups=("rule", "alpha"), n_boot=500)
    a, b = fits.get(rule="muon", alpha=1.5), fits.get(rule="newton", alpha=1.5)
    diff = mj.exponent_difference(a, b)
    assert diff.paired
    np.testing.assert_allclose(diff.estimate, a.exponent - b.exponent)
    lo, hi = np.percentile(a.bootstrap - b.bootstrap, [2.5, 97.5])
    np.testing.assert_allclose(diff.interval, (lo, hi))
    # The same data twice: a paired difference is exactly zero.
    same = mj.exponent_difference(a, a)
    assert same.estimate == 0 and same.interval == (0.0, 0.0)
    # Different points used: unpaired (replicates shuffled), flagged in the notes.
    cut = mj.fit_exponents(t, groups=("rule", "alpha"), x_min=20, n_boot=500)
    un = mj.exponent_difference(cut.get(rule="muon", alpha=1.5), b)
    assert not un.paired and any("unpaired" in n for n in un.notes)
    # Planted difference 1.3 - 1.2 = 0.1; measured 0.106 [0.072, 0.142].
    row = mj.difference_comparison(diff, 0.1, tolerance=0.05)
    assert row.verdict == "consistent" and row.estimate == diff.estimate
    # 0 (Newton = Muon) is 0.07 below the interval: beyond the tolerance.
    assert mj.difference_comparison(diff, 0.0, tolerance=0.05).verdict == (
        "inconsistent"
    )
    # An interval wider (0.07) than the widest that counts is no measurement.
    wide = mj.difference_comparison(diff, 0.1, tolerance=0.05, max_width=0.05)
    assert wide.verdict == "inconclusive" and "max_width" in wide.reason


def test_capacity_ratios_against_a_numpy_bootstrap():
    t = _synthetic({("muon", 1.5): 1.3, ("gd", 1.5): 0.4}, seeds=6)
    rows = mj.capacity_ratios(
        t,
        numerator={"rule": "muon"},
        denominator={"rule": "gd"},
        by=("d", "alpha"),
        n_boot=400,
        seed=3,
    )
    assert [r.keys["d"] for r in rows] == [16, 32, 64, 128]
    for r in rows:
        _, (va,), _ = mj.seed_matrix(
            t.where(rule="muon", d=r.keys["d"]), measure="count"
        )
        _, (vb,), _ = mj.seed_matrix(t.where(rule="gd", d=r.keys["d"]), measure="count")
        assert r.ratio == pytest.approx(va.mean() / vb.mean(), rel=1e-12)
        # The one paired bootstrap of the stats layer: seeds resampled jointly by
        # numpy's generator of the given seed, percentiles of the ratio of means.
        idx = np.random.default_rng(3).integers(0, 6, size=(400, 6))
        ref = np.percentile(va[idx].mean(1) / vb[idx].mean(1), [2.5, 97.5])
        np.testing.assert_allclose(r.interval, ref)
        assert r.to_dict()["seeds"] == 6


def test_capacity_ratio_with_a_zero_denominator_is_nan():
    t = _synthetic({("muon", 1.5): 1.3, ("gd", 1.5): 0.4}, dims=(16, 32))
    t.data["count"][t.data["rule"] == "gd"] = 0.0
    rows = mj.capacity_ratios(t, numerator={"rule": "muon"}, denominator={"rule": "gd"})
    assert all(np.isnan(r.ratio) for r in rows)
    assert rows[0].to_dict()["ratio"] is None


def test_exponent_rows_and_comparison_table():
    t = _synthetic({("muon", 1.5): 4 / 3, ("muon", 2.0): 1.6})
    fits = mj.fit_exponents(t, groups=("rule", "alpha"), n_boot=300)
    rows = mj.exponent_rows(
        fits,
        claim="claim [tag]",
        predict=lambda g: float(mj.theory.muon_one_step_exponent(g["alpha"])),
    )
    assert [r.group for r in rows] == [
        "rule=muon, alpha=1.5, measure=count",
        "rule=muon, alpha=2.0, measure=count",
    ]
    for r, key in zip(rows, fits.fits, strict=True):
        ref = mj.compare_fit(fits.fits[key], 1 + 1 / (2 * key[1]))
        assert r.comparison.verdict == ref.verdict
    assert rows[0].comparison.verdict == "consistent"
    assert rows[1].comparison.verdict == "inconsistent"  # 1.6 vs 1.25
    md = mj.comparison_table(rows)
    assert md.count("\n") == 3 and "| claim [tag] |" in md


def test_local_slopes_match_log_ratios():
    t = _synthetic({("muon", 1.5): 1.3}, dims=(16, 32, 64))
    slopes = mj.local_slopes(t, groups=("rule", "alpha"))
    _, vals, _ = mj.seed_matrix(t, measure="count")
    m = [v.mean() for v in vals]
    ref = [np.log(m[1] / m[0]) / np.log(2), np.log(m[2] / m[1]) / np.log(2)]
    np.testing.assert_allclose(slopes["rule=muon, alpha=1.5"], ref)


def test_precision_exclusions_leave_out_points_where_w1_lost_directions():
    t = _synthetic({("muon", 1.5): 1.3})
    rank = t.data["d"].copy()
    rank[(t.data["d"] == 128) & (t.data["seed"] == 2)] = 100  # a float cut
    t = Table([*t.columns, "rank"], {**t.data, "rank": rank})
    assert set(mj.precision_exclusions(t)) == {128.0}
    assert "kept 100 < d=128" in mj.precision_exclusions(t)[128.0]
    fits = mj.fit_exponents(
        t, groups=("rule", "alpha"), n_boot=200, exclude=mj.precision_exclusions
    )
    fit = fits.get(rule="muon", alpha=1.5)
    assert 128.0 not in fit.x.tolist()
    assert [e.x for e in fit.excluded] == [128.0]
    # A mapping applies to every group.
    fixed = mj.fit_exponents(
        t, groups=("rule", "alpha"), n_boot=200, exclude={16.0: "by hand"}
    )
    assert fixed.get(rule="muon", alpha=1.5).x.tolist() == [32.0, 64.0, 128.0]
