"""Tests of the ``muonjax`` command line: list, run, plot, help and errors."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from pathlib import Path
from typing import Literal

import jax
import numpy as np
import pytest

import muonjax as mj
from muonjax import cli
from muonjax.engine import settings

ROOT = Path(__file__).resolve().parents[1]

#: The columns of fig2's records, as documented in docs/sweeps.md.
FIG2_COLUMNS = [
    "d",
    "rule",
    "alpha",
    "n",
    "gd_lr",
    "muon_lr_scale",
    "newton_lr",
    "newton_ridge",
    "with_loss",
    "dtype",
    "update_dtype",
    "seed",
    "step",
    "loss",
    "count",
    "prefix",
    "weighted_accuracy",
]

TINY = ["--set", "n=256", "--set", "dims=8,16", "--set", "alphas=1.5,2.0"]
TINY += ["--set", "rules=gd,muon"]  # Newton's vmapped step: test_sweep_lapack.py


def run_cli(*argv: str) -> int:
    return cli.main(list(argv))


def test_list_shows_fig2(capsys):
    assert run_cli("list") == 0
    out = capsys.readouterr().out
    assert "experiments" in out
    assert "fig2" in out and "quick" in out and "paper" in out


@pytest.mark.parametrize(
    "argv", [["--help"], ["list", "--help"], ["run", "--help"], ["plot", "--help"]]
)
def test_help_everywhere(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        run_cli(*argv)
    assert exc.value.code == 0
    assert "usage: muonjax" in capsys.readouterr().out


def test_no_command_prints_help_and_fails(capsys):
    assert run_cli() == 2
    assert "usage: muonjax" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["run", "fig99"], "unknown experiment 'fig99'; known experiments: fig1"),
        (["run", "fig2", "--set", "nn=3"], "fig2 has no setting 'nn'"),
        (["run", "fig2", "--set", "n=many"], "bad value 'many' for n (int)"),
        (["run", "fig2", "--set", "dims=8,x"], "bad value '8,x' for dims"),
        (["run", "fig2", "--set", "n"], "--set expects key=value, got 'n'"),
        (["run", "fig2", "--set", "rules=gd,adam"], "rules must be among"),
        (["run", "fig2", "--set", "n=0"], "n must be >= 1"),
        (["run", "fig2", "--seeds", "0"], "--seeds must be >= 1"),
        (["run", "fig2", "--preset", "huge"], "invalid choice: 'huge'"),
        (["plot", "/nonexistent/dir"], "no manifest"),
        (["frobnicate"], "invalid choice: 'frobnicate'"),
    ],
)
def test_usage_errors_exit_2_and_name_the_problem(argv, message, capsys):
    with pytest.raises(SystemExit) as exc:
        run_cli(*argv)
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert message in err
    assert err.count("\n") == 1, err  # one line, no usage block


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ("alphas=nan", "alphas value must be finite, got nan"),
        ("alphas=inf", "alphas value must be finite, got inf"),
        ("muon_lr_scale=nan", "muon_lr_scale must be finite, got nan"),
        ("dims=16,16", "dims repeats 16"),
        ("n=10000000000", "n must be below 2^31 in size"),
        ("seeds=-1", "seeds must lie in [1, inf)"),
        ("root_seed=-3", "root_seed must lie in [0, inf)"),
        ("with_loss=maybe", "expected true or false"),
    ],
)
def test_bad_values_are_refused_before_anything_is_written(
    tmp_path, capsys, setting, message
):
    out = tmp_path / "never"
    with pytest.raises(SystemExit) as exc:
        run_cli("run", "fig2", "--out", str(out), "--set", setting)
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1, err
    assert not out.exists()


@pytest.mark.parametrize(
    ("where", "message"),
    [
        ("file", "is a file, not a directory"),
        ("file/sub", "file is a file, not a directory"),
        ("/proc/none/x", "is not writable"),
    ],
)
def test_an_unwritable_out_is_refused_first(tmp_path, capsys, where, message):
    (tmp_path / "file").write_text("x")
    out = where if where.startswith("/") else str(tmp_path / where)
    with pytest.raises(SystemExit) as exc:
        run_cli("run", "fig2", "--out", out, *TINY)
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]


def test_a_run_too_large_for_the_device_is_refused_before_computing(tmp_path, capsys):
    out = tmp_path / "never"
    with pytest.raises(SystemExit) as exc:
        run_cli("run", "fig2", "--out", str(out), "--set", "n=100000000")
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "per device, more than the" in err and "--force" in err, err
    assert not out.exists()


def test_fig2_end_to_end_in_a_temporary_directory(tmp_path, capsys):
    out = tmp_path / "fig2"
    argv = ["run", "fig2", "--out", str(out), *TINY, "--seeds", "2", "--no-progress"]
    assert run_cli(*argv) == 0
    assert "8 cells computed, 0 loaded" in capsys.readouterr().out
    names = {p.name for p in out.iterdir()}
    assert {"records.csv", "records.parquet", "manifest.json", "cells"} <= names
    assert {"fig2.png", "fig2.pdf"} <= names

    table = mj.read_table(out)
    assert table.columns == FIG2_COLUMNS
    manifest = mj.read_manifest(out)
    rules = manifest["config"]["rules"]
    assert rules == ["gd", "muon"]
    assert len(table) == 2 * 2 * 2 * 2  # d x rule x alpha x seed, one step each
    assert manifest["experiment"] == "fig2" and manifest["preset"] == "quick"
    assert manifest["overrides"] == [
        "n=256",
        "dims=8,16",
        "alphas=1.5,2.0",
        "rules=gd,muon",
    ]
    assert manifest["config"]["n"] == 256 and manifest["config"]["seeds"] == 2
    assert set(table.data["step"]) == {1}
    assert np.all(table.data["prefix"] <= table.data["count"])
    assert np.all(table.data["weighted_accuracy"] >= 0)
    assert np.all(table.data["weighted_accuracy"] <= 1 + 1e-6)  # float32 sum

    # Peer: one row recomputed directly with the core, from the cell's key.
    sweep = mj.one_step_sweep(
        n=256, dims=(8, 16), alphas=(1.5, 2.0), rules=tuple(rules), chunk_size=16
    )
    cell = next(
        c
        for c in sweep.cells()
        if (c.config["d"], c.config["rule"], c.config["alpha"]) == (16, "muon", 2.0)
    )
    key_task, _ = jax.random.split(mj.cell_key(jax.random.key(0), cell, 1))
    task = mj.sample_task(256, 16, 2.0, key=key_task)
    ref = mj.one_step(task, mj.muon_exact(2 * 16**0.5), update_dtype="float64").metrics
    row = table.where(d=16, rule="muon", alpha=2.0, seed=1)
    assert len(row) == 1
    assert row.data["count"][0] == int(ref.count)
    assert row.data["prefix"][0] == int(ref.prefix)

    # Re-running the same command computes nothing and rewrites the same table.
    csv = (out / "records.csv").read_bytes()
    assert run_cli(*argv, "--no-plot") == 0
    assert "0 cells computed, 8 loaded" in capsys.readouterr().out
    assert (out / "records.csv").read_bytes() == csv

    # `muonjax plot DIR` redraws the figures from the records.
    for ext in ("png", "pdf"):
        (out / f"fig2.{ext}").unlink()
    assert run_cli("plot", str(out)) == 0
    assert (out / "fig2.png").stat().st_size > 0 and (out / "fig2.pdf").exists()


def test_entry_points_in_fresh_processes(tmp_path):
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(
            p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p
        ),
    }
    for argv in (
        [sys.executable, "-m", "muonjax", "list"],
        [sys.executable, str(ROOT / "experiments" / "fig2.py"), "--help"],
    ):
        proc = subprocess.run(
            argv, env=env, capture_output=True, text=True, timeout=120, check=False
        )
        assert proc.returncode == 0, proc.stderr
        assert "fig2" in proc.stdout


# --------------------------------------------------------------------------------------
# Parsing --set values.


@dataclasses.dataclass(frozen=True)
class _Config:
    n: int = 1
    x: float = 0.5
    flag: bool = False
    name: str = "a"
    dims: tuple[int, ...] = (1,)
    maybe: int | None = None
    mode: Literal["fast", "slow"] = "fast"


@pytest.mark.parametrize(
    ("field", "text", "value"),
    [
        ("n", "12", 12),
        ("x", "1e-3", 1e-3),
        ("flag", "yes", True),
        ("flag", "False", False),
        ("name", "b c", "b c"),
        ("dims", "8, 16,32", (8, 16, 32)),
        ("maybe", "none", None),
        ("maybe", "4", 4),
        ("mode", "slow", "slow"),
    ],
)
def test_parse_value(field, text, value):
    types = settings.field_types(_Config)
    assert settings.parse_value(types[field], text) == value


@pytest.mark.parametrize(
    ("field", "text"), [("n", "1.5"), ("flag", "maybe"), ("dims", ""), ("mode", "x")]
)
def test_parse_value_rejects(field, text):
    types = settings.field_types(_Config)
    with pytest.raises(ValueError):
        settings.parse_value(types[field], text)
