"""The named sweeps, and the checks with random bases measuring through them.

A check and a figure of the same claim, at the same sizes, root seed and seed, must
see the same random basis (issue 10): the SignGD and block-symmetry measurements run
the experiments' sweep builders through :func:`muonjax.run_sweep`. Shown here seed
for seed against the ``orth_signgd`` and ``orth_groups`` experiments run through the
registry (:func:`muonjax.run_recorded`), and against a basis drawn by hand from the
engine's cell key.
"""

from __future__ import annotations

import dataclasses

import jax
import numpy as np
import pytest

import muonjax as mj
from muonjax import orthogonal as og

#: SignGD sizes shared by the measurement and the experiment (a few seconds).
SIGNGD = {"num_groups": 2, "group_size": 4, "dim": 12, "beta": 2.0, "steps": 30}


def test_signgd_measurement_sees_the_experiments_bases_seed_for_seed(tmp_path):
    r = og.measure_signgd_random_basis(
        **SIGNGD, lr=0.05, seeds=3, multipliers=(0.5, 1.0)
    )
    exp = mj.get_experiment("orth_signgd")
    config = dataclasses.replace(
        exp.presets["quick"],
        **SIGNGD,
        alphas=(0.0,),
        rules=("muon", "tra_signgd", "signgd"),
        lr=0.05,
        scales=(0.5, 1.0),
        record_points=8,
        record_linear=4,
        seeds=3,
    )
    mj.run_recorded(exp, config, tmp_path)
    table = mj.read_table(tmp_path)
    for k, scale in enumerate((0.5, 1.0)):
        steps, loss = og.cell_curves(table, "loss", rule="signgd", scale=scale)
        assert loss.shape == (3, steps.size)
        # The same basis per seed: the same SignGD run, step for step (float64;
        # the two programs differ only in the steps they gather and the vmap size).
        np.testing.assert_allclose(r.signgd_loss[:, k, steps], loss, rtol=1e-12)
    # ...and different seeds are different bases (the test is not vacuous).
    assert np.abs(r.signgd_loss[0, 1] - r.signgd_loss[1, 1]).max() > 1e-3
    # Muon does not depend on the basis: recorded at scale 1 in both.
    steps, mu = og.cell_curves(table, "loss", rule="muon", scale=1.0)
    np.testing.assert_allclose(mu[0], r.muon_loss[steps], rtol=1e-12)


def test_symmetry_cell_draws_the_basis_of_the_groups_cell():
    sizes = {"num_groups": 2, "group_size": 3, "dim": 9, "beta": 1.5}
    sym = og.symmetry_sweep(
        **sizes, alpha=0.3, rules=("muon",), lr=0.1, gd_lr_p1=1.0, steps=5
    )
    groups = og.groups_sweep(
        **sizes,
        alphas=(0.0, 0.3),
        rules=("gd", "signgd"),
        steps=5,
        record_points=3,
        gd_lr_p1=1.0,
        muon_lr=0.1,
    )
    (cell,) = sym.cells()
    noisy = [c for c in groups.cells() if c.config["alpha"] == 0.3]
    assert {c.key_data for c in noisy} == {cell.key_data}
    clean = [c for c in groups.cells() if c.config["alpha"] == 0.0]
    assert cell.key_data not in {c.key_data for c in clean}
    # The defect the measurement reports is that of the basis drawn from the
    # engine's key for seed s: recompute seed 1 by hand on the full path.
    r = og.measure_block_symmetry(
        **sizes, alpha=0.3, steps=5, seeds=2, rules=("signgd",)
    )
    key = jax.random.key(0)  # the measurement's root seed (seed=0)
    with jax.enable_x64(True):
        cfg = og.symmetry_sweep(
            **sizes, alpha=0.3, rules=("signgd",), lr=0.1, gd_lr_p1=1.0, steps=5
        ).cells()[0]
        task = og.power_law_task(
            2,
            3,
            1.5,
            alpha=0.3,
            embedding="random",
            dim=9,
            key=mj.cell_key(key, cfg, 1),
            dtype=jax.numpy.float64,
        )
        dyn = og.run(task, "signgd", 0.1, steps=5, path="full", keep_params=True)
        ref = max(
            float(og.block_symmetry_defect(og.to_task(w, task), 3)) for w in dyn.params
        )
    assert r.max_defect_per_basis[1, 0] == pytest.approx(ref, rel=1e-12)
    assert r.max_defect_per_basis[0, 0] != pytest.approx(ref, rel=1e-3)


@pytest.mark.parametrize(
    ("builder", "kwargs", "match"),
    [
        (og.groups_sweep, {"alphas": (1.0,)}, "alphas"),
        (og.groups_sweep, {"dim": 4}, "dim"),
        (og.groups_sweep, {"rules": ("gd", "lion")}, "rules"),
        (og.groups_sweep, {"steps": 0}, "steps"),
        (og.signgd_sweep, {"scales": (0.0,)}, "scales"),
        (og.scaling_sweep, {"alpha": 0.0}, "alpha"),
        (og.scaling_sweep, {"points": 2}, "points"),
        (og.scaling_sweep, {"horizon_max": 16}, "horizon"),
    ],
)
def test_builders_name_the_bad_setting(builder, kwargs, match):
    base = {
        og.groups_sweep: {
            "num_groups": 2,
            "group_size": 4,
            "beta": 1.5,
            "alphas": (0.0,),
            "dim": 0,
            "rules": ("gd",),
            "steps": 10,
            "record_points": 5,
            "gd_lr_p1": 1.0,
            "muon_lr": 0.1,
        },
        og.signgd_sweep: {
            "num_groups": 2,
            "group_size": 4,
            "dim": 0,
            "beta": 2.0,
            "alphas": (0.0,),
            "rules": ("muon",),
            "lr": 0.05,
            "scales": (1.0,),
            "gd_lr_p1": 1.0,
            "steps": 10,
            "record_points": 5,
            "record_linear": 0,
        },
        og.scaling_sweep: {
            "num_groups": 2,
            "group_size": 4,
            "betas": (2.0,),
            "alpha": 0.3,
            "points": 3,
            "gd_lr_min": 1.0,
            "gd_lr_max": 4.0,
            "gd_steps": 64,
            "muon_c": 2.0,
            "horizon_min": 32,
            "horizon_max": 64,
            "record_points": 5,
        },
    }[builder]
    assert builder(**base).cells()  # the base settings are valid
    with pytest.raises(ValueError, match=match):
        builder(**{**base, **kwargs})
