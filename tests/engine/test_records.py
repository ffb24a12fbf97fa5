"""Tests of the records: tidy table, manifest, resume store, resume after SIGKILL."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import muonjax as mj

ROOT = Path(__file__).resolve().parents[2]


def cell(config, key):
    """Cheap cell: ``d`` a shape, ``scale`` batched, two metrics over 3 steps."""
    bits = jax.random.bits(key, (3, config["d"]))
    x = (bits >> 9).astype(jnp.float32).sum(axis=1) * config["scale"].astype(
        jnp.float32
    )
    return {"step": jnp.arange(3) * 10, "x": x, "k": (bits[:, 0] % 9).astype(int)}


def make_sweep():
    return SWEEP


#: Shared by the tests (they share its compiled chunk functions; chunks of 2).
SWEEP = mj.Sweep(
    cell,
    axes={"d": (2, 3), "scale": (0.5, 2.0)},
    fixed={"label": "demo", "flag": True},
    batched=("scale",),
)
CHUNK = 2


COLUMNS = ["d", "scale", "label", "flag", "seed", "step", "x", "k"]


def test_store_round_trip_is_exact(tmp_path):
    sweep = make_sweep()
    results = mj.run_sweep(
        sweep, seeds=3, key=jax.random.key(0), chunk_size=CHUNK
    ).results
    store = mj.DirectoryStore(tmp_path)
    for res in results:
        store.save(res)
    assert sorted(p.name for p in (tmp_path / "cells").iterdir()) == sorted(
        f"{r.cell.cell_id}.json" for r in results
    )
    for res in results:
        back = store.load(res.cell)
        assert back is not None
        np.testing.assert_array_equal(back.seeds, res.seeds)
        np.testing.assert_array_equal(back.steps, res.steps)
        for k, v in res.metrics.items():
            assert back.metrics[k].dtype == v.dtype
            np.testing.assert_array_equal(back.metrics[k], v)


def test_store_moves_aside_a_file_of_another_config(tmp_path, capsys):
    sweep = make_sweep()
    res = mj.run_sweep(sweep, seeds=1, key=jax.random.key(0), chunk_size=CHUNK).results[
        0
    ]
    store = mj.DirectoryStore(tmp_path)
    store.save(res)
    path = store.path(res.cell)
    data = json.loads(path.read_text())
    data["config"]["d"] = 99
    path.write_text(json.dumps(data))
    # Never reused, never fatal: named on stderr, moved aside, recomputed.
    assert store.load(res.cell) is None
    err = capsys.readouterr().err
    assert str(path) in err and "holds config" in err
    assert not path.exists() and path.with_name(path.name + ".corrupt").exists()


def test_table_has_the_documented_columns_and_exact_values(tmp_path):
    sweep = make_sweep()
    rec = mj.record_sweep(sweep, tmp_path, seeds=3, root_seed=5, chunk_size=CHUNK)
    assert rec.table[0].name == "records.csv"
    table = mj.read_table(tmp_path)
    assert table.columns == COLUMNS
    assert len(table) == 4 * 3 * 3  # cells x seeds x steps
    # Every value equals the engine's, in grid order, seed, step.
    results = mj.run_sweep(
        sweep, seeds=3, key=jax.random.key(5), chunk_size=CHUNK
    ).results
    i = 0
    for res in results:
        for s in range(3):
            for j, step in enumerate(res.steps):
                assert table.data["d"][i] == res.cell.config["d"]
                assert table.data["scale"][i] == res.cell.config["scale"]
                assert table.data["label"][i] == "demo"
                assert bool(table.data["flag"][i]) is True
                assert (table.data["seed"][i], table.data["step"][i]) == (s, step)
                # float32 -> shortest float64 repr -> float32: exact.
                assert np.float32(table.data["x"][i]) == res.metrics["x"][s, j]
                assert table.data["k"][i] == res.metrics["k"][s, j]
                i += 1


def test_parquet_holds_the_same_table(tmp_path):
    pq = pytest.importorskip("pyarrow.parquet")
    rec = mj.record_sweep(SWEEP, tmp_path, seeds=2, chunk_size=CHUNK)
    assert [p.name for p in rec.table] == ["records.csv", "records.parquet"]
    table = mj.read_table(tmp_path)
    pa_table = pq.read_table(tmp_path / "records.parquet")
    assert pa_table.column_names == COLUMNS
    for name in COLUMNS:
        np.testing.assert_array_equal(
            np.asarray(pa_table.column(name).to_pylist()), table.data[name]
        )


def test_manifest_and_resume_sessions(tmp_path):
    sweep = make_sweep()
    first = mj.record_sweep(
        sweep, tmp_path, seeds=2, meta={"experiment": "demo"}, chunk_size=CHUNK
    )
    assert (first.sweep.computed, first.sweep.loaded) == (4, 0)
    csv_before = (tmp_path / "records.csv").read_bytes()
    again = mj.record_sweep(
        sweep, tmp_path, seeds=2, meta={"experiment": "demo"}, chunk_size=CHUNK
    )
    assert (again.sweep.computed, again.sweep.loaded) == (0, 4)
    assert (tmp_path / "records.csv").read_bytes() == csv_before
    man = mj.read_manifest(tmp_path)
    assert man["experiment"] == "demo"
    assert man["sweep"]["axes"] == {"d": [2, 3], "scale": [0.5, 2.0]}
    assert man["sweep"]["seeds"] == 2 and man["rows"] == 4 * 2 * 3
    assert man["columns"] == {
        "config": ["d", "scale", "label", "flag"],
        "index": ["seed", "step"],
        "metrics": ["x", "k"],
    }
    env = man["environment"]
    assert env["jax"] == jax.__version__ and env["muonjax"] == mj.__version__
    assert env["device_count"] == jax.local_device_count() >= 1
    for key in ("device_kind", "backend", "python", "platform", "optax", "git_commit"):
        assert key in env
    assert [s["cells_computed"] for s in man["sessions"]] == [4, 0]
    assert man["started"] == man["sessions"][0]["started"]
    assert man["finished"] == man["sessions"][1]["finished"]


def test_more_seeds_reuse_the_stored_ones(tmp_path):
    sweep = make_sweep()
    mj.record_sweep(sweep, tmp_path, seeds=2, chunk_size=CHUNK)
    more = mj.record_sweep(sweep, tmp_path, seeds=5, chunk_size=CHUNK)
    assert (more.sweep.computed, more.sweep.loaded) == (4, 0)  # 3 new seeds each
    fresh = mj.record_sweep(sweep, tmp_path / "fresh", seeds=5, chunk_size=CHUNK)
    assert fresh.sweep.computed == 4
    assert (tmp_path / "records.csv").read_bytes() == (
        tmp_path / "fresh" / "records.csv"
    ).read_bytes()
    # Asking for fewer seeds again reads them from the store.
    fewer = mj.record_sweep(sweep, tmp_path, seeds=2, chunk_size=CHUNK)
    assert (fewer.sweep.computed, fewer.sweep.loaded) == (0, 4)
    assert len(mj.read_table(tmp_path)) == 4 * 2 * 3


def test_stray_temporary_files_are_ignored(tmp_path):
    (tmp_path / "cells").mkdir(parents=True)
    (tmp_path / "cells" / ".0123.json.x.tmp").write_text("{torn")
    rec = mj.record_sweep(make_sweep(), tmp_path, seeds=1, chunk_size=CHUNK)
    assert rec.sweep.computed == 4
    mj.DirectoryStore(tmp_path)  # and atomic writes leave no temporary file:
    assert not list(tmp_path.glob(".*.tmp"))


# --------------------------------------------------------------------------------------
# Resume after SIGKILL.

SWEEP_SCRIPT = """
import sys, time
import jax, jax.numpy as jnp
import muonjax as mj

