"""The claims ledger: every claim the checks test, on one page (``docs/claims.md``).

A row per registered check, and one per claim that only an experiment's fit summary
tests (a family's ``LEDGER`` entries without checks): the claim, the SPEC part and
row it comes from, its provenance tag, the checks and experiments that test it, the
sizes of the ``quick`` preset, and, when a ``checks.json`` of a run is given, the
verdict at those sizes with a one-line reason for every verdict that is not
"consistent" (taken from the rows that decided it: measurement, interval, prediction
and the verdict rule's own reason).

The ledger's data comes from the check catalogue itself: each module of
:data:`muonjax.engine.registry.CHECK_MODULES` may define ``CLAIMS``, a mapping from
check name to ``{"spec": "B.3", "row": <the SPEC table's claim>, "figures":
(<experiments whose summaries test it>)}``; a check without an entry is listed under
its part with its registered claim. Nothing here knows a family: the engine reads
the catalogue, the families describe themselves.

Command line: ``muonjax claims [--checks RUN/checks.json] [--out docs/claims.md]``.
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from muonjax._io import jsonable
from muonjax.engine.registry import CHECK_MODULES, available_checks

__all__ = [
    "LedgerRow",
    "claims_ledger",
    "ledger_markdown",
    "merge_check_results",
    "read_check_results",
]

#: SPEC section of each part's claims, for checks without ledger metadata.
_PART_SPEC = {"A": "A.5", "B": "B.3", "C": "C"}
#: Characters of a reason (the rest: the run's ``checks.md``).
_MAX_REASON = 400
#: Sizes shown per check (the rest: ``muonjax check --list`` and ``checks.md``).
_MAX_SIZES = 12
_PART_TITLES = {
    "A": "Part A: linear associative memory, Gaussian embeddings (Kim et al.)",
    "B": "Part B: orthogonal memory with a hierarchical spectrum (Li et al.)",
    "C": "Part C: transformers (Kim et al. Figs 7-9; Li et al.'s LLaMA-style run)",
}


@dataclasses.dataclass(frozen=True)
class LedgerRow:
    """One claim of the ledger.

    Attributes:
        check: the check's name (``muonjax check NAME``).
        part: the SPEC part (``"A"``, ``"B"``, ``"C"``).
        spec: the SPEC section of the claim (e.g. ``"B.3"``).
        row: the claim as the SPEC's table names it (or the check's claim).
        claim: the check's statement of the claim.
        tag: its provenance tag.
        figures: experiments whose fit summaries test the same claim.
        sizes: the sizes of the given run's check, else the ``quick`` preset's.
        verdict: the verdict of the given run, ``None`` if none was given or the
            run did not include the check.
        reason: why, for a verdict other than "consistent".
        preset: the preset of the given run.
    """

    check: str
    part: str
    spec: str
    row: str
    claim: str
    tag: str
    figures: tuple[str, ...]
    sizes: Mapping[str, Any]
    verdict: str | None = None
    reason: str | None = None
    preset: str | None = None


def _figure_claims() -> list[dict[str, Any]]:
    """Claims no check tests, only experiments' fit summaries (modules' ``LEDGER``).

    A module's ``LEDGER`` maps a claim id to ``{"spec", "row", "tag", "statement",
    "checks", "figures"}``; the entries with no checks are returned.
    """
    out = []
    for name in CHECK_MODULES:
        module = importlib.import_module(name)
        for claim, entry in (getattr(module, "LEDGER", None) or {}).items():
            if not entry.get("checks"):
                out.append({"id": claim, **entry})
    return out


def _metadata() -> dict[str, Mapping[str, Any]]:
    """Every catalogue module's ``CLAIMS`` entries, by check name."""
    out: dict[str, Mapping[str, Any]] = {}
    for name in CHECK_MODULES:
        module = importlib.import_module(name)
        out.update(getattr(module, "CLAIMS", None) or {})
    return out


