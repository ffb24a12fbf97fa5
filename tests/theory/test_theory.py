"""The theory module: values, tags, and consistency between the formulas.

Peers: scipy's root finder for the critical batch size (where the information line
meets the ceiling), a Monte Carlo batch for the expected number of distinct items,
``scipy.stats.entropy`` for the label-noise optimum.
"""

from __future__ import annotations

import inspect
import math
import re

import numpy as np
import pytest
import scipy.optimize
import scipy.stats

from muonjax import theory

_TAG = re.compile(r"\[(seed|quoted|summary|derived)[^\]]*\]")


def _public_functions():
    return [
        getattr(theory, name)
        for name in theory.__all__
        if inspect.isfunction(getattr(theory, name))
    ]


@pytest.mark.parametrize("fn", _public_functions(), ids=lambda f: f.__name__)
def test_every_prediction_carries_a_spec_tag(fn):
    doc = inspect.getdoc(fn)
    assert doc is not None
    assert "References:" in doc
    assert _TAG.search(doc), f"{fn.__name__} has no SPEC tag in its docstring"


def _doc(fn):
    """The docstring with line wrapping undone."""
    return " ".join(inspect.getdoc(fn).split())


def test_tags_are_the_spec_tags_verbatim():
    # SPEC A.5's table, column "tag", for the rows encoded here.
    assert (
        '[seed, Fig. 3 caption "ceiling"; quoted, t = 1 of the multi-step theorem]'
        in (_doc(theory.muon_one_step_exponent))
    )
    assert "[seed, abstract v2]" in _doc(theory.newton_one_step_exponent)
    assert "[seed for the fit form; derived values]" in _doc(
        theory.two_stage_coefficients
    )
    assert '[derived from the seed\'s "intersections"]' in _doc(
        theory.critical_batch_size
    )
    assert "[seed names the line; derived formula]" in _doc(
        theory.distinct_items_scaling
    )


@pytest.mark.parametrize("alpha", [1.1, 1.5, 2.0, 3.0])
def test_one_step_exponents_and_two_stage_values_agree(alpha):
    c1m, c2m = theory.two_stage_coefficients("muon")
    c1g, c2g = theory.two_stage_coefficients("gd")
    assert theory.muon_one_step_exponent(alpha) == pytest.approx(c1m + c2m / alpha)
    assert theory.gd_one_step_exponent(alpha) == pytest.approx(c1g + c2g / alpha)
    assert theory.newton_one_step_exponent(alpha) == theory.muon_one_step_exponent(
        alpha
    )
    assert theory.one_step_exponent("sgd", alpha) == theory.gd_one_step_exponent(alpha)
    # Muon's exponent exceeds GD's by exactly 1 (the d factor).
    diff = theory.muon_one_step_exponent(alpha) - theory.gd_one_step_exponent(alpha)
    assert diff == pytest.approx(1.0)


def test_capacities_are_powers_of_d():
    d = np.array([64.0, 128.0, 256.0])
    assert np.allclose(theory.muon_one_step_capacity(d, 1.5), d ** (4 / 3))
    assert np.allclose(theory.gd_one_step_capacity(d, 1.5), d ** (1 / 3))
    assert np.allclose(theory.newton_one_step_capacity(d, 1.5), d ** (4 / 3))
    assert theory.information_limit(32) == 1024.0
    assert theory.information_limit_exponent() == 2.0


def test_gd_threshold_gives_the_gd_capacity():
    # Item i is recovered when p_i / p_1 = i^-alpha >= d^-1/2, i.e. i <= d^(1/(2a)).
    d, alpha = 4096.0, 1.5
    rank = theory.gd_recovery_threshold(d) ** (-1 / alpha)
    assert rank == pytest.approx(theory.gd_one_step_capacity(d, alpha))


@pytest.mark.parametrize("rule", ["muon", "sgd"])
@pytest.mark.parametrize("alpha", [1.25, 1.5, 2.0])
def test_critical_batch_size_is_where_the_line_meets_the_ceiling(rule, alpha):
    d = 256.0
    ceiling = (
        theory.muon_one_step_capacity(d, alpha)
        if rule == "muon"
        else theory.gd_one_step_capacity(d, alpha)
    )

    def gap(log_b):
        return math.log(theory.distinct_items_scaling(math.exp(log_b), alpha)) - (
            math.log(ceiling)
        )

    root = math.exp(scipy.optimize.brentq(gap, -10.0, 60.0))
    assert theory.critical_batch_size(d, alpha, rule) == pytest.approx(root, rel=1e-9)
    expected_exponent = alpha + 0.5 if rule == "muon" else 0.5
    assert theory.critical_batch_exponent(rule, alpha) == pytest.approx(
        expected_exponent
    )


