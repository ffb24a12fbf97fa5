"""Transformers (SPEC Part C): in-context recall with Muon, AdamW and SGD.

Kim et al. (2026), Figures 7-9: a two-layer attention-only transformer trained on
the bigram-with-triggers task of Bietti et al. (2023), with Muon on hidden matrices
only. Use as ``from muonjax import transformer``.

Li et al. (2026), "LLaMA-style pre-training" (SPEC C.2): a LLaMA-style decoder
trained on a long-tailed corpus of facts, Muon against AdamW, with checkpoints.
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

# --- issue 15: LLaMA-style pre-training on long-tailed facts (SPEC C.2) -----------
from muonjax.transformer.checkpoint import (
    load_checkpoint,
    read_checkpoint_meta,
    save_checkpoint,
)
from muonjax.transformer.facts import (
    SEP,
    Corpus,
    FactsSpec,
    Probes,
    frequency_buckets,
    make_corpus,
    probe_prompts,
    sample_batch,
    sample_sequence,
)
from muonjax.transformer.llama import (
    HIDDEN,
    LlamaConfig,
    batch_loss,
    causal_attention,
    flops_per_token,
    forward,
    init_llama,
    rms_norm,
    rotary,
    sequence_loss,
    swiglu,
)

__all__ += [
    "HIDDEN",
    "SEP",
    "Corpus",
    "FactsSpec",
    "LlamaConfig",
    "Probes",
    "batch_loss",
    "causal_attention",
    "flops_per_token",
    "forward",
    "frequency_buckets",
    "init_llama",
    "load_checkpoint",
    "make_corpus",
    "probe_prompts",
    "read_checkpoint_meta",
    "rms_norm",
    "rotary",
    "sample_batch",
    "sample_sequence",
    "save_checkpoint",
    "sequence_loss",
    "swiglu",
]
