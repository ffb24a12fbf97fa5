"""Muon on hidden matrices only, and its update against the core and optax.

Peers: the core's exact polar factor (:func:`muonjax.polar`), optax's
``contrib.scale_by_muon`` + ``contrib.scale_by_shape`` (Newton-Schulz with momentum),
``optax.adamw`` and ``optax.sgd``.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import optax
import optax.contrib
import pytest
from optax.contrib import _muon  # scale_by_shape is not re-exported in 0.2.8

import muonjax as mj
from muonjax import transformer as tf

F32 = {"rtol": 2e-5, "atol": 2e-6}


#: optax's Adam and Muon mix their int32 step count with floats; the suite's strict
#: dtype promotion refuses that, so the optax peers run under the standard rules.
def standard():
    return jax.numpy_dtype_promotion("standard")


def _model_like_params(d=4, v=10, t=6):
    """Every kind of leaf a transformer has, all trainable (float32)."""
    k = iter(jax.random.split(jax.random.key(0), 12))

    def normal(shape):
        return jax.random.normal(next(k), shape, jnp.float32)

    return {
        "embed": normal((v, d)),
        "pos": normal((t, d)),
        "attn1": {"w_k": normal((d, d)), "w_v": normal((d, d))},
        "attn2": {"w_o": normal((d, d))},
        "ffn": {
            "w_in": normal((d, 3 * d)),
            "w_out": normal((3 * d, d)),
            "b": normal((d,)),
        },
        "norm": {"gain": normal((d,))},
        "unembed": normal((d, v)),
        "lm_head": normal((d, v)),
        "w_u": normal((d, v)),
    }


HIDDEN = {
    ("attn1", "w_k"),
    ("attn1", "w_v"),
    ("attn2", "w_o"),
    ("ffn", "w_in"),
    ("ffn", "w_out"),
}


def _flat_labels(tree):
    flat = jax.tree_util.tree_flatten_with_path(tree)[0]
    return {tuple(p.key for p in path): leaf for path, leaf in flat}


def test_hidden_labels_route_embeddings_head_gains_to_adamw():
    labels = _flat_labels(tf.hidden_labels(_model_like_params()))
    for path, label in labels.items():
        want = "muon" if path in HIDDEN else "adamw"
        assert label == want, (path, label)


def test_hidden_labels_custom_rule():
    params = _model_like_params()
    labels = _flat_labels(
        tf.hidden_labels(params, is_hidden=lambda path, leaf: path == ("embed",))
    )
    assert [p for p, lab in labels.items() if lab == "muon"] == [("embed",)]


def test_optax_contrib_muon_default_falls_into_the_trap():
    """optax.contrib.muon sends every 2-D leaf (embeddings, head) to Muon."""
    params = _model_like_params()
    with standard():
        state = optax.contrib.muon(0.1).init(params)
    muon_state = state.inner_states["muon"].inner_state[0]
    leaves = _flat_labels(muon_state.mu)
    assert not isinstance(leaves[("embed",)], optax.MaskedNode)
    assert not isinstance(leaves[("unembed",)], optax.MaskedNode)


@pytest.mark.parametrize("name", ["muon", "muon_exact"])
def test_no_non_hidden_leaf_reaches_muon(name):
    params = _model_like_params()
    opt = tf.make_optimizer(name, params, learning_rate=0.1, adamw_learning_rate=0.01)
    state = opt.init(params)
    # The Muon branch's momentum holds arrays only at hidden leaves (MaskedNode
    # elsewhere): the transform is never given the others.
    muon_state = state.inner_states["muon"].inner_state[0]
    assert isinstance(muon_state, tf.ScaleByMuonState)
    mu = _flat_labels(muon_state.mu)
    reached = {p for p, leaf in mu.items() if not isinstance(leaf, optax.MaskedNode)}
    assert reached == HIDDEN

    # And the updates: non-hidden leaves get optax.adamw's update exactly.
    grads = jax.tree.map(lambda x: jnp.cos(3.0 * x), params)
    updates, _ = opt.update(grads, state, params)
    adam = optax.adamw(0.01, b1=0.9, b2=0.95, eps=1e-8, weight_decay=0.0)
    with standard():
        ref, _ = adam.update(grads, adam.init(params), params)
    got, want = _flat_labels(updates), _flat_labels(ref)
    for path in got:
        if path not in HIDDEN:
            np.testing.assert_array_equal(got[path], want[path], err_msg=str(path))


@pytest.mark.parametrize(
    ("shape", "scale", "factor"),
    [
        ((5, 7), "spectral", math.sqrt(7 / 5)),
        ((7, 5), "spectral", 1.0),
        ((5, 7), "rms", 0.2 * math.sqrt(7)),
        ((5, 7), "none", 1.0),
    ],
)
def test_exact_muon_without_momentum_is_core_polar_times_lr_and_scale(
    shape, scale, factor
):
    g = jax.random.normal(jax.random.key(1), shape, jnp.float64)
    w = jax.random.normal(jax.random.key(2), shape, jnp.float64)
    lr = 0.3
    opt = tf.muon(lr, polar="exact", momentum=0.0, scale=scale)
    update, _ = opt.update(g, opt.init(w), w)
    np.testing.assert_allclose(
        update, -lr * factor * mj.polar(g), rtol=1e-12, atol=1e-14
    )
    # Through make_optimizer, on a hidden leaf.
    params = {"attn": {"w_o": w}}
    opt = tf.make_optimizer(
        "muon_exact",
        params,
        learning_rate=lr,
        muon_options={"momentum": 0.0, "scale": scale},
    )
    update, _ = opt.update({"attn": {"w_o": g}}, opt.init(params), params)
    np.testing.assert_allclose(
        update["attn"]["w_o"], -lr * factor * mj.polar(g), rtol=1e-12, atol=1e-14
    )


@pytest.mark.parametrize("scale", ["spectral", "rms"])
def test_newton_schulz_muon_matches_optax_scale_by_muon(scale):
    """Without Nesterov, optax's bias-corrected EMA is a rescaled EMA: same update."""
    shape = (6, 9)
    keys = jax.random.split(jax.random.key(3), 4)
    w = jax.random.normal(keys[0], shape, jnp.float32)
    ours = tf.muon(0.05, momentum=0.9, nesterov=False, scale=scale)
    peer = optax.chain(
        optax.contrib.scale_by_muon(beta=0.9, nesterov=False),
        _muon.scale_by_shape(
            _muon.MuonDimensionNumbers(),
            consistent_rms=0.2 if scale == "rms" else None,
        ),
        optax.scale_by_learning_rate(0.05),
    )
    with standard():
        s_ours, s_peer = ours.init(w), peer.init(w)
    for key in keys[1:]:
        g = jax.random.normal(key, shape, jnp.float32)
        u_ours, s_ours = ours.update(g, s_ours, w)
        with standard():
            u_peer, s_peer = peer.update(g, s_peer, w)
        np.testing.assert_allclose(u_ours, u_peer, **F32)


