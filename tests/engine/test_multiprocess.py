"""Two real processes (``jax.distributed`` on the CPU) writing one output directory.

Each test starts local processes with ``--coordinator localhost:PORT
--num-processes 2 --process-id I``: JAX's CPU backend joins them through its
coordination service (and Gloo for the one broadcast at the start), and the
processes meet at the end through heartbeat files in the shared directory.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import pytest
from procs import (
    SLOW,
    env,
    free_port,
    manifest,
    muonjax,
    slow,
    stderr_lines,
    wait_until,
)

from muonjax import cli

TINY = [
    "run",
    "fig2",
    "--set",
    "n=256",
    "--set",
    "dims=8,16",
    "--set",
    "alphas=1.5,2.0",
    "--set",
    "rules=gd,muon",
    "--seeds",
    "2",
    "--no-progress",
    "--no-plot",
]


def _process(argv: list[str], index: int, port: int) -> subprocess.Popen:
    dist = ["--coordinator", f"localhost:{port}", "--num-processes", "2"]
    return subprocess.Popen(
        [sys.executable, *argv, *dist, "--process-id", str(index)],
        env=env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_two_processes_write_the_records_of_one(tmp_path):
    port = free_port()
    shared = tmp_path / "shared"
    procs = [
        _process(["-m", "muonjax", *TINY, "--out", str(shared)], i, port)
        for i in (0, 1)
    ]
    outs = [p.communicate(timeout=600) for p in procs]
    for p, (_, err) in zip(procs, outs, strict=True):
        assert p.returncode == 0, err
    # Process 0 reports the session's total over both processes.
    assert "(8 cells computed, 0 loaded)" in outs[0][0]

    single = muonjax(*TINY, "--out", str(tmp_path / "single"))
    assert single.returncode == 0, single.stderr
    assert (shared / "records.csv").read_bytes() == (
        tmp_path / "single" / "records.csv"
    ).read_bytes()

    (session,) = manifest(shared)["sessions"]
    assert session["status"] == "complete"
    assert (session["cells_computed"], session["cells_loaded"]) == (8, 0)
    assert sorted(p["index"] for p in session["processes"]) == [0, 1]
    assert [p["computed"] for p in session["processes"]] == [4, 4]  # i mod 2


@pytest.mark.slow
def test_a_peer_that_dies_gives_a_clear_error_in_bounded_time(tmp_path):
    port = free_port()
    out = tmp_path / "shared"
    argv = [
        str(SLOW),
        "run",
        "slow_demo",
        "--out",
        str(out),
        "--set",
        "cells=12",
        "--no-progress",
        "--peer-timeout",
        "10",
    ]
    procs = [_process(argv, i, port) for i in (0, 1)]
    beat = out / ".processes" / "1.json"
    wait_until(beat.exists, procs[1])
    procs[1].send_signal(signal.SIGKILL)
    killed = time.monotonic()
    _, err = procs[0].communicate(timeout=300)
    procs[1].communicate(timeout=30)
    took = time.monotonic() - killed

    assert procs[0].returncode == 1, err
    assert "Traceback" not in err
    (line,) = stderr_lines(err)
    assert line.startswith("muonjax run: error: process 1 of 2 (pid ")
    assert "stopped responding" in line and "re-run the same command" in line
    # Bounded: its own cells (about 3 s here), then 10 s of silence, plus slack.
    assert took < 120, took
    session = manifest(out)["sessions"][-1]
    assert session["status"] == "failed" and "process 1 of 2" in session["error"]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--num-processes", "0"], "--num-processes needs --coordinator"),
        (
            ["--coordinator", "h:1234", "--num-processes", "0", "--process-id", "0"],
            "--num-processes must be >= 1, got 0",
        ),
        (
            ["--coordinator", "h:1234", "--num-processes", "2", "--process-id", "2"],
            "--process-id must be in 0..1, got 2",
        ),
        (
            ["--coordinator", "nohost", "--num-processes", "2", "--process-id", "0"],
            "--coordinator must be HOST:PORT",
        ),
        (
            ["--coordinator", "h:99999", "--num-processes", "2", "--process-id", "0"],
            "--coordinator must be HOST:PORT with a port in 1..65535",
        ),
        (["--peer-timeout", "-1"], "--peer-timeout must be > 0"),
    ],
)
def test_bad_coordinator_options_exit_2_on_one_line(tmp_path, capsys, options, message):
    out = tmp_path / "never"
    with pytest.raises(SystemExit) as exc:
        cli.main([*TINY, "--out", str(out), *options])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err, err
    assert not out.exists()


def test_an_unreachable_coordinator_exits_2_within_the_timeout(tmp_path):
    out = tmp_path / "never"
    start = time.monotonic()
    proc = _process(
        ["-m", "muonjax", *TINY, "--out", str(out), "--peer-timeout", "3"],
        1,  # process 1 waits for a process 0 that never comes
        free_port(),
    )
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 2, err
    assert time.monotonic() - start < 90
    (line,) = stderr_lines(err)
    assert "could not join the run at --coordinator localhost:" in line
    assert "nothing answers there" in line
    assert not out.exists()


def _slow_run(out, *extra):
    return slow("run", "slow_demo", "--out", str(out), "--no-progress", *extra)


def test_another_config_into_a_held_directory_exits_2_naming_the_holder(tmp_path):
    out = tmp_path / "run"
    first = _slow_run(out, "--set", "cells=6")
    wait_until((out / ".muonjax.lock").exists, first)
    time.sleep(0.5)  # the holder writes its name right after locking
    second = _slow_run(out, "--set", "cells=6", "--set", "scale=2.0")
    _, err = second.communicate(timeout=300)
    assert second.returncode == 2, err
    (line,) = stderr_lines(err)
    assert "is in use by another run with a different configuration" in line
    assert f"pid {first.pid}" in line
    first.communicate(timeout=300)
    assert first.returncode == 0


def test_an_identical_run_waits_and_computes_no_cell_twice(tmp_path):
    out = tmp_path / "run"
    first = _slow_run(out, "--set", "cells=6")
    wait_until((out / ".muonjax.lock").exists, first)
    time.sleep(0.5)
    second = _slow_run(out, "--set", "cells=6", "--set", "label=other")
    out1, err1 = first.communicate(timeout=300)
    out2, err2 = second.communicate(timeout=300)
    assert first.returncode == 0 and second.returncode == 0, err1 + err2
    assert "(6 cells computed, 0 loaded)" in out1
    assert "(0 cells computed, 6 loaded)" in out2  # waited, then loaded them all
    assert "in use by the same run" in err2
    statuses = [s["status"] for s in manifest(out)["sessions"]]
    assert statuses == ["complete", "complete"]