def cell(config, key):
    x = jax.random.uniform(key, (2, config["d"])).sum(axis=1) * config["scale"]
    return {"step": jnp.arange(2), "x": x}

sweep = mj.Sweep(
    cell, axes={"d": (1, 2), "scale": (1.0, 2.0, 3.0)}, batched=("scale",)
)
if sys.argv[2] == "slow":  # a slow sweep, so that it can be killed partway
    save = mj.DirectoryStore.save
    def slow_save(self, result):
        save(self, result)
        time.sleep(0.3)
    mj.DirectoryStore.save = slow_save
rec = mj.record_sweep(sweep, sys.argv[1], seeds=3, chunk_size=2)
print(rec.sweep.computed, rec.sweep.loaded)
"""


def _run_sweep_script(out: Path, mode: str) -> subprocess.Popen:
    env = {
        **os.environ,
        "JAX_PLATFORMS": "cpu",
        "PYTHONPATH": os.pathsep.join(
            p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p
        ),
    }
    return subprocess.Popen(
        [sys.executable, "-c", SWEEP_SCRIPT, str(out), mode],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_resume_after_sigkill_loses_and_duplicates_nothing(tmp_path):
    total = 6  # cells
    killed = tmp_path / "killed"
    proc = _run_sweep_script(killed, "slow")
    deadline = time.monotonic() + 120
    done: list[Path] = []
    while time.monotonic() < deadline and proc.poll() is None:
        done = list((killed / "cells").glob("*.json")) if killed.exists() else []
        if len(done) >= 2:
            break
        time.sleep(0.05)
    assert proc.poll() is None, "the sweep ended before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    n_before = len(list((killed / "cells").glob("*.json")))
    assert 2 <= n_before < total
    assert not (killed / "records.csv").exists()

    # Re-run the same command: it computes only the missing cells.
    proc = _run_sweep_script(killed, "fast")
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert out.split() == [str(total - n_before), str(n_before)]
    # An uninterrupted run gives the same table, byte for byte.
    proc = _run_sweep_script(tmp_path / "clean", "fast")
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    resumed = (killed / "records.csv").read_text()
    assert resumed == (tmp_path / "clean" / "records.csv").read_text()
    rows = resumed.strip().splitlines()[1:]
    assert len(rows) == len(set(rows)) == total * 3 * 2  # cells x seeds x steps
    assert len(list((killed / "cells").glob("*.json"))) == total
