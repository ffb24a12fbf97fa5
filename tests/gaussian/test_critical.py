"""Tests of the critical-batch pipeline (analysis.critical) and ``record_parts``.

The cell is checked against a dense numpy peer (the whole ``N x N`` score matrix at a
tiny size); the fits against synthetic curves with a planted critical batch size.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import muonjax as mj

ALPHA = 1.5


# --------------------------------------------------------------------------------------
# Grid.


def test_batch_grid_is_geometric_and_distinct():
    assert mj.batch_grid(16) == (1, 2, 4, 8, 16)
    assert mj.batch_grid(20, b_min=3, factor=2.0) == (3, 6, 12)
    assert mj.batch_grid(100, factor=10.0) == (1, 10, 100)
    # Rounding can repeat a size at small factors: repeats are dropped.
    grid = mj.batch_grid(8, factor=1.2)
    assert list(grid) == sorted(set(grid)) and grid[0] == 1 and grid[-1] <= 8


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"b_max": 0}, "b_max must be >= 1"),
        ({"b_max": 4, "b_min": 8}, "b_max must be >= b_min"),
        ({"b_max": 4, "factor": 1.0}, "factor"),
    ],
)
def test_batch_grid_rejects_bad_input(kwargs, message):
    with pytest.raises(ValueError, match=message):
        mj.batch_grid(**kwargs)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"rules": ("newton",)}, "rules must be among"),
        ({"batch_sizes": (0,)}, "batch_sizes must hold a size >= 1"),
        ({"batch_sizes": (-1, 4)}, "batch_sizes must be >= 0"),
        ({"dims": ()}, "dims must hold at least one"),
        ({"update_dtype": "int32"}, "update_dtype must be a floating dtype"),
    ],
)
def test_critical_batch_sweep_rejects_bad_input(kwargs, message):
    base = {"n": 64, "dims": (4,), "alphas": (ALPHA,), "batch_sizes": (0, 1, 2)}
    with pytest.raises(ValueError, match=message):
        mj.critical_batch_sweep(**{**base, **kwargs})


def test_critical_batch_sweep_grid_and_key_identity():
    sweep = mj.critical_batch_sweep(
        n=64, dims=(4, 8), alphas=(ALPHA,), batch_sizes=(0, 1, 4)
    )
    assert list(sweep.axes) == ["d", "rule", "alpha", "batch_size"]
    assert sweep.batched == ("alpha", "batch_size")  # one compile per (d, rule)
    assert sweep.fixed["max_batch_size"] == 4
    cells = sweep.cells()
    assert len(cells) == 2 * 2 * 3
    # Every rule and B of one d share the task's key (paired curves).
    for d in (4, 8):
        keys = {c.key_data for c in cells if c.config["d"] == d}
        assert len(keys) == 1


# --------------------------------------------------------------------------------------
# The cell against a dense peer.

N, D, B_MAX = 48, 6, 16
SIZES = (0, 1, 3, 7, 16)


def dense_peer(config, key):
    """One step and its metrics with numpy: full score matrix, SVD polar factor."""
    key_task, key_batch = jax.random.split(key)
    task = mj.sample_task(N, D, ALPHA, key=key_task, dtype=jnp.float32)
    u, v, p = (np.asarray(x, np.float64) for x in (task.u, task.v, task.p))
    idx = np.asarray(mj.sample_batch(task, B_MAX, key=key_batch))
    b = config["batch_size"]
    if b == 0:
        q, in_batch = p, np.ones(N, bool)
    else:
        q = np.bincount(idx[:b], minlength=N) / b
        in_batch = q > 0
    g = ((v - v.mean(axis=0)) * q[:, None]).T @ u  # -grad at zero (SPEC A.2)
    if config["rule"] == "muon":
        uu, s, vt = np.linalg.svd(g)
        keep = s > max(g.shape) * np.finfo(np.float64).eps * s[0]
        w = (uu[:, : s.size] * keep) @ vt
    else:
        w = g
    w = w.astype(np.float32).astype(np.float64)  # the cell scores in float32
    scores = u @ w.T @ v.T  # s_ij = v_j^T W u_i
    own = np.diag(scores).copy()
    np.fill_diagonal(scores, -np.inf)
    rec = own > scores.max(axis=1)
    prefix = N if rec.all() else int(np.argmin(rec))
    return {
        "count": int(rec.sum()),
        "prefix": prefix,
        "weighted_accuracy": float(p[rec].sum()),
        "distinct": int(in_batch.sum()),
        "out_of_batch": int((rec & ~in_batch).sum()),
        "population_task": task,
    }


@pytest.fixture(scope="module")
def tiny_sweep_results():
    sweep = mj.critical_batch_sweep(
        n=N, dims=(D,), alphas=(ALPHA,), batch_sizes=SIZES, chunk_size=8
    )
    key = jax.random.key(5)
    out = mj.run_sweep(sweep, seeds=2, key=key, chunk_size=8)
    return sweep, key, out


def test_minibatch_cell_matches_the_dense_peer(tiny_sweep_results):
    _, key, out = tiny_sweep_results
    assert len(out.results) == 2 * len(SIZES)
    for res in out.results:
        for i, seed in enumerate(res.seeds):
            ref = dense_peer(res.cell.config, mj.cell_key(key, res.cell, int(seed)))
            got = {k: v[i, 0] for k, v in res.metrics.items()}
            where = f"{res.cell.config} seed={seed}"
            for k in ("count", "prefix", "distinct", "out_of_batch"):
                assert int(got[k]) == ref[k], f"{k}: {where}"
            # float32 sum of <= 48 frequencies
            assert got["weighted_accuracy"] == pytest.approx(
                ref["weighted_accuracy"], rel=1e-5, abs=1e-6
            )
            assert int(got["count"]) <= int(got["distinct"]) + int(got["out_of_batch"])


def test_population_row_equals_one_step(tiny_sweep_results):
    _, key, out = tiny_sweep_results
    for res in out.results:
        if res.cell.config["batch_size"] != 0:
            continue
        for i, seed in enumerate(res.seeds):
            k_task, _ = jax.random.split(mj.cell_key(key, res.cell, int(seed)))
            task = mj.sample_task(N, D, ALPHA, key=k_task)
            tx = mj.one_step_optimizer(res.cell.config["rule"], task)
            ref = mj.one_step(task, tx, update_dtype=jnp.float64).metrics
            assert res.metrics["count"][i, 0] == int(ref.count)
            assert res.metrics["prefix"][i, 0] == int(ref.prefix)
            assert res.metrics["distinct"][i, 0] == N
            assert res.metrics["out_of_batch"][i, 0] == 0


def test_batches_are_nested_across_batch_sizes(tiny_sweep_results):
    _, _, out = tiny_sweep_results
    for rule in ("gd", "muon"):
        distinct = np.stack(
            [
                r.metrics["distinct"][:, 0]
                for r in out.results
                if r.cell.config["rule"] == rule and r.cell.config["batch_size"] > 0
            ]
        )  # (B, seeds), B increasing
        assert np.all(np.diff(distinct, axis=0) >= 0)
        assert np.all(distinct[0] == 1)  # B = 1 holds one item


# --------------------------------------------------------------------------------------
# Fits against synthetic curves with a planted critical batch size.

PLANT_A = 1.4  # prefactor of the rising line a B^(1/alpha)


def planted_table(
    *,
    exponents: dict[str, float],
    scale: dict[str, float],
    dims=(32, 64, 128, 256),
    sizes=tuple(2**k for k in range(15)),
    seeds=8,
    noise=0.03,
    n=10**6,
    seed=0,
):
    """Records of a critical-batch sweep whose curves are min(a B^(1/alpha), P d^C)."""
    rng = np.random.default_rng(seed)
    cols = {
        k: []
        for k in (
            "d",
            "rule",
            "alpha",
            "batch_size",
            "n",
            "seed",
            "count",
            "distinct",
            "out_of_batch",
        )
    }
    for d in dims:
        for rule, c in exponents.items():
            plateau = scale[rule] * d**c
            for b in (0, *sizes):
                for s in range(seeds):
                    line = PLANT_A * b ** (1 / ALPHA)
                    mean = plateau if b == 0 else min(line, plateau)
                    value = mean * math.exp(noise * rng.standard_normal())
                    for k, v in zip(
                        cols,
                        (d, rule, ALPHA, b, n, s, value, line if b else n, 0.0),
                        strict=True,
                    ):
                        cols[k].append(v)
    data = {k: np.asarray(v) for k, v in cols.items()}
    data["rule"] = data["rule"].astype(object)
    return mj.Table(list(cols), data)


def planted_breakpoint(rule, d, exponents, scale):
    return (scale[rule] * d ** exponents[rule] / PLANT_A) ** ALPHA


PREDICTED = {
    "gd": float(mj.theory.one_step_exponent("gd", ALPHA)),
    "muon": float(mj.theory.one_step_exponent("muon", ALPHA)),
}
SCALE = {"gd": 1.5, "muon": 0.3}


@pytest.fixture(scope="module")
def planted_analysis():
    table = planted_table(exponents=PREDICTED, scale=SCALE)
    return table, mj.analyze_critical_batch(table, n_boot=100)


def test_planted_breakpoints_are_recovered(planted_analysis):
    _, an = planted_analysis
    assert an.rules == ["gd", "muon"] and an.dims == [32, 64, 128, 256]
    covered = 0
    for (rule, d), f in an.fits.items():
        truth = planted_breakpoint(rule, d, PREDICTED, SCALE)
        lo, hi = f.fit.breakpoint_interval
        covered += lo <= truth <= hi
        # 3% noise per seed: the estimate is within 5% of the truth.
        assert f.fit.breakpoint == pytest.approx(truth, rel=0.05)
        assert f.fit.slope == pytest.approx(1 / ALPHA)  # fixed on the line
        # The rising points are exactly the batch's distinct items up to noise:
        # those with value >= ceiling are listed, all of them below B*.
        assert all(b < truth for b in f.at_batch_ceiling)
    # Eight 95% percentile-bootstrap intervals from 8 seeds each (which under-cover
    # a little): at most two may miss the planted value.
    assert covered >= 6, covered


def test_planted_exponents_are_recovered_with_verdicts(planted_analysis):
    _, an = planted_analysis
    for rule in ("gd", "muon"):
        fit = an.critical_exponents[rule]
        pred = float(mj.theory.critical_batch_exponent(rule, ALPHA))
        # Planted exactly; 3% noise per seed moves the slope by about 0.01.
        assert fit.exponent == pytest.approx(pred, abs=0.03)
        assert an.plateau_exponents[rule].exponent == pytest.approx(
            PREDICTED[rule], abs=0.05
        )
        assert an.population_exponents[rule].exponent == pytest.approx(
            PREDICTED[rule], abs=0.05
        )
    rows = {(claim.split(" [")[0], group): c for claim, group, c in an.comparisons()}
    crit = [c for (claim, _), c in rows.items() if claim.startswith("critical")]
    assert len(crit) == 2 and all(c.verdict == "consistent" for c in crit)
    meets = [c for (claim, _), c in rows.items() if claim.startswith("B* sits")]
    assert len(meets) == 2 and all(c.verdict == "consistent" for c in meets)
    larger = [c for (claim, _), c in rows.items() if claim.startswith("Muon satur")]
    assert len(larger) == 4 and all(c.verdict == "consistent" for c in larger)
    # No chance recoveries were planted: the mean is 0 <= 1.
    (chance,) = [c for (claim, _), c in rows.items() if claim.startswith("one mini")]
    assert chance.estimate == 0.0 and chance.verdict == "consistent"
    text = " ".join(an.findings())
    assert "B* ~ d^e" in text and "consistent" in text


def test_a_wrong_ceiling_exponent_is_reported_inconsistent():
    wrong = {"gd": 0.8, "muon": 1.8}  # far from 1/3 and 4/3
    table = planted_table(exponents=wrong, scale=SCALE, seed=1)
    an = mj.analyze_critical_batch(table, n_boot=100)
    for rule in ("gd", "muon"):
        est = an.critical_exponents[rule].exponent
        assert est == pytest.approx(ALPHA * wrong[rule], abs=0.1)
    verdicts = [c.verdict for claim, _, c in an.comparisons() if "~ d^" in claim]
    assert verdicts and all(v == "inconsistent" for v in verdicts)
    assert any("grows faster than predicted" in f for f in an.findings())
    # B* still sits where the line meets the (wrong) ceiling.
    meets = [c for claim, _, c in an.comparisons() if claim.startswith("B* sits")]
    assert len(meets) == 2 and all(c.verdict == "consistent" for c in meets)


def test_points_saturated_at_n_are_excluded_and_named():
    table = planted_table(
        exponents={"muon": 1.0}, scale={"muon": 1.0}, dims=(64,), n=64, noise=0.0
    )
    (curve,) = mj.capacity_curves(table)
    fit = mj.fit_critical_batch(curve, n_boot=100)
    excluded = {e.x for e in fit.fit.excluded}
    # The plateau is N = 64 itself: every B where the value reaches 64 is excluded.
    assert excluded == {float(b) for b in curve.batch_sizes if b >= (64 / 1.4) ** 1.5}
    assert all("saturated" in e.reason for e in fit.fit.excluded)


def test_free_slope_and_fixed_slope_options():
    table = planted_table(exponents={"muon": 1.2}, scale={"muon": 0.5}, dims=(128,))
    (curve,) = mj.capacity_curves(table)
    free = mj.fit_critical_batch(curve, slope=None, n_boot=100)
    assert not free.fit.fixed_slope
    assert free.fit.slope == pytest.approx(1 / ALPHA, abs=0.05)
    fixed = mj.fit_critical_batch(curve, slope=0.5, n_boot=100)
    assert fixed.fit.slope == 0.5
    with pytest.raises(ValueError, match="slope must be 'line'"):
        mj.fit_critical_batch(curve, slope="free")


def test_fit_across_d_excludes_unresolved_breakpoints():
    # d = 32: the plateau lies below the B = 1 value, no rise is seen (B* at the
    # grid's lower edge); d = 4096: the plateau is never reached (B* beyond it).
    table = planted_table(
        exponents={"muon": 1.0},
        scale={"muon": 0.02},
        dims=(32, 256, 1024, 4096),
        sizes=tuple(2**k for k in range(9)),
    )
    an = mj.analyze_critical_batch(table, n_boot=100)
    fit = an.critical_exponents["muon"]
    reasons = {e.x: e.reason for e in fit.excluded}
    assert set(reasons) == {32.0, 4096.0}
    assert "at the edge of the measured batch sizes" in reasons[32.0]
    assert "outside the measured batch sizes" in reasons[4096.0]
    assert "two points" in " ".join(fit.flags)
    assert fit.x.tolist() == [256.0, 1024.0]


def test_fit_across_d_rejects_mixed_fits(planted_analysis):
    _, an = planted_analysis
    mixed = [an.fits[("gd", 32)], an.fits[("muon", 64)]]
    with pytest.raises(ValueError, match="must share rule"):
        mj.fit_across_d(mixed)
    with pytest.raises(ValueError, match="quantity"):
        mj.fit_across_d([an.fits[("gd", 32)]], quantity="slope")


def test_capacity_curves_checks_its_input(planted_analysis):
    table, _ = planted_analysis
    with pytest.raises(ValueError, match="measure must be one of"):
        mj.capacity_curves(table, measure="loss")
    with pytest.raises(ValueError, match="lacks the columns"):
        mj.capacity_curves(table, measure="prefix")
    # Drop one seed of one batch size: the curve's seeds no longer line up.
    keep = ~((table.data["batch_size"] == 4) & (table.data["seed"] == 0))
    broken = mj.Table(table.columns, {k: v[keep] for k, v in table.data.items()})
    with pytest.raises(ValueError, match="batch_size=4 has seeds"):
        mj.capacity_curves(broken)
    with pytest.raises(ValueError, match=r"alpha=2\.0 is not in the table"):
        mj.analyze_critical_batch(table, alpha=2.0)


# --------------------------------------------------------------------------------------
# An experiment in parts.


def _cheap_cell(config, key):
    return {"x": jax.random.uniform(key) * config["scale"], "d2": config["d"] * 2}


def test_record_parts_writes_parts_combined_table_and_resumes(tmp_path):
    parts = {
        "first": mj.Sweep(_cheap_cell, axes={"d": (1, 2), "scale": (1.0,)}),
        "second": mj.Sweep(
            _cheap_cell, axes={"d": (3,), "scale": (2.0,)}, fixed={"tag": "b"}
        ),
    }
    meta = {"experiment": "figX", "preset": "quick"}
    rec = mj.record_parts(parts, tmp_path, seeds=2, meta=meta)
    assert rec.sweep.computed == 3 and rec.sweep.loaded == 0
    table = mj.read_table(tmp_path)
    assert table.columns == ["part", "d", "scale", "seed", "step", "x", "d2", "tag"]
    assert table.data["part"].tolist() == ["first"] * 4 + ["second"] * 2
    assert table.data["tag"].tolist() == [""] * 4 + ["b"] * 2  # absent: empty
    first = mj.read_part(tmp_path, "first")
    np.testing.assert_array_equal(first.data["x"], table.data["x"][:4])
    manifest = mj.read_manifest(tmp_path)
    assert manifest["experiment"] == "figX" and set(manifest["parts"]) == {
        "first",
        "second",
    }
    part_manifest = mj.read_manifest(tmp_path / "second")
    assert "experiment" not in part_manifest and part_manifest["part"] == "second"
    again = mj.record_parts(parts, tmp_path, seeds=2, meta=meta)
    assert again.sweep.computed == 0 and again.sweep.loaded == 3
    assert len(mj.read_manifest(tmp_path)["sessions"]) == 2
    with pytest.raises(ValueError, match="no part 'third'"):
        mj.read_part(tmp_path, "third")
    with pytest.raises(ValueError, match="reserved"):
        mj.record_parts({"part": parts["first"]}, tmp_path / "x", seeds=1)