def read_check_results(path: str | os.PathLike) -> dict[str, Any]:
    """``checks.json`` of ``muonjax check --out``: ``{"meta": ..., "results": [...]}``.

    Raises:
        ValueError: naming the file, if it is not such a file.
    """
    path = Path(path)
    try:
        doc = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as err:
        raise ValueError(f"--checks {path}: cannot read it ({err})") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("results"), list):
        raise ValueError(
            f"--checks {path} is not a checks.json of `muonjax check --out` (no "
            "'results' list)"
        )
    return doc


def merge_check_results(docs: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Several ``checks.json`` documents as one (a later run of a check wins).

    The merged ``meta`` joins the runs' commands and adds their wall times; the
    environment is the first run's.
    """
    if not docs:
        raise ValueError("docs must hold at least one checks.json document")
    results: dict[str, Any] = {}
    for doc in docs:
        results.update({r["name"]: r for r in doc["results"]})
    metas = [dict(doc.get("meta", {})) for doc in docs]
    presets = sorted({str(m.get("preset")) for m in metas})
    meta = {
        **metas[0],
        "preset": presets[0] if len(presets) == 1 else "+".join(presets),
        "command": "; ".join(str(m.get("command")) for m in metas),
        "seconds": sum(float(m.get("seconds") or 0.0) for m in metas),
    }
    return {"meta": meta, "results": list(results.values())}


def _number(x: Any) -> str:
    return "nan" if x is None else f"{x:.3g}"


def _reason(result: Mapping[str, Any]) -> str:
    """One line: the primary rows that did not come out consistent, and why."""
    if result.get("verdict") == "error":
        return f"error: {result.get('error')}"
    parts = []
    for c in result.get("comparisons", []):
        if c.get("verdict") == "consistent":
            continue
        lo, hi = c.get("interval") or (None, None)
        parts.append(
            f"{c.get('label')}: {_number(c.get('estimate'))} "
            f"[{_number(lo)}, {_number(hi)}] vs {c.get('relation')} "
            f"{_number(c.get('prediction'))} ({c.get('verdict')}: {c.get('reason')})"
        )
    text = "; ".join(parts) or "no primary row decided it"
    if len(text) > _MAX_REASON:  # the run's checks.md has every row in full
        text = text[: _MAX_REASON - 1].rstrip() + "…"
    return text


def claims_ledger(results: Mapping[str, Any] | None = None) -> list[LedgerRow]:
    """The ledger's rows, one per registered check, in catalogue order.

    Args:
        results: a ``checks.json`` document (:func:`read_check_results`); its
            verdicts and reasons go into the rows of the checks it ran.

    Returns:
        A list of :class:`LedgerRow`.
    """
    meta = _metadata()
    ran = {r["name"]: r for r in (results or {}).get("results", [])}
    preset = (results or {}).get("meta", {}).get("preset")
    rows = []
    for check in available_checks():
        info = meta.get(check.name, {})
        result = ran.get(check.name)
        verdict = None if result is None else str(result.get("verdict"))
        rows.append(
            LedgerRow(
                check=check.name,
                part=check.part,
                spec=str(info.get("spec", _PART_SPEC.get(check.part, check.part))),
                row=str(info.get("row", check.claim)),
                claim=check.claim,
                tag=check.spec_tag,
                figures=tuple(info.get("figures", ())),
                # The run's sizes where it ran (the verdict is theirs), else the
                # catalogue's quick sizes.
                sizes=dict((result or {}).get("sizes") or check.sizes["quick"]),
                verdict=verdict,
                reason=None
                if result is None or verdict == "consistent"
                else _reason(result),
                preset=preset if result is not None else None,
            )
        )
    for entry in _figure_claims():
        spec = str(entry.get("spec", ""))
        rows.append(
            LedgerRow(
                check="",
                part=spec[:1] or "?",
                spec=spec,
                row=str(entry.get("row", entry["id"])),
                claim=str(entry.get("statement", "")),
                tag=str(entry.get("tag", "")),
                figures=tuple(entry.get("figures", ())),
                sizes={},
            )
        )
    return rows


def _short(value: Any) -> str:
    """A size's value in a table cell: long grids as ``[first, ..., last] (n)``."""
    value = jsonable(value)
    if isinstance(value, list) and len(value) > 6:
        ends = f"{json.dumps(value[0])}, ..., {json.dumps(value[-1])}"
        return f"[{ends}] ({len(value)} values)"
    return json.dumps(value)


def _command(command: Any) -> str:
    """A recorded command line as typed: ``.../muonjax/__main__.py`` is ``muonjax``."""
    return re.sub(r"\S*muonjax/__main__\.py", "muonjax", str(command))


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def ledger_markdown(
    rows: Sequence[LedgerRow], *, meta: Mapping[str, Any] | None = None
) -> str:
    """``docs/claims.md``: a summary count, then one table per part, then reasons."""
    meta = dict(meta or {})
    preset = meta.get("preset", "quick")
    env = meta.get("environment", {})
    counts: dict[str, int] = {}
    checked = [r for r in rows if r.check]
    for r in checked:
        counts[r.verdict or "not run"] = counts.get(r.verdict or "not run", 0) + 1
    out = [
        "# Claims ledger",
        "",
        "Every claim the toolkit checks, where it comes from, what tests it, and the "
        f"verdict at the `{preset}` sizes. Generated by `muonjax claims` from the "
        "check catalogue and a `muonjax check` run; do not edit by hand.",
        "",
    ]
    if meta:
        out += [
            f"- run: `{_command(meta.get('command'))}` ({meta.get('started_utc')}, "
            f"{_number(meta.get('seconds'))} s, {env.get('backend')}, jax "
            f"{env.get('jax')}, muonjax {env.get('muonjax')} at "
            f"{str(env.get('git_commit'))[:10]})",
        ]
    out += [
        "- verdicts: "
        + ", ".join(f"{k} {v}" for k, v in sorted(counts.items(), key=lambda kv: kv[0]))
        + f" (of {len(checked)} checks; {len(rows) - len(checked)} more claims are "
        "tested by the figures' fit summaries only, each linked to its gallery page)",
        "- a verdict combines the check's primary rows (see `muonjax check NAME` "
        "and its `checks.md` for every row, info rows included); inconclusive "
        "means the interval is wider than the claim's stated width or the sizes "
        "cannot test it",
        "",
    ]
    for part in sorted({r.part for r in rows}):
        out += [
            f"## {_PART_TITLES.get(part, 'Part ' + part)}",
            "",
            "| claim | SPEC | tag | check | also in | quick sizes | verdict |",
            "|---|---|---|---|---|---|---|",
        ]
        for r in (r for r in rows if r.part == part):
            items = [f"{k}={_short(v)}" for k, v in r.sizes.items()]
            if len(items) > _MAX_SIZES:  # a whole config: its first entries
                more = len(items) - _MAX_SIZES
                items = [*items[:_MAX_SIZES], f"... {more} more"]
            sizes = ", ".join(items)
            out.append(
                "| "
                + " | ".join(
                    _cell(x)
                    for x in (
                        r.row,
                        r.spec,
                        r.tag,
                        f"`{r.check}`" if r.check else "figures only",
                        ", ".join(f"`{f}`" for f in r.figures) or "-",
                        f"`{sizes}`" if sizes else "the experiments' quick presets",
                        r.verdict
                        or (
                            "not run"
                            if r.check
                            else "in the figures' summaries: "
                            + ", ".join(f"[{f}](gallery/{f}.md)" for f in r.figures)
                        ),
                    )
                )
                + " |"
            )
        out.append("")
        reasons = [r for r in rows if r.part == part and r.reason]
        if reasons:
            out += ["Why the verdicts that are not consistent came out so:", ""]
            out += [
                f"- `{r.check}` ({r.verdict}): {_cell(r.reason or '')}" for r in reasons
            ]
            out.append("")
    return "\n".join(out)
