"""The seed axis sharded over 4 simulated CPU devices equals the 1-device run.

XLA's device count is fixed when JAX starts, so the 4-device runs happen in a
subprocess with ``XLA_FLAGS=--xla_force_host_platform_device_count=4``, under a
timeout: every Part A rule is covered, including the ones whose LAPACK calls
(exact Muon's and the smoothed polar factor's ``svd``, Newton's ``eigh``) deadlocked
jaxlib 0.10.2's CPU thread pool when several devices ran them at once (see
docs/sweeps.md, "A jaxlib 0.10.2 deadlock on the CPU").
"""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from procs import env, muonjax

SCRIPT = """
import json, sys
import jax
import muonjax as mj

n, d = int(sys.argv[1]), int(sys.argv[2])
rules, uneven = tuple(sys.argv[3].split(",")), sys.argv[4] == "uneven"
devices = jax.devices()
assert len(devices) == 4, devices


def smoothed_cell(config, key):
    # Muon with the smoothed polar factor h_lam (SPEC A.3): an svd per seed.
    task = mj.sample_task(config["n"], config["d"], config["alpha"], key=key)
    tx = mj.muon_smoothed(2.0 * config["d"] ** 0.5, config["lam"])
    m = mj.one_step(task, tx, update_dtype="float64").metrics
    return {"count": m.count, "prefix": m.prefix, "loss": m.loss}


alphas = (1.25, 1.5, 2.0, 3.0)
sweeps = {
    "one_step": mj.one_step_sweep(
        n=n, dims=(d,), alphas=alphas, rules=rules, chunk_size=4,
        update_dtype="float64",
    ),
    "smoothed": mj.Sweep(
        smoothed_cell,
        axes={"alpha": alphas},
        fixed={"n": n, "d": d, "lam": 0.1},
        batched=("alpha",),
    ),
}
key = jax.random.key(11)


def dump(out):
    return {
        json.dumps(r.cell.config, sort_keys=True): {
            k: v.tolist() for k, v in r.metrics.items()
        }
        for r in out.results
    }


def compare(sweep):
    # Same per-device batch (4 pairs) in both runs: one device with chunks of 4,
    # four devices with chunks of 16 (4 pairs each): the same program per device.
    single = mj.run_sweep(sweep, seeds=4, key=key, chunk_size=4, devices=devices[:1])
    sharded = mj.run_sweep(sweep, seeds=4, key=key, chunk_size=16, devices=devices)
    out = {"single": dump(single), "sharded": dump(sharded)}
    if uneven:  # 1 pair per device against the single-device chunks of 4
        out["uneven"] = dump(
            mj.run_sweep(sweep, seeds=4, key=key, chunk_size=4, devices=devices)
        )
    return out


result = {"devices": len(devices)}
with jax.enable_x64(True):  # update_dtype="float64", as the experiments run
    for name, sweep in sweeps.items():
        result[name] = compare(sweep)
print(json.dumps(result))
"""


def _four_devices(
    n: int, d: int, rules: tuple[str, ...], *, uneven: bool, timeout: float
) -> dict:
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            SCRIPT,
            str(n),
            str(d),
            ",".join(rules),
            "uneven" if uneven else "even",
        ],
        env=env(XLA_FLAGS="--xla_force_host_platform_device_count=4"),
        capture_output=True,
        text=True,
        timeout=timeout,  # a deadlock fails here instead of hanging the suite
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _check(out: dict, cells: dict[str, int]) -> None:
    assert out["devices"] == 4
    for name, count in cells.items():
        runs = out[name]
        single, sharded = runs["single"], runs["sharded"]
        uneven = runs.get("uneven")
        assert set(single) == set(sharded) == set(uneven or single)
        assert len(single) == count
        for cell, metrics in single.items():
            for metric, values in metrics.items():
                # Same per-device program: equal seed for seed, bit for bit.
                np.testing.assert_array_equal(sharded[cell][metric], values)
                if uneven is None:
                    continue
                if metric in ("count", "prefix"):
                    np.testing.assert_array_equal(uneven[cell][metric], values)
                else:
                    # A per-device batch of 1 instead of 4 is another XLA program,
                    # whose float reductions may round differently: a few ulps.
                    np.testing.assert_allclose(uneven[cell][metric], values, rtol=1e-6)


def test_lapack_rules_sharded_over_four_devices_equal_one_device():
    # The rules that call LAPACK (svd, eigh). At n = 512, d = 32, 0.1.0's code hung
    # in 2 of 3 tries (measured under load); this one completes in about 35 s.
    out = _four_devices(512, 32, ("muon", "newton"), uneven=False, timeout=600)
    _check(out, {"one_step": 8, "smoothed": 4})


@pytest.mark.slow
def test_every_rule_at_the_size_that_deadlocked_0_1_0():
    # n = 2000, d = 32: 0.1.0 hung here at exact Muon within seconds, every time.
    rules = ("gd", "muon", "muon_ns", "newton")
    out = _four_devices(2000, 32, rules, uneven=True, timeout=900)
    _check(out, {"one_step": 16, "smoothed": 4})


@pytest.mark.slow
def test_the_issue_command_completes_with_the_records_of_one_device(tmp_path):
    argv = ["run", "fig2", "--preset", "quick", "--set", "n=2000"]
    argv += ["--set", "dims=16,32", "--seeds", "4", "--no-progress", "--no-plot"]
    one = muonjax(*argv, "--out", str(tmp_path / "one"), timeout=900)
    assert one.returncode == 0, one.stderr
    four = subprocess.run(
        [sys.executable, "-m", "muonjax", *argv, "--out", str(tmp_path / "four")],
        env=env(XLA_FLAGS="--xla_force_host_platform_device_count=4"),
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert four.returncode == 0, four.stderr
    assert (tmp_path / "four" / "records.csv").read_bytes() == (
        tmp_path / "one" / "records.csv"
    ).read_bytes()
