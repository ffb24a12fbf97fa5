"""Tests of ``gaussian.analysis.policy``: one fit policy per claim, on planted tables.

Peers: ``numpy.polyfit`` on the log means over the window (the exponent), and the
window rules of :mod:`muonjax.stats.windows` (tested on their own in
``tests/stats/test_windows.py``).
"""

from __future__ import annotations

import numpy as np
import pytest

from muonjax.engine.table import Table
from muonjax.gaussian.analysis import policy
from muonjax.stats import windows


def _planted(c: float, *, n: int, dims=(16, 32, 64, 128), seeds=4, seed=0) -> Table:
    """One-step records with count ~ 3 d^c (5% noise), prefix = count / 2."""
    rng = np.random.default_rng(seed)
    rows = []
    for d in dims:
        for s in range(seeds):
            value = 3.0 * d**c * np.exp(0.05 * rng.standard_normal())
            rows.append(
                {
                    "rule": "muon",
                    "alpha": 1.5,
                    "d": d,
                    "n": n,
                    "seed": s,
                    "count": value,
                    "prefix": value / 2,
                }
            )
    return Table(list(rows[0]), {k: np.asarray([r[k] for r in rows]) for k in rows[0]})


def _fit(table: Table, prediction: float) -> policy.PolicyFit:
    fits = policy.policy_group_fits(
        table,
        groups=("rule", "alpha"),
        policy=policy.POLICIES["muon_one_step"],
        predict=lambda _: prediction,
        n_boot=300,
    )
    (pf,) = fits.values()
    return pf


def test_every_verdict_of_an_exponent_claim_is_reached():
    big = _planted(1.4, n=10_000_000)
    pf = _fit(big, 1.4)
    assert pf.comparison.verdict == "consistent"
    assert pf.window.window == (16.0, 32.0, 64.0, 128.0)
    dims = (16, 32, 64, 128)
    means = [big.where(d=d).data["count"].mean() for d in dims]
    want = np.polyfit(np.log(dims), np.log(means), 1)[0]
    assert pf.fit.exponent == pytest.approx(want, abs=1e-6)
    assert _fit(big, 1.0).comparison.verdict == "inconsistent"
    # N = 2,000: every count above N / 10 = 200 (d >= 32) cannot test the law, and
    # 16 alone is no window: "not testable at this size", whatever the exponent.
    small = _planted(1.4, n=2000)
    for prediction in (1.4, 1.0):
        pf = _fit(small, prediction)
        assert pf.comparison.verdict == "inconclusive"
        assert pf.comparison.reason.startswith(windows.NOT_TESTABLE)
        assert pf.window.window == ()
        assert "count 394.3 > N / 10 = 200" in pf.comparison.reason


def test_the_smallest_counts_leave_the_window():
    # count(16) = 3 * 16^0.9 ~ 36 items, count(8) ~ 19 < 20: 8 is not testable.
    pf = _fit(_planted(0.9, n=10_000_000, dims=(8, 16, 32, 64)), 0.9)
    assert pf.window.window == (16.0, 32.0, 64.0)
    assert pf.window.excluded[8.0].startswith(windows.NOT_TESTABLE)
    assert pf.comparison.verdict == "consistent"


def test_claims_and_policies_are_one_table():
    assert set(policy.POLICIES) <= set(policy.CLAIMS)
    for claim, pol in policy.POLICIES.items():
        assert pol.claim == claim and pol.settle == 2 * pol.tolerance
    assert policy.claim_text("muon_one_step", "x") == (
        "A.5 one population Muon step, capacity: x"
    )
    with pytest.raises(ValueError, match="claim must be one of"):
        policy.ExponentPolicy("no_such_claim")
