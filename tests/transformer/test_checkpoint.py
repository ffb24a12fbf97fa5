"""Checkpoints: exact round trips, refusal of mismatched states, atomic files."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from muonjax import transformer as tx


def _state(seed=0):
    params = {"w": jax.random.normal(jax.random.key(seed), (3, 4), jnp.float32)}
    opt = optax.adamw(1e-3)
    opt_state = opt.init(params)
    with jax.numpy_dtype_promotion("standard"):  # optax's Adam is not strict
        _, opt_state = opt.update(params, opt_state, params)  # non-trivial moments
    keys = jax.random.split(jax.random.key(seed + 1), 2)
    return {"params": params, "opt": opt_state, "step": jnp.int32(7), "keys": keys}


def _leaves_equal(a, b):
    la, lb = jax.tree.leaves(a), jax.tree.leaves(b)
    assert len(la) == len(lb)
    for x, y in zip(la, lb, strict=True):
        if jax.dtypes.issubdtype(x.dtype, jax.dtypes.prng_key):
            x, y = jax.random.key_data(x), jax.random.key_data(y)
        x, y = np.asarray(x), np.asarray(y)
        assert x.dtype == y.dtype and x.shape == y.shape
        np.testing.assert_array_equal(
            x.reshape(-1).view(np.uint8), y.reshape(-1).view(np.uint8)
        )  # bit for bit


def test_round_trip_is_bit_exact_keys_included(tmp_path):
    state = _state()
    path = tx.save_checkpoint(tmp_path / "c" / "ckpt.npz", state, meta={"step": 7})
    assert tx.read_checkpoint_meta(path) == {"step": 7}
    loaded, meta = tx.load_checkpoint(path, _state(seed=5))  # template: other values
    assert meta == {"step": 7}
    _leaves_equal(loaded, state)
    # Loaded keys are typed keys that draw the same numbers.
    np.testing.assert_array_equal(
        jax.random.normal(loaded["keys"][1], (3,)),
        jax.random.normal(state["keys"][1], (3,)),
    )
    # Only the file itself is left behind: no temporary files.
    assert [p.name for p in path.parent.iterdir()] == ["ckpt.npz"]


def test_a_different_structure_shape_or_dtype_is_refused(tmp_path):
    state = _state()
    path = tx.save_checkpoint(tmp_path / "ckpt.npz", state)
    other = {**state, "extra": jnp.zeros(2)}
    with pytest.raises(ValueError, match="different structure"):
        tx.load_checkpoint(path, other)
    wrong_shape = {**state, "params": {"w": jnp.zeros((4, 3), jnp.float32)}}
    with pytest.raises(ValueError, match="shape"):
        tx.load_checkpoint(path, wrong_shape)
    wrong_dtype = {**state, "step": jnp.float32(7)}
    with pytest.raises(ValueError, match="dtype"):
        tx.load_checkpoint(path, wrong_dtype)
    not_ours = tmp_path / "plain.npz"
    np.savez(not_ours, a=np.zeros(2))
    with pytest.raises(ValueError, match="not a muonjax checkpoint"):
        tx.load_checkpoint(not_ours, state)
