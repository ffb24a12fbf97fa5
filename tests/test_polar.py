"""Polar factor, smoothed polar and Newton-Schulz against scipy, JAX and optax peers."""

from __future__ import annotations

import itertools

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
import scipy.linalg
from conftest import TOL32, assert_close

import muonjax as mj

SHAPES = [(6, 6), (7, 4), (3, 9)]


def _random(shape, seed, dtype=jnp.float64):
    return jax.random.normal(jax.random.key(seed), shape, dtype)


@pytest.mark.parametrize("shape", SHAPES)
def test_polar_matches_scipy(shape):
    g = _random(shape, 0)
    u_scipy, _ = scipy.linalg.polar(np.asarray(g))
    assert_close(mj.polar(g), u_scipy, tol={"rtol": 1e-10, "atol": 1e-12})


@pytest.mark.parametrize("method", ["svd", "qdwh"])
def test_polar_matches_jax_scipy(method):
    g = _random((8, 5), 1)
    u_jax, _ = jax.scipy.linalg.polar(g, method=method)
    assert_close(mj.polar(g), u_jax, tol={"rtol": 1e-8, "atol": 1e-10})


@pytest.mark.parametrize("shape", SHAPES)
def test_polar_is_a_partial_isometry(shape):
    q = np.asarray(mj.polar(_random(shape, 2)))
    small = min(shape)
    gram = q.T @ q if shape[0] >= shape[1] else q @ q.T
    assert_close(gram, np.eye(small), tol={"rtol": 0, "atol": 1e-12})


def test_polar_maps_zero_singular_values_to_zero():
    # A rank-2 "minibatch" gradient in 5 x 5: the polar factor must have rank 2
    # (singular values {1, 1, 0, 0, 0}), not the full orthogonal U V^T of an SVD.
    a, b = _random((5, 2), 3), _random((5, 2), 4)
    g = a @ b.T
    q = mj.polar(g)
    s = np.linalg.svd(np.asarray(q), compute_uv=False)
    assert_close(s, [1, 1, 0, 0, 0], tol={"rtol": 0, "atol": 1e-12})
    u, _, vt = np.linalg.svd(np.asarray(g))
    assert_close(q, u[:, :2] @ vt[:2], tol={"rtol": 0, "atol": 1e-12})


def test_polar_rtol_is_a_parameter():
    # Singular values 1 and 1e-6: the default tolerance keeps both, rtol=1e-3 drops one.
    g = jnp.diag(jnp.array([1.0, 1e-6], jnp.float64))
    assert_close(jnp.diag(mj.polar(g)), [1.0, 1.0])
    assert_close(jnp.diag(mj.polar(g, rtol=1e-3)), [1.0, 0.0])


def test_polar_of_zero_is_zero():
    assert_close(mj.polar(jnp.zeros((3, 4))), np.zeros((3, 4)))


@pytest.mark.parametrize("shape", SHAPES)
def test_smoothed_polar_matches_inverse_square_root_form(shape):
    g = np.asarray(_random(shape, 5))
    lam = 0.7
    evals, evecs = np.linalg.eigh(g.T @ g + lam**2 * np.eye(shape[1]))
    expected = g @ (evecs / np.sqrt(evals)) @ evecs.T
    assert_close(mj.smoothed_polar(jnp.asarray(g), lam), expected)


def test_smoothed_polar_tends_to_polar():
    g = _random((6, 4), 6)
    target = mj.polar(g)
    errors = [
        float(jnp.max(jnp.abs(mj.smoothed_polar(g, lam) - target)))
        for lam in (1e-1, 1e-2, 1e-3, 1e-4)
    ]
    # h_lam(s) - 1 = O(lam^2 / s^2): each tenfold smaller lambda cuts the error ~100x.
    assert all(b < a / 50 for a, b in itertools.pairwise(errors))
    assert_close(mj.smoothed_polar(g, 0.0), target)


