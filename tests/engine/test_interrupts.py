"""Ctrl-C and SIGTERM: one line, exit 130 / 143, recorded, resumable; the watchdog."""

from __future__ import annotations

import io
import signal
import subprocess
import sys
import time

import jax
import jax.numpy as jnp
import pytest
from procs import cell_files, env, manifest, slow, stderr_lines, wait_until

import muonjax as mj
from muonjax.engine.watchdog import Watchdog

CELLS = 8
ARGS = ["--set", f"cells={CELLS}", "--no-progress"]


@pytest.mark.parametrize(
    ("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)]
)
def test_a_signal_stops_the_run_cleanly_and_it_resumes(tmp_path, signum, code):
    out = tmp_path / "run"
    proc = slow("run", "slow_demo", "--out", str(out), *ARGS)
    wait_until(lambda: len(cell_files(out)) >= 1, proc)
    sent = time.monotonic()
    proc.send_signal(signum)
    _, err = proc.communicate(timeout=60)
    stopped_in = time.monotonic() - sent

    assert proc.returncode == code, err  # not -11 (a segmentation fault)
    assert stopped_in < 10, stopped_in  # a chunk takes about 0.5 s
    assert "Traceback" not in err
    lines = stderr_lines(err)
    done = len(cell_files(out))
    assert 1 <= done < CELLS
    assert lines == [
        f"muonjax run: interrupted after {done} of {CELLS} cells; re-run the same "
        "command to resume"
    ]
    session = manifest(out)["sessions"][-1]
    assert session["status"] == "interrupted"
    assert session["signal"] == signal.Signals(signum).name
    assert (session["cells_done"], session["cells_total"]) == (done, CELLS)
    assert manifest(out)["complete"] is False

    # The same command resumes: the finished cells are loaded, not recomputed.
    proc = slow("run", "slow_demo", "--out", str(out), *ARGS)
    stdout, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    assert f"({CELLS - done} cells computed, {done} loaded)" in stdout
    sessions = manifest(out)["sessions"]
    assert [s["status"] for s in sessions] == ["interrupted", "complete"]
    assert manifest(out)["complete"] is True


def test_plot_of_an_interrupted_run_says_so(tmp_path):
    out = tmp_path / "run"
    proc = slow("run", "slow_demo", "--out", str(out), *ARGS)
    wait_until(lambda: len(cell_files(out)) >= 1, proc)
    proc.send_signal(signal.SIGINT)
    proc.communicate(timeout=60)
    proc = slow("plot", str(out))
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 2
    (line,) = stderr_lines(err)
    assert "never finished" in line and "re-run" in line


# --------------------------------------------------------------------------------------
# The stall watchdog.


class _Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def test_watchdog_warns_once_per_stall_after_a_generous_multiple():
    clock = _Clock()
    dog = Watchdog(floor=60.0, factor=10.0, clock=clock)
    dog.started("d=32 rule=muon (3 of 24 cells done)")
    clock.now = 59.0
    assert dog.check() is None  # below the floor
    clock.now = 61.0
    message = dog.check()
    assert message is not None
    assert "d=32 rule=muon (3 of 24 cells done)" in message
    assert "re-run the same command to resume" in message
    assert dog.check() is None  # once per stall
    dog.finished()  # progress: a chunk took 61 s, so now 610 s count as stalled
    dog.started("d=64 rule=muon")
    clock.now = 61.0 + 600.0
    assert dog.check() is None
    clock.now = 61.0 + 611.0
    assert "d=64 rule=muon" in dog.check()


def test_watchdog_thread_prints_where_a_run_is_stuck():
    stream = io.StringIO()
    with Watchdog(floor=0.2, stream=stream) as dog:
        dog.started("somewhere")
        time.sleep(0.6)
    assert "somewhere" in stream.getvalue()
    assert stream.getvalue().count("\n") == 1


def test_run_sweep_warns_when_a_chunk_stalls(capsys):
    def stuck(config, key):
        x = jax.random.uniform(key) * config["scale"]
        x = jax.pure_callback(
            lambda v: (time.sleep(1.0), v)[1],
            jax.ShapeDtypeStruct((), x.dtype),
            x,
            vmap_method="expand_dims",
        )
        return {"x": jnp.asarray(x)}

    sweep = mj.Sweep(stuck, axes={"scale": (1.0,)}, batched=("scale",))
    mj.run_sweep(sweep, seeds=1, key=jax.random.key(0), stall_warning=0.2)
    err = capsys.readouterr().err
    assert "no progress for" in err and "scale=1.0" not in err  # batched: no where
    assert "the sweep (0 of 1 cells done)" in err


CALLBACK_SCRIPT = """
import sys, time
import jax, jax.numpy as jnp
import muonjax as mj
from muonjax.engine.interrupts import signals_raise

def cell(config, key):
    x = jax.random.uniform(key) + config["i"]
    x = jax.pure_callback(
        lambda v: (time.sleep(0.3), v)[1], jax.ShapeDtypeStruct((), x.dtype), x,
        vmap_method="expand_dims",
    )
    return {"x": jnp.asarray(x)}

sweep = mj.Sweep(cell, axes={"i": tuple(range(40))}, batched=("i",))
with signals_raise():
    try:
        mj.record_sweep(sweep, sys.argv[1], seeds=1, chunk_size=1)
    except mj.Interrupted as stop:
        print(stop.signal_name, stop.done, stop.total, stop.recorded)
"""


def test_a_signal_inside_a_host_callback_still_stops_the_run(tmp_path):
    # A host callback runs in the calling thread, so the signal raises inside it
    # and XLA hands it back wrapped; the engine unwraps it.
    out = tmp_path / "run"
    proc = subprocess.Popen(
        [sys.executable, "-c", CALLBACK_SCRIPT, str(out)],
        env=env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    wait_until(lambda: len(cell_files(out)) >= 1, proc)
    proc.send_signal(signal.SIGINT)
    stdout, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    name, done, total, recorded = stdout.split()
    assert name == "SIGINT" and int(done) >= 1 and total == "40"
    assert recorded == "True"
    assert manifest(out)["sessions"][-1]["status"] == "interrupted"