def test_nesterov_first_step_matches_optax():
    shape = (8, 8)
    g = jax.random.normal(jax.random.key(4), shape, jnp.float32)
    ours = tf.muon(0.1)
    peer = optax.chain(
        optax.contrib.scale_by_muon(),
        _muon.scale_by_shape(_muon.MuonDimensionNumbers()),
        optax.scale_by_learning_rate(0.1),
    )
    u_ours, _ = ours.update(g, ours.init(g), g)
    with standard():
        u_peer, _ = peer.update(g, peer.init(g), g)
    np.testing.assert_allclose(u_ours, u_peer, **F32)


def test_sgd_and_adamw_are_optax():
    params = _model_like_params()
    grads = jax.tree.map(jnp.sin, params)
    for name, peer in (
        ("sgd", optax.sgd(0.2, momentum=0.9)),
        ("adamw", optax.adamw(0.2, b1=0.9, b2=0.95, eps=1e-8, weight_decay=0.0)),
    ):
        opt = tf.make_optimizer(name, params, learning_rate=0.2)
        got, _ = opt.update(grads, opt.init(params), params)
        with standard():
            want, _ = peer.update(grads, peer.init(params), params)
        for a, b in zip(jax.tree.leaves(got), jax.tree.leaves(want), strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-6)


def test_learning_rate_grid_vmaps():
    params = {"attn": {"w_k": jnp.eye(4, dtype=jnp.float32)}}
    g = {"attn": {"w_k": jnp.arange(16.0, dtype=jnp.float32).reshape(4, 4)}}

    def one(lr):
        opt = tf.make_optimizer("muon_exact", params, learning_rate=lr)
        return opt.update(g, opt.init(params), params)[0]["attn"]["w_k"]

    lrs = jnp.asarray([0.1, 0.2], jnp.float32)
    out = jax.vmap(one)(lrs)
    np.testing.assert_allclose(out[1], 2 * out[0], rtol=1e-6)


def test_muon_refuses_a_vector():
    opt = tf.muon(0.1)
    v = jnp.ones((3,), jnp.float32)
    with pytest.raises(ValueError, match="2-D hidden matrices"):
        opt.update(v, opt.init(v), v)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"name": "lion"}, "name must be one of"),
        ({"learning_rate": float("nan")}, "learning_rate"),
        ({"learning_rate": -1.0}, "learning_rate"),
        ({"adamw_learning_rate": float("inf")}, "adamw_learning_rate"),
        ({"momentum": 1.0}, "momentum"),
        ({"weight_decay": -0.1}, "weight_decay"),
        ({"muon_options": {"scale": "fro"}}, "scale"),
        ({"muon_options": {"ns_steps": 0}}, "steps"),
        ({"muon_options": {"beta": 0.9}}, "unknown keys"),
    ],
)
def test_bad_options_raise(kwargs, match):
    args = {"name": "muon", "learning_rate": 0.1, **kwargs}
    name = args.pop("name")
    with pytest.raises(ValueError, match=match):
        tf.make_optimizer(name, {"w_k": jnp.eye(2)}, **args)


def test_optimizer_record_columns():
    muon = tf.optimizer_record("muon", {"scale": "rms"})
    assert muon["update_scale"] == "rms" and muon["ns_steps"] == 5
    assert muon["ns_coeffs"] == "jordan" and muon["nesterov"] is True
    sgd = tf.optimizer_record("sgd")
    assert set(sgd) == set(muon) and sgd["update_scale"] is None


@pytest.mark.parametrize("name", ["muon_exact", "adamw", "sgd"])
def test_schedule_multiplies_every_step_size(name):
    params = {"attn": {"w_k": jnp.eye(3, dtype=jnp.float32)}, "embed": jnp.ones((4, 3))}
    grads = jax.tree.map(lambda x: jnp.cos(2.0 * x + 1.0), params)

    def first_update(schedule):
        opt = tf.make_optimizer(name, params, learning_rate=0.1, schedule=schedule)
        return opt.update(grads, opt.init(params), params)[0]

    plain, halved = first_update(None), first_update(lambda count: 0.5)
    for a, b in zip(jax.tree.leaves(plain), jax.tree.leaves(halved), strict=True):
        np.testing.assert_allclose(b, 0.5 * a, rtol=1e-6)
