"""The Gaussian task (SPEC A.1): shapes, frequencies, spectra, determinism."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import assert_close

import muonjax as mj


def test_power_law_frequencies_match_formula():
    n, alpha = 50, 1.5
    rank = np.arange(1, n + 1, dtype=np.float64)
    expected = rank**-alpha / np.sum(rank**-alpha)
    assert_close(mj.power_law_frequencies(n, alpha, dtype=jnp.float64), expected)


@pytest.mark.parametrize("alpha", [0.0, 0.5, 1.0, 3.0, 40.0])
def test_power_law_frequencies_sum_to_one_and_decrease(alpha):
    p = np.asarray(mj.power_law_frequencies(1000, alpha, dtype=jnp.float64))
    assert np.all(np.isfinite(p)) and np.all(p >= 0)
    assert abs(p.sum() - 1) < 1e-12
    assert np.all(np.diff(p) <= 0)
    if alpha == 0.0:
        assert_close(p, np.full(1000, 1e-3))


def test_spectrum_isotropic_and_decaying():
    assert_close(mj.power_law_spectrum(8, 0.0, dtype=jnp.float64), np.full(8, 1 / 8))
    lam = np.asarray(mj.power_law_spectrum(8, 1.0, dtype=jnp.float64))
    assert abs(lam.sum() - 1) < 1e-12
    assert_close(lam[0] / lam[3], 4.0)


def test_sample_task_shapes_dtype_and_determinism():
    task = mj.sample_task(100, 7, 1.2, key=jax.random.key(0), d_out=5)
    assert (
        task.u.shape == (100, 7) and task.v.shape == (100, 5) and task.p.shape == (100,)
    )
    assert task.u.dtype == task.v.dtype == task.p.dtype == jnp.float32
    again = mj.sample_task(100, 7, 1.2, key=jax.random.key(0), d_out=5)
    for a, b in zip(task, again, strict=True):
        np.testing.assert_array_equal(a, b)
    other = mj.sample_task(100, 7, 1.2, key=jax.random.key(1), d_out=5)
    assert not np.array_equal(task.u, other.u)


def test_isotropic_covariance_is_identity_over_d():
    # 200k samples: the per-coordinate variance estimate has relative std ~ 0.3%.
    d = 4
    task = mj.sample_task(200_000, d, 1.0, key=jax.random.key(5), dtype=jnp.float64)
    for x in (task.u, task.v):
        cov = np.cov(np.asarray(x), rowvar=False)
        np.testing.assert_allclose(cov, np.eye(d) / d, atol=0.004)


def test_anisotropic_output_covariance_follows_spectrum():
    d, kappa = 4, 1.5
    task = mj.sample_task(
        200_000, d, 1.0, key=jax.random.key(6), kappa_v=kappa, dtype=jnp.float64
    )
    lam = np.asarray(mj.power_law_spectrum(d, kappa, dtype=jnp.float64))
    cov = np.cov(np.asarray(task.v), rowvar=False)
    np.testing.assert_allclose(np.diag(cov), lam, rtol=0.02)  # ~4 standard errors
    np.testing.assert_allclose(cov - np.diag(np.diag(cov)), 0, atol=0.004)
    # inputs stay isotropic unless kappa_u is given
    np.testing.assert_allclose(
        np.cov(np.asarray(task.u), rowvar=False), np.eye(d) / d, atol=0.004
    )


def test_alpha_can_be_traced_under_vmap():
    alphas = jnp.array([0.5, 1.5, 2.5])
    ps = jax.vmap(lambda a: mj.power_law_frequencies(10, a))(alphas)
    for a, p in zip(alphas, ps, strict=True):
        assert_close(
            p, mj.power_law_frequencies(10, float(a)), tol={"rtol": 1e-6, "atol": 0}
        )


def test_n_equals_one():
    task = mj.sample_task(1, 1, 2.0, key=jax.random.key(0))
    assert task.p.tolist() == [1.0]
