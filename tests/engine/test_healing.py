"""A store that heals: unreadable cells and manifests are named, moved aside, rebuilt.

And ``muonjax plot`` on bad records names the file (exit 2), never a traceback.
"""

from __future__ import annotations

import json

import jax
import jax.numpy as jnp
import pytest

import muonjax as mj
from muonjax import cli


def cell(config, key):
    x = jax.random.uniform(key, (2, config["d"])).sum(axis=1) * config["scale"]
    return {"step": jnp.arange(2), "x": x}


SWEEP = mj.Sweep(cell, axes={"d": (2, 3), "scale": (1.0, 2.0)}, batched=("scale",))


def _record(out):
    return mj.record_sweep(SWEEP, out, seeds=2, chunk_size=2)


@pytest.mark.parametrize(
    "damage",
    [
        lambda text: text[: len(text) // 2],  # truncated
        lambda text: "",  # empty
        lambda text: "[1, 2]",  # valid JSON, not a cell
        lambda text: text.replace('"seeds"', '"seedz"'),  # a key missing
        lambda text: "\x00\xff garbage",
    ],
)
def test_a_bad_cell_file_is_named_moved_aside_and_recomputed(tmp_path, capsys, damage):
    clean = _record(tmp_path / "clean")
    out = tmp_path / "run"
    _record(out)
    victim = sorted((out / "cells").glob("*.json"))[1]
    victim.write_text(damage(victim.read_text()))
    capsys.readouterr()

    again = _record(out)
    assert (again.sweep.computed, again.sweep.loaded) == (1, 3)
    err = capsys.readouterr().err
    assert str(victim) in err and "moved it to" in err
    assert victim.exists()  # recomputed
    assert victim.with_name(victim.name + ".corrupt").exists()  # kept for a look
    assert (out / "records.csv").read_bytes() == (
        clean.out_dir / "records.csv"
    ).read_bytes()


@pytest.mark.parametrize("damage", ["{trunc", "[]", "null"])
def test_a_bad_manifest_is_named_and_rebuilt_from_the_cells(tmp_path, capsys, damage):
    out = tmp_path / "run"
    _record(out)
    (out / "manifest.json").write_text(damage)
    capsys.readouterr()
    again = _record(out)
    assert (again.sweep.computed, again.sweep.loaded) == (0, 4)
    err = capsys.readouterr().err
    assert str(out / "manifest.json") in err and "rebuilding it" in err
    manifest = mj.read_manifest(out)
    assert manifest["complete"] is True and manifest["rows"] == 4 * 2 * 2
    assert (out / "manifest.json.corrupt").read_text() == damage


# --------------------------------------------------------------------------------------
# muonjax plot on bad records: one line naming the file, exit 2.


@pytest.fixture(scope="module")
def fig2_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("fig2") / "run"
    argv = ["run", "fig2", "--out", str(out), "--seeds", "2", "--no-progress"]
    argv += ["--set", "n=256", "--set", "dims=8,16", "--set", "rules=gd"]
    argv += ["--set", "alphas=1.5", "--no-plot"]
    assert cli.main(argv) == 0
    return out


def _copy(src, dst):
    import shutil

    shutil.copytree(src, dst)
    return dst


@pytest.mark.parametrize(
    ("file", "damage", "message"),
    [
        ("records.csv", lambda t: t[: len(t) - 7], "cut short"),
        ("records.csv", lambda t: t.replace(",", "", 3), "fields, the header"),
        ("records.csv", lambda t: "", "the file is empty"),
        ("records.csv", lambda t: t.replace("count", "cuont", 1), "has the columns"),
        (
            "records.csv",
            lambda t: "\n".join(t.splitlines()[:-2]) + "\n",
            "rows, its manifest",
        ),
        ("records.csv", lambda t: t.replace(",1,", ",x,", 1), "non-numbers"),
        ("manifest.json", lambda t: "[1, 2]", "not a muonjax manifest"),
        ("manifest.json", lambda t: t[:40], "not readable JSON"),
        ("manifest.json", lambda t: '{"schema": 2}', "names no experiment"),
    ],
)
def test_plot_on_bad_records_names_the_file(
    fig2_run, tmp_path, capsys, file, damage, message
):
    out = _copy(fig2_run, tmp_path / "copy")
    path = out / file
    path.write_text(damage(path.read_text()))
    capsys.readouterr()
    with pytest.raises(SystemExit) as exc:
        cli.main(["plot", str(out)])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert message in err and (str(path) in err or str(out) in err), err


def test_a_garbled_table_is_rewritten_by_rerunning(fig2_run, tmp_path, capsys):
    out = _copy(fig2_run, tmp_path / "copy")
    good = (out / "records.csv").read_bytes()
    (out / "records.csv").write_text("garbage")
    manifest = json.loads((out / "manifest.json").read_text())
    argv = ["run", "fig2", "--out", str(out), "--seeds", "2", "--no-progress"]
    argv += [f"--set={o}" for o in manifest["overrides"]] + ["--no-plot"]
    assert cli.main(argv) == 0
    assert "(0 cells computed, 2 loaded)" in capsys.readouterr().out
    assert (out / "records.csv").read_bytes() == good
