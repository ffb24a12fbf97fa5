"""Slopes and the bootstrap of the stats layer, against numpy and scipy.

Moved from Part B's tests with the code (``window_slope``, ``fit_line``,
``point_interval``, ``bootstrap_mean`` live in :mod:`muonjax.stats`). Peers:
``np.polyfit`` per window, ``scipy.stats.bootstrap`` (percentile, same generator).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from muonjax.stats.bootstrap import bootstrap_mean
from muonjax.stats.slopes import fit_line, log_grid, point_interval, window_slope


def test_window_slope_matches_polyfit_per_window():
    t = np.arange(1, 2001, dtype=np.float64)
    # A bent curve: the local slope runs from about -1.5 to -1.
    y = 1.0 / t + 20.0 / t**1.5
    windows = [(100, 2000), (10, 100), (500, 2000)]
    ws = window_slope(t, y, windows, points=2000)
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
    ws = window_slope(t, 7.0 * t**-2.0, [(10, 500), (1, 50)])
    np.testing.assert_allclose(ws.slopes, [-2.0, -2.0], rtol=1e-10)
    empty = window_slope(t, 1 / t, [(600, 700)])
    assert math.isnan(empty.estimate) and not empty.ok
    with pytest.raises(ValueError, match="increasing"):
        window_slope(t[::-1], t, [(1, 10)])
    with pytest.raises(ValueError, match="windows"):
        window_slope(t, t, [])


def test_bootstrap_mean_against_scipy():
    v = np.array([1.0, 2.0, 4.0, 3.5, 2.5, 0.5])
    mean, (lo, hi) = bootstrap_mean(v, seed=3)
    ref = stats.bootstrap(
        (v,),
        np.mean,
        method="percentile",
        n_resamples=2000,
        rng=np.random.default_rng(3),
    ).confidence_interval
    assert mean == pytest.approx(v.mean())
    assert (lo, hi) == pytest.approx((ref.low, ref.high))
    assert bootstrap_mean([2.0, 2.0]) == (2.0, (2.0, 2.0))
    one_mean, one_ci = bootstrap_mean([5.0])
    assert one_mean == 5.0 and all(map(math.isnan, one_ci))


def test_fit_line_against_numpy():
    x = np.array([1.0, 2.0, 4.0, 8.0, 16.0, 0.0])
    y = np.append(3.0 * x[:5] ** -0.5 * np.array([1.01, 0.99, 1.0, 1.02, 0.98]), 1.0)
    f = fit_line(x, y, log_x=True, log_y=True)
    keep = x > 0
    slope, icpt = np.polyfit(np.log(x[keep]), np.log(y[keep]), 1)
    assert f.slope == pytest.approx(slope, rel=1e-12)
    assert f.intercept == pytest.approx(icpt, rel=1e-12)
    assert f.n_points == 5 and f.n_excluded == 1  # log(0) flagged, not hidden
    assert f.low < f.slope < f.high
    assert log_grid(1, 1000, 4).tolist() == [1, 10, 100, 1000]


def test_point_interval_skips_non_finite_values():
    assert point_interval([3.0, float("nan"), -1.0, 2.0]) == (-1.0, 3.0)
    assert all(map(math.isnan, point_interval([float("nan")])))
