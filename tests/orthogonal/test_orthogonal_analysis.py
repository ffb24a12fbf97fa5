"""Analysis of Part B curves: imbalance, envelopes, windows, T*, floors.

Peers: planted power laws, dense argmin, hand-counted indices. (The generic window
slopes and bootstraps are tested with the stats layer, ``tests/stats``.)
"""

from __future__ import annotations

import numpy as np
import pytest

from muonjax import orthogonal as og


def test_imbalance_exponent_recovers_a_power_of_the_group_index():
    g = np.arange(1, 9, dtype=np.float64)
    seeds = np.stack([1e-3 * g**1.7, 2e-3 * g**1.7])  # same exponent per seed
    fit = og.imbalance_exponent(seeds)
    assert fit.exponent == pytest.approx(1.7, abs=1e-9)
    flat = og.imbalance_exponent(np.full(8, 0.3))
    assert flat.exponent == pytest.approx(0.0, abs=1e-12)


def test_gd_envelope_is_the_dense_minimum():
    rng = np.random.default_rng(0)
    ex = rng.uniform(size=(4, 30))
    gex = rng.uniform(size=(4, 30, 5))
    env, best, learned = og.gd_envelope(ex, gex)
    np.testing.assert_array_equal(env, ex.min(axis=0))
    np.testing.assert_array_equal(best, ex.argmin(axis=0))
    for s in range(30):
        ref = int(np.sum(gex[best[s], s] <= 0.5 * gex[best[s], 0]))
        assert learned[s] == ref


def test_step_grid_and_point_interval():
    grid = og.step_grid(1000, 20, extra=[999, 5000, 17])
    assert grid[0] == 0 and grid[-1] == 1000
    assert {999, 17} <= set(grid.tolist()) and 5000 not in grid
    assert np.all(np.diff(grid) > 0)


def test_horizon_windows_all_first_and_last():
    hs = np.array([32, 64, 128, 256, 512, 1024])
    assert og.horizon_windows(hs) == ((32, 1024), (32, 256), (128, 1024))
    # Three horizons: every window is all of them (max(3, n - 2) = 3).
    assert og.horizon_windows([1, 2, 3]) == ((1, 3), (1, 3), (1, 3))


def test_first_rise_and_progress_index():
    loss = np.array([5.0, 4.0, 3.0, 3.0, 2.0])
    assert og.first_rise(loss) == 2  # L(3) >= L(2): the descent ends at t = 2
    assert og.first_rise(np.array([3.0, 2.0, 1.0])) == 2  # never rises: last index
    excess = np.array([1.0, 0.5, 0.2, 0.09, 0.01])
    assert og.progress_index(excess) == 3  # first value <= 0.1 x the first
    assert og.progress_index(excess, 0.005) == 4  # never reached: last index


def test_floored_log_ratio_floors_rounding_level_excess():
    eps = np.finfo(np.float64).eps
    got = og.floored_log_ratio([1e-3, 0.0, -1e-20], [1e-5, 1e-5, 0.0], l_star=2.0)
    res = 2.0 * eps  # eps * max(L*, 1)
    np.testing.assert_allclose(got, [2.0, np.log10(res / 1e-5), 0.0], rtol=1e-12)