def test_smoothed_polar_of_rank_deficient_keeps_null_space_zero():
    a, b = _random((5, 2), 7), _random((5, 2), 8)
    s = np.linalg.svd(np.asarray(mj.smoothed_polar(a @ b.T, 1e-3)), compute_uv=False)
    assert_close(s[2:], 0, tol={"rtol": 0, "atol": 1e-12})


def _optax_newton_schulz(g, **kw):
    # optax's own code is not written for strict dtype promotion (its bias
    # correction mixes int32 and float); the peer runs with the standard rules.
    with jax.numpy_dtype_promotion("standard"):
        tx = optax.contrib.scale_by_muon(beta=0.0, nesterov=False, **kw)
        out, _ = tx.update(g, tx.init(g))
    return out


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("dtype", [jnp.float32, jnp.float64])
def test_newton_schulz_matches_optax(shape, dtype):
    g = _random(shape, 9, dtype)
    ours = mj.newton_schulz(g)
    assert ours.dtype == dtype
    tol = TOL32 if dtype == jnp.float32 else {"rtol": 1e-10, "atol": 1e-12}
    assert_close(ours, _optax_newton_schulz(g), tol=tol)


@pytest.mark.parametrize("steps", [1, 3, 8])
def test_newton_schulz_step_count_matches_optax(steps):
    g = _random((5, 7), 10)
    assert_close(
        mj.newton_schulz(g, steps=steps),
        _optax_newton_schulz(g, ns_steps=steps),
        tol={"rtol": 1e-10, "atol": 1e-12},
    )


def test_newton_schulz_schedule_matches_optax():
    table = tuple(mj.POLAR_EXPRESS_COEFFS[:5])
    g = _random((6, 4), 11)
    assert_close(
        mj.newton_schulz(g, steps=5, coeffs="polar_express"),
        _optax_newton_schulz(g, ns_coeffs=table, ns_steps=5),
        tol={"rtol": 1e-9, "atol": 1e-11},
    )


@pytest.mark.parametrize(
    ("coeffs", "steps"), [("cubic", 60), ("quintic", 30), ("polar_express", 12)]
)
def test_convergent_newton_schulz_reaches_the_polar_factor(coeffs, steps):
    # Condition number ~ 10 after Frobenius scaling: all three converge in these steps.
    u, _ = np.linalg.qr(np.asarray(_random((6, 6), 12)))
    v, _ = np.linalg.qr(np.asarray(_random((6, 6), 13)))
    g = jnp.asarray(u @ np.diag(np.linspace(1.0, 0.1, 6)) @ v.T)
    assert_close(
        mj.newton_schulz(g, steps=steps, coeffs=coeffs),
        u @ v.T,
        tol={"rtol": 0, "atol": 1e-8},
    )


def test_jordan_coefficients_do_not_converge():
    # SPEC E: optax's default quintic plateaus with singular values roughly in 0.5..1.5.
    g = _random((16, 16), 14)
    s = mj.singular_value_map(g, mj.newton_schulz(g, steps=30))
    assert float(jnp.max(jnp.abs(s - 1))) > 0.1
    assert float(jnp.min(s)) > 0.5 and float(jnp.max(s)) < 1.5


def test_newton_schulz_coefficients_table():
    table = mj.newton_schulz_coefficients("polar_express", 10, safety=1.01)
    assert table.shape == (10, 3)
    assert_close(
        table[0], np.array(mj.POLAR_EXPRESS_COEFFS[0]) / [1.01, 1.01**3, 1.01**5]
    )
    assert_close(table[-1], mj.POLAR_EXPRESS_COEFFS[-1])
    assert_close(
        mj.newton_schulz_coefficients((1.0, 2.0, 3.0), 2), [[1, 2, 3], [1, 2, 3]]
    )


def test_singular_value_map_reads_the_spectral_function():
    g = _random((5, 3), 15)
    s = np.linalg.svd(np.asarray(g), compute_uv=False)
    assert_close(
        mj.singular_value_map(g, mj.smoothed_polar(g, 0.5)), s / np.sqrt(s**2 + 0.25)
    )
