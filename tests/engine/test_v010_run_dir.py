"""A run directory written by release 0.1.0 still loads, plots and resumes.

The fixture ``tests/fixtures/run_v010_fig2`` is a small Figure 2 run made by muonjax
0.1.0 (see ``tests/fixtures/README.md``). Re-running its command into a copy must
compute nothing and give the same records, re-keying its cells under their new
ids (0.1.0 named them by their configuration alone); ``muonjax plot`` must redraw
it. A run with another configuration into such a directory never uses its cells.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np

import muonjax as mj
from muonjax import cli

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "run_v010_fig2"
COMMAND = [
    "run",
    "fig2",
    "--preset",
    "quick",
    "--set",
    "n=400",
    "--set",
    "dims=8,16",
    "--set",
    "alphas=1.5,2.0",
    # 0.1.0's quick preset ran these rules; 0.2 adds newton_rel (the relative
    # ridge), which the old run never had: the command of the old run names them.
    "--set",
    "rules=gd,muon,newton",
    "--seeds",
    "2",
    "--no-progress",
]


def _copy(tmp_path: Path) -> Path:
    out = tmp_path / "run"
    shutil.copytree(FIXTURE, out)
    return out


def test_an_old_run_directory_loads_and_plots(tmp_path, capsys):
    out = _copy(tmp_path)
    table = mj.read_table(out)
    assert len(table) == 2 * 3 * 2 * 2  # d x rule x alpha x seed
    assert cli.main(["plot", str(out)]) == 0
    assert (out / "fig2.png").exists()
    summary = json.loads((out / "fit_summary.json").read_text())
    assert summary["experiment"] == "fig2"


def test_an_old_run_directory_resumes_without_recomputing(tmp_path, capsys):
    out = _copy(tmp_path)
    old_names = {p.name for p in (out / "cells").glob("*.json")}
    before = mj.read_table(out)
    assert cli.main([*COMMAND, "--out", str(out), "--no-plot"]) == 0
    assert "(0 cells computed, 12 loaded)" in capsys.readouterr().out
    after = mj.read_table(out)
    assert after.columns == before.columns
    for name in before.columns:
        np.testing.assert_array_equal(after.data[name], before.data[name], name)
    sessions = json.loads((out / "manifest.json").read_text())["sessions"]
    assert len(sessions) == 2
    # Re-keyed: every cell now lives under its identity's id, never its old name.
    assert sessions[-1]["rekeyed_from_0.1.0"] == 12
    cells = list((out / "cells").glob("*.json"))
    assert len(cells) == 12 and not {p.name for p in cells} & old_names
    for path in cells:
        data = json.loads(path.read_text())
        assert data["schema"] == 2 and data["identity"]["config"] == data["config"]
    # And a second resume finds them under the new ids.
    assert cli.main([*COMMAND, "--out", str(out), "--no-plot"]) == 0
    assert "(0 cells computed, 12 loaded)" in capsys.readouterr().out


def test_another_config_never_uses_the_old_cells(tmp_path, capsys):
    out = _copy(tmp_path)
    old = {p.name: p.read_bytes() for p in (out / "cells").glob("*.json")}
    # Another root seed, and only GD (4 cheap cells) to keep the test short.
    argv = [*COMMAND, "--out", str(out), "--no-plot", "--set", "root_seed=1"]
    assert cli.main([*argv, "--set", "rules=gd"]) == 0
    captured = capsys.readouterr()
    assert "(4 cells computed, 0 loaded)" in captured.out
    assert "holds cells of muonjax 0.1.0 from a run with another configuration" in (
        captured.err
    )
    for name, data in old.items():  # kept as they were, not used
        assert (out / "cells" / name).read_bytes() == data


def test_recomputing_the_old_run_gives_the_same_numbers_seed_for_seed(tmp_path, capsys):
    # The redesign moved every module; the numbers must not move: the same command
    # in a fresh directory reproduces 0.1.0's records exactly (every column).
    out = tmp_path / "fresh"
    assert cli.main([*COMMAND, "--out", str(out), "--no-plot"]) == 0
    assert "(12 cells computed, 0 loaded)" in capsys.readouterr().out
    old, new = mj.read_table(FIXTURE), mj.read_table(out)
    assert new.columns == old.columns
    for name in old.columns:
        np.testing.assert_array_equal(new.data[name], old.data[name], name)
