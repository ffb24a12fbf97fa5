"""Tests of ``gaussian.figures.panels``: fits and predictions drawn in place."""

from __future__ import annotations

import numpy as np

import muonjax as mj
from muonjax.engine.table import Table


def _power_law_records(exponents: dict[float, float], dims=(16, 32, 64, 128)):
    """Muon records whose count is ``3 d^C(alpha)`` with 5% noise, 5 seeds."""
    rng = np.random.default_rng(0)
    keys = [(a, d, s) for a in exponents for d in dims for s in range(5)]
    alpha, d, seed = (np.asarray(v) for v in zip(*keys, strict=True))
    count = 3.0 * d ** np.vectorize(exponents.get)(alpha)
    count = count * np.exp(0.05 * rng.standard_normal(len(keys)))
    data = {
        "rule": np.full(len(keys), "muon", object),
        "alpha": alpha,
        "d": d,
        "n": np.full(len(keys), 10_000),
        "seed": seed,
        "count": count,
    }
    return Table(list(data), data)


def test_panels_draw_fits_and_predictions():
    from matplotlib.figure import Figure

    t = _power_law_records({1.5: 1.3, 2.0: 1.2})
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
