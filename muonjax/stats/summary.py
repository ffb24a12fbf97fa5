"""Fit summaries written beside an experiment's records (JSON and Markdown).

Every figure experiment ends with the same artefact: for each claim it tests, the
prediction, the estimate, its interval and the verdict (:class:`muonjax.Comparison`),
the fits behind them, and a few plain sentences of findings. This module writes
that artefact as ``fit_summary.json`` (for programs) and ``fit_summary.md`` (for
people) and reads it back. Fits are computed from the records, so ``muonjax plot
DIR`` regenerates the summary without rerunning anything.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from muonjax._io import atomic_write_text, value_to_dict
from muonjax.stats.verdict import Comparison

SUMMARY_JSON = "fit_summary.json"
SUMMARY_MD = "fit_summary.md"


@dataclass(frozen=True)
class SummaryRow:
    """One claim of a figure: which group it is about and its comparison.

    Attributes:
        claim: the claim in words (with its SPEC tag).
        group: the slice of the data it was measured on (e.g. ``"rule=muon,
            alpha=1.5, measure=count"``).
        comparison: prediction, estimate, interval and verdict.
    """

    claim: str
    group: str
    comparison: Comparison


@dataclass(frozen=True)
class FitSummary:
    """What an experiment's fits found.

    Attributes:
        experiment: the experiment's name.
        rows: one :class:`SummaryRow` per compared quantity.
        fits: named fit results (any object :func:`muonjax.value_to_dict` takes).
        findings: plain sentences: what held, what did not, and why we think so.
        meta: anything else worth keeping (sizes used, measure definitions).
    """

    experiment: str
    rows: Sequence[SummaryRow] = ()
    fits: Mapping[str, Any] = field(default_factory=dict)
    findings: Sequence[str] = ()
    meta: Mapping[str, Any] = field(default_factory=dict)


def _clean(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    return value


def summary_to_dict(summary: FitSummary) -> dict[str, Any]:
    """JSON-ready form of a summary (non-finite numbers become ``None``)."""
    return _clean(
        {
            "experiment": summary.experiment,
            "rows": [
                {"claim": r.claim, "group": r.group, **r.comparison.to_dict()}
                for r in summary.rows
            ],
            "fits": {k: value_to_dict(v) for k, v in summary.fits.items()},
            "findings": list(summary.findings),
            "meta": dict(summary.meta),
        }
    )


def summary_to_markdown(summary: FitSummary) -> str:
    """The summary as a Markdown table plus the findings."""
    lines = [
        f"# Fit summary: {summary.experiment}",
        "",
        "| claim | group | prediction | estimate | interval | verdict |",
        "|---|---|---|---|---|---|",
    ]
    for r in summary.rows:
        c = r.comparison
        lines.append(
            f"| {r.claim} | {r.group} | {c.prediction_text} | "
            f"{c.measurement_text} | {c.interval_text} | {c.verdict} |"
        )
    if summary.findings:
        lines += ["", "## Findings", ""]
        lines += [f"- {f}" for f in summary.findings]
    if summary.meta:
        lines += ["", "## Settings", ""]
        lines += [f"- {k}: {v}" for k, v in summary.meta.items()]
    return "\n".join(lines) + "\n"


def write_fit_summary(out_dir: str | Path, summary: FitSummary) -> list[Path]:
    """Write ``fit_summary.json`` and ``fit_summary.md`` into ``out_dir`` atomically.

    Returns:
        The two paths written.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    data = json.dumps(summary_to_dict(summary), indent=2, allow_nan=False)
    return [
        atomic_write_text(out / SUMMARY_JSON, data + "\n"),
        atomic_write_text(out / SUMMARY_MD, summary_to_markdown(summary)),
    ]


def read_fit_summary(out_dir: str | Path) -> dict[str, Any]:
    """Read ``fit_summary.json`` back as a plain dict."""
    return json.loads((Path(out_dir) / SUMMARY_JSON).read_text())
