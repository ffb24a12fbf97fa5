"""Bound claims tested as bounds (muonjax.stats.bounds): the ratio's drift and the
verdict rule, on planted curves that do and do not satisfy a bound."""

from __future__ import annotations

import math

import numpy as np
import pytest

import muonjax as mj
from muonjax.stats.bounds import (
    DEFAULT_BOUND_FACTOR,
    bound_ratio,
    compare_bound,
    ratio_drift,
)

T = np.geomspace(10.0, 1e4, 13)  # three decades


def _brute_drift(r, kind):
    pairs = [(i, j) for j in range(len(r)) for i in range(j + 1)]
    if kind == "upper":
        return max(r[j] / r[i] for i, j in pairs)
    return max(r[i] / r[j] for i, j in pairs)


@pytest.mark.parametrize("kind", ["upper", "lower"])
def test_drift_is_the_largest_move_the_wrong_way(kind):
    rng = np.random.default_rng(3)
    for _ in range(20):
        r = np.exp(rng.normal(size=rng.integers(1, 12)))
        assert float(ratio_drift(r, kind)) == pytest.approx(_brute_drift(r, kind))
    batch = np.exp(rng.normal(size=(5, 7)))
    np.testing.assert_allclose(
        ratio_drift(batch, kind), [_brute_drift(b, kind) for b in batch]
    )


def _verdict(measured, bound, kind, **kw):
    return compare_bound(bound_ratio(T, measured, bound, kind=kind), label="x", **kw)


def test_an_upper_bound_that_holds_and_one_that_does_not():
    bound = (np.log(64) / T) ** 2
    # Holds: the excess is 0.15 times the bound, with a wiggle of 30% and a ratio
    # that falls (a faster decay is fine for an upper bound).
    for measured in (
        0.15 * bound,
        0.15 * bound * (1 + 0.3 * np.sin(np.arange(T.size))),
        0.15 * bound * (T / T[0]) ** -0.5,
    ):
        c = _verdict(measured, bound, "upper")
        assert c.verdict == "consistent", c
        assert c.estimate <= DEFAULT_BOUND_FACTOR
    # Fails: the excess decays as T^-1.5, the ratio rises by 1000^0.5 = 31.6.
    c = _verdict(0.15 * bound * (T / T[0]) ** 0.5, bound, "upper")
    assert c.verdict == "inconsistent"
    assert c.estimate == pytest.approx(1000**0.5)
    # A ratio that rises, then returns, still rose: the drift sees the rise.
    hump = 0.15 * bound * np.exp(-(((np.log(T) - np.log(300)) / 1.0) ** 2)) * 10
    assert _verdict(hump + 0.01 * bound, bound, "upper").verdict == "inconsistent"


def test_a_lower_bound_that_holds_and_one_that_does_not():
    beta = 1.5
    bound = np.log(64) * T ** -(1 - 1 / beta)
    assert _verdict(0.3 * bound, bound, "lower").verdict == "consistent"
    # Decays more slowly than the bound: the ratio rises, fine for a lower bound.
    rising = 0.3 * bound * (T / T[0]) ** 0.3
    assert _verdict(rising, bound, "lower").verdict == "consistent"
    # Decays as T^-(1/3 + 0.2): the ratio falls by 1000^0.2 = 3.98 > 2.
    falling = 0.3 * bound * (T / T[0]) ** -0.2
    c = _verdict(falling, bound, "lower")
    assert (c.verdict, c.estimate) == ("inconsistent", pytest.approx(1000**0.2))
    # ... but by 1000^0.05 = 1.41 < 2: within the allowance, and outside a tighter one.
    slow = 0.3 * bound * (T / T[0]) ** -0.05
    assert _verdict(slow, bound, "lower").verdict == "consistent"
    assert _verdict(slow, bound, "lower", factor=1.2).verdict == "inconsistent"


