"""Tests of ``gaussian.cells.onestep``: one step of a rule, Newton-Schulz variants,
paired kappas, float64 Newton on float32 tasks.

Peers: ``numpy.linalg.svd`` (directions), a dense float64 Newton solve, the core's
:func:`muonjax.one_step`.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import muonjax as mj


def test_ns_variant_cell_matches_one_step_cell_and_counts_directions():
    n, d, alpha = 300, 12, 2.0
    base = {
        "n": n,
        "d": d,
        "alpha": alpha,
        "muon_lr_scale": 2.0,
        "with_loss": False,
        "dtype": "float32",
        "update_dtype": "float64",
    }
    key = jax.random.key(4)
    key_task, _ = jax.random.split(key)
    task = mj.sample_task(n, d, alpha, key=key_task)
    g = np.asarray(mj.grad_at_zero(jax.tree.map(lambda x: x.astype(jnp.float64), task)))
    u, s, vt = np.linalg.svd(g)
    for variant, rule, extra in (
        ("exact", "muon", {}),
        ("jordan:2", "muon_ns", {"ns_coeffs": "jordan", "ns_steps": 2}),
    ):
        out = mj.ns_variant_cell({**base, "variant": variant}, key)
        ref = mj.one_step_cell({**base, "rule": rule, **extra}, key)
        assert int(out["count"]) == int(ref["count"])
        assert int(out["prefix"]) == int(ref["prefix"])
        # Peer: the variant's map of each singular value, through numpy's SVD.
        if variant == "exact":
            mapped = np.ones(d)
        else:
            x = np.asarray(mj.newton_schulz(jnp.asarray(g), steps=2, coeffs="jordan"))
            mapped = np.diag(u.T @ x @ vt.T)
        assert int(out["directions"]) == int(np.sum(mapped >= 0.5))
    assert int(mj.ns_variant_cell({**base, "variant": "exact"}, key)["directions"]) == d
    # Two quintic steps lift a small singular value by at most about 3.4445^2 from
    # s / ||G||_F, which leaves the gradient's smallest one below 0.5:
    assert s[-1] / np.linalg.norm(g) * 3.4445**2 < 0.5
    assert (
        int(mj.ns_variant_cell({**base, "variant": "jordan:2"}, key)["directions"]) < d
    )


def test_ns_variant_sweep_shares_tasks_with_one_step_sweep():
    ns = mj.ns_variant_sweep(
        n=200, dims=(8,), alphas=(1.5,), variants=("exact", "jordan:5")
    )
    ref = mj.one_step_sweep(n=200, dims=(8,), alphas=(1.5,), rules=("muon",))
    keys = {c.key_data for c in ns.cells()}
    assert keys == {c.key_data for c in ref.cells()}
    with pytest.raises(ValueError, match="variant"):
        mj.ns_variant_sweep(n=200, dims=(8,), alphas=(1.5,), variants=("bad",))


def test_paired_kappa_sweep_shares_tasks_across_kappa():
    grid = mj.one_step_sweep(
        n=200, dims=(8,), alphas=(1.5,), rules=("newton",), kappas=(0.0, 1.0)
    )
    paired = mj.paired_kappa_sweep(grid)
    assert "kappa_v" not in paired.key_axes
    assert len({c.key_data for c in grid.cells()}) == 2
    assert len({c.key_data for c in paired.cells()}) == 1
    iso = mj.one_step_sweep(n=200, dims=(8,), alphas=(1.5,), rules=("muon",))
    assert {c.key_data for c in paired.cells()} == {c.key_data for c in iso.cells()}
    with pytest.raises(ValueError, match="kappa_v"):
        mj.paired_kappa_sweep(iso)


def test_newton_paired_kappa_is_invariant_without_ridge_effects():
    """[derived] Newton's step is invariant under v -> A v: same counts at any kappa.

    At these sizes every Hessian eigenvalue is far above the ridge (checked by the
    diagnostic), so paired tasks give identical counts at kappa 0 and 0.5.
    """
    grid = mj.paired_kappa_sweep(
        mj.one_step_sweep(
            n=400,
            dims=(8,),
            alphas=(1.5,),
            rules=("newton",),
            kappas=(0.0, 0.5),
            update_dtype="float64",
            with_loss=False,
            chunk_size=4,
        )
    )
    res = mj.run_sweep(grid, seeds=2, key=jax.random.key(0))
    counts = [r.metrics["count"][:, 0].tolist() for r in res.results]
    assert counts[0] == counts[1]
    diag = mj.newton_ridge_diagnostic(grid)
    assert all(r["fraction_below_10x_ridge"] == 0 for r in diag)


def _dense_newton(task64, g, ridge):
    """``X = (H + ridge I)^(-1)[G]`` with ``H[D] = Sigma_V D Sigma_U``, densely."""
    sigma_v, sigma_u = (np.asarray(s) for s in mj.hessian_factors_at_zero(task64))
    d_out, d_in = g.shape
    # Row-major vec: vec(A D B) = kron(A, B^T) vec(D), and Sigma_U is symmetric.
    h = np.kron(sigma_v, sigma_u) + ridge * np.eye(d_out * d_in)
    return np.linalg.solve(h, np.asarray(g).ravel()).reshape(d_out, d_in)


@pytest.mark.parametrize("alpha", [2.0, 3.0])
def test_float64_newton_step_on_a_float32_task_matches_a_dense_float64_solve(alpha):
    task = mj.sample_task(400, 12, alpha, key=jax.random.key(1))  # float32
    task64 = jax.tree.map(lambda x: x.astype(jnp.float64), task)
    g = mj.grad_at_zero(task64)
    ridge = 1e-8
    tx = mj.one_step_optimizer(
        "newton", task, newton_ridge=ridge, update_dtype="float64"
    )
    w0 = jnp.zeros_like(g)
    update, _ = tx.update(g, tx.init(w0), w0)
    assert update.dtype == jnp.float64
    ref = _dense_newton(task64, g, ridge)
    # float64 solves of a system whose condition number is up to ~1e8 here:
    # relative 1e-9 of the largest entry leaves room for the eigh's rounding.
    np.testing.assert_allclose(
        -np.asarray(update), ref, rtol=0, atol=1e-9 * np.abs(ref).max()
    )


def test_newton_cell_with_float64_updates_matches_the_core():
    sweep = mj.one_step_sweep(
        n=300,
        dims=(8,),
        alphas=(2.5,),
        rules=("newton",),
        update_dtype="float64",
        with_loss=False,
        chunk_size=2,
    )
    key = jax.random.key(5)
    result = mj.run_sweep(sweep, seeds=2, key=key)
    (res,) = result.results
    for i, seed in enumerate(res.seeds):
        k_task, _ = jax.random.split(mj.cell_key(key, res.cell, int(seed)))
        task = mj.sample_task(300, 8, 2.5, key=k_task)
        task64 = jax.tree.map(lambda x: x.astype(jnp.float64), task)
        ref = mj.one_step(
            task,
            mj.newton_at_zero(1.0, task64, ridge=1e-8),
            with_loss=False,
            update_dtype="float64",
            block_size=sweep.options["block_size"],
        ).metrics
        assert res.metrics["count"][i, 0] == int(ref.count)
        assert res.metrics["prefix"][i, 0] == int(ref.prefix)


def test_update_dtype_is_validated_for_newton():
    task = mj.sample_task(50, 4, 1.5, key=jax.random.key(0))
    with pytest.raises(ValueError, match="update_dtype"):
        mj.one_step_optimizer("newton", task, update_dtype="int32")


def test_rank_of_w1_is_an_optional_metric_and_the_cell_is_one_step():
    base = {
        "n": 200,
        "d": 8,
        "alpha": 1.5,
        "with_loss": False,
        "dtype": "float32",
        "update_dtype": "float64",
    }
    key = jax.random.key(3)
    plain = mj.one_step_cell({**base, "rule": "muon"}, key)
    assert "rank" not in plain
    ranked = mj.one_step_cell({**base, "rule": "muon", "with_rank": True}, key)
    assert int(ranked["rank"]) == 8 and int(ranked["count"]) == int(plain["count"])
    # Peer: the core's one step on the cell's task, and numpy's SVD of its W_1.
    key_task, _ = jax.random.split(key)
    task = mj.sample_task(200, 8, 1.5, key=key_task)
    res = mj.one_step(task, mj.gd(1.0), with_loss=False, update_dtype=jnp.float64)
    gd = mj.one_step_cell({**base, "rule": "gd", "with_rank": True}, key)
    assert int(gd["count"]) == int(res.metrics.count)
    s = np.linalg.svd(np.asarray(res.w), compute_uv=False)
    assert int(gd["rank"]) == int(np.sum(s > 0.5 * s[0])) < 8
    sweep = mj.one_step_sweep(n=200, dims=(8,), alphas=(1.5,), with_rank=True)
    assert sweep.fixed["with_rank"] is True
    assert "with_rank" not in mj.one_step_sweep(n=200, dims=(8,), alphas=(1.5,)).fixed


def test_smoothing_cell_against_numpy_and_the_lam_axis():
    config = {
        "n": 200,
        "d": 8,
        "alpha": 1.5,
        "rho": 0.1,
        "dtype": "float32",
        "update_dtype": "float64",
    }
    key = jax.random.key(4)
    out = mj.smoothing_cell(config, key)
    key_task, _ = jax.random.split(key)
    task = mj.sample_task(200, 8, 1.5, key=key_task)
    g = np.asarray(mj.grad_at_zero(jax.tree.map(lambda x: x.astype(np.float64), task)))
    u, s, vt = np.linalg.svd(g)
    lam = 0.1 * s[-1]
    h = u @ np.diag(s / np.sqrt(s**2 + lam**2)) @ vt
    assert float(out["s_min"]) == pytest.approx(s[-1], rel=1e-10)
    assert float(out["error"]) == pytest.approx(
        np.linalg.norm(h - u @ vt, ord=2), rel=1e-8
    )
    # [derived] at lam = rho s_min the error is 1 - 1/sqrt(1 + rho^2).
    assert float(out["error"]) == pytest.approx(1 - 1 / np.sqrt(1.01), rel=1e-6)
    # The smoothing sweep and one_step_sweep share the tasks (same key identity).
    smooth = mj.smoothing_sweep(n=200, dims=(8,), alphas=(1.5,), rhos=(0.1, 0.01))
    steps = mj.one_step_sweep(
        n=200, dims=(8,), alphas=(1.5,), rules=("muon_smoothed",), lams=(0.1, 1.0)
    )
    assert {c.key_data for c in smooth.cells()} == {c.key_data for c in steps.cells()}
    assert steps.axes["lam"] == (0.1, 1.0)
    with pytest.raises(ValueError, match="lam"):
        mj.one_step_sweep(n=200, dims=(8,), alphas=(1.5,), rules=("muon_smoothed",))
