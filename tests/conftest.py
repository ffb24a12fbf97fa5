"""Shared fixtures and tolerances for the muonjax test suite.

Strict numerics, as in Equinox's test suite: implicit rank promotion raises, implicit
dtype promotion is strict (mixing int32 with a float array, or float32 with float64,
raises: every cast is written out), and 64-bit mode is on so that the
mathematical checks can run in float64 (float32 stays the library default: every
sampler takes an explicit dtype, and the dtype tests below would catch an accidental
promotion to float64).
"""

from __future__ import annotations

import jax
import numpy as np
import pytest

jax.config.update("jax_enable_x64", True)
jax.config.update("jax_numpy_rank_promotion", "raise")
jax.config.update("jax_numpy_dtype_promotion", "strict")

import muonjax as mj  # noqa: E402  (after the config updates)

# Tolerances, stated once. float64 checks of exact identities are tight; float32 ones
# allow for accumulation over n ~ 1e3 terms.
TOL64 = {"rtol": 1e-9, "atol": 1e-11}
TOL32 = {"rtol": 2e-4, "atol": 1e-5}


def assert_close(actual, desired, tol=None, err_msg=""):
    """``np.testing.assert_allclose`` with the suite's float64 tolerance by default."""
    tol = TOL64 if tol is None else tol
    np.testing.assert_allclose(
        np.asarray(actual), np.asarray(desired), err_msg=err_msg, **tol
    )


@pytest.fixture
def small_task64():
    """A small float64 task: n = 37 items (prime: no block size divides it), d = 6."""
    return mj.sample_task(37, 6, 1.3, key=jax.random.key(11), dtype=np.float64)


@pytest.fixture
def small_task32():
    """The float32 twin of ``small_task64``'s sizes."""
    return mj.sample_task(37, 6, 1.3, key=jax.random.key(11))


@pytest.fixture
def random_w64(small_task64):
    """A random memory with O(1) scores on ``small_task64``."""
    d = small_task64.d_in
    return jax.random.normal(jax.random.key(3), (d, d), np.float64) * 2.0
