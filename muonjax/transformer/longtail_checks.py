"""The SPEC C.2 checks of ``muonjax check``: Muon against AdamW on long-tailed facts.

Importing this module registers two checks (part ``"C"``) with
:func:`muonjax.register_check`; :data:`muonjax.engine.registry.CHECK_MODULES` lists
it. Both
read one measurement (the records of :func:`muonjax.transformer.record_longtail` at
the preset's sizes, shared through the check context's cache) through the same
functions as the experiment's fit summary
(:func:`muonjax.transformer.longtail_comparisons`), so a check and the figure of the
same claim cannot disagree.

Sizes: ``tiny`` (the test suite), ``quick`` and ``paper`` are
:data:`muonjax.transformer.LONGTAIL_PRESETS`, the presets of the experiment
``longtail_facts``.

References:
    SPEC C.2 [derived]; SPEC Part D (verdicts).
"""

from __future__ import annotations

import dataclasses
import json
import tempfile
from typing import Any

from muonjax.engine.registry import CheckContext, CheckOutcome, register_check
from muonjax.engine.table import Table, read_table
from muonjax.stats.verdict import Comparison
from muonjax.theory import transformer as theory
from muonjax.transformer.longtail_records import (
    LONGTAIL_PRESETS,
    LongtailConfig,
    record_longtail,
)
from muonjax.transformer.longtail_verdicts import longtail_comparisons

PART = "C"

#: ``{preset: LongtailConfig settings}``.
SIZES: dict[str, dict[str, Any]] = {
    name: dataclasses.asdict(config) for name, config in LONGTAIL_PRESETS.items()
}


#: The claims ledger's data for these checks (``muonjax claims``).
CLAIMS: dict[str, dict[str, Any]] = {
    "longtail_tail_accuracy": {
        "spec": "C.2",
        "row": "Muon's tail-bucket fact accuracy above AdamW's at equal steps (Li)",
        "figures": ("longtail_facts",),
    },
    "longtail_facts_slope": {
        "spec": "C.2",
        "row": "facts learned grow faster with steps under Muon than AdamW (Li)",
        "figures": ("longtail_facts",),
    },
}


def _config(sizes: dict[str, Any]) -> LongtailConfig:
    # tuples may come back as lists from JSON (a results file)
    kwargs: dict[str, Any] = {
        k: tuple(v) if isinstance(v, list) else v for k, v in sizes.items()
    }
    return LongtailConfig(**kwargs)


def measure(ctx: CheckContext) -> Table:
    """The records at the context's sizes (trained once per run of the checks)."""
    key = ("longtail_facts", json.dumps(dict(ctx.sizes), sort_keys=True))
    if key not in ctx.cache:
        config = _config(dict(ctx.sizes))
        ctx.progress(
            f"  long-tailed facts: S={config.subjects} R={config.relations} "
            f"d={config.dim} L={config.layers} T={config.steps} "
            f"betas={config.betas} seeds={config.seeds}"
        )
        with tempfile.TemporaryDirectory(prefix="muonjax-longtail-") as out:
            record_longtail(config, out)
            ctx.cache[key] = read_table(out)
    return ctx.cache[key]


def _outcome(ctx: CheckContext, claim: str) -> CheckOutcome:
    """The rows of one claim (``"tail"`` or ``"slope"``) for every ``beta``: its
    primary comparison, and the info rows that belong to it."""
    table = measure(ctx)
    rows: list[Comparison] = []
    info: list[Comparison] = []
    details: dict[str, Any] = {}
    for beta in sorted({float(b) for b in table.data["beta"]}):
        res = longtail_comparisons(table, beta=beta)
        rows.append(res.tail if claim == "tail" else res.slope)
        info.extend(
            c for c in res.info if ("tail-bucket" in c.label) == (claim == "tail")
        )
        details[f"beta={beta:g}"] = res.details
    return CheckOutcome(comparisons=tuple(rows), info=tuple(info), details=details)


@register_check(
    "longtail_tail_accuracy",
    claim=theory.TAIL_ACCURACY_CLAIM,
    spec_tag=theory.LONGTAIL_TAG,
    sizes=SIZES,
    part=PART,
)
def _tail_accuracy(ctx: CheckContext) -> CheckOutcome:
    return _outcome(ctx, "tail")


@register_check(
    "longtail_facts_slope",
    claim=theory.FACTS_SLOPE_CLAIM,
    spec_tag=theory.LONGTAIL_TAG,
    sizes=SIZES,
    part=PART,
)
def _facts_slope(ctx: CheckContext) -> CheckOutcome:
    return _outcome(ctx, "slope")
