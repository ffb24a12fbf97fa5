"""The Part B check catalogue: a check's rows are its claim's rows.

One fit policy per claim: ``muonjax check`` and ``result.comparisons()`` build their
rows with the same ``*_outcome`` function, so a check run and a direct measurement at
the same sizes list the same estimates, intervals and verdicts. Shown at the tiny
preset for the two checks that measure through the sweep engine (random bases) and
one deterministic one. (Every Part B check runs at the tiny preset in
``tests/gaussian/test_checks.py``, with the whole catalogue.)
"""

from __future__ import annotations

import math

import pytest

import muonjax as mj
from muonjax import orthogonal as og
from muonjax.engine import registry

NAMES = ("orth_block_symmetry", "orth_signgd_random_basis", "orth_tra_signgd")


@pytest.fixture(scope="module")
def tiny():
    results = mj.run_checks(NAMES, preset="tiny", progress=None)
    return {r.name: r for r in results}


def _measure(name):
    sz = registry._CHECKS[name].sizes["tiny"]
    if name == "orth_block_symmetry":
        return og.measure_block_symmetry(
            num_groups=sz["M"],
            group_size=sz["C"],
            dim=sz["d"],
            steps=sz["steps"],
            seeds=sz["seeds"],
            rules=tuple(sz["rules"]),
        )
    if name == "orth_signgd_random_basis":
        return og.measure_signgd_random_basis(
            num_groups=sz["M"],
            group_size=sz["C"],
            dim=sz["d"],
            beta=sz["beta"],
            lr=sz["lr"],
            steps=sz["steps"],
            seeds=sz["seeds"],
        )
    return og.measure_tra_signgd(
        shapes=tuple(map(tuple, sz["shapes"])),
        alphas=tuple(sz["alphas"]),
        beta=sz["beta"],
        lr=sz["lr"],
        steps=sz["steps"],
    )


@pytest.mark.parametrize("name", NAMES)
def test_a_check_lists_the_rows_of_its_measurement(tiny, name):
    check = tiny[name]
    assert check.error is None and check.part == "B"
    rows = _measure(name).comparisons()
    got = [*check.comparisons, *check.info]
    assert [c.label for c in rows] == [c.label for c in got]
    for a, b in zip(rows, got, strict=True):
        assert a.verdict == b.verdict, a.label
        assert a.estimate == pytest.approx(b.estimate, rel=1e-12, nan_ok=True)
        for x, y in zip(a.interval, b.interval, strict=True):
            assert (math.isnan(x) and math.isnan(y)) or x == pytest.approx(y, 1e-12)
