"""Transformers (SPEC Part C): in-context recall with Muon, AdamW and SGD.

Kim et al. (2026), Figures 7-9: a two-layer attention-only transformer trained on
the bigram-with-triggers task of Bietti et al. (2023), with Muon on hidden matrices
only. Use as ``from muonjax import transformer``.
"""

from muonjax.transformer.optim import (
    ADAMW_DEFAULTS,
    ADAMW_LABEL,
    MUON_DEFAULTS,
    MUON_LABEL,
    NON_HIDDEN_PARTS,
    OPTIMIZERS,
    POLAR_MAPS,
    SCALES,
    ScaleByMuonState,
    default_is_hidden,
    hidden_labels,
    make_optimizer,
    muon,
    optimizer_record,
    scale_by_muon,
    scale_by_shape,
    shape_scale,
)

__all__ = [
    # optim.py: Muon on hidden matrices, AdamW on the rest (SPEC C.3)
    "ADAMW_DEFAULTS",
    "ADAMW_LABEL",
    "MUON_DEFAULTS",
    "MUON_LABEL",
    "NON_HIDDEN_PARTS",
    "OPTIMIZERS",
    "POLAR_MAPS",
    "SCALES",
    "ScaleByMuonState",
    "default_is_hidden",
    "hidden_labels",
    "make_optimizer",
    "muon",
    "optimizer_record",
    "scale_by_muon",
    "scale_by_shape",
    "shape_scale",
]
