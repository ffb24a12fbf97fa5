"""The [derived] predictions of SPEC B.3 in muonjax.theory.orthogonal, against direct
computations: the GD stability edge against the eigenvalues of the loss Hessian, the
finite-M slope against a direct evaluation of the sum."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import stats

from muonjax import orthogonal as og
from muonjax import theory


@pytest.mark.parametrize(("k", "alpha"), [(4, 0.3), (16, 0.1), (16, 0.6), (64, 0.3)])
def test_lambda_star_is_the_top_eigenvalue_of_the_softmax_hessian(k, alpha):
    # The per-query cross-entropy CE(p, softmax(z)) at its optimum z = log p_{.|j}:
    # its Hessian in z, by jax.hessian, and its eigenvalues by eigvalsh.
    target = jnp.full(k, alpha / k).at[0].add(1 - alpha)

    def ce(z):
        return -jnp.sum(target * jax.nn.log_softmax(z))

    hess = jax.jit(jax.hessian(ce))(jnp.log(target))
    eig = np.linalg.eigvalsh(np.asarray(hess))
    assert eig.max() == pytest.approx(theory.gd_stability_curvature(k, alpha), 1e-12)
    assert theory.gd_stability_edge(k, alpha) == pytest.approx(2 / eig.max(), 1e-12)
    # The rest of the spectrum: 0 (the all-ones direction) and alpha/K.
    assert eig.min() == pytest.approx(0.0, abs=1e-12)
    np.testing.assert_allclose(eig[1:-1], alpha / k, rtol=1e-10)


@pytest.mark.parametrize("norm", [1.0, 1.3])
def test_the_edge_from_the_full_loss_hessian_at_the_optimum(norm):
    # GD's loss in task coordinates, its Hessian in A (K x K, flattened) at the
    # noisy optimum: the top eigenvalue is r^4 p_1 lambda*, so GD is linearly
    # stable iff eta r^4 p_1 < 2 / lambda*.
    alpha = 0.3
    task = og.power_law_task(2, 3, 1.5, alpha=alpha, norm=norm, dtype=jnp.float64)
    k = task.num_queries
    a_star = jnp.log(og.label_distribution(task)) / norm**2

    def loss(flat):
        return og.task_state(flat.reshape(k, k), task).loss

    hessian = jax.jit(jax.hessian(loss))
    top = np.linalg.eigvalsh(np.asarray(hessian(a_star.ravel()))).max()
    p1 = float(jnp.max(og.query_frequencies(task)))
    lam = theory.gd_stability_curvature(k, alpha)
    assert top == pytest.approx(norm**4 * p1 * lam, rel=1e-10)
    assert og.softmax_hessian_top(task) == pytest.approx(lam)
    # The gradient vanishes there (it is the optimum).
    grad = jax.jit(jax.grad(loss))(a_star.ravel())
    assert float(jnp.max(jnp.abs(grad))) < 1e-12
    # At W = 0 the top eigenvalue is r^4 p_1 / K: the edge 2K.
    top0 = np.linalg.eigvalsh(np.asarray(hessian(0 * a_star.ravel()))).max()
    assert top0 == pytest.approx(norm**4 * p1 / k, rel=1e-10)
    edge0 = 2 / (top0 / (p1 * norm**4))
    assert theory.gd_initial_stability_edge(k) == pytest.approx(edge0)


def test_the_edge_is_infinite_without_noise_and_validated():
    assert theory.gd_stability_edge(16, 0.0) == math.inf
    assert theory.gd_stability_curvature(16, 0.0) == 0.0
    with pytest.raises(ValueError, match="alpha"):
        theory.gd_stability_curvature(16, 1.0)
    with pytest.raises(ValueError, match="k"):
        theory.gd_stability_edge(0, 0.3)


def _direct_slope(m, beta, lo, hi, n=3000):
    """The finite-M sum's slope, evaluated term by term on a fine grid of T: the
    window is where lo .. hi M groups have exp(-T/T_g) <= 1/2 (counted directly)."""
    g = np.arange(1, m + 1, dtype=np.float64)
    w = g**-beta / np.sum(g**-beta)
    t_all = np.geomspace(0.1, 2 * (m + 1) ** beta, n)
    terms = np.exp(-t_all[:, None] / g[None, :] ** beta)  # (n, M)
    learned = (terms <= 0.5).sum(axis=1)
    keep = (learned >= lo) & (learned <= hi * m)
    s = terms[keep] @ w
    return stats.linregress(np.log(t_all[keep]), np.log(s)).slope


@pytest.mark.parametrize(("m", "beta"), [(32, 1.5), (16, 2.0), (64, 3.0)])
def test_finite_m_slope_against_a_direct_evaluation_of_the_sum(m, beta):
    got = theory.gd_finite_m_slope(m, beta)
    # The fine grid samples the window's ends to 0.4%: the slopes agree to 1e-3.
    assert got == pytest.approx(_direct_slope(m, beta, 2, 0.25), abs=1e-3)
    several = theory.gd_finite_m_slope(m, beta, og.GD_WINDOWS)
    assert several.shape == (len(og.GD_WINDOWS),) and several[0] == got
    assert several[1] == pytest.approx(_direct_slope(m, beta, 4, 0.25), abs=2e-3)


def test_finite_m_slope_is_the_specs_and_tends_to_the_theorems_exponent():
    # SPEC B.3 [derived]: beta = 1.5: -0.52 at M = 32, -0.46 at M = 128, -0.37 at
    # M = 65,536, against -1/3 as M -> infinity.
    slopes = [theory.gd_finite_m_slope(m, 1.5) for m in (32, 128, 65_536)]
    np.testing.assert_allclose(slopes, [-0.52, -0.46, -0.37], atol=0.006)
    assert slopes[0] < slopes[1] < slopes[2] < theory.gd_scaling_law_exponent(1.5)
    for beta in (2.0, 3.0):
        big = theory.gd_finite_m_slope(65_536, beta)
        assert big == pytest.approx(theory.gd_scaling_law_exponent(beta), abs=0.01)


def test_finite_m_excess_and_its_time_scale():
    t = np.array([0.0, 1.0, 10.0, 100.0])
    s = theory.gd_finite_m_excess(t, 8, 2.0)
    assert s[0] == pytest.approx(1.0) and np.all(np.diff(s) < 0)
    # T_1 only rescales time, so slopes over learned-group windows ignore it.
    np.testing.assert_allclose(theory.gd_finite_m_excess(3 * t, 8, 2.0, t1=3.0), s)
    g = np.arange(1, 9.0)
    w = g**-2.0 / np.sum(g**-2.0)
    assert s[2] == pytest.approx(np.sum(w * np.exp(-10.0 / g**2)))
    with pytest.raises(ValueError, match="windows"):
        theory.gd_finite_m_slope(8, 2.0, ((2, 1.5),))
    assert math.isnan(theory.gd_finite_m_slope(8, 2.0, ((4, 0.25),)))
