"""The benchmark scripts run (at toy sizes) and say what they must.

``benchmarks/gpu_check.py --small`` is the GPU machine's check at sizes any CPU runs
in about a minute; ``benchmarks/bench_core.py`` and the numpy peer must agree with the
library on counts. No timing is asserted (the machine is shared).
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import muonjax as mj

BENCH = Path(__file__).resolve().parents[2] / "benchmarks"


def _load(name: str):
    spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCH / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_numpy_peer_matches_the_library():
    peer = _load("numpy_peer")
    task = mj.sample_task(150, 8, 1.5, key=jax.random.key(0))
    w = -mj.polar(mj.grad_at_zero(task))
    u, v, p, w_np = (np.asarray(x) for x in (task.u, task.v, task.p, w))
    a = u @ w_np.T
    margins = peer.capacity(a, v, 64)
    np.testing.assert_array_equal(margins > 0, np.asarray(mj.margins(w, task)) > 0)
    loss, grad = peer.gradient(a, u, v, p, 64)
    ref_loss, ref_grad = mj.population_loss_and_grad(w, task)
    np.testing.assert_allclose(loss, float(ref_loss), rtol=1e-5)
    np.testing.assert_allclose(grad, np.asarray(ref_grad), rtol=1e-4, atol=1e-6)


def test_bench_core_writes_its_json(tmp_path):
    bench = _load("bench_core")
    bench.main(
        [
            "--n", "300", "--dims", "8", "--repeats", "1", "--skip-memory",
            "--peer-blocks", "64", "--out", str(tmp_path),
        ]
    )  # fmt: skip
    result = json.loads((tmp_path / f"core_{jax.default_backend()}.json").read_text())
    (row,) = result["speed"]
    assert row["numpy_counts_equal"]
    assert all(s["counts_equal"] for s in row["screened"].values())
    assert row["numpy"]["openblas_coretype"] is None  # unset for the peer
    for key in ("capacity_to_fused", "gradient_to_best_numpy", "capacity_to_v010"):
        assert row["ratios"][key] > 0
    assert result["environment"]["precision"]["matmul_precision"] == "HIGHEST"


@pytest.mark.filterwarnings("ignore")
def test_gpu_check_runs_small_on_any_device(tmp_path):
    check = _load("gpu_check")
    code = check.main(["--out", str(tmp_path), "--small"])
    result = json.loads((tmp_path / "gpu_check.json").read_text())
    assert code == 0, result
    parts = result["parts"]
    for row in parts["rates"]:
        assert row["ratio_capacity_to_product"] > 0
        for screen in ("bf16", "bf16x3"):
            assert row["screened"][screen]["counts_equal"]
    assert parts["vmap_vs_loop"]["counts_and_prefixes_equal"]
    assert parts["fig2_slice"]["rows"] == 2 * 2 * 2  # dims x rules x seeds
    assert (
        parts["fig2_slice"]["cells_done"] == 4 and not parts["fig2_slice"]["timed_out"]
    )
    assert "skipped" in parts["transformer"] or "returncode" in parts["transformer"]
    assert result["environment"]["backend"] == jax.default_backend()
    assert jnp.isfinite(parts["fig2_slice"]["wall_seconds_including_compile"])
