"""Tests of ``gaussian.rules``: the one rule grammar, schedules, 0.1.0 aliases.

Peers: numpy evaluations of the schedule formulas and optax's own ``sgd`` applying
them; the core's optimizers (:func:`muonjax.muon_exact`, ...) built by hand.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import muonjax as mj


def test_lr_schedule_shapes_match_their_formulas():
    t = np.arange(12)
    geo = mj.lr_schedule(0.3, shape="geometric", factor=1.7, max_value=20.0)
    np.testing.assert_allclose(geo(t), np.minimum(0.3 * 1.7**t, 20.0), rtol=1e-12)
    poly = mj.lr_schedule(0.3, shape="polynomial", power=1.5)
    np.testing.assert_allclose(poly(t), 0.3 * (t + 1.0) ** 1.5, rtol=1e-12)
    const = mj.lr_schedule(0.3, shape="constant")
    np.testing.assert_allclose(const(t), np.full(12, 0.3), rtol=0)
    # Decaying shapes are allowed (factor < 1, power < 0).
    dec = mj.lr_schedule(2.0, shape="polynomial", power=-0.5)
    np.testing.assert_allclose(dec(t), 2.0 / np.sqrt(t + 1.0), rtol=1e-12)


def test_lr_schedule_is_applied_by_optax_as_eta_t():
    # optax.sgd with the schedule: W_t - W_{t-1} = -eta_t * grad, eta_1 at count 0.
    sched = mj.lr_schedule(0.5, shape="geometric", factor=3.0, max_value=10.0)
    tx = optax.sgd(sched)
    w = jnp.zeros(())
    state = tx.init(w)
    steps = []
    for _ in range(5):
        up, state = tx.update(jnp.ones(()), state, w)
        steps.append(-float(up))
        w = w + up
    np.testing.assert_allclose(steps, [0.5, 1.5, 4.5, 10.0, 10.0], rtol=1e-12)


def test_lr_schedule_jits_and_vmaps():
    sched = mj.lr_schedule(0.1, shape="polynomial", power=2.0, max_value=5.0)
    counts = jnp.arange(6)
    np.testing.assert_allclose(
        jax.jit(jax.vmap(sched))(counts), np.minimum(0.1 * (np.arange(6) + 1) ** 2, 5)
    )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"init_value": 0.0}, "init_value must be > 0"),
        ({"init_value": 1.0, "shape": "cosine"}, "shape must be one of"),
        ({"init_value": 1.0, "factor": 0.0}, "factor must be > 0"),
        ({"init_value": 1.0, "max_value": 0.5}, "max_value must be >= 1.0"),
        ({"init_value": 1.0, "power": math.inf}, "power must be finite"),
    ],
)
def test_lr_schedule_rejects_bad_input(kwargs, message):
    with pytest.raises(ValueError, match=message):
        mj.lr_schedule(**kwargs)


def test_gd_increasing_schedule_default_shape():
    d = 64
    sched = mj.gd_increasing_schedule(d)
    eta = np.asarray(sched(np.arange(40)))
    root = math.sqrt(d)
    assert eta[0] == pytest.approx(0.01 * root, rel=1e-12)  # eta_1 = 0.01 sqrt(d)
    assert np.all(np.diff(eta) >= 0)  # increasing
    assert eta.max() == pytest.approx(100 * root, rel=1e-12)  # capped
    # Geometric growth by 2 until the cap.
    below = eta < 100 * root
    np.testing.assert_allclose(eta[below], 0.01 * root * 2.0 ** np.arange(40)[below])
    # The documented default is what the function uses.
    assert mj.DEFAULT_GD_SCHEDULE == {
        "shape": "geometric",
        "scale": 0.01,
        "factor": 2.0,
        "power": 2.0,
        "max_scale": 100.0,
    }


def test_gd_increasing_schedule_polynomial_and_uncapped():
    sched = mj.gd_increasing_schedule(16, shape="polynomial", power=3.0, max_scale=None)
    np.testing.assert_allclose(sched(np.arange(5)), 0.04 * np.arange(1, 6) ** 3.0)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"factor": 0.5}, "factor must be >= 1"),
        ({"power": -1.0}, "power must be >= 0"),
        ({"scale": -0.01}, "scale must be > 0"),
        ({"max_scale": 0.001}, "max_scale must be >= 0.01"),
    ],
)
def test_gd_increasing_schedule_must_increase(kwargs, message):
    with pytest.raises(ValueError, match=message):
        mj.gd_increasing_schedule(16, **kwargs)


def test_parse_rule():
    assert mj.parse_rule("gd") == ("gd", None)
    assert mj.parse_rule("muon") == ("muon", None)
    assert mj.parse_rule("muon_ns") == ("muon_ns", 5)
    assert mj.parse_rule("muon_ns", ns_steps=7) == ("muon_ns", 7)
    assert mj.parse_rule("muon_ns10") == ("muon_ns", 10)
    for bad in ("adam", "muon_ns0", "muon_nsx", "newton"):
        with pytest.raises(ValueError, match=r"rule must be|Newton-Schulz steps"):
            mj.parse_rule(bad)


def test_multi_step_optimizer_matches_the_core_optimizers():
    g = jax.random.normal(jax.random.key(0), (6, 6), jnp.float64)
    w = jnp.zeros((6, 6), jnp.float64)
    d = 6
    for rule, peer in (
        ("muon", mj.muon_exact(2.0 * math.sqrt(d))),
        ("muon_ns3", mj.muon_newton_schulz(2.0 * math.sqrt(d), steps=3)),
        ("gd", mj.gd(0.01 * math.sqrt(d))),
    ):
        tx, sched = mj.multi_step_optimizer(rule, d)
        ours, _ = tx.update(g, tx.init(w), w)
        theirs, _ = peer.update(g, peer.init(w), w)
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-14)
        lr = 0.01 * math.sqrt(d) if rule == "gd" else 2.0 * math.sqrt(d)
        assert float(sched(0)) == pytest.approx(lr, rel=1e-12)


def test_muon_schedule_beyond_the_paper():
    _, sched = mj.multi_step_optimizer(
        "muon", 16, muon_schedule="polynomial", muon_power=-1.0
    )
    np.testing.assert_allclose(sched(np.arange(4)), 8.0 / np.arange(1, 5), rtol=1e-12)
    plain = mj.multi_step_sweep(n=100, dims=(8,), alphas=(1.5,), steps=2)
    assert "muon_schedule" not in plain.fixed  # the paper's fixed step: no columns
    decay = mj.multi_step_sweep(
        n=100,
        dims=(8,),
        alphas=(1.5,),
        steps=2,
        muon_schedule="geometric",
        muon_factor=0.9,
    )
    assert decay.fixed["muon_schedule"] == "geometric"
    assert decay.fixed["muon_factor"] == 0.9


@pytest.mark.parametrize(
    ("variant", "parsed"),
    [
        ("exact", None),
        ("jordan:5", ("jordan", 5)),
        ("polar_express:10", ("polar_express", 10)),
    ],
)
def test_parse_ns_variant(variant, parsed):
    assert mj.parse_ns_variant(variant) == parsed


@pytest.mark.parametrize("bad", ["jordan", "jordan:0", "nope:5", "jordan:x", ""])
def test_parse_ns_variant_rejects(bad):
    with pytest.raises(ValueError, match="variant"):
        mj.parse_ns_variant(bad)


# --------------------------------------------------------------------------------------
# The one grammar: rule_spec -> rule_optimizer.


@pytest.mark.parametrize(
    ("rule", "base", "steps", "coeffs"),
    [
        ("gd", "gd", None, None),
        ("muon", "muon", None, None),
        ("exact", "muon", None, None),
        ("muon_ns", "muon_ns", 5, "jordan"),
        ("muon_ns10", "muon_ns", 10, "jordan"),
        ("polar_express:3", "muon_ns", 3, "polar_express"),
        ("newton", "newton", None, None),
    ],
)
def test_rule_spec_parses_every_rule_name(rule, base, steps, coeffs):
    spec = mj.rule_spec(rule, lam=0.1)
    assert (spec.name, spec.base, spec.ns_steps, spec.ns_coeffs) == (
        rule,
        base,
        steps,
        coeffs,
    )
    assert mj.rule_spec("muon_smoothed", lam=0.1).lam == 0.1


@pytest.mark.parametrize(
    ("rule", "kwargs", "message"),
    [
        ("adam", {}, "rule must be one of"),
        ("muon_ns0", {}, "Newton-Schulz steps"),
        ("nope:5", {}, "COEFFS:STEPS"),
        ("muon_smoothed", {}, "needs its smoothing lam"),
        ("muon_smoothed", {"lam": -1.0}, "lam must be >= 0"),
        ("muon", {"muon_lr_scale": 0.0}, "muon_lr_scale must be > 0"),
        ("muon", {"muon_schedule": "cosine"}, "shape must be one of"),
        ("gd", {"gd_factor": 0.5}, "factor must be >= 1"),
        ("newton", {"newton_ridge": -1.0}, "newton_ridge must be >= 0"),
    ],
)
def test_rule_spec_rejects_bad_rules_at_the_boundary(rule, kwargs, message):
    with pytest.raises(ValueError, match=message):
        mj.rule_spec(rule, **kwargs)


def _update(tx, g):
    w = jnp.zeros_like(g)
    return tx.update(g, tx.init(w), w)[0]


def test_rule_optimizer_is_the_core_optimizer_of_each_rule(small_task64):
    g = jax.random.normal(jax.random.key(1), (6, 6), jnp.float64)
    d = 6
    root = math.sqrt(d)
    peers = {
        "gd": (mj.rule_spec("gd", gd_lr=0.3), mj.gd(0.3)),
        "muon": (mj.rule_spec("muon"), mj.muon_exact(2.0 * root)),
        "jordan:3": (
            mj.rule_spec("jordan:3"),
            mj.muon_newton_schulz(2 * root, steps=3),
        ),
        "muon_smoothed": (
            mj.rule_spec("muon_smoothed", lam=0.2, muon_lr_scale=1.0),
            mj.muon_smoothed(root, 0.2),
        ),
        "newton": (
            mj.rule_spec("newton", newton_ridge=1e-6),
            mj.newton_at_zero(1.0, small_task64, ridge=1e-6),
        ),
    }
    for name, (spec, peer) in peers.items():
        tx, sched = mj.rule_optimizer(spec, task=small_task64)
        np.testing.assert_allclose(
            _update(tx, g), _update(peer, g), rtol=1e-12, atol=1e-14, err_msg=name
        )
        assert np.isfinite(float(sched(0)))
    with pytest.raises(ValueError, match="needs the task"):
        mj.rule_optimizer(mj.rule_spec("newton"), d=6)
    with pytest.raises(ValueError, match="needs d or task"):
        mj.rule_optimizer(mj.rule_spec("gd"))


def test_constant_steps_are_floats_and_schedules_callables():
    # A constant step reaches optax as a float, a schedule as the callable; optax
    # applies both the same way (the records of 0.1.0 are reproduced bit for bit).
    muon = mj.rule_spec("muon")
    assert muon.step.learning_rate(16) == 8.0
    gd = mj.rule_spec("gd")  # Figure 5's increasing schedule
    assert callable(gd.step.learning_rate(16))
    np.testing.assert_allclose(
        gd.step.schedule(16)(np.arange(4)), mj.gd_increasing_schedule(16)(np.arange(4))
    )


def test_the_aliases_of_0_1_0_are_the_grammar(small_task32):
    g = jax.random.normal(jax.random.key(2), (6, 6), jnp.float32)
    for rule in mj.RULES:
        old = mj.one_step_optimizer(rule, small_task32)
        new, _ = mj.rule_optimizer(mj.rule_spec(rule, gd_lr=1.0), task=small_task32)
        np.testing.assert_array_equal(_update(old, g), _update(new, g))
    with pytest.raises(ValueError, match="rule must be one of"):
        mj.one_step_optimizer("muon_ns10", small_task32)
    assert mj.MINIBATCH_RULES == ("gd", "muon", "muon_ns")
