"""Tests of ``gaussian.analysis.multistep``: curves, exponents, gains, ratios.

Peers: synthetic records with exact power laws; :func:`muonjax.paired_ratio` called
directly; the Newton-Schulz iteration on a diagonal matrix.
"""

from __future__ import annotations

import math

import jax.numpy as jnp
import numpy as np
import pytest

import muonjax as mj
from muonjax import theory


def _table(rows: list[dict]) -> mj.Table:
    columns = list(rows[0])
    return mj.Table(columns, {c: np.asarray([r[c] for r in rows]) for c in columns})


def _synthetic(exponents, dims=(16, 32, 64), seeds=3, n=10**9, stop=None):
    """Records with count_t = (1 + 0.01 seed) * d^exponents[t], exactly."""
    rows = []
    for d in dims:
        for s in range(seeds):
            stop_s = len(exponents) - 1 if stop is None else stop[s]
            for t, e in enumerate(exponents):
                ran = t <= stop_s
                rows.append(
                    {
                        "d": d,
                        "rule": "muon",
                        "deflate": False,
                        "alpha": 1.5,
                        "n": n,
                        "seed": s,
                        "step": t,
                        "loss": 1.0 / (t + 1) if ran else np.nan,
                        "count": (1 + 0.01 * s) * d**e if ran else -1.0,
                        "prefix": 0.5 * d**e if ran else -1.0,
                        "stop_step": stop_s,
                    }
                )
    return _table(rows)


def test_step_curves_and_capacity_after_carry_the_stop_forward():
    table = _synthetic([0.0, 1.0, 1.5, 1.8], dims=(16,), stop=[3, 1, 2])
    curves = mj.step_curves(table, by=("d",))
    seeds, steps, vals = curves[(16,)]
    np.testing.assert_array_equal(seeds, [0, 1, 2])
    np.testing.assert_array_equal(steps, [0, 1, 2, 3])
    np.testing.assert_allclose(vals[1], [1.01, 1.01 * 16, 1.01 * 16, 1.01 * 16])
    np.testing.assert_allclose(vals[2, 3], 1.02 * 16**1.5)
    raw = mj.step_curves(table, by=("d",), carry_forward=False)[(16,)][2]
    assert np.isnan(raw[1, 2]) and np.isnan(raw[2, 3])
    after3 = mj.capacity_after(table, 3, by=("d",))[(16,)]
    np.testing.assert_allclose(after3, [16**1.8, 1.01 * 16, 1.02 * 16**1.5])
    np.testing.assert_array_equal(mj.stopping_steps(table, by=("d",))[(16,)], [3, 1, 2])
    np.testing.assert_allclose(mj.final_capacity(table, by=("d",))[(16,)], after3)
    with pytest.raises(ValueError, match="has no step 7"):
        mj.capacity_after(table, 7, by=("d",))
    with pytest.raises(ValueError, match="measure must be one of"):
        mj.step_curves(table, by=("d",), measure="margin")


def test_step_exponent_fits_recover_exact_power_laws():
    exps = [0.0, theory.multi_step_exponent(1, 1.5), theory.multi_step_exponent(2, 1.5)]
    table = _synthetic(exps)
    fits = mj.step_exponent_fits(table, by=("rule", "deflate", "alpha"), n_boot=200)
    per_t = fits[("muon", False, 1.5)]
    assert sorted(per_t) == [1, 2]
    for t in (1, 2):
        assert per_t[t].exponent == pytest.approx(exps[t], abs=1e-9)
        lo, hi = per_t[t].interval
        assert lo <= exps[t] + 1e-9 and hi >= exps[t] - 1e-9
    prefix = mj.step_exponent_fits(
        table, by=("rule",), measure="prefix", steps=[2], n_boot=200
    )
    assert prefix[("muon",)][2].exponent == pytest.approx(exps[2], abs=1e-9)


def test_step_exponent_fits_exclude_saturated_points():
    table = _synthetic([0.0, 1.0, 2.0], dims=(8, 16, 32, 64), n=512)
    fit = mj.step_exponent_fits(table, by=("rule",), steps=[2], n_boot=200)
    res = fit[("muon",)][2]
    # 32^2 and 64^2 exceed N = 512 (saturated): two points left out, and said so.
    assert [e.x for e in res.excluded] == [32.0, 64.0]
    assert all("saturated" in e.reason for e in res.excluded)


def test_step_gain_fits_recover_the_exponent_difference():
    exps = [0.0, 1.3, 1.55, 1.7]
    fits = mj.step_gain_fits(_synthetic(exps), by=("rule",), steps=(2, 3), n_boot=200)
    for t in (2, 3):
        assert fits[("muon",)][t].exponent == pytest.approx(exps[t] - exps[1], abs=1e-9)


