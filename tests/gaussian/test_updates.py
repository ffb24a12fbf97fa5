"""Update rules: Newton against a dense Hessian solve; one battery for every rule."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from conftest import assert_close
from reference import dense_population_loss

import muonjax as mj


def _dense_newton(w, task, g, ridge):
    d_out, d_in = w.shape
    h = jax.hessian(dense_population_loss)(w, task).reshape(d_out * d_in, d_out * d_in)
    x = np.linalg.solve(
        np.asarray(h) + ridge * np.eye(d_out * d_in), np.asarray(g).ravel()
    )
    return x.reshape(d_out, d_in)


@pytest.mark.parametrize("ridge", [1e-3, 1e-6])
def test_newton_at_zero_matches_dense_hessian_solve(small_task64, ridge):
    t = small_task64
    w0 = jnp.zeros((6, 6), jnp.float64)
    g = mj.grad_at_zero(t)
    factors = mj.kronecker_factors(*mj.hessian_factors_at_zero(t))
    got = mj.kronecker_ridge_solve(g, factors, ridge)
    assert_close(got, _dense_newton(w0, t, g, ridge), tol={"rtol": 1e-7, "atol": 1e-9})


@pytest.mark.parametrize("ridge", [1e-2, 1e-8])
def test_relative_ridge_matches_a_dense_solve_with_ridge_times_lambda_max(
    small_task64, ridge
):
    t = small_task64
    w0 = jnp.zeros((6, 6), jnp.float64)
    g = mj.grad_at_zero(t)
    factors = mj.kronecker_factors(*mj.hessian_factors_at_zero(t))
    h = jax.hessian(dense_population_loss)(w0, t).reshape(36, 36)
    lam_max = float(np.linalg.eigvalsh(np.asarray(h)).max())
    assert float(mj.hessian_max_eigenvalue(factors)) == pytest.approx(lam_max, 1e-10)
    got = mj.kronecker_ridge_solve(g, factors, ridge, relative=True)
    want = _dense_newton(w0, t, g, ridge * lam_max)
    assert_close(got, want, tol={"rtol": 1e-7, "atol": 1e-9})
    # The rule "newton_rel" steps along it (Newton's step 1, a minus sign as GD's).
    tx = mj.one_step_optimizer("newton_rel", t, newton_ridge=ridge)
    updates, _ = tx.update(g, tx.init(w0), w0)
    assert_close(updates, -want, tol={"rtol": 1e-7, "atol": 1e-9})
    # ... and differs from the absolute ridge when lambda_max is far from 1.
    absolute = mj.kronecker_ridge_solve(g, factors, ridge)
    assert lam_max < 0.5
    if ridge == 1e-2:
        assert float(jnp.max(jnp.abs(absolute - got))) > 1e-3 * float(
            jnp.max(jnp.abs(got))
        )


def test_hessian_factors_match_dense_hessian(small_task64):
    t = small_task64
    w0 = jnp.zeros((6, 6), jnp.float64)
    sigma_v, sigma_u = mj.hessian_factors_at_zero(t)
    h = jax.hessian(dense_population_loss)(w0, t)
    # H[D] = Sigma_V D Sigma_U  <=>  H[a, b, c, e] = Sigma_V[a, c] Sigma_U[e, b]
    assert_close(h, jnp.einsum("ac,eb->abce", sigma_v, sigma_u))


def test_newton_cg_matches_kronecker_at_zero_and_dense_elsewhere(
    small_task64, random_w64
):
    t = small_task64
    g = mj.grad_at_zero(t)
    w0 = jnp.zeros((6, 6), jnp.float64)
    factors = mj.kronecker_factors(*mj.hessian_factors_at_zero(t))
    cg0 = mj.newton_cg_direction(w0, t, g, ridge=1e-3, tol=1e-12, maxiter=500)
    assert_close(
        cg0,
        mj.kronecker_ridge_solve(g, factors, 1e-3),
        tol={"rtol": 1e-6, "atol": 1e-8},
    )
    w = random_w64 * 0.2
    g = mj.population_grad(w, t)
    cg = mj.newton_cg_direction(w, t, g, ridge=1e-3, tol=1e-12, maxiter=500)
    assert_close(cg, _dense_newton(w, t, g, 1e-3), tol={"rtol": 1e-6, "atol": 1e-8})


def test_newton_step_capacity_is_scale_invariant(small_task64):
    # SPEC A.3 [derived]: one step from zero recovers the same items for any eta.
    t = small_task64
    caps = {
        eta: mj.one_step(t, mj.newton_at_zero(eta, t, ridge=1e-8)).metrics.count
        for eta in (0.1, 10.0)
    }
    assert int(caps[0.1]) == int(caps[10.0])


def _rules(task):
    return {
        "gd": mj.gd(0.5),
        "muon_exact": mj.muon_exact(0.5),
        "muon_smoothed": mj.muon_smoothed(0.5, 0.05),
        "muon_smoothed_schedule": mj.muon_smoothed(
            0.5, optax.linear_schedule(0.1, 0.01, 5)
        ),
        "muon_newton_schulz": mj.muon_newton_schulz(0.5),
        "muon_polar_express": mj.muon_newton_schulz(
            0.5, coeffs="polar_express", steps=8
        ),
        "sign_gd": mj.sign_gd(0.05),
        "newton_at_zero": mj.newton_at_zero(0.5, task, ridge=1e-6),
    }


RULE_NAMES = list(_rules(mj.sample_task(3, 2, 1.0, key=jax.random.key(0))))


@pytest.mark.parametrize("name", RULE_NAMES)
def test_rule_battery(name, small_task32):
    """Every rule: jits, keeps float32, traces once for two calls, lowers the loss."""
    task = small_task32
    tx = _rules(task)[name]
    traces = []

    @jax.jit
    def step(w, state, g):
        traces.append(1)
        updates, state = tx.update(g, state, w)
        return optax.apply_updates(w, updates), state

    w = jnp.zeros((6, 6), jnp.float32)
    state = tx.init(w)
    loss0 = mj.population_loss(w, task)
    for _ in range(2):
        g = mj.population_grad(w, task)
        w, state = step(w, state, g)
        assert w.dtype == jnp.float32
    assert len(traces) == 1
    assert float(mj.population_loss(w, task)) < float(loss0)


def test_optimizers_apply_the_rule_with_a_minus_sign(small_task64):
    g = mj.grad_at_zero(small_task64)
    w0 = jnp.zeros_like(g)
    pairs = [
        (mj.muon_exact(2.0), 2.0 * mj.polar(g)),
        (mj.muon_smoothed(2.0, 0.01), 2.0 * mj.smoothed_polar(g, 0.01)),
        (mj.muon_newton_schulz(2.0, steps=3), 2.0 * mj.newton_schulz(g, steps=3)),
        (mj.sign_gd(2.0), 2.0 * jnp.sign(g)),
        (mj.gd(2.0), 2.0 * g),
    ]
    for tx, direction in pairs:
        updates, _ = tx.update(g, tx.init(w0), w0)
        assert_close(updates, -direction)


def test_smoothed_schedule_follows_the_step_count():
    g = jnp.diag(jnp.array([1.0, 0.1], jnp.float64))
    tx = mj.scale_by_smoothed_polar(lambda count: jnp.where(count == 0, 1.0, 0.1))
    state = tx.init(g)
    first, state = tx.update(g, state)
    second, _ = tx.update(g, state)
    assert_close(jnp.diag(first), [1 / np.sqrt(2), 0.1 / np.sqrt(1.01)])
    assert_close(jnp.diag(second), [1 / np.sqrt(1.01), 1 / np.sqrt(2)])
