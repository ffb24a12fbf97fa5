"""The multi-step theorem's smoothed rule ``muon_smoothed_c<c>`` (SPEC A.3).

Peers: :func:`muonjax.theory.smoothed_muon_lambda` with
:func:`muonjax.theory.multi_step_capacity` (the schedule, host-side numpy),
:func:`muonjax.smoothed_polar` applied in a Python loop (the rule), and the exact
polar factor (its ``lambda -> 0`` limit).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import assert_close

import muonjax as mj
from muonjax import theory


@pytest.mark.parametrize(("d", "alpha", "c"), [(64, 1.5, 10.0), (8, 2.0, 3.0)])
def test_smoothed_lambda_schedule_is_the_theorems_law(d, alpha, c):
    sched = mj.smoothed_lambda_schedule(d, alpha, c)
    for t in range(6):
        d_next = theory.multi_step_capacity(d, alpha, t + 1)
        want = c * theory.smoothed_muon_lambda(d, alpha, d_next)
        assert float(sched(t)) == pytest.approx(float(want), rel=1e-12)
    # alpha may be traced (the sweeps vmap it with the seeds).
    lam = jax.jit(lambda a: mj.smoothed_lambda_schedule(d, a, c)(2))(alpha)
    assert float(lam) == pytest.approx(float(sched(2)), rel=1e-12)
    assert float(mj.smoothed_lambda_schedule(d, alpha, 0.0)(3)) == 0.0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"d": 0}, "d must be"), ({"c": -1.0}, "c must be"), ({"alpha": 0.0}, "alpha")],
)
def test_smoothed_lambda_schedule_rejects_bad_input(kwargs, message):
    args = {"d": 8, "alpha": 1.5, "c": 1.0, **kwargs}
    with pytest.raises(ValueError, match=message):
        mj.smoothed_lambda_schedule(**args)


def _smoothed_loop(task, c, steps):
    """W_{t+1} = W_t + sqrt(d) h_{lam_t}(-grad) by hand, lam_t from the theory."""
    d, alpha = task.d_in, 1.5
    w = jnp.zeros((task.d_out, d), task.u.dtype)
    for t in range(steps):
        lam = c * theory.smoothed_muon_lambda(
            d, alpha, theory.multi_step_capacity(d, alpha, t + 1)
        )
        g = mj.population_grad(w, task)
        w = w - np.sqrt(d) * mj.smoothed_polar(g, lam)
    return w


@pytest.fixture
def task():
    return mj.sample_task(60, 8, 1.5, key=jax.random.key(5), dtype=jnp.float64)


def test_smoothed_rule_applies_smoothed_polar_with_the_schedule(task):
    spec = mj.rule_spec("muon_smoothed_c10", muon_lr_scale=1.0)
    assert spec.base == "muon_smoothed" and spec.lam_c == 10.0 and spec.lam is None
    tx, schedule = mj.rule_optimizer(spec, d=task.d_in, alpha=1.5)
    assert float(schedule(0)) == pytest.approx(np.sqrt(task.d_in))
    w, _ = mj.train(task, tx, steps=4)
    assert_close(w, _smoothed_loop(task, 10.0, 4), tol={"rtol": 1e-9, "atol": 1e-11})
    # The schedule matters: a different c is a different trajectory.
    tx3, _ = mj.rule_optimizer(
        mj.rule_spec("muon_smoothed_c3", muon_lr_scale=1.0), d=task.d_in, alpha=1.5
    )
    w3, _ = mj.train(task, tx3, steps=4)
    assert float(jnp.max(jnp.abs(w3 - w))) > 1e-3


def test_smoothed_rule_tends_to_the_polar_factor_as_c_goes_to_0(task):
    alpha = 1.5
    # (muon_lr_scale 2: eta = 2 sqrt(d), the rules' default)
    polar, _ = mj.rule_optimizer(mj.rule_spec("muon"), d=task.d_in)
    w_polar, traj_polar = mj.train(task, polar, steps=4)
    # c = 0 is the polar factor itself.
    tx0, _ = mj.rule_optimizer(mj.rule_spec("muon_smoothed_c0"), d=8, alpha=alpha)
    w0, _ = mj.train(task, tx0, steps=4)
    assert_close(w0, w_polar, tol={"rtol": 1e-12, "atol": 1e-12})
    # The gap closes like lambda^2 (h_lam(s) = 1 - lam^2 / (2 s^2) + ...): it falls
    # by ~ 100x per 10x smaller c.
    gaps = []
    for c in (1e-3, 1e-4):
        tx, _ = mj.rule_optimizer(
            mj.rule_spec(f"muon_smoothed_c{c:g}"), d=8, alpha=alpha
        )
        w, traj = mj.train(task, tx, steps=4)
        gaps.append(float(jnp.max(jnp.abs(w - w_polar))))
        np.testing.assert_array_equal(traj.count, traj_polar.count)
    assert gaps[1] < 1e-5 and 50 < gaps[0] / gaps[1] < 200


def test_smoothed_rule_needs_alpha_and_parses_c():
    spec = mj.rule_spec("muon_smoothed_c2.5")
    assert spec.lam_c == 2.5
    with pytest.raises(ValueError, match="needs alpha"):
        mj.rule_optimizer(spec, d=8)
    assert mj.parse_rule("muon_smoothed_c10") == ("muon_smoothed", None)
    with pytest.raises(ValueError, match="rule must be"):
        mj.rule_spec("muon_smoothed_cx")


def test_smoothed_rule_in_a_multi_step_sweep_has_the_polar_limit():
    # Through the cells (alpha traced with the seeds): c = 0 is the polar factor on
    # the same task, and c = 10 is recorded under its own name.
    sweep = mj.multi_step_sweep(
        n=60,
        dims=(8,),
        alphas=(1.5,),
        steps=3,
        rules=("muon", "muon_smoothed_c0", "muon_smoothed_c10"),
    )
    key = jax.random.key(0)
    out = mj.run_sweep(sweep, seeds=2, key=key)
    by_rule = {res.cell.config["rule"]: res for res in out.results}
    assert set(by_rule) == {"muon", "muon_smoothed_c0", "muon_smoothed_c10"}
    np.testing.assert_array_equal(
        by_rule["muon_smoothed_c0"].metrics["count"],
        by_rule["muon"].metrics["count"],
    )
    assert by_rule["muon_smoothed_c10"].metrics["count"].max() > 0
