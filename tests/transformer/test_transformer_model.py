"""The attention-only model: attention against a dense reference, the trained/frozen
split, causality, and a hand-set induction head that solves the task.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from muonjax import transformer as tf


def _dense_attention(h, w_k, w_v, w_o):
    """Reference: the full score matrix, an explicit mask, ``jax.nn.softmax``."""
    t, d = h.shape
    hp = jax.lax.Precision.HIGHEST
    scores = jnp.matmul(h, jnp.matmul(h, w_k, precision=hp).T, precision=hp)
    future = np.triu(np.ones((t, t), bool), k=1)  # j > i
    weights = jax.nn.softmax(jnp.where(future, -np.inf, scores / math.sqrt(d)), axis=-1)
    values = jnp.matmul(h, w_v, precision=hp)
    return jnp.matmul(jnp.matmul(weights, values, precision=hp), w_o, precision=hp)


def test_attention_matches_dense_reference():
    k = jax.random.split(jax.random.key(0), 4)
    t, d = 7, 5
    h, w_k, w_v, w_o = (
        jax.random.normal(k[0], (t, d), jnp.float64) * 2,
        *(jax.random.normal(ki, (d, d), jnp.float64) for ki in k[1:]),
    )
    got = tf.attention(h, w_k, w_v, w_o)
    np.testing.assert_allclose(got, _dense_attention(h, w_k, w_v, w_o), rtol=1e-12)
    # Row 0 attends to itself only: out_0 = h_0 W_V W_O.
    np.testing.assert_allclose(got[0], h[0] @ w_v @ w_o, rtol=1e-12)


@pytest.mark.parametrize(
    ("kw", "trained", "n_frozen"),
    [
        ({}, {("attn1", "w_k"), ("attn2", "w_k"), ("attn2", "w_o")}, 6),
        (
            {"ffn": True},
            {
                ("attn1", "w_k"),
                ("attn2", "w_k"),
                ("attn2", "w_o"),
                ("ffn", "w_in"),
                ("ffn", "w_out"),
            },
            6,
        ),
        (
            {"train_all_attention": True},
            {(a, w) for a in ("attn1", "attn2") for w in ("w_k", "w_v", "w_o")},
            3,
        ),
    ],
)
def test_trained_and_frozen_leaves(kw, trained, n_frozen):
    cfg = tf.ModelConfig(vocab_size=11, dim=6, seq_len=9, **kw)
    tr, fr = tf.init_params(jax.random.key(0), cfg)
    paths = {
        tuple(p.key for p in path)
        for path, _ in jax.tree_util.tree_flatten_with_path(tr)[0]
    }
    assert paths == trained
    assert len(jax.tree.leaves(fr)) == n_frozen
    # Every trained leaf is a hidden matrix: Muon, AdamW and SGD see the same set.
    assert set(jax.tree.leaves(tf.hidden_labels(tr))) == {"muon"}
    params = tf.merge(tr, fr)
    logits = tf.forward(params, jnp.arange(9) % 11, config=cfg)
    assert logits.shape == (9, 11) and logits.dtype == jnp.float32
    with pytest.raises(ValueError, match="both"):
        tf.merge(tr, tr)


def test_forward_is_causal():
    cfg = tf.ModelConfig(vocab_size=13, dim=8, seq_len=10, ffn=True)
    params = tf.merge(*tf.init_params(jax.random.key(1), cfg))
    x = jax.random.randint(jax.random.key(2), (10,), 0, 13)
    x2 = x.at[6:].set((x[6:] + 1) % 13)
    a, b = tf.forward(params, x, config=cfg), tf.forward(params, x2, config=cfg)
    np.testing.assert_allclose(a[:6], b[:6], rtol=1e-6)
    assert not np.allclose(a[6:], b[6:])


def test_tied_unembed():
    cfg = tf.ModelConfig(vocab_size=13, dim=8, seq_len=10, tied_unembed=True)
    _, fr = tf.init_params(jax.random.key(1), cfg)
    np.testing.assert_allclose(fr["unembed"], fr["embed"].T / 8)


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"dim": 0}, "dim"),
        ({"seq_len": 1}, "seq_len"),
        ({"vocab_size": 1}, "vocab_size"),
        ({"precision": "tf32"}, "precision"),
        ({"dtype": "int32"}, "dtype"),
    ],
)
def test_bad_model_config_raises(kw, field):
    args = {"vocab_size": 10, "dim": 4, "seq_len": 8, **kw}
    with pytest.raises(ValueError, match=field):
        tf.ModelConfig(**args)


def _induction_head(frozen, *, v, t, c1=3.0, c2=3.0, c3=60.0):
    """Trained matrices that implement the induction head exactly (float64).

    With ``d >= 2 (V + T)`` the rows of ``E``, ``P``, ``E M1`` and ``P M1`` (``M1 =
    W_V1 W_O1``) are linearly independent, so a matrix can send each group where it
    should go and the others to zero:

    - ``W_K1`` maps ``P_s -> c1 P_{s+1}`` (and ``E`` to 0): position ``t`` attends to
      ``t - 1`` and layer 1 adds ``h0_{t-1} M1`` to the residual;
    - ``W_K2`` maps ``E_a M1 -> c2 E_a`` (the rest to 0): the key of position ``s``
      is its previous token, matched by the query ``h1_t`` (which holds ``E[x_t]``);
    - ``W_O2 = pinv(W_V2) R`` with ``R`` mapping ``E_a -> c3 (W_U^+)_a`` (the rest to
      0): the copied token ``a`` adds ``c3 e_a`` to the logits.

    It has no attention sink: position 0 attends to itself in layer 1, so its key
    reads ``x_0`` as its own previous token, and a sequence that starts with a
    trigger would copy the trigger itself; the test leaves such sequences out.
    """
    e, p, w_u = frozen["embed"], frozen["pos"][:t], frozen["unembed"]
    m1 = frozen["attn1"]["w_v"] @ frozen["attn1"]["w_o"]
    stack = jnp.concatenate([e, p, e @ m1, p @ m1])
    zeros_v, zeros_t = jnp.zeros_like(e), jnp.zeros_like(p)
    pinv = jnp.linalg.pinv(stack)
    shifted = jnp.concatenate([p[1:], jnp.zeros_like(p[:1])])
    w_k1 = pinv @ jnp.concatenate([zeros_v, c1 * shifted, zeros_v, zeros_t])
    w_k2 = pinv @ jnp.concatenate([zeros_v, zeros_t, c2 * e, zeros_t])
    read = jnp.linalg.pinv(w_u)  # (V, d): e_a -> row a, W_U^+ W_U = I_V
    r = pinv @ jnp.concatenate([c3 * read, zeros_t, zeros_v, zeros_t])
    w_o2 = jnp.linalg.pinv(frozen["attn2"]["w_v"]) @ r
    return {"attn1": {"w_k": w_k1}, "attn2": {"w_k": w_k2, "w_o": w_o2}}


def _starts_with_trigger(batch):
    first = jnp.any(batch.x[:, :1] == batch.triggers, axis=1)
    return jnp.broadcast_to(first[:, None], batch.mark.shape)


def test_hand_set_induction_head_recalls_in_context():
    v, t, d = 16, 32, 128
    cfg = tf.ModelConfig(vocab_size=v, dim=d, seq_len=t, dtype="float64")
    _, frozen = tf.init_params(jax.random.key(0), cfg)
    trained = _induction_head(frozen, v=v, t=t)
    params = tf.merge(trained, frozen)
    lang = tf.sample_language(
        jax.random.key(1),
        vocab_size=v,
        trigger_pool=4,
        num_triggers=2,
        dtype=jnp.float64,
    )
    kw = {"batch_size": 64, "seq_len": t, "num_triggers": 2}
    ident = tf.sample_batch(jax.random.key(2), lang, **kw)
    ood = tf.sample_batch(jax.random.key(3), lang, ood=True, **kw)
    # Sequences that start with a trigger are left out (no attention sink).
    ident = ident._replace(mark=jnp.where(_starts_with_trigger(ident), 0, ident.mark))
    ood = ood._replace(mark=jnp.where(_starts_with_trigger(ood), 0, ood.mark))
    m = tf.evaluate(params, ident, ood, lang.num_id, config=cfg)
    assert int(jnp.sum(ident.mark >= 2)) > 200
    assert float(m["id_acc"]) > 0.99
    assert float(m["ood_acc"]) > 0.99  # the construction copies any token
    assert float(m["recall"]) == 1.0
    # The random initialisation does not.
    _, frozen0 = tf.init_params(jax.random.key(0), cfg)
    trained0, _ = tf.init_params(jax.random.key(0), cfg)
    m0 = tf.evaluate(tf.merge(trained0, frozen0), ident, ood, lang.num_id, config=cfg)
    assert float(m0["id_acc"]) < 0.3


def test_metrics_against_numpy():
    """Accuracy, loss and memory recall recomputed with numpy and scipy."""
    from scipy.special import log_softmax

    cfg = tf.ModelConfig(vocab_size=12, dim=8, seq_len=10, dtype="float64")
    params = tf.merge(*tf.init_params(jax.random.key(4), cfg))
    lang = tf.sample_language(
        jax.random.key(5),
        vocab_size=12,
        trigger_pool=3,
        num_triggers=2,
        dtype=jnp.float64,
    )
    b = tf.sample_batch(
        jax.random.key(6), lang, batch_size=16, seq_len=10, num_triggers=2
    )
    logits = np.asarray(jax.vmap(lambda x: tf.forward(params, x, config=cfg))(b.x))
    y, mark = np.asarray(b.y), np.asarray(b.mark)
    mask = mark >= 2
    assert mask.sum() > 5
    logp = log_softmax(logits, axis=-1)
    ce = -np.take_along_axis(logp, y[..., None], axis=-1)[..., 0]
    correct = np.argmax(logits, axis=-1) == y  # no ties in float64 random logits
    ours = jax.jit(
        lambda p, b: (
            tf.in_context_metrics(p, b, config=cfg),
            tf.recall_loss(p, b, config=cfg, positions="all"),
            tf.recall_loss(p, b, config=cfg),
            tf.memory_recall(p, lang.num_id, config=cfg),
        )
    )
    m, loss_all, loss_head, recall = ours(params, b)
    np.testing.assert_allclose(m["acc"], correct[mask].mean(), rtol=1e-12)
    np.testing.assert_allclose(m["loss"], ce[mask].mean(), rtol=1e-10)
    np.testing.assert_allclose(loss_all, ce.mean(), rtol=1e-10)
    np.testing.assert_allclose(loss_head, ce[mask].mean(), rtol=1e-10)
    e, u = np.asarray(params["embed"]), np.asarray(params["unembed"])
    w = np.asarray(params["attn2"]["w_v"]) @ np.asarray(params["attn2"]["w_o"])
    n_id = lang.num_id
    mem = e[:n_id] @ w @ u
    np.testing.assert_allclose(
        recall, np.mean(np.argmax(mem, axis=-1) == np.arange(n_id)), rtol=1e-12
    )
    # A tie is not a recovery (SPEC E): equal logits give a zero margin.
    tie = jnp.zeros((1, 4))
    assert float(tf.target_margin(tie, jnp.asarray([0]))[0]) == 0.0
