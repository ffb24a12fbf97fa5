"""Write a gallery page (docs/gallery/NAME.md + NAME.png) from a run directory.

Usage:
    python scripts/gallery_page.py RUN_DIR "Figure 2: one population step ..." \
        [--load "load average 1-2"]

The page holds the command, the figure, the preset's sizes and wall time (from the
manifest's last complete session), the primary rows of ``fit_summary.json`` (the
secondary ones stay in the run's ``fit_summary.md``) and its findings. Nothing is
typed by hand, so a page always shows what a run measured.
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
from pathlib import Path

GALLERY = Path(__file__).resolve().parents[1] / "docs" / "gallery"


def _num(x: float | None) -> str:
    return "nan" if x is None or not math.isfinite(x) else f"{x:.4g}"


def _seconds(manifest: dict) -> float | None:
    sessions = [s for s in manifest.get("sessions", []) if s.get("status") != "failed"]
    total = 0.0
    for s in sessions:
        from datetime import datetime

        start = datetime.fromisoformat(s["started"].replace("Z", "+00:00"))
        end = datetime.fromisoformat(s["finished"].replace("Z", "+00:00"))
        total += (end - start).total_seconds()
    return total or None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("run", type=Path)
    parser.add_argument("title")
    parser.add_argument("--load", default="", help="the machine's load, in words")
    args = parser.parse_args()
    manifest = json.loads((args.run / "manifest.json").read_text())
    summary = json.loads((args.run / "fit_summary.json").read_text())
    name, preset = manifest["experiment"], manifest["preset"]
    config = manifest["config"]
    seconds = _seconds(manifest)
    sizes = ", ".join(
        f"{k} = {', '.join(map(str, v)) if isinstance(v, list) else v}"
        for k, v in config.items()
        if k not in ("chunk_size", "root_seed", "n_boot")
    )
    out = [
        f"## {args.title}",
        "",
        "```bash",
        f"muonjax run {name} --preset {preset}",
        "```",
        "",
        f"![{name}]({name}.png)",
        "",
        f"Preset `{preset}`: {sizes}. Wall time "
        + (f"{seconds:.0f} s" if seconds else "unknown")
        + (f" ({args.load})" if args.load else "")
        + " on a 2-core CPU, compilation included.",
        "",
        "| claim | group | quantity | prediction | estimate | 95% interval | verdict |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in summary["rows"]:
        if "(secondary)" in r["group"]:
            continue
        lo, hi = r["interval"]
        tol = f" ± {_num(r['tolerance'])}" if r.get("tolerance") else ""
        rel = "" if r["relation"] == "==" else f"{r['relation']} "
        out.append(
            "| "
            + " | ".join(
                s.replace("|", "\\|")
                for s in (
                    r["claim"],
                    r["group"],
                    r["label"],
                    f"{rel}{_num(r['prediction'])}{tol}",
                    _num(r["estimate"]),
                    f"[{_num(lo)}, {_num(hi)}]",
                    r["verdict"],
                )
            )
            + " |"
        )
    findings = list(summary.get("findings", []))
    if findings and "Not consistent:" in findings[0]:
        findings[0] = findings[0].split(" Not consistent:")[0] + " (each row: the table"
        findings[0] += " above and the run's `fit_summary.md`)."
    out += ["", "Findings (from the run's `fit_summary.json`):", ""]
    out += [f"- {f}" for f in findings]
    out += [
        "",
        "Secondary-measure rows are in the run's `fit_summary.md`.",
        "",
    ]
    GALLERY.mkdir(parents=True, exist_ok=True)
    (GALLERY / f"{name}.md").write_text("\n".join(out))
    shutil.copyfile(args.run / f"{name}.png", GALLERY / f"{name}.png")
    print(f"wrote {GALLERY / (name + '.md')}")


if __name__ == "__main__":
    main()
