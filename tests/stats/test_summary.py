"""Fit summaries: JSON and Markdown written beside the records, and read back."""

from __future__ import annotations

import json

import numpy as np

import muonjax as mj


def test_summary_round_trip(tmp_path):
    x = np.array([32.0, 64.0, 128.0, 256.0])
    rng = np.random.default_rng(0)
    y = [2.0 * xi**1.3 * np.exp(rng.normal(0, 0.05, 6)) for xi in x]
    fit = mj.fit_power_law(x, y, n_boot=200, seed=0)
    comp = mj.compare_fit(fit, 4 / 3, label="C of count")
    summary = mj.FitSummary(
        experiment="demo",
        rows=[mj.SummaryRow("Muon ~ d^(1+1/(2a)) [seed]", "alpha=1.5", comp)],
        fits={"muon alpha=1.5": fit},
        findings=["the exponent is within tolerance"],
        meta={"n": 1000},
    )
    paths = mj.write_fit_summary(tmp_path, summary)
    assert [p.name for p in paths] == ["fit_summary.json", "fit_summary.md"]
    data = mj.read_fit_summary(tmp_path)
    assert data == json.loads(paths[0].read_text())
    row = data["rows"][0]
    assert row["verdict"] == comp.verdict and row["group"] == "alpha=1.5"
    assert abs(row["estimate"] - fit.exponent) < 1e-12
    assert data["fits"]["muon alpha=1.5"]["exponent"] == fit.exponent
    md = paths[1].read_text()
    assert "| Muon ~ d^(1+1/(2a)) [seed] | alpha=1.5 |" in md
    assert comp.verdict in md and "the exponent is within tolerance" in md