def test_too_short_a_range_or_too_few_points_is_inconclusive():
    x = np.array([100.0, 150.0, 200.0])  # span 2 < 4
    c = compare_bound(bound_ratio(x, x**-1.0, x**-2.0, kind="upper"), label="x")
    assert c.verdict == "inconclusive" and math.isnan(c.estimate)
    assert any("too short" in n for n in c.notes)
    x = np.array([10.0, 1000.0])  # two points
    c = compare_bound(bound_ratio(x, x**-1.0, x**-2.0, kind="upper"), label="x")
    assert c.verdict == "inconclusive"
    # Non-positive or non-finite ratios are left out and counted, never silently.
    m = 0.1 * T**-2.0
    m[[2, 5]] = [0.0, np.nan]
    br = bound_ratio(T, m, T**-2.0, kind="upper")
    assert br.n_excluded == 2 and br.x.size == T.size - 2
    assert "2 left out" in compare_bound(br, label="x").notes[0]
    none = bound_ratio(T, np.zeros_like(T), T**-2.0, kind="upper")
    assert compare_bound(none, label="x").verdict == "inconclusive"


def test_a_bound_with_its_own_constant():
    bound = 1.0 / T
    ok = compare_bound(
        bound_ratio(T, 0.8 / T, bound, kind="upper"), label="x", constant=1.0
    )
    bad = compare_bound(
        bound_ratio(T, 1.3 / T, bound, kind="upper"), label="x", constant=1.0
    )
    assert (ok.verdict, bad.verdict) == ("consistent", "inconsistent")
    assert bad.estimate == pytest.approx(1.3) and bad.prediction == 1.0
    low = compare_bound(
        bound_ratio(T, 0.8 / T, bound, kind="lower"), label="x", constant=1.0
    )
    assert low.verdict == "inconsistent"
    # One point settles a stated constant (no range is needed).
    one = bound_ratio(T[:1], [0.5 / T[0]], bound[:1], kind="upper")
    assert compare_bound(one, label="x", constant=1.0).verdict == "consistent"


def test_seeds_give_the_bootstrap_of_the_mean_curve():
    rng = np.random.default_rng(0)
    bound = T**-2.0
    seeds = 0.2 * bound * np.exp(0.1 * rng.standard_normal((6, T.size)))
    br = bound_ratio(T, seeds, bound, kind="upper", n_boot=500, seed=7)
    assert br.seeds == 6
    assert br.drift == pytest.approx(float(ratio_drift(seeds.mean(0) / bound, "upper")))
    # The interval is the percentile bootstrap of the drift of the resampled mean,
    # resampling seeds with numpy's generator exactly as muonjax.stats does.
    idx = np.random.default_rng(7).integers(0, 6, size=(500, 6))
    boot = [ratio_drift(seeds[i].mean(0) / bound, "upper") for i in idx]
    lo, hi = np.percentile(boot, [2.5, 97.5])
    assert br.drift_interval == pytest.approx((lo, hi))
    assert lo < hi
    c = compare_bound(br, label="x")
    assert c.verdict == "consistent" and c.interval == br.drift_interval
    # An interval wider than max_width is inconclusive.
    assert compare_bound(br, label="x", max_width=1e-6).verdict == "inconclusive"


def test_bad_input_raises():
    with pytest.raises(ValueError, match="kind"):
        bound_ratio(T, T, T, kind="both")
    with pytest.raises(ValueError, match="increasing"):
        bound_ratio(T[::-1], T, T, kind="upper")
    with pytest.raises(ValueError, match="measured"):
        bound_ratio(T, T[:-1], T, kind="upper")
    br = bound_ratio(T, T, T, kind="upper")
    with pytest.raises(ValueError, match="factor"):
        compare_bound(br, label="x", factor=1.0)
    with pytest.raises(ValueError, match="constant"):
        compare_bound(br, label="x", constant=0.0)
    with pytest.raises(ValueError, match="min_span"):
        compare_bound(br, label="x", min_span=0.5)


def test_front_door():
    assert mj.compare_bound is compare_bound and mj.bound_ratio is bound_ratio
