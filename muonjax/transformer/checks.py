"""The Part C checks: Muon against AdamW and SGD on in-context recall (SPEC C.1).

Importing this module registers three checks (part ``"C"``) with
:func:`muonjax.register_check`; :data:`muonjax.engine.registry.CHECK_MODULES` lists
it, so ``muonjax check`` loads it. The three share one measurement (cached per run): the
Figure 7 grid :func:`muonjax.transformer.width_sweep` at the check's sizes (the
``quick`` and ``paper`` sizes are those of ``fig7``'s presets, so a check and the
figure sample the same tasks and reach the same numbers), analysed by
:func:`muonjax.transformer.claim_comparisons` at the last step, as the figure's
summary does:

- ``transformer_recall_advantage``: Muon's memory recall above AdamW's and SGD's;
- ``transformer_id_advantage``: Muon's ID in-context accuracy above theirs;
- ``transformer_ood_no_advantage``: Muon's OOD accuracy not above theirs by > 0.05.

Primary rows: the paired difference averaged over the widths (vs AdamW, vs SGD);
info rows: the difference at each width.

Wall time (measured under load on the shared 2-core CPU): tiny ~1 min (three
compilations), quick as ``fig7 --preset quick``.

References:
    SPEC C.1; Kim et al. (2026), Figs. 7-8.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import jax
import numpy as np

from muonjax.engine.registry import CheckContext, CheckOutcome, register_check
from muonjax.engine.sweep import Sweep, run_sweep
from muonjax.engine.table import Table, table_from_results
from muonjax.stats.verdict import compare
from muonjax.theory import transformer as theory
from muonjax.transformer.analysis import claim_comparisons
from muonjax.transformer.cells import width_sweep

PART = "C"

#: The claims ledger's data for these checks (``muonjax claims``): the SPEC C.1 claim
#: each tests and the experiments whose summaries test it with the same comparison
#: (:func:`muonjax.transformer.claim_comparisons`).
CLAIMS: dict[str, dict[str, Any]] = {
    "transformer_recall_advantage": {
        "spec": "C.1",
        "row": "Muon's memory recall above AdamW's and SGD's (Kim Figs 7-8)",
        "figures": ("fig7", "fig8", "fig9"),
    },
    "transformer_id_advantage": {
        "spec": "C.1",
        "row": "Muon's ID in-context accuracy above AdamW's and SGD's (Kim Fig 7)",
        "figures": ("fig7", "fig8", "fig9"),
    },
    "transformer_ood_no_advantage": {
        "spec": "C.1",
        "row": "Muon's OOD in-context accuracy not above theirs (Kim Figs 7, 9)",
        "figures": ("fig7", "fig8", "fig9"),
    },
}

#: The grid of each preset (``quick`` and ``paper``: the ``fig7`` presets).
SIZES: Mapping[str, Mapping[str, Any]] = {
    "tiny": {
        "vocab_size": 24,
        "seq_len": 16,
        "num_triggers": 2,
        "trigger_pool": 4,
        "dims": (8,),
        "optimizers": ("muon", "adamw"),  # two compilations: the suite stays fast
        "batch_size": 8,
        "steps": 16,
        "eval_every": 8,
        "eval_batch": 8,
        "lr_points": 2,
        "lr_span": 3.0,
        "seeds": 2,
    },
    "quick": {
        "vocab_size": 128,
        "seq_len": 64,
        "num_triggers": 3,
        "trigger_pool": 8,
        "dims": (16, 32, 64),
        "optimizers": ("muon", "adamw", "sgd"),
        "batch_size": 32,
        "steps": 512,
        "eval_every": 64,
        "eval_batch": 64,
        "lr_points": 5,
        "lr_span": 9.0,
        "seeds": 3,
    },
    "paper": {
        "vocab_size": 1024,
        "seq_len": 256,
        "num_triggers": 5,
        "trigger_pool": 16,
        "dims": (16, 32, 64, 128, 256),
        "optimizers": ("muon", "adamw", "sgd"),
        "batch_size": 256,
        "steps": 1024,
        "eval_every": 64,
        "eval_batch": 256,
        "lr_points": 5,
        "lr_span": 9.0,
        "seeds": 4,
    },
}

#: Settings every preset shares with ``fig7``'s defaults.
FIXED: Mapping[str, Any] = {
    "lr_muon": 0.03,
    "lr_muon_exact": 0.03,
    "lr_adamw": 0.02,
    "lr_sgd": 0.15,
    "ffn": False,
    "tied_unembed": True,
    "muon_scale": "spectral",
}


def _as_table(columns: list[str], rows: list[list[Any]]) -> Table:
    data = {}
    for i, name in enumerate(columns):
        values = [row[i] for row in rows]
        if any(v is None for v in values):
            data[name] = np.asarray(values, dtype=object)
        else:
            data[name] = np.asarray(values)
    return Table(columns, data)


def sweep_for(sizes: Mapping[str, Any]) -> Sweep:
    """The Figure 7 grid at ``sizes`` (the same cells as ``fig7`` at its presets)."""
    grid = {k: sizes[k] for k in ("optimizers", "dims", "lr_points", "lr_span")}
    fixed = {
        **FIXED,
        **{k: v for k, v in sizes.items() if k not in (*grid, "seeds")},
    }
    return width_sweep(**grid, **fixed)


def measure(sizes: Mapping[str, Any], *, root_seed: int = 0) -> Table:
    """Run the Figure 7 grid at ``sizes`` and return its records as a table."""
    sweep = sweep_for(sizes)
    seeds = int(sizes["seeds"])
    result = run_sweep(
        sweep,
        seeds=seeds,
        key=jax.random.key(root_seed),
        chunk_size=seeds * int(sizes["lr_points"]),
    )
    return _as_table(*table_from_results(sweep, result.results))


def _table(ctx: CheckContext) -> Table:
    key = (
        "transformer_fig7",
        tuple(sorted((k, repr(v)) for k, v in ctx.sizes.items())),
    )
    if key not in ctx.cache:
        ctx.progress(f"training the Figure 7 grid at the {ctx.preset} sizes")
        ctx.cache[key] = measure(ctx.sizes)
    return ctx.cache[key]


def _outcome(ctx: CheckContext, claim: theory.Claim) -> CheckOutcome:
    table = _table(ctx)
    rows = claim_comparisons(table, claims=(claim,))
    info = []
    details: dict[str, Any] = {"step": int(np.max(table.data["step"]))}
    for _, adv, _ in rows:
        for d, (est, ci, a, b) in sorted(adv.per_width.items()):
            info.append(
                compare(
                    est,
                    ci,
                    claim.prediction,
                    relation=claim.relation,
                    tolerance=claim.tolerance,
                    max_width=claim.max_width,
                    label=f"{claim.metric}: muon - {adv.baseline} at d={d}",
                    notes=(f"means {a:.3f} vs {b:.3f}",),
                )
            )
        details[adv.baseline] = {
            "estimate": adv.estimate,
            "interval": list(adv.interval),
            "used_dims": list(adv.used),
            "per_dim": {
                str(d): {"difference": v[0], "muon": v[2], adv.baseline: v[3]}
                for d, v in adv.per_width.items()
            },
            "chosen_lr": [c.to_dict() for c in adv.choices],
            "notes": list(adv.notes),
        }
    return CheckOutcome(
        comparisons=tuple(comp for _, _, comp in rows),
        info=tuple(info),
        details=details,
    )


@register_check(
    "transformer_recall_advantage",
    claim=theory.RECALL_ADVANTAGE.text + " (vs AdamW and SGD, mean over d)",
    spec_tag=theory.RECALL_ADVANTAGE.tag,
    sizes=SIZES,
    part=PART,
)
def _recall_advantage(ctx: CheckContext) -> CheckOutcome:
    return _outcome(ctx, theory.RECALL_ADVANTAGE)


@register_check(
    "transformer_id_advantage",
    claim=theory.ID_ADVANTAGE.text + " (vs AdamW and SGD, mean over d)",
    spec_tag=theory.ID_ADVANTAGE.tag,
    sizes=SIZES,
    part=PART,
)
def _id_advantage(ctx: CheckContext) -> CheckOutcome:
    return _outcome(ctx, theory.ID_ADVANTAGE)


@register_check(
    "transformer_ood_no_advantage",
    claim=theory.OOD_NO_ADVANTAGE.text + " (vs AdamW and SGD, mean over d)",
    spec_tag=theory.OOD_NO_ADVANTAGE.tag,
    sizes=SIZES,
    part=PART,
)
def _ood_no_advantage(ctx: CheckContext) -> CheckOutcome:
    return _outcome(ctx, theory.OOD_NO_ADVANTAGE)