def test_paired_ratio():
    a = np.array([2.0, 4.0, 6.0, 8.0])
    r, (lo, hi) = mj.paired_ratio(a, a / 2, n_boot=200)
    assert (
        r == pytest.approx(2.0) and lo == pytest.approx(2.0) and hi == pytest.approx(2)
    )
    b = np.array([1.0, 3.0, 2.0, 2.0])
    r, (lo, hi) = mj.paired_ratio(a, b, n_boot=500)
    assert r == pytest.approx(a.mean() / b.mean())
    assert lo <= r <= hi
    r, (lo, hi) = mj.paired_ratio(a, np.zeros(4), n_boot=200)
    assert math.isnan(r) and math.isnan(lo)
    with pytest.raises(ValueError, match="paired"):
        mj.paired_ratio(a, b[:3])


def test_capacity_ratio_pairs_seeds_by_group():
    base = _synthetic([0.0, 1.0, 1.5], dims=(16, 32), seeds=4)
    other = {c: v.copy() for c, v in base.data.items()}
    other["rule"] = np.full(len(base), "muon_ns5")
    # The Newton-Schulz rule keeps (0.5 + 0.1 seed) of Muon's count, seed by seed.
    other["count"] = other["count"] * (0.5 + 0.1 * other["seed"])
    table = mj.Table(
        base.columns,
        {c: np.concatenate([base.data[c], other[c]]) for c in base.columns},
    )
    ratios = mj.capacity_ratio(table, 2, rule="muon_ns5", reference="muon", n_boot=300)
    assert set(ratios) == {(False, 1.5, 16), (False, 1.5, 32)}
    for d in (16, 32):
        mine = mj.capacity_after(table.where(rule="muon_ns5", d=d), 2, by=("d",))
        ref = mj.capacity_after(table.where(rule="muon", d=d), 2, by=("d",))
        expected = mj.paired_ratio(mine[(d,)], ref[(d,)], n_boot=300)
        assert ratios[(False, 1.5, d)] == expected
        # Per seed c_ns = (0.5 + 0.1 k) c_muon with c_muon = (1 + 0.01 k) d^1.5.
        k = np.arange(4)
        c = (1 + 0.01 * k) * d**1.5
        assert expected[0] == pytest.approx(((0.5 + 0.1 * k) * c).sum() / c.sum())
    with pytest.raises(ValueError, match="reference"):
        mj.capacity_ratio(table, 2, rule="muon_ns5", reference="gd")
    with pytest.raises(ValueError, match="by"):
        mj.capacity_ratio(table, 2, rule="muon_ns5", reference="muon", by=("rule",))


@pytest.mark.parametrize("steps", [3, 5])
def test_newton_schulz_reach_matches_the_iteration_on_a_matrix(steps):
    s_min = mj.newton_schulz_reach("jordan", steps)
    assert 0 < s_min < 1
    # Relative singular values just above and just below the reach, beside one large
    # one, on a diagonal matrix (its singular vectors are the axes); 2% either side
    # is far outside float32 error at these magnitudes.
    rel = np.array([1.02 * s_min, 0.98 * s_min])
    diag = np.array([1.0, *rel])
    for _ in range(3):  # rel = x / ||diag||_F, solved by a fixed point
        diag = np.array([1.0, *(rel * np.linalg.norm(diag))])
    out = mj.newton_schulz(
        jnp.asarray(np.diag(diag), jnp.float32), steps=steps, coeffs="jordan"
    )
    values = np.diag(np.asarray(out))
    assert values[1] >= 0.5 > values[2]
    assert mj.newton_schulz_reach("jordan", steps + 5) < s_min
    with pytest.raises(ValueError, match="level"):
        mj.newton_schulz_reach("jordan", steps, level=1.5)


def test_capacity_fits_at_a_step_and_at_the_stop():
    exps = [0.0, 1.0, 1.5]
    table = _synthetic(exps, dims=(16, 32, 64))
    at2 = mj.capacity_fits(table, by=("rule",), step=2, n_boot=200)
    assert at2[("muon",)].exponent == pytest.approx(1.5, abs=1e-9)
    stopped = _synthetic(exps, dims=(16, 32, 64), stop=[1, 1, 1])
    final = mj.capacity_fits(stopped, by=("rule",), n_boot=200, min_points=2)
    assert final[("muon",)].exponent == pytest.approx(1.0, abs=1e-9)
    with pytest.raises(ValueError, match="must not be among"):
        mj.capacity_fits(table, by=("d",))
