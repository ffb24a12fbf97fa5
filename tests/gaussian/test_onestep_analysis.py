"""Unit tests of gaussian.analysis.onestep (Figures 2 and 6, Newton-Schulz variants).

Peers: ``numpy.polyfit`` on the log means (the fits), ``muonjax.fit_power_law`` and
``muonjax.fit_two_stage`` called directly, a numpy bootstrap (the ratios),
``numpy.linalg.svd`` / ``eigvalsh`` (directions, ridge diagnostic), and the core's
``one_step_cell`` (the Newton-Schulz cell).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
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
    row = mj.difference_comparison(diff, 0.1, tolerance=0.05)
    assert row.verdict in ("consistent", "inconsistent", "inconclusive")
    assert row.estimate == diff.estimate


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
    rng = np.random.default_rng(3)
    for r in rows:
        _, (va,), _ = mj.seed_matrix(
            t.where(rule="muon", d=r.keys["d"]), measure="count"
        )
        _, (vb,), _ = mj.seed_matrix(t.where(rule="gd", d=r.keys["d"]), measure="count")
        assert r.ratio == pytest.approx(va.mean() / vb.mean(), rel=1e-12)
        idx = rng.integers(0, 6, size=(400, 6))
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


@pytest.mark.parametrize(
    ("variant", "parsed"),
    [
        ("exact", None),
        ("jordan:5", ("jordan", 5)),
        ("polar_express:10", ("polar_express", 10)),
    ],
)
def test_parse_ns_variant(variant, parsed):
    assert mj.parse_ns_variant(variant) == parsed


@pytest.mark.parametrize("bad", ["jordan", "jordan:0", "nope:5", "jordan:x", ""])
def test_parse_ns_variant_rejects(bad):
    with pytest.raises(ValueError, match="variant"):
        mj.parse_ns_variant(bad)


def test_ns_variant_cell_matches_one_step_cell_and_counts_directions():
    n, d, alpha = 300, 12, 2.0
    base = {
        "n": n,
        "d": d,
        "alpha": alpha,
        "muon_lr_scale": 2.0,
        "with_loss": False,
        "dtype": "float32",
        "update_dtype": "float64",
    }
    key = jax.random.key(4)
    key_task, _ = jax.random.split(key)
    task = mj.sample_task(n, d, alpha, key=key_task)
    g = np.asarray(mj.grad_at_zero(jax.tree.map(lambda x: x.astype(jnp.float64), task)))
    u, s, vt = np.linalg.svd(g)
    for variant, rule, extra in (
        ("exact", "muon", {}),
        ("jordan:2", "muon_ns", {"ns_coeffs": "jordan", "ns_steps": 2}),
    ):
        out = mj.ns_variant_cell({**base, "variant": variant}, key)
        ref = mj.one_step_cell({**base, "rule": rule, **extra}, key)
        assert int(out["count"]) == int(ref["count"])
        assert int(out["prefix"]) == int(ref["prefix"])
        # Peer: the variant's map of each singular value, through numpy's SVD.
        if variant == "exact":
            mapped = np.ones(d)
        else:
            x = np.asarray(mj.newton_schulz(jnp.asarray(g), steps=2, coeffs="jordan"))
            mapped = np.diag(u.T @ x @ vt.T)
        assert int(out["directions"]) == int(np.sum(mapped >= 0.5))
    assert int(mj.ns_variant_cell({**base, "variant": "exact"}, key)["directions"]) == d
    # Two quintic steps lift a small singular value by at most about 3.4445^2 from
    # s / ||G||_F, which leaves the gradient's smallest one below 0.5:
    assert s[-1] / np.linalg.norm(g) * 3.4445**2 < 0.5
    assert (
        int(mj.ns_variant_cell({**base, "variant": "jordan:2"}, key)["directions"]) < d
    )


def test_ns_variant_sweep_shares_tasks_with_one_step_sweep():
    ns = mj.ns_variant_sweep(
        n=200, dims=(8,), alphas=(1.5,), variants=("exact", "jordan:5")
    )
    ref = mj.one_step_sweep(n=200, dims=(8,), alphas=(1.5,), rules=("muon",))
    keys = {c.key_data for c in ns.cells()}
    assert keys == {c.key_data for c in ref.cells()}
    with pytest.raises(ValueError, match="variant"):
        mj.ns_variant_sweep(n=200, dims=(8,), alphas=(1.5,), variants=("bad",))


def test_paired_kappa_sweep_shares_tasks_across_kappa():
    grid = mj.one_step_sweep(
        n=200, dims=(8,), alphas=(1.5,), rules=("newton",), kappas=(0.0, 1.0)
    )
    paired = mj.paired_kappa_sweep(grid)
    assert "kappa_v" not in paired.key_axes
    assert len({c.key_data for c in grid.cells()}) == 2
    assert len({c.key_data for c in paired.cells()}) == 1
    iso = mj.one_step_sweep(n=200, dims=(8,), alphas=(1.5,), rules=("muon",))
    assert {c.key_data for c in paired.cells()} == {c.key_data for c in iso.cells()}
    with pytest.raises(ValueError, match="kappa_v"):
        mj.paired_kappa_sweep(iso)


def test_newton_paired_kappa_is_invariant_without_ridge_effects():
    """[derived] Newton's step is invariant under v -> A v: same counts at any kappa.

    At these sizes every Hessian eigenvalue is far above the ridge (checked by the
    diagnostic), so paired tasks give identical counts at kappa 0 and 0.5.
    """
    grid = mj.paired_kappa_sweep(
        mj.one_step_sweep(
            n=400,
            dims=(8,),
            alphas=(1.5,),
            rules=("newton",),
            kappas=(0.0, 0.5),
            update_dtype="float64",
            with_loss=False,
            chunk_size=4,
        )
    )
    res = mj.run_sweep(grid, seeds=2, key=jax.random.key(0))
    counts = [r.metrics["count"][:, 0].tolist() for r in res.results]
    assert counts[0] == counts[1]
    diag = mj.newton_ridge_diagnostic(grid)
    assert all(r["fraction_below_10x_ridge"] == 0 for r in diag)


def test_newton_ridge_diagnostic_against_numpy(tmp_path):
    grid = mj.one_step_sweep(
        n=300, dims=(6,), alphas=(3.0,), rules=("gd", "newton"), newton_ridge=1e-3
    )
    diag = mj.newton_ridge_diagnostic(grid, root_seed=2, out_dir=tmp_path)
    assert len(diag) == 1  # only the Newton cell
    cell = next(c for c in grid.cells() if c.config["rule"] == "newton")
    key_task, _ = jax.random.split(mj.cell_key(jax.random.key(2), cell, 0))
    task = mj.sample_task(300, 6, 3.0, key=key_task)
    task64 = jax.tree.map(lambda x: x.astype(np.float64), task)
    sv, su = (np.asarray(m) for m in mj.hessian_factors_at_zero(task64))
    prod = np.outer(
        np.clip(np.linalg.eigvalsh(sv), 0, None),
        np.clip(np.linalg.eigvalsh(su), 0, None),
    )
    assert diag[0]["fraction_below_ridge"] == pytest.approx(np.mean(prod < 1e-3))
    assert diag[0]["fraction_below_10x_ridge"] == pytest.approx(np.mean(prod < 1e-2))
    assert diag[0]["min_eigenvalue"] == pytest.approx(prod.min(), rel=1e-9)
    assert mj.read_newton_ridge_diagnostic(tmp_path) == diag
    assert mj.read_newton_ridge_diagnostic(tmp_path / "missing") == []


def test_panels_draw_fits_and_predictions():
    from matplotlib.figure import Figure

    t = _synthetic({("muon", 1.5): 1.3, ("muon", 2.0): 1.2})
    fits = mj.fit_exponents(t, groups=("rule", "alpha"), n_boot=200)
    fig = Figure()
    ax = fig.subplots()
    zeros = mj.capacity_panel(
        ax,
        t,
        series="alpha",
        fits=fits,
        fit_key=lambda a: {"rule": "muon", "alpha": a},
        predict=lambda a: 1 + 1 / (2 * a),
    )
    assert zeros == 0
    # Per alpha: one dashed fit line and one dotted prediction.
    styles = [
        line.get_linestyle() for line in ax.get_lines() if len(line.get_xdata()) == 20
    ]
    assert styles.count("--") == 2 and styles.count(":") == 2
    dashed = next(line for line in ax.get_lines() if line.get_linestyle() == "--")
    f = fits.get(rule="muon", alpha=1.5)
    np.testing.assert_allclose(dashed.get_ydata(), f.predict(dashed.get_xdata()))
    ax2 = fig.add_subplot(2, 1, 2)
    mj.exponent_panel(
        ax2, [(1 / a, fits.get(rule="muon", alpha=a)) for a in (1.5, 2.0)]
    )
    assert len(ax2.containers) == 1
