"""Verdicts for deterministic measurements: window slopes and exact values.

Peers: the verdict rule itself (``compare`` on the same numbers, written out), exact
power laws and exponentials.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from muonjax.stats.deterministic import (
    compare_point,
    compare_window,
    decay_rate,
    loglog_slope,
)
from muonjax.stats.slopes import window_slope
from muonjax.stats.verdict import compare


def test_loglog_slope_and_decay_rate_are_exact_for_their_laws():
    assert loglog_slope(lambda x: 3.0 * x**-1.5, 7.0) == pytest.approx(-1.5, 1e-12)
    assert decay_rate(lambda t: 2.0 * math.exp(-0.3 * t), 11.0) == pytest.approx(
        0.3, rel=1e-12
    )


def test_compare_window_is_compare_on_the_scaled_window_range():
    t = np.arange(1, 1001.0)
    y = 1.0 / t + 5.0 / t**1.5  # bent: the slope depends on the window
    ws = window_slope(t, y, [(100, 1000), (10, 100), (300, 1000)])
    row = compare_window(ws, 1.0, label="rate", scale=-1.0, relation="<=")
    lo, hi = sorted((-ws.interval[0], -ws.interval[1]))
    ref = compare(-ws.estimate, (lo, hi), 1.0, relation="<=", label="rate")
    assert (row.estimate, row.interval, row.verdict) == (
        ref.estimate,
        ref.interval,
        ref.verdict,
    )
    assert row.interval[0] <= row.estimate <= row.interval[1]
    # The first note lists every window with its scaled slope.
    for (a, b), slope in zip(ws.windows, ws.slopes, strict=True):
        assert f"[{a:.4g}, {b:.4g}]: {-slope:.4g}" in row.notes[0]


def test_compare_point_has_the_point_as_interval():
    row = compare_point(0.3, 1.0, label="ratio", relation="<=", notes=["n"])
    assert row.interval == (0.3, 0.3) and row.verdict == "consistent"
    assert row.notes[-1] == "n" and math.isinf(row.max_width)
    bad = compare_point(1.2, 1.0, label="ratio", relation="<=", tolerance=0.1)
    assert bad.verdict == "inconsistent"
