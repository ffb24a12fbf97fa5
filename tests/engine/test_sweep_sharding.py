"""The seed axis sharded over 4 simulated CPU devices equals the 1-device run.

XLA's device count is fixed when JAX starts, so the 4-device run happens in a
subprocess with ``XLA_FLAGS=--xla_force_host_platform_device_count=4``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
import json
import jax
import muonjax as mj

devices = jax.devices()
assert len(devices) == 4, devices
# Practical Muon (Newton-Schulz: matrix products only). Exact Muon's SVD and
# Newton's eigh go through jaxlib's CPU LAPACK kernels, which can deadlock when
# several simulated devices share a 2-thread pool (see docs/sweeps.md).
sweep = mj.one_step_sweep(
    n=256, dims=(8,), alphas=(1.25, 1.5, 2.0, 3.0), rules=("muon_ns",), chunk_size=4
)
key = jax.random.key(11)
# Same per-device batch (4 pairs) in both runs: one device with chunks of 4, four
# devices with chunks of 16 (4 pairs each), so each device runs the same program.
single = mj.run_sweep(sweep, seeds=4, key=key, chunk_size=4, devices=devices[:1])
sharded = mj.run_sweep(sweep, seeds=4, key=key, chunk_size=16, devices=devices)
# And an uneven one: 1 pair per device against the single-device chunks of 4.
uneven = mj.run_sweep(sweep, seeds=4, key=key, chunk_size=4, devices=devices)


def dump(out):
    return {
        r.cell.cell_id: {k: v.tolist() for k, v in r.metrics.items()}
        for r in out.results
    }


print(json.dumps({
    "devices": len(devices),
    "single": dump(single),
    "sharded": dump(sharded),
    "uneven": dump(uneven),
}))
"""


def test_sharded_over_four_devices_equals_single_device():
    env = {
        **os.environ,
        "XLA_FLAGS": "--xla_force_host_platform_device_count=4",
        "JAX_PLATFORMS": "cpu",
        "PYTHONPATH": os.pathsep.join(
            p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p
        ),
    }
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["devices"] == 4
    single, sharded, uneven = out["single"], out["sharded"], out["uneven"]
    assert set(single) == set(sharded) == set(uneven)
    assert len(single) == 4
    for cell, metrics in single.items():
        for name, values in metrics.items():
            # Same per-device program: equal seed for seed, bit for bit.
            np.testing.assert_array_equal(sharded[cell][name], values)
            if name in ("count", "prefix"):
                np.testing.assert_array_equal(uneven[cell][name], values)
            else:
                # A per-device batch of 1 instead of 4 is another XLA program,
                # whose float reductions may round differently: a few ulps.
                np.testing.assert_allclose(uneven[cell][name], values, rtol=1e-6)
