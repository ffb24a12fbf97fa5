"""The one bootstrap over seeds, against a bootstrap written in numpy."""

from __future__ import annotations

import math

import numpy as np
import pytest

import muonjax as mj


def _numpy_bootstrap_mean(v, n_boot, seed, confidence=0.95):
    idx = np.random.default_rng(seed).integers(0, v.size, size=(n_boot, v.size))
    means = v[idx].mean(axis=1)
    q = 100 * (1 - confidence) / 2
    return tuple(np.percentile(means, [q, 100 - q]))


@pytest.mark.parametrize("seed", [0, 7])
def test_bootstrap_mean_equals_a_numpy_bootstrap_from_the_same_generator(seed):
    v = np.random.default_rng(1).normal(3.0, 2.0, size=12)
    mean, interval = mj.bootstrap_mean(v, n_boot=500, seed=seed)
    assert mean == pytest.approx(v.mean(), rel=1e-15)
    np.testing.assert_allclose(interval, _numpy_bootstrap_mean(v, 500, seed), rtol=0)


def test_planted_spread_gives_an_interval_that_resamples():
    # Seeds with real spread: the interval is wide (about 4 standard errors) and
    # contains the mean; a bootstrap that stopped resampling would give lo == hi.
    v = np.arange(1.0, 17.0)
    mean, (lo, hi) = mj.bootstrap_mean(v, n_boot=2000)
    sem = v.std(ddof=1) / math.sqrt(v.size)
    assert lo < mean < hi
    assert 3.0 * sem < hi - lo < 5.0 * sem


def test_degenerate_inputs():
    assert all(math.isnan(x) for x in mj.bootstrap_mean([2.0])[1])  # one seed
    assert mj.bootstrap_mean([2.0, 2.0, 2.0]) == (2.0, (2.0, 2.0))  # no spread
    m, (lo, hi) = mj.bootstrap_mean([1.0, math.nan])
    assert math.isnan(m) and math.isnan(lo) and math.isnan(hi)
    with pytest.raises(ValueError, match="n_boot must be >= 100"):
        mj.bootstrap_mean([1.0, 2.0], n_boot=10)
    with pytest.raises(ValueError, match="confidence"):
        mj.bootstrap_mean([1.0, 2.0], confidence=1.5)


def test_paired_ratio_resamples_pairs_like_numpy():
    rng = np.random.default_rng(2)
    b = rng.uniform(1, 2, size=10)
    a = 3.0 * b + rng.normal(0, 0.1, size=10)  # paired: the ratio is tight
    est, (lo, hi) = mj.paired_ratio(a, b, n_boot=400, seed=5)
    idx = np.random.default_rng(5).integers(0, 10, size=(400, 10))
    ratios = a[idx].mean(axis=1) / b[idx].mean(axis=1)
    np.testing.assert_allclose((lo, hi), np.percentile(ratios, [2.5, 97.5]), rtol=0)
    assert est == pytest.approx(a.mean() / b.mean())
    assert lo < est < hi and hi - lo < 0.1  # pairing keeps it narrow
    with pytest.raises(ValueError, match="paired"):
        mj.paired_ratio(a, b[:5])


def test_bootstrap_interval_pairs_columns_and_checks_the_statistic():
    rng = np.random.default_rng(3)
    x = rng.normal(size=20)
    pair = np.stack([x + 1.0, x], axis=1)  # difference exactly 1 on every seed
    lo, hi = mj.bootstrap_interval(pair, lambda r: (r[..., 0] - r[..., 1]).mean(-1))
    assert lo == pytest.approx(1.0) and hi == pytest.approx(1.0)
    with pytest.raises(ValueError, match="n_boot"):
        mj.bootstrap_interval(x, lambda r: r)  # (n_boot, s) is not (n_boot,)
