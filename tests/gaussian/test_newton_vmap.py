"""Newton's step under ``jax.jit(jax.vmap(...))``: no deadlock, same factors.

Two batched LAPACK ``eigh`` calls running at once could deadlock XLA's CPU runtime on
a 2-core machine (each blocks a worker of the intra-op pool while waiting for work
queued on that pool). :func:`muonjax.kronecker_factors` now makes one stacked call.
The hang was intermittent (about one run in two at these sizes), so the regression
test repeats the vmapped step many times in a subprocess with a timeout.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import jax
import numpy as np
from conftest import assert_close

import muonjax as mj

_SCRIPT = textwrap.dedent(
    """
    import jax, jax.numpy as jnp, muonjax as mj

    def one(seed):
        task = mj.sample_task(1000, 32, 1.5, key=jax.random.fold_in(
            jax.random.key(0), seed))
        m = mj.one_step(task, mj.newton_at_zero(1.0, task), with_loss=False)
        return m.metrics.count

    f = jax.jit(jax.vmap(one))
    for r in range(40):
        jax.block_until_ready(f(jnp.arange(4) + 4 * r))
    print("ok")
    """
)


def test_vmapped_newton_step_does_not_deadlock():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(
        os.environ, PYTHONPATH=root + os.pathsep + os.environ.get("PYTHONPATH", "")
    )
    # Without the fix this hung in about half of the runs; with it, it takes ~5 s.
    out = subprocess.run(
        [sys.executable, "-c", _SCRIPT],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert out.stdout.strip().endswith("ok")


def test_stacked_and_separate_eigh_give_the_same_factors(small_task64):
    sigma_v, sigma_u = mj.hessian_factors_at_zero(small_task64)
    f = mj.kronecker_factors(sigma_v, sigma_u)
    for q, ev, sigma in ((f.q_v, f.ev_v, sigma_v), (f.q_u, f.ev_u, sigma_u)):
        ev_np = np.clip(np.linalg.eigvalsh(np.asarray(sigma)), 0, None)
        assert_close(ev, ev_np, tol={"rtol": 1e-9, "atol": 1e-12})
        assert_close(
            q @ np.diag(np.asarray(ev)) @ q.T, sigma, tol={"atol": 1e-12, "rtol": 0}
        )


def test_rectangular_factors_still_decompose():
    a = jax.random.normal(jax.random.key(0), (5, 5), np.float64)
    b = jax.random.normal(jax.random.key(1), (3, 3), np.float64)
    sv, su = a @ a.T, b @ b.T
    f = mj.kronecker_factors(sv, su)
    assert_close(f.q_v @ np.diag(np.asarray(f.ev_v)) @ f.q_v.T, sv)
    assert_close(f.q_u @ np.diag(np.asarray(f.ev_u)) @ f.q_u.T, su)
