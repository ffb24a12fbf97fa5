"""Verdicts: the rule of muonjax.stats.verdict, case by case."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

import muonjax as mj
from muonjax.stats import verdict as _verdict


@pytest.mark.parametrize(
    "interval, prediction, expected, distance",
    [
        ((1.38, 1.46), 4 / 3, "consistent", 0.38 - 1 / 3),  # 0.047 <= 0.1
        ((1.30, 1.40), 4 / 3, "consistent", 0.0),  # contains it
        ((1.58, 1.66), 4 / 3, "inconsistent", 1.58 - 4 / 3),  # 0.247 > 0.1
        ((1.00, 1.20), 4 / 3, "inconsistent", 4 / 3 - 1.20),  # 0.133 below
        ((1.00, 1.50), 4 / 3, "inconclusive", 0.0),  # width 0.5 > 0.25
    ],
)
def test_equality_rule(interval, prediction, expected, distance):
    c = mj.compare(np.mean(interval), interval, prediction)
    assert c.verdict == expected
    assert c.distance == pytest.approx(distance)
    assert c.tolerance == _verdict.DEFAULT_TOLERANCE
    assert c.max_width == _verdict.DEFAULT_MAX_WIDTH


@pytest.mark.parametrize(
    "relation, interval, expected",
    [
        ("<=", (0.9, 1.05), "consistent"),  # reaches below the bound
        ("<=", (1.2, 1.3), "inconsistent"),
        (">=", (0.9, 1.0), "consistent"),  # within tolerance 0.1 of 1 from below
        (">=", (0.7, 0.8), "inconsistent"),
        (">", (0.1, 0.2), "consistent"),  # whole interval above 0
        (">", (-0.1, 0.2), "inconclusive"),  # straddles
        (">", (-0.2, 0.0), "inconsistent"),  # at or below: no superiority
        ("<", (-0.3, -0.1), "consistent"),
        ("<", (0.0, 0.3), "inconsistent"),
    ],
)
def test_inequality_rules(relation, interval, expected):
    prediction = 1.0 if relation in ("<=", ">=") else 0.0
    tol = 0.1 if relation in ("<=", ">=") else 0.0
    width = 0.25 if relation in ("<=", ">=") else math.inf
    c = mj.compare(
        np.mean(interval),
        interval,
        prediction,
        relation=relation,
        tolerance=tol,
        max_width=width,
    )
    assert c.verdict == expected, c.reason


def test_no_estimate_is_inconclusive_and_the_width_can_be_unbounded():
    c = mj.compare(math.nan, (math.nan, math.nan), 1.0)
    assert c.verdict == "inconclusive" and "no finite" in c.reason
    wide = mj.compare(0.0, (-5.0, 5.0), 0.0, max_width=math.inf)
    assert wide.verdict == "consistent"


def test_compare_fit_carries_the_fits_exclusions_into_the_notes():
    x = np.array([64.0, 128.0, 256.0, 512.0])
    y = np.array([[10, 12], [20, 22], [40, 44], [0, 0]], dtype=float)
    fit = mj.fit_power_law(x, y)
    c = mj.compare_fit(fit, 1.0, label="C")
    # Slope 0.97 [0.87, 1.07] on x = 64..256 (x = 512 is excluded): consistent.
    assert c.verdict == "consistent"
    assert any("excluded x=512" in n for n in c.notes)
    d = c.to_dict()
    json.dumps(d, allow_nan=False)
    assert d["label"] == "C" and d["relation"] == "=="


def test_texts_for_tables():
    c = mj.compare(1.42, (1.38, 1.46), 4 / 3)
    assert c.prediction_text == "1.333 ± 0.1"
    assert c.interval_text == "[1.38, 1.46]"
    le = mj.compare(0.5, (0.4, 0.6), 1.0, relation="<=", tolerance=0.0)
    assert le.prediction_text == "≤ 1"


def test_combine_verdicts():
    assert mj.combine_verdicts(["consistent", "consistent"]) == "consistent"
    assert mj.combine_verdicts(["consistent", "inconclusive"]) == "inconclusive"
    assert mj.combine_verdicts(["inconclusive", "inconsistent"]) == "inconsistent"
    assert mj.combine_verdicts([]) == "inconclusive"
    with pytest.raises(ValueError, match="unknown verdict"):
        mj.combine_verdicts(["maybe"])


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"relation": "~"}, "relation"),
        ({"tolerance": -0.1}, "tolerance"),
        ({"max_width": 0.0}, "max_width"),
    ],
)
def test_bad_arguments_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        mj.compare(1.0, (0.9, 1.1), 1.0, **kwargs)
    with pytest.raises(ValueError, match="lo <= hi"):
        mj.compare(1.0, (1.1, 0.9), 1.0)
    with pytest.raises(ValueError, match="prediction"):
        mj.compare(1.0, (0.9, 1.1), math.inf)
