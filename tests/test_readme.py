"""The README's Quick start stays true: two commands, CI runs the second verbatim."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import muonjax as mj

ROOT = Path(__file__).resolve().parents[1]


def _quick_start_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    section = text.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```bash\n(.*?)```", section, re.S)
    assert block is not None, "the Quick start has no bash block"
    return [line for line in block.group(1).splitlines() if line.strip()]


def test_quick_start_has_exactly_two_commands():
    assert len(_quick_start_commands()) == 2


def test_ci_runs_the_readme_test_command_verbatim():
    test_command = _quick_start_commands()[1]
    assert "pytest" in test_command
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert test_command in ci


def test_main_job_runs_a_registered_quick_preset():
    main_job = _quick_start_commands()[0]
    run = shlex.split(main_job.split("&&", 1)[1])
    assert run[:4] == ["python3", "-m", "muonjax", "run"]
    name, preset = run[4], run[run.index("--preset") + 1]
    assert name == "fig2"  # the issue: the main job is Figure 2's quick preset
    assert preset in mj.get_experiment(name).presets
