"""Summary rows shared by Figures 7-9: the SPEC C.1 claims at each step, the lr rule.

Every row is a :func:`muonjax.transformer.analysis.claim_comparisons` result, the
same function the Part C checks call.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from muonjax.engine.table import Table
from muonjax.stats.summary import SummaryRow
from muonjax.theory.transformer import CLAIMS, Claim
from muonjax.transformer.analysis import claim_comparisons, select_lr

#: The learning-rate rule, as stated in every summary.
LR_RULE = (
    "learning rate: for each curve point (optimizer, width d, and the figure's other "
    "axis) and each reported step, the grid value with the largest mean over seeds "
    "of the plotted or compared metric (ties: the smaller step); the whole grid is "
    "in the records and in the *_lr figure"
)


def _fmt_where(where: Mapping[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in where.items())


def claim_rows(
    table: Table,
    *,
    steps: Sequence[int],
    where: Mapping[str, Any] | None = None,
    claims: Sequence[Claim] = CLAIMS,
) -> tuple[list[SummaryRow], list[str]]:
    """Rows for every claim, baseline and step; findings on what the rows show.

    Returns:
        ``(rows, findings)``: findings list the per-width differences and the notes
        (left-out widths, choices at a grid edge).
    """
    where = dict(where or {})
    rows, findings = [], []
    for step in steps:
        for claim, adv, comp in claim_comparisons(
            table, claims=claims, step=step, where=where
        ):
            group = f"step={step}, vs {adv.baseline}"
            if where:
                group += f", {_fmt_where(where)}"
            rows.append(
                SummaryRow(
                    claim=f"{claim.text} {claim.tag}", group=group, comparison=comp
                )
            )
            per = "; ".join(
                f"d={d}: {m:+.3f} ({a:.2f} vs {b:.2f})"
                for d, (m, _, a, b) in sorted(adv.per_width.items())
            )
            findings.append(
                f"{claim.metric}, {adv.optimizer} - {adv.baseline}, {group}: {per}"
            )
            findings.extend(f"  note: {n}" for n in adv.notes)
    return rows, list(dict.fromkeys(findings))


@dataclass(frozen=True)
class LrChoices:
    """Every learning-rate choice behind a figure (kept in ``fit_summary.json``).

    Attributes:
        rule: the choice rule, in words (:data:`LR_RULE`).
        choices: one ``LrChoice.to_dict()`` per (group, step, metric): the grid, the
            mean over seeds at each step size, the chosen one, and whether it lies
            at the grid's edge.
    """

    rule: str
    choices: tuple[Mapping[str, Any], ...]


def lr_choices(
    table: Table, *, by: Sequence[str], metrics: Sequence[str], steps: Sequence[int]
) -> LrChoices:
    """Every learning-rate choice behind a figure, for the summary's ``fits``."""
    out: list[dict[str, Any]] = []
    for metric in metrics:
        for step in steps:
            out.extend(
                c.to_dict() for c in select_lr(table, by=by, metric=metric, step=step)
            )
    return LrChoices(rule=LR_RULE, choices=tuple(out))


def structural_findings(table: Table) -> list[str]:
    """Sentences about the model variant that bear on what the metrics can show."""
    out = []
    tied = table.data.get("tied_unembed")
    if tied is not None and not np.any(tied.astype(bool)):
        out.append(
            "W_U is an independent random matrix (tied_unembed=False): copying a "
            "held-out token needs a map from E_k to W_U's column k that ID training "
            "cannot determine, so OOD accuracy is at chance for every optimizer by "
            "construction [derived]; tied_unembed=True (W_U = E^T / d) makes it "
            "measurable"
        )
    ffn = table.data.get("ffn")
    if ffn is not None and np.any(ffn.astype(bool)):
        out.append(
            "with a final feed-forward layer the associations can also be stored "
            "there, so memory recall through W_O2 W_V2 understates what the model "
            "stores (Kim et al. use the variant without it for Fig. 8b [seed])"
        )
    return out


def sizes(table: Table, names: Sequence[str]) -> dict[str, Any]:
    """The values of some config columns (a list when they vary), for the meta."""
    out: dict[str, Any] = {}
    for name in names:
        if name in table.data:
            vals = sorted(
                {v.item() if hasattr(v, "item") else v for v in table.data[name]}
            )
            out[name] = vals[0] if len(vals) == 1 else vals
    out["seeds"] = len(np.unique(table.data["seed"]))
    return out


#: Config columns worth repeating in a summary's meta.
SIZE_COLUMNS = (
    "vocab_size",
    "seq_len",
    "num_triggers",
    "trigger_pool",
    "id_fraction",
    "alpha_t",
    "alpha_0",
    "dim",
    "batch_size",
    "steps",
    "eval_every",
    "eval_batch",
    "ffn",
    "tied_unembed",
    "train_all_attention",
    "loss_positions",
    "lr_muon",
    "lr_adamw",
    "lr_sgd",
    "lr_scale",
    "muon_ns_steps",
    "muon_ns_coeffs",
    "muon_momentum",
    "muon_nesterov",
    "muon_scale",
    "sgd_momentum",
    "adamw_b1",
    "adamw_b2",
    "weight_decay",
)
