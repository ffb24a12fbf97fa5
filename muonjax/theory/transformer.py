"""What SPEC Part C predicts for the transformers (C.1 and C.2), with its tags.

The papers give no formula for the transformer experiments: the claims are
qualitative, read from Kim et al.'s captions of Figures 7-9 [seed] and from SPEC
C.1's summary of them [derived]. Each is encoded as a comparison of a measured
paired difference ``metric(Muon) - metric(baseline)`` (at each optimizer's best step
size, averaged over the widths ``d`` of the grid, :mod:`.analysis`) with a value,
a relation and a tolerance, for :func:`muonjax.compare`; the measurement is
:func:`muonjax.transformer.claim_comparisons`.

SPEC C.2 (long-tailed facts, Li et al. 2026; the second block below): the seed
names only "LLaMA-style pre-training" and "tail accuracy" (SPEC C.2 [seed]); the
claims' precise form and the baselines are ours ([derived]). Claims (checked with
intervals over seeds by :mod:`muonjax.transformer.longtail_checks`):
:data:`TAIL_ACCURACY_CLAIM` (at equal steps, Muon's first-token accuracy on the tail
bucket of subjects is higher than AdamW's) and :data:`FACTS_SLOPE_CLAIM` (the log-log
slope of facts learned against steps is steeper for Muon). Baselines (info rows, not
claims of the paper): :func:`facts_learned_exponent` (a learner that stores a fact
after a fixed number of exposures learns ``~ t^(1/beta)`` facts by step ``t``) and
:func:`steps_to_learn_exponent` (it reaches a bucket's threshold after ``~ 1 / p``
steps).

References:
    SPEC C.1; Kim et al. (2026), Figs. 7-9 captions (``seeds/
    kim2026_review_and_figures.txt``). SPEC C.2; Li, Wang, Zhong, Lu, Wang (2026),
    arXiv 2602.05725.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Claim:
    """A qualitative claim as a comparison of a paired difference.

    Attributes:
        name: identifier.
        text: the claim in words.
        metric: the metric whose paired difference is compared.
        prediction: the value the difference is compared with.
        relation: ``">"`` (Muon above by more than ``tolerance``), ``"<="`` (Muon
            not above by more than ``tolerance``), as in :func:`muonjax.compare`.
        tolerance: allowance, in accuracy units.
        max_width: widest bootstrap interval that still counts as a measurement.
        tag: SPEC provenance, verbatim.
    """

    name: str
    text: str
    metric: str
    prediction: float
    relation: str
    tolerance: float
    max_width: float
    tag: str


#: Muon stores more associations per dimension: its memory recall of the ID outputs
#: (``W_U W_O2 W_V2 E_k`` pointing at ``k``) is higher than AdamW's and SGD's at
#: equal iterations.
RECALL_ADVANTAGE = Claim(
    name="recall_advantage",
    text="Muon's memory recall exceeds the baseline's at equal iterations",
    metric="recall",
    prediction=0.0,
    relation=">",
    tolerance=0.0,
    max_width=0.5,  # a superiority claim holds when the whole interval is above 0
    tag="[derived] (SPEC C.1, from the captions of Kim Figs. 7-8 [seed])",
)

#: ... and so its in-distribution in-context accuracy.
ID_ADVANTAGE = Claim(
    name="id_advantage",
    text="Muon's ID in-context accuracy exceeds the baseline's at equal iterations",
    metric="id_acc",
    prediction=0.0,
    relation=">",
    tolerance=0.0,
    max_width=0.5,  # a superiority claim holds when the whole interval is above 0
    tag="[derived] (SPEC C.1, from the caption of Kim Fig. 7 [seed])",
)

#: OOD accuracy measures the induction mechanism, not the stored associations:
#: Muon's advantage is not expected there (at most ``tolerance`` above).
OOD_NO_ADVANTAGE = Claim(
    name="ood_no_advantage",
    text="Muon's OOD in-context accuracy is not above the baseline's (by > 0.05)",
    metric="ood_acc",
    prediction=0.0,
    relation="<=",
    tolerance=0.05,
    max_width=0.125,  # 2.5 x the tolerance, the package's convention
    tag="[derived] (SPEC C.1: 'OOD accuracy is not where Muon's advantage lies')",
)

#: Every Part C claim, in the order the summaries and checks report them.
CLAIMS = (RECALL_ADVANTAGE, ID_ADVANTAGE, OOD_NO_ADVANTAGE)
#: The baselines Muon is compared with (SPEC C.1).
BASELINES = ("adamw", "sgd")


# --- SPEC C.2: LLaMA-style pre-training on long-tailed facts (issue 15) ------------

#: Provenance of both claims (SPEC C.2's own tags, verbatim in substance).
LONGTAIL_TAG = (
    '[seed: "LLaMA-style pre-training", "tail accuracy"; everything else derived]'
)
#: Claim 1, in words.
TAIL_ACCURACY_CLAIM = (
    "at equal steps, Muon's first-token accuracy on the tail bucket of subjects is "
    "higher than AdamW's (SPEC C.2)"
)
#: Claim 2, in words.
FACTS_SLOPE_CLAIM = (
    "facts learned against steps: the log-log slope is steeper for Muon than for "
    "AdamW (SPEC C.2)"
)


def facts_learned_exponent(beta: float) -> float:
    """Exponent of ``facts(t) ~ t^C`` for a learner that needs ``n`` exposures a fact.

    Subject ``s`` (frequency ``p_s ~ s^(-beta)``) has been seen ``~ p_s t`` times by
    step ``t``; its facts are stored once ``p_s t >= n``, i.e. for ``s <~ t^(1/beta)``:
    ``C = 1 / beta`` until the corpus runs out of subjects. A learner whose progress
    per exposure is slower for rare subjects (GD's ``~ p`` rate in SPEC B.3) has a
    smaller ``C``.

    Args:
        beta: the power-law exponent, > 0.

    Returns:
        ``1 / beta``.

    References:
        SPEC C.2 [derived].
    """
    if not (math.isfinite(beta) and beta > 0):
        raise ValueError(f"beta must be finite and > 0, got {beta=!r}")
    return 1.0 / beta


def steps_to_learn_exponent() -> float:
    """Exponent of ``steps to 50% ~ p^e`` across buckets for the same learner: -1.

    References:
        SPEC C.2 [derived].
    """
    return -1.0
