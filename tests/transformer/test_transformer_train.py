"""The scan training loop and the sweep cell: one trace, losses fall, bad configs.

Sizes are tiny (V = 24, d = 16, T = 16): each test compiles once, in seconds.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import muonjax as mj
from muonjax import transformer as tf

TINY = {
    "vocab_size": 24,
    "seq_len": 16,
    "num_triggers": 2,
    "trigger_pool": 4,
    "dim": 16,
    "batch_size": 8,
    "eval_batch": 8,
    "steps": 16,
    "eval_every": 8,
}


def _setup(optimizer="muon", lr=0.05):
    cfg = tf.ModelConfig(vocab_size=24, dim=16, seq_len=16)
    lang = tf.sample_language(
        jax.random.key(0), vocab_size=24, trigger_pool=4, num_triggers=2
    )
    trained, frozen = tf.init_params(jax.random.key(1), cfg)
    opt = tf.make_optimizer(optimizer, trained, learning_rate=lr)
    calls = {"loss": 0, "step": 0}

    def loss_fn(params, batch):
        calls["loss"] += 1  # runs once per trace, never per step
        return tf.recall_loss(tf.merge(params, frozen), batch, config=cfg)

    inner = tf.make_train_step(loss_fn, opt)

    def step_fn(state, batch):
        calls["step"] += 1
        return inner(state, batch)

    def batch_fn(key):
        return tf.sample_batch(key, lang, batch_size=8, seq_len=16, num_triggers=2)

    def run(key, steps=16):
        state = tf.init_state(trained, opt)
        return tf.train(
            state,
            step_fn=step_fn,
            loss_fn=loss_fn,
            batch_fn=batch_fn,
            eval_fn=lambda p: {"norm": jnp.linalg.norm(p["attn2"]["w_o"])},
            data_key=key,
            steps=steps,
            eval_every=4,
        )

    return run, calls


def test_one_trace_for_every_step_and_seed():
    run, calls = _setup()
    jitted = jax.jit(run, static_argnames="steps")
    state, hist = jitted(jax.random.key(3))
    assert calls["step"] == 1  # 16 steps, one trace of the step
    assert int(state.step) == 16
    np.testing.assert_array_equal(hist.step, [0, 4, 8, 12, 16])
    jitted(jax.random.key(4))  # another seed: no new trace
    assert calls["step"] == 1
    # Seeds and learning rates vmapped: test_sweep_compiles_once_per_static_config.


def test_batches_come_from_the_step_key():
    """Two 8-step runs equal 16 hand-made steps on batch_fn(fold_in(key, t))."""
    cfg = tf.ModelConfig(vocab_size=24, dim=16, seq_len=16)
    trained, frozen = tf.init_params(jax.random.key(1), cfg)
    lang = tf.sample_language(
        jax.random.key(0), vocab_size=24, trigger_pool=4, num_triggers=2
    )
    opt = tf.make_optimizer("adamw", trained, learning_rate=0.01)

    def loss_fn(params, batch):
        return tf.recall_loss(tf.merge(params, frozen), batch, config=cfg)

    def batch_fn(key):
        return tf.sample_batch(key, lang, batch_size=8, seq_len=16, num_triggers=2)

    step = tf.make_train_step(loss_fn, opt)
    data_key = jax.random.key(7)
    run = jax.jit(
        lambda state: tf.train(
            state,
            step_fn=step,
            loss_fn=loss_fn,
            batch_fn=batch_fn,
            eval_fn=lambda p: {},
            data_key=data_key,
            steps=8,
            eval_every=4,
        )
    )
    half, _ = run(tf.init_state(trained, opt))
    again, hist = run(half)  # resumed at step 8
    np.testing.assert_array_equal(hist.step, [8, 12, 16])

    by_hand = tf.init_state(trained, opt)
    one = jax.jit(lambda state, key: step(state, batch_fn(key)))
    for t in range(16):
        by_hand, _ = one(by_hand, jax.random.fold_in(data_key, t))
    leaves = zip(
        jax.tree.leaves(again.params), jax.tree.leaves(by_hand.params), strict=True
    )
    for a, b in leaves:
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_sweep_compiles_once_per_static_config_and_loss_falls():
    calls = {"n": 0}

    def counting_cell(config, key):
        calls["n"] += 1
        return tf.recall_cell(config, key)

    fixed = {**TINY, "steps": 48, "eval_every": 16, "lr_muon": 0.05}
    base = tf.recall_sweep(
        axes={"optimizer": ["muon"], "lr_scale": [0.5, 1.0, 2.0]}, fixed=fixed
    )
    sweep = mj.Sweep(
        counting_cell,
        axes=base.axes,
        fixed=base.fixed,
        batched=base.batched,
        key_axes=base.key_axes,
    )
    out = mj.run_sweep(sweep, seeds=2, key=jax.random.key(0), chunk_size=6)
    assert calls["n"] == 1  # 3 learning rates x 2 seeds: one trace
    assert len(out.results) == 3
    lrs = [float(r.metrics["lr"][0, 0]) for r in out.results]
    np.testing.assert_allclose(lrs, [0.025, 0.05, 0.1], rtol=1e-6)
    # Common random numbers: every learning rate sees the same first evaluation.
    first = [r.metrics["id_loss"][:, 0] for r in out.results]
    np.testing.assert_allclose(first[0], first[2], rtol=1e-6)
    # A tiny run whose loss falls (Muon at lr 0.05, both seeds).
    res = out.results[1]
    np.testing.assert_array_equal(res.steps, [0, 16, 32, 48])
    loss = res.metrics["train_loss"]
    assert np.all(np.isfinite(loss))
    assert np.all(loss[:, -1] < loss[:, 0] - 0.5), loss
    for name in ("id_acc", "ood_acc", "recall"):
        v = res.metrics[name]
        assert np.all((v >= 0) & (v <= 1)), name


def test_lr_grid():
    assert tf.lr_grid(1, 8.0) == (1.0,)
    np.testing.assert_allclose(tf.lr_grid(3, 4.0), [0.25, 1.0, 4.0])
    g = tf.lr_grid(5, 16.0)
    np.testing.assert_allclose(np.diff(np.log(g)), np.log(4.0), rtol=1e-5)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"vocab_size": 3}, "vocab_size"),
        ({"seq_len": 1}, "seq_len"),
        ({"dim": 0}, "dim"),
        ({"lr_muon": float("nan")}, "lr_muon"),
        ({"lr_sgd": float("inf")}, "lr_sgd"),
        ({"lr_adamw": -0.1}, "lr_adamw"),
        ({"optimizer": "lion"}, "optimizer"),
        ({"steps": 10, "eval_every": 4}, "steps"),
        ({"muon_scale": "fro"}, "muon_scale"),
        ({"trigger_pool": 1}, "trigger_pool"),
        ({"batch": 3}, "unknown"),
    ],
)
def test_bad_recall_config_raises(change, field):
    with pytest.raises(ValueError, match=field):
        tf.recall_sweep(axes={"optimizer": ["muon"]}, fixed={**TINY, **change})


def test_bad_axis_value_raises():
    with pytest.raises(ValueError, match="lr_scale"):
        tf.recall_sweep(axes={"lr_scale": [1.0, float("nan")]}, fixed=TINY)
    with pytest.raises(ValueError, match="dim"):
        tf.recall_sweep(axes={"dim": [8, 0]}, fixed=TINY)
