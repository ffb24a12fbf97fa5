"""The fit-window rules of muonjax.stats.windows: testable sizes, settled slopes."""

from __future__ import annotations

import math

import numpy as np
import pytest

from muonjax.stats import windows
from muonjax.stats.verdict import compare


def test_testable_sizes_needs_enough_items_and_room_below_n():
    xs = [16, 32, 64, 128, 256]
    means = [2.0, 13.0, 45.0, 126.0, 1200.0]
    mask, why = windows.testable_sizes(xs, means, 10_000)
    # 16 and 32 count fewer than 20 items; 256 counts more than N / 10.
    assert mask.tolist() == [False, False, True, True, False]
    assert set(why) == {16.0, 32.0, 256.0}
    assert all(r.startswith(windows.NOT_TESTABLE) for r in why.values())
    assert "< 20 items" in why[16.0] and "N / 10" in why[256.0]
    # The margin and the least count are parameters; no ceiling skips that test.
    mask, _ = windows.testable_sizes(xs, means, 10_000, margin=5, min_count=10)
    assert mask.tolist() == [False, True, True, True, True]
    assert windows.testable_sizes(xs, means, None)[0].tolist() == [0, 0, 1, 1, 1]
    # A preset designed with a law's predicted counts (larger than the measured).
    pred = np.asarray(xs, float) ** 1.8
    mask, _ = windows.testable_sizes(xs, means, 20_000, counts=pred)  # 64^1.8 = 1783
    assert mask.tolist() == [False, False, True, False, False]


def test_testable_sizes_rejects_bad_arguments():
    with pytest.raises(ValueError, match="means must match"):
        windows.testable_sizes([1, 2], [1.0], 10)
    with pytest.raises(ValueError, match="margin"):
        windows.testable_sizes([1], [1.0], 10, margin=0)


def _power(xs, slopes, y0=30.0):
    """A curve whose local log-log slopes between consecutive xs are ``slopes``."""
    ys = [y0]
    for i, s in enumerate(slopes):
        ys.append(ys[-1] * (xs[i + 1] / xs[i]) ** s)
    return ys


def test_the_window_starts_where_the_local_slopes_settle():
    xs = [32, 64, 128, 256]
    # Muon's one-step slopes (SPEC D): 1.79, 1.48, 1.39 -- they settle from d = 64.
    w = windows.settled_window(xs, _power(xs, [1.79, 1.48, 1.39]), settle=0.2)
    assert w.window == (64.0, 128.0, 256.0) and w.settled and w.withheld is None
    assert w.local_slopes == pytest.approx((1.79, 1.48, 1.39))
    assert "32" in w.excluded[32.0] and "window start 64" in w.excluded[32.0]
    # Trend: slopes fall by 0.2 per doubling on average.
    assert w.trend == pytest.approx(np.polyfit([0, 1, 2], [1.79, 1.48, 1.39], 1)[0])
    # Slopes already flat from the start: the whole range is the window.
    w = windows.settled_window(xs, _power(xs, [1.40, 1.35, 1.38]), settle=0.2)
    assert w.window == tuple(map(float, xs)) and not w.excluded
    # Slopes that never settle: the last 3 sizes, verdict withheld.
    w = windows.settled_window(xs, _power(xs, [2.5, 1.9, 1.3]), settle=0.2)
    assert w.window == (64.0, 128.0, 256.0) and not w.settled
    assert w.withheld.startswith(windows.NOT_SETTLED)


def test_the_window_skips_untestable_sizes_and_says_when_none_is_left():
    xs = [16, 32, 64, 128, 256]
    means = _power(xs, [1.4, 1.4, 1.4, 1.4], y0=10.0)  # 10, 26, 70, 185, 492
    mask, why = windows.testable_sizes(xs, means, 5000)  # 256 > N/10 = 500? no
    w = windows.settled_window(xs, means, settle=0.2, testable=mask, reasons=why)
    assert w.window == (32.0, 64.0, 128.0, 256.0)
    assert w.excluded[16.0].startswith(windows.NOT_TESTABLE)
    mask, why = windows.testable_sizes(xs, means, 1500)  # 185 and 492 > 150
    w = windows.settled_window(xs, means, settle=0.2, testable=mask, reasons=why)
    assert w.window == () and math.isnan(w.start)
    assert w.withheld.startswith(windows.NOT_TESTABLE)
    assert "2 testable size(s)" in w.withheld


def test_gate_withholds_the_verdict_and_says_why():
    row = compare(1.40, (1.38, 1.42), 4 / 3)
    assert row.verdict == "consistent"
    xs = [32, 64, 128]
    settled = windows.settled_window(xs, _power(xs, [1.4, 1.4]), settle=0.2)
    assert settled.gate(row) is row
    mask, why = windows.testable_sizes(xs, [5.0, 8.0, 12.0], 1000)
    none = windows.settled_window(
        xs, [5.0, 8.0, 12.0], settle=0.2, testable=mask, reasons=why
    )
    gated = none.gate(row)
    assert gated.verdict == "inconclusive"
    assert gated.reason.startswith(windows.NOT_TESTABLE)
    assert gated.estimate == row.estimate  # the number is kept, the verdict is not
    d = none.to_dict()
    assert d["window"] == [] and d["withheld"] == gated.reason


def test_settled_window_rejects_bad_arguments():
    with pytest.raises(ValueError, match="settle"):
        windows.settled_window([1, 2, 4], [1, 2, 4], settle=-1)
    with pytest.raises(ValueError, match="min_points"):
        windows.settled_window([1, 2, 4], [1, 2, 4], settle=0.1, min_points=1)
