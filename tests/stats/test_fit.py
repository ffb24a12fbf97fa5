"""The scaling-law fitter: peers, planted exponents, coverage, degenerate input.

Peers: ``scipy.stats.linregress`` (ordinary least squares) and ``numpy.polyfit``
(weighted least squares) for the line; the truth planted in synthetic data for the
intervals.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import scipy.stats

import muonjax as mj
from muonjax.stats import fit as _fit

X = np.array([64.0, 128.0, 256.0, 512.0, 1024.0])


def _planted(rng, x, exponent, seeds, sigma=0.2, prefactor=3.0):
    """``y = a x^C exp(sigma eps)``, ``(len(x), seeds)``: multiplicative noise.

    The mean over seeds is ``a x^C E[exp(sigma eps)]``: the noise rescales the
    prefactor only, so the planted exponent is what the log-log line of the means
    should find.
    """
    noise = np.exp(sigma * rng.standard_normal((x.shape[0], seeds)))
    return prefactor * x[:, None] ** exponent * noise


# --------------------------------------------------------------------------------------
# The line and the point estimate against real peers.


def test_line_matches_linregress_and_weighted_polyfit():
    rng = np.random.default_rng(0)
    lx = np.log(X)
    ly = 0.7 * lx + 0.3 + 0.05 * rng.standard_normal(lx.shape[0])
    b0, b1 = _fit._line(lx, ly)
    ref = scipy.stats.linregress(lx, ly)
    assert b1 == pytest.approx(ref.slope, rel=1e-12)
    assert b0 == pytest.approx(ref.intercept, rel=1e-12)
    w = rng.uniform(0.5, 3.0, lx.shape[0])
    b0w, b1w = _fit._line(lx, ly, w)
    # polyfit's w multiplies the residuals, so it is sqrt of the WLS weights.
    ref_w = np.polyfit(lx, ly, 1, w=np.sqrt(w))
    assert b1w == pytest.approx(ref_w[0], rel=1e-10)
    assert b0w == pytest.approx(ref_w[1], rel=1e-10)


def test_power_law_estimate_is_linregress_on_the_log_means():
    rng = np.random.default_rng(1)
    y = _planted(rng, X, 0.4, seeds=6)
    fit = mj.fit_power_law(X, y)
    ref = scipy.stats.linregress(np.log(X), np.log(y.mean(axis=1)))
    assert fit.exponent == pytest.approx(ref.slope, rel=1e-12)
    assert fit.prefactor == pytest.approx(math.exp(ref.intercept), rel=1e-12)
    assert fit.ols_stderr == pytest.approx(ref.stderr, rel=1e-10)
    assert fit.interval[0] < fit.exponent < fit.interval[1]
    assert fit.ok and fit.excluded == () and fit.flags == ()
    np.testing.assert_array_equal(fit.x, X)
    np.testing.assert_allclose(fit.y, y.mean(axis=1))
    np.testing.assert_allclose(fit.predict(X), fit.prefactor * X**fit.exponent)


def test_fit_is_reproducible_and_json_ready():
    y = _planted(np.random.default_rng(2), X, 1.3, seeds=4)
    a, b = mj.fit_power_law(X, y, seed=5), mj.fit_power_law(X, y, seed=5)
    assert a.interval == b.interval
    text = json.dumps(a.to_dict(), allow_nan=False)
    assert "bootstrap" not in json.loads(text)


# --------------------------------------------------------------------------------------
# Planted exponents: coverage over 100 repetitions, and shrinking intervals.

REPS = 100
# With 8 seeds the percentile bootstrap's variance is (s - 1)/s of the true one, so
# its 95% interval covers ~92-93% of the time. If the true coverage is >= 0.90, the
# chance that fewer than 84 of 100 intervals cover is < 3% (binomial tail); the
# generators are seeded, so the test is deterministic.
MIN_COVERAGE = 84


@pytest.mark.parametrize("weighted", [False, True])
def test_interval_covers_the_planted_exponent_in_most_repetitions(weighted):
    truth = 0.45
    rng = np.random.default_rng(10)
    covered = 0
    widths = []
    for rep in range(REPS):
        # Heteroscedastic noise in the weighted case: the noise level grows with x.
        sigma = np.linspace(0.05, 0.4, X.shape[0])[:, None] if weighted else 0.2
        y = _planted(rng, X, truth, seeds=8, sigma=sigma)
        fit = mj.fit_power_law(X, y, weighted=weighted, n_boot=1000, seed=rep)
        lo, hi = fit.interval
        covered += lo <= truth <= hi
        widths.append(hi - lo)
    assert covered >= MIN_COVERAGE, f"coverage {covered}/{REPS}"
    # Not vacuous: the intervals are narrow compared with the exponent itself.
    assert np.median(widths) < 0.2


def test_weighting_narrows_the_interval_under_heteroscedastic_noise():
    rng = np.random.default_rng(11)
    sigma = np.array([0.02, 0.05, 0.1, 0.3, 0.6])[:, None]
    ratio = []
    for rep in range(20):
        y = _planted(rng, X, 0.45, seeds=8, sigma=sigma)
        w = mj.fit_power_law(X, y, weighted=True, n_boot=500, seed=rep)
        u = mj.fit_power_law(X, y, weighted=False, n_boot=500, seed=rep)
        ratio.append((w.interval[1] - w.interval[0]) / (u.interval[1] - u.interval[0]))
        assert w.weighted and not u.weighted
    assert np.median(ratio) < 0.8


def test_intervals_shrink_with_more_seeds():
    rng = np.random.default_rng(12)
    widths = {}
    for seeds in (8, 32):
        w = []
        for rep in range(30):
            y = _planted(rng, X, 1.33, seeds=seeds)
            lo, hi = mj.fit_power_law(X, y, n_boot=1000, seed=rep).interval
            w.append(hi - lo)
        widths[seeds] = np.median(w)
    # Four times the seeds: half the width in theory; [0.35, 0.7] allows for the
    # small-sample bias of the 8-seed bootstrap and the spread over 30 repetitions.
    assert 0.35 < widths[32] / widths[8] < 0.7


def test_two_stage_recovers_planted_coefficients_with_propagated_intervals():
    alphas = np.array([1.25, 1.5, 2.0, 3.0])
    c1, c2 = 1.0, 0.5
    rng = np.random.default_rng(13)
    covered = np.zeros(2, int)
    for rep in range(REPS):
        fits = [
            mj.fit_power_law(
                X, _planted(rng, X, c1 + c2 / a, seeds=8), n_boot=1000, seed=rep
            )
            for a in alphas
        ]
        two = mj.fit_two_stage(alphas, fits)
        covered += [
            two.c1_interval[0] <= c1 <= two.c1_interval[1],
            two.c2_interval[0] <= c2 <= two.c2_interval[1],
        ]
    assert np.all(covered >= MIN_COVERAGE), covered
    # The point estimate is least squares of C_alpha on 1/alpha (peer: linregress).
    ref = scipy.stats.linregress(1 / alphas, [f.exponent for f in fits])
    assert two.c2 == pytest.approx(ref.slope, rel=1e-12)
    assert two.c1 == pytest.approx(ref.intercept, rel=1e-12)


def test_two_stage_lists_failed_alphas_and_needs_two():
    rng = np.random.default_rng(14)
    good = [mj.fit_power_law(X, _planted(rng, X, 1 + 0.5 / a, 6)) for a in (1.5, 2.0)]
    bad = mj.fit_power_law(X, np.zeros((5, 6)))
    two = mj.fit_two_stage([1.5, 2.0, 3.0], [*good, bad])
    assert two.ok and [e.x for e in two.excluded] == [3.0]
    assert any("exactly determined" in f for f in two.flags)
    one = mj.fit_two_stage([1.5, 3.0], [good[0], bad])
    assert not one.ok and "too_few_points" in one.flags
    with pytest.raises(ValueError, match="n_boot"):
        mj.fit_two_stage(
            [1.5, 2.0], [good[0], mj.fit_power_law(X, good[0].y, n_boot=200)]
        )
    with pytest.raises(ValueError, match="one fit per alpha"):
        mj.fit_two_stage([1.5, 2.0, 3.0], good)


def test_step_exponents_recover_the_multi_step_law():
    alpha = 1.5
    rng = np.random.default_rng(15)
    steps = 4
    y = np.zeros((X.shape[0], 8, steps + 1))  # W_0 recovers nothing
    for t in range(1, steps + 1):
        y[:, :, t] = _planted(rng, X, mj.theory.multi_step_exponent(t, alpha), 8, 0.1)
    fits = mj.fit_step_exponents(X, y)
    assert sorted(fits) == [1, 2, 3, 4]
    for t, f in fits.items():
        truth = mj.theory.multi_step_exponent(t, alpha)
        assert f.interval[0] - 0.02 <= truth <= f.interval[1] + 0.02
    zero = mj.fit_step_exponents(X, y, steps=[0])[0]
    assert not zero.ok and len(zero.excluded) == X.shape[0]
    with pytest.raises(ValueError, match="steps"):
        mj.fit_step_exponents(X, y, steps=[9])


def test_exponential_and_loss_slope_fits():
    rng = np.random.default_rng(16)
    t = np.arange(1.0, 9.0)
    loss = 50 * np.exp(-0.7 * t)[:, None] * np.exp(0.02 * rng.standard_normal((8, 5)))
    f = mj.fit_exponential(t, loss)
    assert f.kind == "exponential"
    assert f.interval[0] <= -0.7 <= f.interval[1]
    # Excess loss over L* = 0.3 decaying like T^-2; the last point dips below L*.
    tt = np.array([10.0, 20.0, 40.0, 80.0, 160.0])
    excess = 5 * tt[:, None] ** -2.0 * np.exp(0.05 * rng.standard_normal((5, 6)))
    losses = 0.3 + excess
    losses[-1, 2] = 0.3 - 1e-9
    g = mj.fit_loss_slope(tt, losses, optimum=0.3)
    assert g.interval[0] - 0.05 <= -2.0 <= g.interval[1] + 0.05
    assert [e.x for e in g.excluded] == [160.0]
    assert "L - L* <= 0" in g.excluded[0].reason


def test_broken_power_law_recovers_the_breakpoint():
    alpha = 1.5
    rng = np.random.default_rng(17)
    b = np.geomspace(4, 65536, 9)
    a, plateau = 1.5, 60.0
    truth = (plateau / a) ** alpha
    y = np.minimum(a * b ** (1 / alpha), plateau)[:, None] * np.exp(
        0.05 * rng.standard_normal((9, 8))
    )
    free = mj.fit_broken_power_law(b, y, n_boot=200)
    fixed = mj.fit_broken_power_law(b, y, slope=1 / alpha, n_boot=200)
    smooth = mj.fit_broken_power_law(b, y, slope=1 / alpha, smooth=20.0, n_boot=200)
    for f in (free, fixed):
        assert f.ok and f.flags == ()
        lo, hi = f.breakpoint_interval
        assert lo <= truth <= hi
        assert f.plateau_interval[0] <= plateau * 1.05 and f.plateau_interval[1] >= 55
    assert free.slope_interval[0] <= 1 / alpha <= free.slope_interval[1]
    assert fixed.slope == pytest.approx(1 / alpha)
    assert smooth.breakpoint == pytest.approx(truth, rel=0.3)
    np.testing.assert_allclose(fixed.predict(b[:2]), a * b[:2] ** (1 / alpha), rtol=0.1)
    json.dumps(free.to_dict(), allow_nan=False)


def test_broken_power_law_flags_a_breakpoint_outside_the_data():
    b = np.geomspace(4, 256, 5)
    y = (2 * b ** (2 / 3))[:, None] * np.exp(
        0.05 * np.random.default_rng(18).standard_normal((5, 6))
    )
    f = mj.fit_broken_power_law(b, y, slope=2 / 3, n_boot=100)
    # No plateau in the data: the breakpoint is either extrapolated or pinned to the
    # last point, and the fit says which.
    assert any(fl.startswith("breakpoint_") for fl in f.flags), f.flags


# --------------------------------------------------------------------------------------
# Degenerate input: clear errors or flagged results, never a silent drop.


def test_all_zeros_is_flagged_with_every_point_listed():
    fit = mj.fit_power_law(X, np.zeros((5, 4)))
    assert not fit.ok and math.isnan(fit.exponent)
    assert "too_few_points" in fit.flags
    assert [e.x for e in fit.excluded] == list(X)
    assert all("zero mean" in e.reason for e in fit.excluded)
    assert mj.compare_fit(fit, 0.5).verdict == "inconclusive"
    with pytest.raises(ValueError, match="too few usable points"):
        mj.fit_power_law(X, np.zeros((5, 4)), strict=True)


def test_one_point_raises():
    with pytest.raises(ValueError, match="at least 2 values of x"):
        mj.fit_power_law([64.0], [[1.0, 2.0]])


def test_negative_and_nan_values_exclude_their_points_with_reasons():
    y = _planted(np.random.default_rng(19), X, 0.5, seeds=4)
    y[1, 2] = -1.0
    y[3, 0] = np.nan
    fit = mj.fit_power_law(X, y)
    reasons = {e.x: e.reason for e in fit.excluded}
    assert reasons == {
        128.0: "negative y in 1 of 4 seeds",
        512.0: "non-finite y in 1 of 4 seeds",
    }
    np.testing.assert_array_equal(fit.x, [64.0, 256.0, 1024.0])
    assert fit.ok


def test_saturated_points_are_excluded_per_seed_ceiling():
    y = np.array([[3, 4], [8, 9], [20, 20], [21, 25]], dtype=float)
    x = X[:4]
    fit = mj.fit_power_law(x, y, saturation=20)
    assert [e.x for e in fit.excluded] == [256.0, 512.0]
    assert "saturated: 2 of 2 seeds" in fit.excluded[0].reason
    # Per-seed ceilings (distinct items in each seed's batch).
    ceil = np.array([[10, 10], [8, 30], [30, 30], [30, 30]], dtype=float)
    f2 = mj.fit_power_law(x, y, saturation=ceil, min_points=2)
    assert [e.x for e in f2.excluded] == [128.0]
    assert "1 of 2 seeds" in f2.excluded[0].reason


def test_partial_zeros_are_kept_and_flagged_and_zero_resamples_discarded():
    y = _planted(np.random.default_rng(20), X, 0.5, seeds=4)
    y[0] = [0.0, 0.0, 0.0, 1.0]
    fit = mj.fit_power_law(X, y)
    assert fit.ok
    assert any("3 of 4 seeds are 0 at x=64" in f for f in fit.flags)
    # P(all four resampled seeds are 0) = (3/4)^4 ~ 0.32 of the replicates.
    assert any("replicates had a zero mean" in f for f in fit.flags)
    assert np.isnan(fit.bootstrap).mean() == pytest.approx(0.32, abs=0.05)


def test_caller_exclusions_are_listed():
    y = _planted(np.random.default_rng(21), X, 0.5, seeds=4)
    fit = mj.fit_power_law(X, y, exclude={1024: "precision-limited"})
    assert fit.excluded == (_fit.ExcludedPoint(1024.0, "precision-limited"),)
    with pytest.raises(ValueError, match="not one of"):
        mj.fit_power_law(X, y, exclude={100: "nope"})


def test_single_seed_gives_no_interval_and_says_so():
    fit = mj.fit_power_law(X, 2 * X**0.5)
    assert fit.exponent == pytest.approx(0.5)
    assert math.isnan(fit.interval[0])
    assert any("no replicates" in f for f in fit.flags)
    with pytest.raises(ValueError, match="at least 2 seeds"):
        mj.fit_power_law(X, 2 * X**0.5, weighted=True)


@pytest.mark.parametrize(
    "x, y, match",
    [
        (X, np.ones((4, 3)), "shape"),
        (X.reshape(5, 1), np.ones((5, 3)), "one-dimensional"),
        ([1.0, 1.0, 2.0], np.ones((3, 3)), "distinct"),
        ([0.0, 1.0, 2.0], np.ones((3, 3)), "> 0"),
        ([1.0, np.inf, 2.0], np.ones((3, 3)), "finite"),
        ([1.0, 2.0], [[1.0], []], "no seeds"),
    ],
)
def test_structural_errors_raise(x, y, match):
    with pytest.raises(ValueError, match=match):
        mj.fit_power_law(x, y)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"confidence": 1.0}, "confidence"),
        ({"n_boot": 10}, "n_boot"),
        ({"min_points": 1}, "min_points"),
        ({"saturation_rtol": 1.5}, "saturation_rtol"),
    ],
)
def test_bad_options_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        mj.fit_power_law(X, np.ones((5, 3)), **kwargs)


def test_ragged_seeds_are_accepted():
    rng = np.random.default_rng(22)
    rows = [_planted(rng, X[i : i + 1], 0.5, seeds=3 + i)[0] for i in range(5)]
    fit = mj.fit_power_law(X, rows)
    np.testing.assert_array_equal(fit.n_seeds, [3, 4, 5, 6, 7])
    assert fit.ok
