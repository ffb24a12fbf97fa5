"""Tests of ``gaussian.analysis.ridge``: Newton's ridge against numpy's eigvalsh."""

from __future__ import annotations

import jax
import numpy as np
import pytest

import muonjax as mj


def test_newton_ridge_diagnostic_against_numpy(tmp_path):
    grid = mj.one_step_sweep(
        n=300,
        dims=(6,),
        alphas=(3.0,),
        rules=("gd", "newton", "newton_rel"),
        newton_ridge=1e-3,
    )
    diag = mj.newton_ridge_diagnostic(grid, root_seed=2, out_dir=tmp_path)
    assert [r["rule"] for r in diag] == ["newton", "newton_rel"]  # Newton cells only
    cell = next(c for c in grid.cells() if c.config["rule"] == "newton")
    key_task, _ = jax.random.split(mj.cell_key(jax.random.key(2), cell, 0))
    task = mj.sample_task(300, 6, 3.0, key=key_task)
    task64 = jax.tree.map(lambda x: x.astype(np.float64), task)
    sv, su = (np.asarray(m) for m in mj.hessian_factors_at_zero(task64))
    prod = np.outer(
        np.clip(np.linalg.eigvalsh(sv), 0, None),
        np.clip(np.linalg.eigvalsh(su), 0, None),
    )
    assert diag[0]["fraction_below_ridge"] == pytest.approx(np.mean(prod < 1e-3))
    assert diag[0]["fraction_below_10x_ridge"] == pytest.approx(np.mean(prod < 1e-2))
    assert diag[0]["min_eigenvalue"] == pytest.approx(prod.min(), rel=1e-9)
    # The relative ridge is 1e-3 x lambda_max(H), lambda_max the largest product.
    rel = diag[1]
    assert rel["relative"] and not diag[0]["relative"]
    assert rel["ridge"] == pytest.approx(1e-3 * prod.max(), rel=1e-9)
    assert rel["fraction_below_ridge"] == pytest.approx(
        np.mean(prod < 1e-3 * prod.max())
    )
    assert mj.read_newton_ridge_diagnostic(tmp_path) == diag
    assert mj.read_newton_ridge_diagnostic(tmp_path / "missing") == []
