"""Screened capacity: equal to the exact pass bit for bit, ties and near-ties included.

The screen scores in bfloat16 or TF32 (emulated on the CPU by rounding the operands,
or with real bfloat16 operands), decides the margins farther from zero than a
rigorous error bound and rechecks the rest exactly. Property tests over many draws:
the recovery mask, the count, the prefix and the weighted accuracy must equal the
exact pass's exactly, and the bound must hold for every decided item.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import muonjax as mj

#: (screen, emulate): every format emulated, and bfloat16 operands for real (the
#: CPU's own bfloat16 product accumulates in another order: a test of the bound).
MODES = [(s, True) for s in mj.SCREENS] + [("bf16", False), ("bf16x3", False)]
MODE_IDS = [f"{s}-{'emulated' if e else 'bf16-operands'}" for s, e in MODES]


def _memory(task, rule, key):
    """A memory after one step of ``rule`` from zero, or a random one."""
    g = mj.grad_at_zero(task)
    if rule == "muon":
        return -mj.polar(g)
    if rule == "gd":
        return -g / jnp.linalg.norm(g)
    return jax.random.normal(key, (task.d_out, task.d_in), task.u.dtype)


def _exact(w, task, block_size=None):
    return np.asarray(mj.margins(w, task, block_size=block_size))


def _check_equal(w, task, screen, emulate, block_size=None):
    exact = _exact(w, task, block_size)
    res = mj.screened_recovery(
        w,
        task.u,
        jnp.arange(task.n),
        task.v,
        screen=screen,
        block_size=block_size,
        emulate=emulate,
    )
    np.testing.assert_array_equal(np.asarray(res.recovered), exact > 0)
    re = np.asarray(res.rechecked)
    margins = np.asarray(res.margins)
    # Rechecked items carry the exact margin, bit for bit.
    np.testing.assert_array_equal(margins[re], exact[re])
    # Decided items: the screened margin is within its bound of the exact one.
    bound = np.asarray(res.bound)
    assert np.all(np.abs(margins[~re] - exact[~re]) <= bound[~re])
    return res


@pytest.mark.parametrize(("screen", "emulate"), MODES, ids=MODE_IDS)
def test_screened_recovery_equals_the_exact_pass_over_many_draws(screen, emulate):
    # 3 shapes x 3 alphas x 3 memories x 4 seeds = 108 draws per mode; the shapes
    # compile once each.
    for n, d in ((37, 6), (300, 16), (800, 48)):
        for alpha in (0.6, 1.5, 3.0):
            for rule in ("muon", "gd", "random"):
                for seed in range(4):
                    key_t, key_w = jax.random.split(jax.random.key(1000 * seed + d))
                    task = mj.sample_task(n, d, alpha, key=key_t)
                    w = _memory(task, rule, key_w)
                    _check_equal(w, task, screen, emulate)


@pytest.mark.parametrize(("screen", "emulate"), MODES, ids=MODE_IDS)
def test_exact_ties_are_rechecked_and_not_recovered(screen, emulate):
    # With u = v and W = I every item's own score |v_i|^2 ~ 1 tops its row (rivals
    # ~ N(0, 1/d)). Planted exact ties: item j's output copies item t's, so
    # s_tt = s_tj exactly and the margins of t and j are exactly 0: not recovered.
    task = mj.sample_task(200, 32, 1.2, key=jax.random.key(5))
    pairs = [(0, 1), (3, 7), (10, 150), (199, 2)]
    v = task.v
    for t, j in pairs:
        v = v.at[j].set(v[t])
    task = task._replace(u=v, v=v)
    w = jnp.eye(32, dtype=jnp.float32)
    res = _check_equal(w, task, screen, emulate)
    exact = _exact(w, task)
    tied = [i for pair in pairs for i in pair]
    np.testing.assert_array_equal(exact[tied], 0.0)  # the plant worked
    assert not np.any(np.asarray(res.recovered)[tied])
    assert np.all(np.asarray(res.rechecked)[tied])
    assert int(res.recovered.sum()) > 150  # the other items are recovered


@pytest.mark.parametrize(("screen", "emulate"), MODES, ids=MODE_IDS)
def test_near_ties_are_decided_as_the_exact_pass_does(screen, emulate):
    task = mj.sample_task(300, 16, 1.5, key=jax.random.key(6))
    w = _memory(task, "muon", None)
    # Plant near-ties: for the 40 most frequent items, a rival whose output is the
    # target's plus a perturbation of relative size 1e-7 .. 1e-3 (margins from a few
    # float32 ulps to well beyond the bound).
    rng = np.random.default_rng(0)
    v = np.array(task.v)
    for k, t in enumerate(range(40)):
        j = 100 + k
        scale = 10.0 ** rng.uniform(-7, -3)
        v[j] = v[t] * (1 + scale * rng.standard_normal(task.d_out))
    task = task._replace(v=jnp.asarray(v))
    res = _check_equal(w, task, screen, emulate)
    exact = _exact(w, task)
    small = np.abs(exact) < 1e-6 * np.abs(exact).max()
    assert small.sum() >= 5  # the plant worked: margins near float32 resolution
    assert np.all(np.asarray(res.rechecked)[small])


@pytest.mark.parametrize("block_size", [None, 1, 7, 37, 64])
def test_any_block_size_gives_the_exact_result(block_size):
    task = mj.sample_task(37, 6, 1.3, key=jax.random.key(11))
    w = _memory(task, "random", jax.random.key(3)) * 0.3
    _check_equal(w, task, "bf16", True, block_size=block_size)


def test_screened_capacity_equals_capacity_and_reports_the_recheck():
    task = mj.sample_task(600, 24, 1.5, key=jax.random.key(2))
    w = _memory(task, "muon", None)
    exact = mj.capacity(w, task)
    for screen in mj.SCREENS:
        sc = mj.screened_capacity(w, task, screen=screen)
        for a, b in zip(sc.capacity, exact, strict=True):
            np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
        assert 0 <= int(sc.rechecked) <= task.n
        via = mj.capacity(w, task, screen=screen)
        for a, b in zip(via, exact, strict=True):
            np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    # The coarser format needs more rechecks than the split one.
    bf16 = int(mj.screened_capacity(w, task, screen="bf16").rechecked)
    x3 = int(mj.screened_capacity(w, task, screen="bf16x3").rechecked)
    assert x3 <= bf16


def test_vmapped_seeds_equal_a_loop():
    def cap(key):
        task = mj.sample_task(200, 12, 1.5, key=key)
        w = _memory(task, "muon", None)
        return mj.screened_capacity(w, task, screen="bf16")

    keys = jax.random.split(jax.random.key(0), 4)
    batched = jax.jit(jax.vmap(cap))(keys)
    for i, key in enumerate(keys):
        one = cap(key)
        for a, b in zip(jax.tree.leaves(one), jax.tree.leaves(batched), strict=True):
            np.testing.assert_array_equal(np.asarray(a), np.asarray(b)[i])


def test_one_step_with_a_screen_gives_the_same_metrics():
    task = mj.sample_task(400, 16, 1.5, key=jax.random.key(4))
    tx = mj.muon_exact(2 * 16**0.5)
    exact = mj.one_step(task, tx, with_loss=False).metrics
    screened = mj.one_step(task, tx, with_loss=False, screen="bf16").metrics
    for name in ("count", "prefix", "weighted_accuracy"):
        np.testing.assert_array_equal(getattr(screened, name), getattr(exact, name))
    with pytest.raises(ValueError, match="with_loss=False"):
        mj.one_step(task, tx, screen="bf16")


def test_the_error_coefficient_grows_with_d_and_orders_the_formats():
    for d in (16, 256, 1024):
        bf16 = mj.score_error_coefficient("bf16", d)
        tf32 = mj.score_error_coefficient("tf32", d)
        x3 = mj.score_error_coefficient("bf16x3", d)
        assert x3 < tf32 < bf16
        assert bf16 > 2 * 2.0**-8  # at least the operands' rounding
    assert mj.score_error_coefficient("bf16x3", 1024) > mj.score_error_coefficient(
        "bf16x3", 16
    )


def test_bad_input_is_refused():
    task = mj.sample_task(20, 4, 1.0, key=jax.random.key(0))
    w = jnp.eye(4, dtype=jnp.float32)
    with pytest.raises(ValueError, match="screen must be one of"):
        mj.screened_capacity(w, task, screen="fp8")
    with pytest.raises(ValueError, match="screen must be one of"):
        mj.capacity(w, task, screen="half")
    t64 = mj.sample_task(20, 4, 1.0, key=jax.random.key(0), dtype=jnp.float64)
    with pytest.raises(ValueError, match="float32"):
        mj.screened_capacity(jnp.eye(4, dtype=jnp.float64), t64)
