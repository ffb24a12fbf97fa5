"""The tutorial notebook runs, stays paired with its .py, and the README quotes it.

``docs/tutorial.py`` (jupytext percent format) and ``docs/tutorial.ipynb`` are a
jupytext pair; the notebook is executed here with nbclient, so the public API it
walks (task, one step of each rule, a vmapped sweep, a fit with a verdict, a figure)
cannot rot, and the README's notebook section is a verbatim excerpt of it.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PY = ROOT / "docs" / "tutorial.py"
IPYNB = ROOT / "docs" / "tutorial.ipynb"

jupytext = pytest.importorskip("jupytext")
nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")


def _code(nb) -> list[str]:
    return [c.source.strip() for c in nb.cells if c.cell_type == "code"]


def test_the_notebook_and_its_py_are_paired():
    from_py = jupytext.read(PY)
    from_ipynb = nbformat.read(IPYNB, as_version=4)
    assert _code(from_py) == _code(from_ipynb)
    md = [c.source.strip() for c in from_py.cells if c.cell_type == "markdown"]
    assert md == [
        c.source.strip() for c in from_ipynb.cells if c.cell_type == "markdown"
    ]


def test_the_readme_quotes_the_notebook():
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## The library in a notebook", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```python\n(.*?)```", section, re.S)
    assert block is not None, "the README's notebook section has no python block"
    lines = [ln for ln in block.group(1).splitlines() if ln.strip()]
    source = [ln for ln in PY.read_text().splitlines() if ln.strip()]
    text = "\n".join(source)
    assert "\n".join(lines) in text, "README block is not a verbatim excerpt"


def test_the_notebook_executes(tmp_path):
    nb = nbformat.read(IPYNB, as_version=4)
    client = nbclient.NotebookClient(
        nb,
        timeout=600,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},
    )
    client.execute()
    outputs = "".join(
        o.get("text", "")
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.get("outputs", [])
    )
    assert "muon " in outputs and "count=" in outputs
    assert re.search(
        r"prediction 1\.333: (consistent|inconsistent|inconclusive)", outputs
    )
    images = [
        o
        for c in nb.cells
        for o in c.get("outputs", [])
        if "image/png" in o.get("data", {})
    ]
    assert images, "the figure cell shows no image"
