"""Analysis helpers of the Part B checks: window slopes, bootstraps, envelopes.

Peers: numpy's least squares (np.polyfit), scipy.stats.bootstrap, dense argmin.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from muonjax import orthogonal as og


def test_window_slope_matches_polyfit_per_window():
    t = np.arange(1, 2001, dtype=np.float64)
    # A bent curve: the local slope runs from about -1.5 to -1.
    y = 1.0 / t + 20.0 / t**1.5
    windows = [(100, 2000), (10, 100), (500, 2000)]
    ws = og.window_slope(t, y, windows, points=2000)
    for (lo, hi), slope in zip(windows, ws.slopes, strict=True):
        inside = (t >= lo) & (t <= hi)
        ref = np.polyfit(np.log(t[inside]), np.log(y[inside]), 1)[0]
        # Thinning to evenly log-spaced points changes the weights a little.
        assert slope == pytest.approx(ref, abs=0.02)
    assert ws.estimate == ws.slopes[0]
    assert ws.interval[0] <= min(ws.slopes) and ws.interval[1] >= max(ws.slopes)
    assert ws.n_windows_used == 3 and ws.ok


def test_window_slope_exact_power_law_and_bad_input():
    t = np.arange(1, 501, dtype=np.float64)
    ws = og.window_slope(t, 7.0 * t**-2.0, [(10, 500), (1, 50)])
    np.testing.assert_allclose(ws.slopes, [-2.0, -2.0], rtol=1e-10)
    empty = og.window_slope(t, 1 / t, [(600, 700)])
    assert math.isnan(empty.estimate) and not empty.ok
    with pytest.raises(ValueError, match="increasing"):
        og.window_slope(t[::-1], t, [(1, 10)])
    with pytest.raises(ValueError, match="windows"):
        og.window_slope(t, t, [])


def test_bootstrap_mean_against_scipy():
    v = np.array([1.0, 2.0, 4.0, 3.5, 2.5, 0.5])
    mean, (lo, hi) = og.bootstrap_mean(v, seed=3)
    ref = stats.bootstrap(
        (v,),
        np.mean,
        method="percentile",
        n_resamples=2000,
        rng=np.random.default_rng(3),
    ).confidence_interval
    assert mean == pytest.approx(v.mean())
    assert (lo, hi) == pytest.approx((ref.low, ref.high))
    assert og.bootstrap_mean([2.0, 2.0]) == (2.0, (2.0, 2.0))
    one_mean, one_ci = og.bootstrap_mean([5.0])
    assert one_mean == 5.0 and all(map(math.isnan, one_ci))


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
    assert og.point_interval([3.0, float("nan"), -1.0, 2.0]) == (-1.0, 3.0)
