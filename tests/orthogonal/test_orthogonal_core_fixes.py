"""Regression tests for two core fixes found while building muonjax.orthogonal.

- ``_validate.real`` on a size-1 array of rank >= 1 (numpy 2 refuses ``float`` of a
  1-d array, so a one-group weight list raised ``TypeError``).
- ``polar`` and ``smoothed_polar`` broadcast a ``(k,)`` vector against ``(m, k)``;
  under the strict ``jax_numpy_rank_promotion="raise"`` (STYLE) they failed.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import muonjax as mj
from muonjax import _validate


def test_real_accepts_size_one_arrays_of_any_rank():
    _validate.real("x", np.array([0.5]), lower=0.0)
    _validate.real("x", jnp.ones((1, 1)), lower=0.0)
    with pytest.raises(ValueError, match=r"x must be > 0\.0"):
        _validate.real("x", np.array([0.0]), lower=0.0, lower_open=True)


def test_polar_under_strict_rank_promotion():
    g = jax.random.normal(jax.random.key(0), (5, 3))
    with jax.numpy_rank_promotion("raise"):
        p = mj.polar(g)
        s = mj.smoothed_polar(g, 0.1)
    np.testing.assert_allclose(p.T @ p, np.eye(3), atol=1e-5)
    u, sv, vt = np.linalg.svd(np.asarray(g), full_matrices=False)
    np.testing.assert_allclose(s, (u * (sv / np.sqrt(sv**2 + 0.01))) @ vt, atol=1e-5)
