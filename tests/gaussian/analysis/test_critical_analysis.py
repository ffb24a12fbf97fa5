"""Tests of ``gaussian.analysis.critical`` and ``critical_curves``: the fits of B*.

Synthetic curves with a planted critical batch size ``min(a B^(1/alpha), P d^C)``.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import muonjax as mj
from muonjax.gaussian import figures

ALPHA = 1.5


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


# GD's plateau 7 d^(1/3) counts 22..44 items at d = 32..256: every d tests the law
# (the claims' policy needs >= 20 items, muonjax.stats.windows).
SCALE = {"gd": 7.0, "muon": 0.3}


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
    # Every claim starts with its SPEC row ("A.5 critical batch size: ..."); the
    # rows are told apart by the text after it.
    assert all(claim.startswith("A.5 ") for claim, _, _ in an.comparisons())
    rows = {
        (claim.split(": ", 1)[1].split(" [")[0], group): c
        for claim, group, c in an.comparisons()
    }
    crit = [c for (claim, _), c in rows.items() if "B* ~ d^e" in claim]
    assert len(crit) == 2 and all(c.verdict == "consistent" for c in crit)
    meets = [c for (claim, _), c in rows.items() if claim.startswith("B* sits")]
    assert len(meets) == 2 and all(c.verdict == "consistent" for c in meets)
    larger = [c for (claim, _), c in rows.items() if claim.startswith("Muon satur")]
    assert len(larger) == 4 and all(c.verdict == "consistent" for c in larger)
    # No chance recoveries were planted: the mean is 0 <= 1.
    (chance,) = [c for (claim, _), c in rows.items() if claim.startswith("one mini")]
    assert chance.estimate == 0.0 and chance.verdict == "consistent"
    text = " ".join(figures.critical.findings(an))
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
    assert any(
        "grows faster than predicted" in f for f in figures.critical.findings(an)
    )
    # B* still sits where the line meets the (wrong) ceiling.
    meets = [c for claim, _, c in an.comparisons() if ": B* sits" in claim]
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


def test_too_few_items_make_the_exponent_rows_not_testable():
    # GD's plateau 1.5 d^(1/3) counts 5..9 items: below the policy's 20 at every d,
    # so no GD exponent row gets a verdict; Muon's (30..490 items) still does.
    table = planted_table(exponents=PREDICTED, scale={"gd": 1.5, "muon": 0.3})
    an = mj.analyze_critical_batch(table, n_boot=100)
    gd = [c for _, group, c in an.comparisons() if group.startswith("rule=gd")]
    assert len(gd) == 4
    for c in gd:
        assert c.verdict == "inconclusive"
        assert c.reason.startswith(mj.stats.windows.NOT_TESTABLE)
        assert "32: mean count 4.81 < 20 items" in c.reason
    muon = [c for _, group, c in an.comparisons() if group.startswith("rule=muon")]
    assert muon and all(c.verdict == "consistent" for c in muon)