def test_multi_step_exponent_limits_and_capacity_cap():
    alpha = 1.5
    assert theory.multi_step_exponent(0, alpha) == pytest.approx(1.0)
    assert theory.multi_step_exponent(1, alpha) == pytest.approx(
        theory.muon_one_step_exponent(alpha)
    )
    t = np.arange(0, 40)
    e = theory.multi_step_exponent(t, alpha)
    assert np.all(np.diff(e) > 0)
    assert e[-1] == pytest.approx(2.0, abs=1e-6)
    # Population steps are capped only by d^2-type growth; a batch caps at B^(1/a).
    d = 64.0
    assert theory.multi_step_capacity(d, alpha, 3) == pytest.approx(
        d ** theory.multi_step_exponent(3, alpha)
    )
    assert theory.multi_step_capacity(d, alpha, 3, batch_size=1000) == pytest.approx(
        1000 ** (1 / alpha)
    )
    assert theory.multi_step_loss_bound(100.0, alpha) == pytest.approx(100**-0.5)


def test_expected_distinct_items_matches_a_monte_carlo_batch():
    n, alpha, b = 2000, 1.5, 300
    rng = np.random.default_rng(0)
    p = np.arange(1, n + 1, dtype=float) ** -alpha
    p /= p.sum()
    draws = [np.unique(rng.choice(n, size=b, p=p)).size for _ in range(400)]
    expected = theory.expected_distinct_items(n, alpha, b)
    # Standard error of the Monte Carlo mean over 400 batches; 5 of them is a loose
    # but deterministic bound (the generator is seeded).
    se = np.std(draws) / math.sqrt(len(draws))
    assert abs(np.mean(draws) - expected) < 5 * se
    # Exact in the limits: one draw gives one item; B -> inf gives every item.
    assert theory.expected_distinct_items(n, alpha, 1) == pytest.approx(1.0)
    assert theory.expected_distinct_items(50, 0.0, 1e6) == pytest.approx(50.0)


def test_expected_distinct_items_grows_like_b_to_the_one_over_alpha():
    # Far below n^alpha the growth exponent is 1/alpha (up to slow corrections).
    n, alpha = 10**6, 2.0
    b = np.array([1e3, 1e4, 1e5])
    e = theory.expected_distinct_items(n, alpha, b)
    slope = np.polyfit(np.log(b), np.log(e), 1)[0]
    assert slope == pytest.approx(theory.distinct_items_exponent(alpha), abs=0.02)


def test_part_b_laws():
    assert theory.gd_noiseless_query_loss(10, 0.5, 0.1) == pytest.approx(2.0)
    assert theory.gd_noiseless_total_loss(10, 0.5, 100) == pytest.approx(20.0)
    assert theory.muon_noiseless_query_loss(2.0, 1.0, 50) == pytest.approx(
        50 * math.exp(-2)
    )
    assert theory.muon_noisy_descent_time(100, 0.5) == pytest.approx(2 * math.log(100))
    assert theory.muon_noisy_oscillation_gap(0.1) == pytest.approx(0.01)
    assert theory.gd_stability_limit(0.25) == pytest.approx(4.0)
    assert theory.gd_scaling_law_exponent(2.0) == pytest.approx(-0.5)
    assert theory.gd_scaling_law(100.0, 10, 2.0) == pytest.approx(math.log(10) / 10)
    assert theory.muon_scaling_law_exponent() == -2.0
    assert theory.muon_scaling_law(10.0, 100) == pytest.approx(
        (math.log(100) / 10) ** 2
    )
    assert theory.muon_scaling_learning_rate(10.0, 100) == pytest.approx(
        math.log(100) / 10
    )
    assert theory.preconditioner_deviation_bound(4, 8) == pytest.approx(5 / 8)
    assert theory.tra_signgd_muon_step(0.3) == pytest.approx(0.6)


@pytest.mark.parametrize("k, noise", [(10, 0.0), (10, 0.3), (1000, 0.9), (2, 0.5)])
def test_label_noise_optimum_is_the_conditional_entropy(k, noise):
    row = np.full(k, noise / k)
    row[0] += 1 - noise
    assert theory.label_noise_optimal_loss(k, noise) == pytest.approx(
        scipy.stats.entropy(row), abs=1e-12
    )


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: theory.muon_one_step_exponent(0.0), "alpha"),
        (lambda: theory.gd_one_step_exponent(-1.0), "alpha"),
        (lambda: theory.muon_one_step_capacity(0, 1.5), "d"),
        (lambda: theory.one_step_exponent("adam", 1.5), "rule"),
        (lambda: theory.multi_step_exponent(-1, 1.5), "t"),
        (lambda: theory.expected_distinct_items(0, 1.5, 10), "n"),
        (lambda: theory.distinct_items_scaling(float("nan"), 1.5), "batch_size"),
        (lambda: theory.label_noise_optimal_loss(10, 1.0), "noise"),
    ],
)
def test_bad_arguments_raise_value_errors_naming_them(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_newton_with_a_relative_ridge_has_newtons_predictions():
    # Figure 2 fits newton_rel beside newton; the theory's Newton step has no ridge.
    assert theory.two_stage_coefficients("newton_rel") == (
        theory.two_stage_coefficients("newton")
    )
    assert theory.one_step_exponent("newton_rel", 1.5) == (
        theory.newton_one_step_exponent(1.5)
    )
