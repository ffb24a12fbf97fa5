"""Vmapped Newton steps finish on the CPU (a jaxlib 0.10.2 thread-pool deadlock).

jaxlib 0.10.2's batched LAPACK kernels on the CPU block a thread of XLA's
intra-op pool while waiting for work queued on that same pool. Two independent
batched ``eigh`` calls in one program (Newton's two Kronecker factors, as they
were) can then block every thread of a 2-core pool forever: a vmapped Newton step
over 12 seeds hung in most runs. ``kronecker_factors`` now makes one batched call.
A hang cannot be interrupted inside the process, so the run is a subprocess with
a timeout.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import jax
import numpy as np

import muonjax as mj

ROOT = Path(__file__).resolve().parents[1]

SCRIPT = """
import jax, jax.numpy as jnp
import muonjax as mj

def step(key, alpha):
    task = mj.sample_task(2000, 32, alpha, key=key)
    tx = mj.newton_at_zero(1.0, task)
    return mj.one_step(task, tx, with_loss=False).metrics.count

for trial in range(2):
    keys = jax.random.split(jax.random.key(trial), 12)
    out = jax.jit(jax.vmap(step))(keys, jnp.full((12,), 1.5))
    print(trial, out.tolist(), flush=True)
"""


def test_vmapped_newton_step_does_not_deadlock():
    env = {
        **os.environ,
        "JAX_PLATFORMS": "cpu",
        "PYTHONPATH": os.pathsep.join(
            p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p
        ),
    }
    try:
        proc = subprocess.run(
            [sys.executable, "-c", SCRIPT],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,  # about 5 s when it works; it used to hang for good
            check=False,
        )
    except subprocess.TimeoutExpired as err:
        raise AssertionError("a vmapped Newton step hung (LAPACK deadlock)") from err
    assert proc.returncode == 0, proc.stderr
    assert len(proc.stdout.strip().splitlines()) == 2


def test_kronecker_factors_match_separate_decompositions():
    """Peer: numpy's eigh of each factor on its own."""
    task = mj.sample_task(500, 8, 1.5, key=jax.random.key(0))
    sigma_v, sigma_u = mj.hessian_factors_at_zero(task)
    fac = mj.kronecker_factors(sigma_v, sigma_u)
    for sigma, ev, q in ((sigma_v, fac.ev_v, fac.q_v), (sigma_u, fac.ev_u, fac.q_u)):
        ref = np.linalg.eigvalsh(np.asarray(sigma, np.float64))
        # float32 eigenvalues of a matrix with entries ~1/d: absolute 1e-6.
        np.testing.assert_allclose(ev, np.maximum(ref, 0), atol=1e-6)
        recon = (q * ev[None, :]) @ q.T
        np.testing.assert_allclose(recon, sigma, atol=1e-6)
