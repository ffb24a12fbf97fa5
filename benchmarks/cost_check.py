"""Does ``muonjax run NAME --dry-run`` project the wall time of the run? (issue 13)

For each experiment (quick presets by default) it runs, back to back in fresh
processes, ``muonjax run NAME --preset P --dry-run`` (the projection: compiles,
calibration and the counted work) and ``muonjax run NAME --preset P --no-plot`` (the
run, timed by the command's own "done in X s"), and records the ratio measured /
projected. Back to back, a load that persists hits both alike; the ratio is what to
read on a shared machine.

Usage:
    python benchmarks/cost_check.py [--names fig2 fig3 fig5 orth_signgd]
        [--preset quick] [--out benchmarks/results]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _muonjax(*args: str) -> tuple[str, float]:
    start = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-m", "muonjax", *args],
        check=True,
        capture_output=True,
        text=True,
    )
    return out.stdout, time.perf_counter() - start


def check(name: str, preset: str) -> dict:
    text, dry_seconds = _muonjax("run", name, "--preset", preset, "--dry-run")
    projected = float(re.search(r"projected wall time: ([0-9.]+) s", text).group(1))
    with tempfile.TemporaryDirectory() as tmp:
        out, _ = _muonjax(
            "run", name, "--preset", preset, "--no-plot", "--no-progress",
            "--out", str(Path(tmp) / name),
        )  # fmt: skip
    measured = float(re.search(r"done in ([0-9.]+) s", out).group(1))
    row = {
        "experiment": name,
        "preset": preset,
        "projected_seconds": projected,
        "measured_seconds": measured,
        "measured_over_projected": measured / projected,
        "dry_run_seconds": dry_seconds,
        "unknown_loops": "lax.while_loop counted once" in text,
        "dry_run_output": text,
    }
    print(
        f"{name} [{preset}]: projected {projected:.1f} s, measured {measured:.1f} s, "
        f"ratio {measured / projected:.2f} (dry run took {dry_seconds:.0f} s)",
        flush=True,
    )
    return row


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--names", nargs="+", default=["fig2", "fig3", "fig5", "orth_signgd", "fig4"]
    )
    parser.add_argument("--preset", default="quick")
    parser.add_argument("--out", type=Path, default=HERE / "results")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    result = {
        "benchmark": "cost_check",
        "load_average_before": os.getloadavg(),
        "rows": [check(name, args.preset) for name in args.names],
        "load_average_after": os.getloadavg(),
        "wall_seconds": time.perf_counter() - start,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / "cost_check_cpu.json"
    path.write_text(json.dumps(result, indent=2))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
