"""Running the check catalogue: verdicts, the printed table, ``checks.json``/``.md``.

:func:`run_checks` runs registered checks (:func:`muonjax.register_check`) with one
preset's sizes, combines each check's primary rows into its verdict (the one verdict
rule, :func:`muonjax.combine_verdicts`) and, with ``out_dir``, rewrites
``checks.json`` and ``checks.md`` (full configuration and environment) after every
check, so an interrupted run keeps what it finished.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from muonjax._io import atomic_write_text, jsonable
from muonjax.engine.records import environment
from muonjax.engine.registry import (
    _CHECKS,
    CHECK_PRESETS,
    CheckContext,
    CheckResult,
    _load_check_modules,
    available_checks,
)
from muonjax.stats.verdict import (
    DEFAULT_MAX_WIDTH,
    DEFAULT_TOLERANCE,
    combine_verdicts,
)

#: Verdict of a check whose function raised (a bug, not a scientific result).
ERROR = "error"


def _command_line() -> str:
    argv = list(sys.argv)
    return " ".join(argv)


def _stderr(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _rows(results: Sequence[CheckResult]) -> list[list[str]]:
    rows = []
    for r in results:
        if r.error is not None:
            rows.append([r.name, r.claim, r.spec_tag, "", "", "", f"error: {r.error}"])
            continue
        items = [(c, True) for c in r.comparisons] + [(c, False) for c in r.info]
        for i, (c, primary) in enumerate(items):
            tag = "" if primary else " (info)"
            rows.append(
                [
                    (r.name if i == 0 else "") + f": {c.label}{tag}",
                    r.claim if i == 0 else "",
                    r.spec_tag if i == 0 else "",
                    c.prediction_text,
                    c.measurement_text,
                    c.interval_text,
                    c.verdict + tag,
                ]
            )
        rows.append(["", "", "", "", "", "", f"=> {r.name}: {r.verdict.upper()}"])
    return rows


_HEADER = [
    "check: quantity",
    "claim",
    "SPEC tag",
    "prediction",
    "measurement",
    "interval",
    "verdict",
]


def format_table(results: Sequence[CheckResult]) -> str:
    """The results as a Markdown pipe table (the printed form too)."""
    lines = ["| " + " | ".join(_HEADER) + " |", "|" + "---|" * len(_HEADER)]
    for row in _rows(results):
        cells = [c.replace("|", "\\|") for c in row]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def to_markdown(results: Sequence[CheckResult], meta: Mapping[str, Any]) -> str:
    """A Markdown report: configuration, environment, the table, the details."""
    env = meta.get("environment", {})
    out = [
        f"# muonjax check: preset {meta.get('preset')}",
        "",
        f"- started: {meta.get('started_utc')}, wall time "
        f"{meta.get('seconds', float('nan')):.1f} s",
        f"- jax {env.get('jax')} ({env.get('backend')}: "
        f"{', '.join(env.get('devices', []))}), numpy {env.get('numpy')}, scipy "
        f"{env.get('scipy')}, optax {env.get('optax')}, python {env.get('python')}",
        f"- muonjax {env.get('muonjax')} at commit {env.get('git_commit')}",
        f"- command: `{meta.get('command')}`",
        "",
        format_table(results),
        "",
        "Verdicts: consistent / inconsistent / inconclusive (interval wider than the "
        "stated max width); rows marked (info) are shown beside the primary "
        "measurement and do not enter the check's verdict.",
        "",
    ]
    for r in results:
        out += [f"## {r.name}: {r.verdict}", "", f"Claim: {r.claim} {r.spec_tag}", ""]
        if r.error:
            out += [f"Error: `{r.error}`", ""]
        for c in (*r.comparisons, *r.info):
            out.append(
                f"- **{c.label}**: {c.measurement_text} {c.interval_text} vs "
                f"{c.prediction_text} -> {c.verdict} ({c.reason})"
            )
            out += [f"  - {note}" for note in c.notes]
        out += [
            "",
            f"Sizes: `{json.dumps(jsonable(dict(r.sizes)))}`; {r.seconds:.1f} s",
            "",
            "<details><summary>details</summary>",
            "",
        ]
        out += [
            f"- {key}: `{json.dumps(jsonable(value))}`"
            for key, value in r.details.items()
        ]
        out += ["", "</details>", ""]
    return "\n".join(out)


def _write(out_dir: str, results: Sequence[CheckResult], meta: Mapping[str, Any]):
    os.makedirs(out_dir, exist_ok=True)
    doc = {
        "meta": jsonable(dict(meta)),
        "results": [r.to_dict() for r in results],
    }
    for name, text in (
        ("checks.json", json.dumps(doc, indent=1, allow_nan=False)),
        ("checks.md", to_markdown(results, meta)),
    ):
        atomic_write_text(os.path.join(out_dir, name), text)


def run_checks(
    names: Iterable[str] | None = None,
    *,
    preset: str = "quick",
    out_dir: str | None = None,
    progress: Callable[[str], None] | None = _stderr,
) -> list[CheckResult]:
    """Run checks and return their results (and write them when ``out_dir`` is set).

    Args:
        names: check names, default all (in registration order).
        preset: ``"tiny"``, ``"quick"`` or ``"paper"``.
        out_dir: directory for ``checks.json`` and ``checks.md``, rewritten after each
            check (an interrupted run keeps the checks it finished).
        progress: callable taking a message line (default: stderr); ``None`` for
            silence.

    Returns:
        One :class:`CheckResult` per check. A check that raises gets the verdict
        ``"error"`` with the message; the others still run.
    """
    if preset not in CHECK_PRESETS:
        raise ValueError(
            f"preset must be one of {CHECK_PRESETS}, got preset={preset!r}"
        )
    _load_check_modules()
    chosen = [c.name for c in available_checks()] if names is None else list(names)
    unknown = [nm for nm in chosen if nm not in _CHECKS]
    if unknown:
        raise ValueError(f"unknown check(s) {unknown}; available: {sorted(_CHECKS)}")
    say = progress if progress is not None else (lambda msg: None)
    cache: dict[Any, Any] = {}
    start = time.time()
    meta: dict[str, Any] = {
        "preset": preset,
        "checks": chosen,
        "started_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(start)),
        "command": _command_line(),
        "environment": environment(),
        "verdict_defaults": {
            "tolerance": DEFAULT_TOLERANCE,
            "max_width": DEFAULT_MAX_WIDTH,
        },
        "sizes": {nm: dict(_CHECKS[nm].sizes[preset]) for nm in chosen},
    }
    results: list[CheckResult] = []
    for i, nm in enumerate(chosen, 1):
        check = _CHECKS[nm]
        sizes = check.sizes[preset]
        say(f"[{i}/{len(chosen)}] {nm} ({preset})")
        t0 = time.perf_counter()
        ctx = CheckContext(preset, dict(sizes), cache, say)
        try:
            outcome = check.fn(ctx)
            verdict = combine_verdicts(c.verdict for c in outcome.comparisons)
            result = CheckResult(
                nm,
                check.claim,
                check.spec_tag,
                check.part,
                preset,
                verdict,
                tuple(outcome.comparisons),
                tuple(outcome.info),
                dict(sizes),
                dict(outcome.details),
                time.perf_counter() - t0,
            )
        except Exception as err:  # a crash is recorded, and the other checks run
            result = CheckResult(
                nm,
                check.claim,
                check.spec_tag,
                check.part,
                preset,
                ERROR,
                (),
                (),
                dict(sizes),
                {},
                time.perf_counter() - t0,
                f"{type(err).__name__}: {err}",
            )
        say(f"    -> {result.verdict} ({result.seconds:.1f} s)")
        results.append(result)
        meta["seconds"] = time.time() - start
        meta["finished"] = len(results)
        if out_dir is not None:
            _write(out_dir, results, meta)
    return results
