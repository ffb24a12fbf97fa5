"""Tests of ``gaussian.figures.panels``: fits and predictions drawn in place."""

from __future__ import annotations

import numpy as np

import muonjax as mj
from muonjax.engine.table import Table


def _table(rows: list[dict]) -> Table:
    columns = list(rows[0])
    data = {c: np.asarray([r[c] for r in rows]) for c in columns}
    return Table(columns, data)


def _synthetic(exponents: dict, dims=(16, 32, 64, 128), seeds=5, n=10_000, seed=0):
    """Records whose count ~ 3 d^C with multiplicative noise, per (rule, alpha)."""
    rng = np.random.default_rng(seed)
    rows = []
    for (rule, alpha), c in exponents.items():
        for d in dims:
            for s in rng.permutation(seeds):  # rows out of seed order on purpose
                value = 3.0 * d**c * np.exp(0.05 * rng.standard_normal())
                rows.append(
                    {
                        "d": d,
                        "rule": rule,
                        "alpha": alpha,
                        "n": n,
                        "seed": int(s),
                        "step": 1,
                        "count": float(value),
                        "prefix": float(value / 2),
                    }
                )
    return _table(rows)


def test_panels_draw_fits_and_predictions():
    from matplotlib.figure import Figure

    t = _synthetic({("muon", 1.5): 1.3, ("muon", 2.0): 1.2})
    fits = mj.fit_exponents(t, groups=("rule", "alpha"), n_boot=200)
    fig = Figure()
    ax = fig.subplots()
    zeros = mj.capacity_panel(
        ax,
        t,
        series="alpha",
        fits=fits,
        fit_key=lambda a: {"rule": "muon", "alpha": a},
        predict=lambda a: 1 + 1 / (2 * a),
    )
    assert zeros == 0
    # Per alpha: one dashed fit line and one dotted prediction.
    styles = [
        line.get_linestyle() for line in ax.get_lines() if len(line.get_xdata()) == 20
    ]
    assert styles.count("--") == 2 and styles.count(":") == 2
    dashed = next(line for line in ax.get_lines() if line.get_linestyle() == "--")
    f = fits.get(rule="muon", alpha=1.5)
    np.testing.assert_allclose(dashed.get_ydata(), f.predict(dashed.get_xdata()))
    ax2 = fig.add_subplot(2, 1, 2)
    mj.exponent_panel(
        ax2, [(1 / a, fits.get(rule="muon", alpha=a)) for a in (1.5, 2.0)]
    )
    assert len(ax2.containers) == 1
