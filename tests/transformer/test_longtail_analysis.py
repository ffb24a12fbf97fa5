"""The long-tailed facts analysis on synthetic records with known answers."""

from __future__ import annotations

import numpy as np
import pytest

import muonjax as mj
from muonjax import transformer as tx
from muonjax.transformer import longtail_analysis as la

STEPS = np.arange(0, 1001, 100)
SUBJECTS, RELATIONS, VALUES = 512, 4, 64
TOTAL = SUBJECTS * RELATIONS


def _table(curves):
    """Records from ``{(optimizer, lr): (final loss (K,), facts, tail (K, E))}``."""
    rows = []
    for (opt, lr), (loss, facts, tail) in curves.items():
        for k in range(facts.shape[0]):
            for j, step in enumerate(STEPS):
                acc = facts[k, j] / TOTAL
                rows.append(
                    {
                        "beta": 1.0,
                        "optimizer": opt,
                        "lr": lr,
                        "subjects": SUBJECTS,
                        "relations": RELATIONS,
                        "values": VALUES,
                        "seed": k,
                        "step": int(step),
                        "loss": loss[k] + (STEPS.size - 1 - j),
                        "accuracy": acc,
                        "facts_learned": facts[k, j],
                        "acc_b0": min(1.0, 3 * acc),
                        "acc_b1": tail[k, j],
                    }
                )
    columns = list(rows[0])
    data = {c: np.array([r[c] for r in rows]) for c in columns}
    return mj.Table(columns, data)


def _power(a, c, noise, seeds=4, seed=0):
    rng = np.random.default_rng(seed)
    t = np.maximum(STEPS, 1)
    scale = np.exp(noise * rng.normal(size=(seeds, 1)))
    facts = a * scale * t**c
    facts[:, 0] = 0.0
    return np.minimum(facts, TOTAL)


@pytest.fixture(scope="module")
def table():
    muon_tail = np.clip(
        np.linspace(0, 0.9, STEPS.size) + 0.02 * np.arange(4)[:, None], 0, 1
    )
    adam_tail = np.clip(
        np.linspace(0, 0.6, STEPS.size) + 0.02 * np.arange(4)[:, None], 0, 1
    )
    return _table(
        {
            ("adamw", 1e-3): (np.full(4, 2.0), _power(0.5, 0.8, 0.05), adam_tail),
            ("adamw", 3e-3): (np.full(4, 1.5), _power(0.5, 0.8, 0.05), adam_tail),
            ("muon", 0.01): (
                np.full(4, 1.4),
                _power(0.1, 1.2, 0.05, seed=1),
                muon_tail,
            ),
            ("muon", 0.03): (np.full(4, np.nan), _power(0.1, 1.2, 0.05), adam_tail),
        }
    )


def test_choose_lr_takes_the_lowest_mean_final_loss():
    assert tx.choose_lr([1e-3, 3e-3, 1e-2], [[2, 2], [1, 1.2], [1.5, 0.5]]) == 1e-2
    assert tx.choose_lr([1e-3, 3e-3], [[1, np.nan], [2, 2]]) == 3e-3  # diverged: inf
    assert tx.choose_lr([3e-3, 1e-3], [[1, 1], [1, 1]]) == 1e-3  # tie: the smaller
    with pytest.raises(ValueError, match="final_loss"):
        tx.choose_lr([1e-3], [[1.0], [2.0]])


def test_chosen_learning_rates_and_curves(table):
    assert la.chosen_lrs(table) == {(1.0, "adamw"): 3e-3, (1.0, "muon"): 0.01}
    c = la.longtail_curves(table, beta=1.0, optimizer="muon")
    assert c.lr == 0.01 and c.total == TOTAL and c.chance == TOTAL / VALUES
    assert c.bucket.shape == (4, STEPS.size, 2) and c.facts.shape == (4, STEPS.size)
    np.testing.assert_array_equal(c.steps, STEPS)


def test_the_tail_gap_is_the_mean_paired_difference(table):
    gap = la.tail_gap(table, beta=1.0, step=-1)
    diff = np.linspace(0, 0.3, STEPS.size)[1:].mean()  # the same for every seed
    np.testing.assert_allclose(gap.per_seed, diff)
    assert gap.estimate == pytest.approx(diff) and gap.interval[0] <= gap.estimate
    last = la.tail_gap(table, beta=1.0)
    assert last.step == 1000
    assert last.estimate == pytest.approx(0.3)
    with pytest.raises(ValueError, match="step 150"):
        la.tail_gap(table, beta=1.0, step=150)


def test_facts_fits_recover_the_exponents_over_a_shared_window(table):
    ff = la.facts_fits(table, beta=1.0)
    assert ff.fits["muon"].exponent == pytest.approx(1.2, abs=0.02)
    assert ff.fits["adamw"].exponent == pytest.approx(0.8, abs=0.02)
    assert "paired bootstrap" in ff.difference.notes
    assert ff.difference.estimate == pytest.approx(0.4, abs=0.03)
    assert ff.difference.interval[0] > 0.3
    lo, hi = ff.window
    assert lo == 2 * TOTAL / VALUES and hi == 0.9 * TOTAL
    # Inside the window both means lie within it; steps outside are excluded.
    for opt in ("muon", "adamw"):
        c = la.longtail_curves(table, beta=1.0, optimizer=opt)
        means = c.facts.mean(axis=0)
        inside = np.isin(c.steps, ff.steps)
        assert np.all((means[inside] >= lo) & (means[inside] <= hi))
    res = tx.longtail_comparisons(table, beta=1.0)
    assert res.tail.verdict == "consistent" and res.slope.verdict == "consistent"
    assert res.slope.relation == ">" and res.slope.prediction == 0.0


def test_steps_to_reach_a_threshold(table):
    c = la.longtail_curves(table, beta=1.0, optimizer="adamw")
    reach = la.steps_to_reach(c, 0.5)
    for k in range(4):
        tail = np.linspace(0, 0.6, STEPS.size) + 0.02 * k
        assert reach[k, 1] == STEPS[np.argmax(tail >= 0.5)]
    assert np.isnan(la.steps_to_reach(c, 0.99)[0, 1])


def test_bucket_frequencies_average_the_power_law():
    f = la.bucket_frequencies(512, 1.0, 5)
    which, _ = tx.frequency_buckets(512, 5)
    counts = np.bincount(which)
    assert np.sum(f * counts) == pytest.approx(1.0)
    assert np.all(np.diff(f) < 0)
