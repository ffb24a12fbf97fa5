"""What SPEC C.1 predicts for the in-context recall transformer, with its tags.

The papers give no formula for the transformer experiments: the claims are
qualitative, read from Kim et al.'s captions of Figures 7-9 [seed] and from SPEC
C.1's summary of them [derived]. Each is encoded as a comparison of a measured
paired difference ``metric(Muon) - metric(baseline)`` (at each optimizer's best step
size, averaged over the widths ``d`` of the grid, :mod:`.analysis`) with a value,
a relation and a tolerance, for :func:`muonjax.compare`.

(This module moves to ``muonjax/theory/transformer.py`` with the theory package.)

References:
    SPEC C.1; Kim et al. (2026), Figs. 7-9 captions (``seeds/
    kim2026_review_and_figures.txt``).
"""

from __future__ import annotations

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
        tag: SPEC provenance, verbatim.
    """

    name: str
    text: str
    metric: str
    prediction: float
    relation: str
    tolerance: float
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
    tag="[derived] (SPEC C.1: 'OOD accuracy is not where Muon's advantage lies')",
)

#: Every Part C claim, in the order the summaries and checks report them.
CLAIMS = (RECALL_ADVANTAGE, ID_ADVANTAGE, OOD_NO_ADVANTAGE)
#: The baselines Muon is compared with (SPEC C.1).
BASELINES = ("adamw", "sgd")
