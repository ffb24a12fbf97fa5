"""``record_parts`` as Figure 1 uses it: parts, a combined table, resuming."""

from __future__ import annotations

import jax
import numpy as np
import pytest

import muonjax as mj


def _cheap_cell(config, key):
    return {"x": jax.random.uniform(key) * config["scale"], "d2": config["d"] * 2}


def test_record_parts_writes_parts_combined_table_and_resumes(tmp_path):
    parts = {
        "first": mj.Sweep(_cheap_cell, axes={"d": (1, 2), "scale": (1.0,)}),
        "second": mj.Sweep(
            _cheap_cell, axes={"d": (3,), "scale": (2.0,)}, fixed={"tag": "b"}
        ),
    }
    meta = {"experiment": "figX", "preset": "quick"}
    rec = mj.record_parts(parts, tmp_path, seeds=2, meta=meta)
    assert rec.sweep.computed == 3 and rec.sweep.loaded == 0
    table = mj.read_table(tmp_path)
    assert table.columns == ["part", "d", "scale", "seed", "step", "x", "d2", "tag"]
    assert table.data["part"].tolist() == ["first"] * 4 + ["second"] * 2
    assert table.data["tag"].tolist() == [""] * 4 + ["b"] * 2  # absent: empty
    first = mj.read_part(tmp_path, "first")
    np.testing.assert_array_equal(first.data["x"], table.data["x"][:4])
    manifest = mj.read_manifest(tmp_path)
    assert manifest["experiment"] == "figX" and set(manifest["parts"]) == {
        "first",
        "second",
    }
    part_manifest = mj.read_manifest(tmp_path / "second")
    assert "experiment" not in part_manifest and part_manifest["part"] == "second"
    again = mj.record_parts(parts, tmp_path, seeds=2, meta=meta)
    assert again.sweep.computed == 0 and again.sweep.loaded == 3
    assert len(mj.read_manifest(tmp_path)["sessions"]) == 2
    with pytest.raises(ValueError, match="no part 'third'"):
        mj.read_part(tmp_path, "third")
    with pytest.raises(ValueError, match="reserved"):
        mj.record_parts({"part": parts["first"]}, tmp_path / "x", seeds=1)
