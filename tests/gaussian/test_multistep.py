"""Tests of ``gaussian.analysis.multistep``: schedules, the multi-step cell, analysis.

Peers: numpy evaluations of the schedule formulas and optax's own ``sgd`` applying
them; :func:`muonjax.train` / :func:`muonjax.train_early_stopping` called directly
for the cell; :func:`muonjax.plateau_step` for the stopping step; synthetic records
with exact power laws for the fits.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import muonjax as mj
from muonjax import theory

# --------------------------------------------------------------------------------------
# Schedules.


def test_lr_schedule_shapes_match_their_formulas():
    t = np.arange(12)
    geo = mj.lr_schedule(0.3, shape="geometric", factor=1.7, max_value=20.0)
    np.testing.assert_allclose(geo(t), np.minimum(0.3 * 1.7**t, 20.0), rtol=1e-12)
    poly = mj.lr_schedule(0.3, shape="polynomial", power=1.5)
    np.testing.assert_allclose(poly(t), 0.3 * (t + 1.0) ** 1.5, rtol=1e-12)
    const = mj.lr_schedule(0.3, shape="constant")
    np.testing.assert_allclose(const(t), np.full(12, 0.3), rtol=0)
    # Decaying shapes are allowed (factor < 1, power < 0).
    dec = mj.lr_schedule(2.0, shape="polynomial", power=-0.5)
    np.testing.assert_allclose(dec(t), 2.0 / np.sqrt(t + 1.0), rtol=1e-12)


def test_lr_schedule_is_applied_by_optax_as_eta_t():
    # optax.sgd with the schedule: W_t - W_{t-1} = -eta_t * grad, eta_1 at count 0.
    sched = mj.lr_schedule(0.5, shape="geometric", factor=3.0, max_value=10.0)
    tx = optax.sgd(sched)
    w = jnp.zeros(())
    state = tx.init(w)
    steps = []
    for _ in range(5):
        up, state = tx.update(jnp.ones(()), state, w)
        steps.append(-float(up))
        w = w + up
    np.testing.assert_allclose(steps, [0.5, 1.5, 4.5, 10.0, 10.0], rtol=1e-12)


def test_lr_schedule_jits_and_vmaps():
    sched = mj.lr_schedule(0.1, shape="polynomial", power=2.0, max_value=5.0)
    counts = jnp.arange(6)
    np.testing.assert_allclose(
        jax.jit(jax.vmap(sched))(counts), np.minimum(0.1 * (np.arange(6) + 1) ** 2, 5)
    )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"init_value": 0.0}, "init_value must be > 0"),
        ({"init_value": 1.0, "shape": "cosine"}, "shape must be one of"),
        ({"init_value": 1.0, "factor": 0.0}, "factor must be > 0"),
        ({"init_value": 1.0, "max_value": 0.5}, "max_value must be >= 1.0"),
        ({"init_value": 1.0, "power": math.inf}, "power must be finite"),
    ],
)
def test_lr_schedule_rejects_bad_input(kwargs, message):
    with pytest.raises(ValueError, match=message):
        mj.lr_schedule(**kwargs)


def test_gd_increasing_schedule_default_shape():
    d = 64
    sched = mj.gd_increasing_schedule(d)
    eta = np.asarray(sched(np.arange(40)))
    root = math.sqrt(d)
    assert eta[0] == pytest.approx(0.01 * root, rel=1e-12)  # eta_1 = 0.01 sqrt(d)
    assert np.all(np.diff(eta) >= 0)  # increasing
    assert eta.max() == pytest.approx(100 * root, rel=1e-12)  # capped
    # Geometric growth by 2 until the cap.
    below = eta < 100 * root
    np.testing.assert_allclose(eta[below], 0.01 * root * 2.0 ** np.arange(40)[below])
    # The documented default is what the function uses.
    assert mj.DEFAULT_GD_SCHEDULE == {
        "shape": "geometric",
        "scale": 0.01,
        "factor": 2.0,
        "power": 2.0,
        "max_scale": 100.0,
    }


def test_gd_increasing_schedule_polynomial_and_uncapped():
    sched = mj.gd_increasing_schedule(16, shape="polynomial", power=3.0, max_scale=None)
    np.testing.assert_allclose(sched(np.arange(5)), 0.04 * np.arange(1, 6) ** 3.0)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"factor": 0.5}, "factor must be >= 1"),
        ({"power": -1.0}, "power must be >= 0"),
        ({"scale": -0.01}, "scale must be > 0"),
        ({"max_scale": 0.001}, "max_scale must be >= 0.01"),
    ],
)
def test_gd_increasing_schedule_must_increase(kwargs, message):
    with pytest.raises(ValueError, match=message):
        mj.gd_increasing_schedule(16, **kwargs)


# --------------------------------------------------------------------------------------
# Rules and the cell.


def test_parse_rule():
    assert mj.parse_rule("gd") == ("gd", None)
    assert mj.parse_rule("muon") == ("muon", None)
    assert mj.parse_rule("muon_ns") == ("muon_ns", 5)
    assert mj.parse_rule("muon_ns", ns_steps=7) == ("muon_ns", 7)
    assert mj.parse_rule("muon_ns10") == ("muon_ns", 10)
    for bad in ("adam", "muon_ns0", "muon_nsx", "newton"):
        with pytest.raises(ValueError, match=r"rule must be|Newton-Schulz steps"):
            mj.parse_rule(bad)


def test_multi_step_optimizer_matches_the_core_optimizers():
    g = jax.random.normal(jax.random.key(0), (6, 6), jnp.float64)
    w = jnp.zeros((6, 6), jnp.float64)
    d = 6
    for rule, peer in (
        ("muon", mj.muon_exact(2.0 * math.sqrt(d))),
        ("muon_ns3", mj.muon_newton_schulz(2.0 * math.sqrt(d), steps=3)),
        ("gd", mj.gd(0.01 * math.sqrt(d))),
    ):
        tx, sched = mj.multi_step_optimizer(rule, d)
        ours, _ = tx.update(g, tx.init(w), w)
        theirs, _ = peer.update(g, peer.init(w), w)
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-14)
        lr = 0.01 * math.sqrt(d) if rule == "gd" else 2.0 * math.sqrt(d)
        assert float(sched(0)) == pytest.approx(lr, rel=1e-12)


def _config(**kw):
    base = {
        "n": 300,
        "d": 8,
        "alpha": 1.5,
        "rule": "muon",
        "steps": 3,
        "deflate": False,
        "muon_lr_scale": 2.0,
        "update_dtype": "float64",
    }
    return {**base, **kw}


@pytest.mark.parametrize(
    ("rule", "deflate", "batch_size"),
    [("muon", False, 0), ("muon", True, 0), ("gd", False, 64)],
)
def test_cell_equals_train_directly(rule, deflate, batch_size):
    config = _config(rule=rule, deflate=deflate, batch_size=batch_size)
    key = jax.random.key(5)
    out = mj.multi_step_cell(config, key)
    key_task, key_batch = jax.random.split(key)
    task = mj.sample_task(300, 8, 1.5, key=key_task)
    tx, sched = mj.multi_step_optimizer(rule, 8)
    _, traj = mj.train(
        task,
        tx,
        steps=3,
        batch_size=batch_size or None,
        key=key_batch,
        deflate=deflate,
        update_dtype="float64",
    )
    np.testing.assert_array_equal(out["step"], np.arange(4))
    for name in ("count", "prefix"):
        np.testing.assert_array_equal(out[name], getattr(traj, name))
    np.testing.assert_allclose(out["loss"], traj.loss, rtol=1e-6)
    np.testing.assert_array_equal(out["stop_step"], np.full(4, 3))
    assert np.isnan(out["lr"][0])
    np.testing.assert_allclose(out["lr"][1:], sched(np.arange(3)), rtol=1e-6)
    assert tuple(k for k in out if k != "step") == mj.MULTI_STEP_METRICS


def test_cell_with_early_stopping_stops_where_plateau_step_says():
    # Population steps are deterministic, so the early-stopped run follows the full
    # trajectory until it stops, at the step plateau_step finds on that trajectory.
    key = jax.random.key(2)
    full = mj.multi_step_cell(_config(steps=30, n=200), key)
    stopped = mj.multi_step_cell(
        _config(steps=30, n=200, early_stopping=True, window=4, min_gain=0.005), key
    )
    stop = mj.plateau_step(full["count"], window=4, min_gain=0.005)
    assert stop < 30  # the rule fires at this size (Muon oscillates)
    np.testing.assert_array_equal(stopped["stop_step"], np.full(31, stop))
    np.testing.assert_array_equal(
        stopped["count"][: stop + 1], full["count"][: stop + 1]
    )
    assert np.all(stopped["count"][stop + 1 :] == -1)  # not run


def test_multi_step_sweep_grid_and_key_identity():
    sweep = mj.multi_step_sweep(
        n=200,
        dims=(8, 16),
        alphas=(1.5, 2.0),
        steps=2,
        rules=("muon", "gd", "muon_ns3"),
        deflate=(False, True),
        batch_sizes=(0, 32),
    )
    assert sweep.batched == ("alpha",)
    assert list(sweep.axes) == ["d", "rule", "deflate", "alpha", "batch_size"]
    assert len(sweep.cells()) == 2 * 3 * 2 * 2 * 2
    fixed = dict(sweep.fixed)
    assert fixed["steps"] == 2 and fixed["early_stopping"] is False
    assert fixed["gd_schedule"] == "geometric" and fixed["ns_coeffs"] == "jordan"
    assert fixed["update_dtype"] == "float64"
    # Rules, updates and batch sizes share the task of a seed (paired comparisons).
    keys = {}
    for cell in sweep.cells():
        c = cell.config
        keys.setdefault((c["d"], c["alpha"]), set()).add(cell.key_data)
    assert all(len(v) == 1 for v in keys.values())
    assert len({next(iter(v)) for v in keys.values()}) == 4


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"rules": ("adam",)}, "rule must be"),
        ({"deflate": (0,)}, "deflate values must be booleans"),
        ({"steps": 0}, "steps must be >= 1"),
        ({"dims": ()}, "must be non-empty"),
        ({"rules": ("gd",), "gd_factor": 0.5}, "factor must be >= 1"),
        ({"update_dtype": "int8"}, "update_dtype"),
    ],
)
def test_multi_step_sweep_rejects_bad_input(kwargs, message):
    args = {"n": 100, "dims": (8,), "alphas": (1.5,), "steps": 2, **kwargs}
    with pytest.raises(ValueError, match=message):
        mj.multi_step_sweep(**args)


def test_run_sweep_matches_run_cell():
    sweep = mj.multi_step_sweep(n=150, dims=(8,), alphas=(1.5, 2.0), steps=2)
    key = jax.random.key(0)
    out = mj.run_sweep(sweep, seeds=2, key=key)
    for res in out.results:
        ref = mj.run_cell(sweep, res.cell, 1, key=key)
        np.testing.assert_array_equal(res.steps, ref["step"])
        np.testing.assert_array_equal(res.metrics["count"][1], ref["count"])
        np.testing.assert_array_equal(res.metrics["stop_step"][1], ref["stop_step"])


# --------------------------------------------------------------------------------------
# Analysis from records.


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


def test_muon_schedule_beyond_the_paper():
    _, sched = mj.multi_step_optimizer(
        "muon", 16, muon_schedule="polynomial", muon_power=-1.0
    )
    np.testing.assert_allclose(sched(np.arange(4)), 8.0 / np.arange(1, 5), rtol=1e-12)
    plain = mj.multi_step_sweep(n=100, dims=(8,), alphas=(1.5,), steps=2)
    assert "muon_schedule" not in plain.fixed  # the paper's fixed step: no columns
    decay = mj.multi_step_sweep(
        n=100,
        dims=(8,),
        alphas=(1.5,),
        steps=2,
        muon_schedule="geometric",
        muon_factor=0.9,
    )
    assert decay.fixed["muon_schedule"] == "geometric"
    assert decay.fixed["muon_factor"] == 0.9
