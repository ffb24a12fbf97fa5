"""Bad input raises ValueError naming the argument and its value."""

from __future__ import annotations

import re

import jax
import jax.numpy as jnp
import pytest

import muonjax as mj

KEY = jax.random.key(0)


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"n": 0, "d": 4, "alpha": 1.0}, "n=0"),
        ({"n": -3, "d": 4, "alpha": 1.0}, "n=-3"),
        ({"n": 2.5, "d": 4, "alpha": 1.0}, "n=2.5"),
        ({"n": 10, "d": 0, "alpha": 1.0}, "d=0"),
        ({"n": 10, "d": 4, "alpha": -0.5}, "alpha=-0.5"),
        ({"n": 10, "d": 4, "alpha": float("nan")}, "alpha=nan"),
        ({"n": 10, "d": 4, "alpha": 1.0, "kappa_v": -1.0}, "kappa_v=-1.0"),
        ({"n": 10, "d": 4, "alpha": 1.0, "kappa_u": -2.0}, "kappa_u=-2.0"),
        ({"n": 10, "d": 4, "alpha": 1.0, "d_out": 0}, "d_out=0"),
        ({"n": 10, "d": 4, "alpha": 1.0, "dtype": jnp.int32}, "dtype="),
    ],
)
def test_sample_task_rejects(kwargs, needle):
    with pytest.raises(ValueError, match=needle.replace("(", r"\(")):
        mj.sample_task(**kwargs, key=KEY)


def test_float64_needs_x64_mode():
    with (
        jax.enable_x64(False),
        pytest.raises(ValueError, match=r"64-bit mode.*enable_x64"),
    ):
        mj.sample_task(4, 2, 1.0, key=KEY, dtype="float64")


@pytest.fixture
def task():
    return mj.sample_task(20, 4, 1.2, key=KEY)


def test_block_batch_and_steps(task):
    w = jnp.zeros((4, 4))
    with pytest.raises(ValueError, match=re.escape("block_size=0")):
        mj.population_loss_and_grad(w, task, block_size=0)
    with pytest.raises(ValueError, match=re.escape("batch_size=0")):
        mj.sample_batch(task, 0, key=KEY)
    with pytest.raises(ValueError, match=re.escape("batch_size=-2")):
        mj.train(task, mj.gd(1.0), steps=1, batch_size=-2, key=KEY)
    with pytest.raises(ValueError, match=re.escape("steps=-1")):
        mj.train(task, mj.gd(1.0), steps=-1)
    with pytest.raises(ValueError, match="PRNG key"):
        mj.one_step(task, mj.gd(1.0), batch_size=4)
    with pytest.raises(ValueError, match=re.escape("block_size=0")):
        mj.one_step(task, mj.gd(1.0), block_size=0)


def test_non_finite_memory_or_gradient(task):
    bad = jnp.zeros((4, 4)).at[1, 2].set(jnp.nan)
    with pytest.raises(ValueError, match="w must be finite"):
        mj.population_loss_and_grad(bad, task)
    with pytest.raises(ValueError, match="w must be finite"):
        mj.capacity(bad.at[0, 0].set(jnp.inf), task)
    with pytest.raises(ValueError, match="w0 must be finite"):
        mj.train(task, mj.gd(1.0), steps=1, w0=bad)
    for fn in (mj.polar, mj.newton_schulz, lambda g: mj.smoothed_polar(g, 0.1)):
        with pytest.raises(ValueError, match="g must be finite"):
            fn(bad)
    factors = mj.kronecker_factors(jnp.eye(4), jnp.eye(4))
    with pytest.raises(ValueError, match="g must be finite"):
        mj.kronecker_ridge_solve(bad, factors, 1e-8)


def test_wrong_shapes(task):
    with pytest.raises(ValueError, match=r"w must have shape \(4, 4\)"):
        mj.population_loss(jnp.zeros((5, 4)), task)
    with pytest.raises(ValueError, match=r"task\.p must have shape"):
        mj.margins(jnp.zeros((4, 4)), task._replace(p=task.p[:-1]))
    with pytest.raises(ValueError, match=r"task\.v must have shape"):
        mj.margins(jnp.zeros((4, 4)), task._replace(v=task.v[:-1]))
    with pytest.raises(ValueError, match="indices must have shape"):
        mj.minibatch_loss_and_grad(
            jnp.zeros((4, 4)), task, jnp.zeros((2, 2), jnp.int32)
        )
    with pytest.raises(ValueError, match="g must have shape"):
        mj.polar(jnp.zeros((2, 2, 2)))
    with pytest.raises(ValueError, match="task must be a GaussianTask"):
        mj.margins(jnp.zeros((4, 4)), (task.u, task.v, task.p))


def test_bad_rule_parameters():
    with pytest.raises(ValueError, match=re.escape("lam=-1.0")):
        mj.smoothed_polar(jnp.eye(2), -1.0)
    with pytest.raises(ValueError, match=re.escape("lam=-0.1")):
        mj.muon_smoothed(1.0, -0.1)
    with pytest.raises(ValueError, match=re.escape("ridge=-1.0")):
        mj.kronecker_ridge_solve(
            jnp.eye(2), mj.kronecker_factors(jnp.eye(2), jnp.eye(2)), -1.0
        )
    with pytest.raises(ValueError, match="steps=0"):
        mj.newton_schulz(jnp.eye(2), steps=0)
    with pytest.raises(ValueError, match="coeffs must be one of"):
        mj.muon_newton_schulz(1.0, coeffs="fastest")
    with pytest.raises(ValueError, match=r"coeffs must have shape"):
        mj.newton_schulz(jnp.eye(2), coeffs=(1.0, 2.0))
