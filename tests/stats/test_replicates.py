"""Tests of ``stats.replicates``: a power law through estimates with their replicates.

Peer: ``scipy.stats.linregress`` on the log estimates and on each replicate.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as sps

import muonjax as mj


def test_line_and_interval_are_linregress_on_estimates_and_replicates():
    rng = np.random.default_rng(0)
    x = np.array([32.0, 64.0, 128.0, 256.0])
    y = 3.0 * x**1.7 * np.exp(0.05 * rng.standard_normal(4))
    reps = y * np.exp(0.1 * rng.standard_normal((300, 4)))
    fit = mj.fit_power_law_replicates(x, y, reps, n_seeds=[4, 4, 4, 4])
    ref = sps.linregress(np.log(x), np.log(y))
    assert fit.exponent == pytest.approx(ref.slope, rel=1e-12)
    assert fit.prefactor == pytest.approx(math.exp(ref.intercept), rel=1e-12)
    slopes = [sps.linregress(np.log(x), np.log(r)).slope for r in reps]
    assert fit.interval == pytest.approx(tuple(np.percentile(slopes, [2.5, 97.5])))
    assert fit.ok and fit.n_boot == 300


def test_too_few_points_and_discarded_replicates_are_flagged():
    x, y = np.array([32.0]), np.array([5.0])
    fit = mj.fit_power_law_replicates(x, y, np.ones((100, 1)), n_seeds=[3])
    assert not fit.ok and "too_few_points" in fit.flags
    x, y = np.array([32.0, 64.0]), np.array([5.0, 9.0])
    reps = np.full((100, 2), np.nan)
    fit = mj.fit_power_law_replicates(x, y, reps, n_seeds=[3, 3])
    assert math.isfinite(fit.exponent) and math.isnan(fit.interval[0])
    assert any("too many discarded" in f for f in fit.flags)
    with pytest.raises(ValueError, match="min_points"):
        mj.fit_power_law_replicates(x, y, reps, n_seeds=[3, 3], min_points=1)
