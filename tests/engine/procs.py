"""Helpers of the tests that run muonjax in other processes (not a test module)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
SLOW = Path(__file__).resolve().parent / "slow_experiment.py"


def env(**extra: str) -> dict[str, str]:
    """The environment of a child: this checkout on the path, the CPU backend."""
    return {
        **os.environ,
        "JAX_PLATFORMS": "cpu",
        "PYTHONPATH": os.pathsep.join(
            p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p
        ),
        **extra,
    }


def slow(*argv: str, **kwargs: Any) -> subprocess.Popen:
    """``python slow_experiment.py ARGV`` in the background (text pipes)."""
    return subprocess.Popen(
        [sys.executable, str(SLOW), *argv],
        env=env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kwargs,
    )


def muonjax(*argv: str, timeout: float = 300) -> subprocess.CompletedProcess:
    """``python -m muonjax ARGV`` to completion."""
    return subprocess.run(
        [sys.executable, "-m", "muonjax", *argv],
        env=env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def wait_until(
    condition: Callable[[], bool], proc: subprocess.Popen, timeout: float = 180
) -> None:
    """Poll ``condition`` until it holds; fail if ``proc`` ends or time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        if proc.poll() is not None:
            out, err = proc.communicate()
            raise AssertionError(f"the process ended first:\n{out}\n{err}")
        time.sleep(0.05)
    raise AssertionError("timed out waiting")


def cell_files(out: Path) -> list[Path]:
    """The finished cells of an output directory."""
    return sorted((out / "cells").glob("*.json")) if (out / "cells").is_dir() else []


def manifest(out: Path) -> dict[str, Any]:
    return json.loads((out / "manifest.json").read_text())


def free_port() -> int:
    """A TCP port nobody listens on now."""
    with socket.socket() as s:
        s.bind(("localhost", 0))
        return s.getsockname()[1]


def stderr_lines(text: str) -> list[str]:
    """Lines of a child's stderr, without XLA's and Gloo's log lines."""
    noise = ("I0000", "W0000", "E0000", "[Gloo]", "I1", "W1", "E1")
    return [
        line
        for line in text.splitlines()
        if line.strip() and not line.startswith(noise)
    ]
